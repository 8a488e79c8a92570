/// What the store reports as it works, for whoever keeps count (the daemon's metrics).
///
/// A protocol, so the store does not depend on any metrics library; nil records nothing.
public protocol StoreObserver: Sendable {
    /// Called once, when the store is created: per-model series may exist only while
    /// `serves(name)` is true, so a model deleted meanwhile is never recorded again.
    func attachModels(serves: @escaping @Sendable (String) -> Bool)
    /// A checkpoint of `bytes` was written durably in `duration`.
    func checkpointWritten(model: String, bytes: Int, duration: Duration)
    /// A checkpoint write failed.
    func checkpointFailed()
    /// `count` unreadable files were moved to quarantine.
    func filesQuarantined(_ count: Int)
    /// The models served and the checkpoint versions on disk, after any change.
    func storeCounts(modelsLoaded: Int, versionsOnDisk: Int)
    /// `model` is gone (deleted, or removed on disk): drop what was recorded about it.
    func forget(model: String)
}
