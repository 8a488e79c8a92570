import AxonStore
import Foundation

/// The store reports to the store families, and `forget` drops every family's series.
extension AxonMetrics: StoreObserver {
    public func checkpointWritten(model: String, bytes: Int, duration: Duration) {
        store.checkpointWritten(model: model, bytes: bytes, duration: duration, at: Date())
    }

    public func checkpointFailed() { store.checkpointFailed() }

    public func filesQuarantined(_ count: Int) { store.filesQuarantined(count) }

    public func storeCounts(modelsLoaded: Int, versionsOnDisk: Int) {
        store.setModelsLoaded(modelsLoaded)
        store.setVersionsOnDisk(versionsOnDisk)
    }
}
