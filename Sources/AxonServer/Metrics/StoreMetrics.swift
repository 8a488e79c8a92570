import Foundation
import Prometheus
import Synchronization

/// Model-store families: models loaded, versions on disk, checkpoint writes (duration, bytes,
/// failures), quarantined files and the time of each model's last good checkpoint.
public final class StoreMetrics: Sendable {
    private let registry: PrometheusCollectorRegistry
    private let modelsLoaded: Gauge
    private let versions: Gauge
    private let writeDuration: DurationHistogram
    private let bytes: Counter
    private let failures: Counter
    private let quarantined: Counter
    private let lastCheckpoint = Mutex<[String: Gauge]>([:])
    private let gate: ModelSeriesGate

    init(registry: PrometheusCollectorRegistry, buckets: [Duration], models: ModelSeriesGate) {
        self.registry = registry
        self.gate = models
        modelsLoaded = registry.gauge(name: "axon_store_models_loaded", help: "Models loaded in memory and servable.")
        versions = registry.gauge(name: "axon_store_versions_on_disk", help: "Checkpoint versions in the state directory, all models.")
        writeDuration = registry.durationHistogram(
            name: "axon_store_checkpoint_write_duration_seconds", buckets: buckets,
            help: "Time to write one checkpoint durably (temp file, fsync, rename, directory fsync).")
        bytes = registry.counter(name: "axon_store_checkpoint_written_bytes_total", help: "Checkpoint bytes written durably.")
        failures = registry.counter(name: "axon_store_checkpoint_failures_total", help: "Checkpoint writes that failed (the previous version stays).")
        quarantined = registry.counter(
            name: "axon_store_quarantined_files_total", help: "Unreadable checkpoint files moved aside at load or rescan.")
    }

    /// Sets the number of loaded models.
    public func setModelsLoaded(_ count: Int) { modelsLoaded.set(Double(count)) }

    /// Sets the number of versions on disk.
    public func setVersionsOnDisk(_ count: Int) { versions.set(Double(count)) }

    /// Records a durable checkpoint of `model`: `bytes` written in `duration`, finished at
    /// `date`. The model's own gauge is set only if it exists (record after it serves).
    public func checkpointWritten(model: String, bytes: Int, duration: Duration, at date: Date = Date()) {
        writeDuration.record(duration)
        self.bytes.increment(by: Int64(max(0, bytes)))
        let gauge = gate.ifExists(model) {
            lastCheckpoint.withLock { gauges in
                if let found = gauges[model] { return found }
                let created = registry.gauge(
                    name: "axon_store_last_checkpoint_timestamp_seconds", labels: [("model", model)],
                    help: "Unix time of the last successful checkpoint, by model.")
                gauges[model] = created
                return created
            }
        }
        gauge?.set(date.timeIntervalSince1970)
    }

    /// Counts a failed checkpoint write.
    public func checkpointFailed() { failures.increment() }

    /// Counts `count` files moved to quarantine.
    public func filesQuarantined(_ count: Int = 1) { quarantined.increment(by: Int64(max(0, count))) }

    /// Drops the per-model series of `model` (after it is unloaded or deleted).
    public func forget(model: String) {
        guard let gauge = lastCheckpoint.withLock({ $0.removeValue(forKey: model) }) else { return }
        registry.unregisterGauge(gauge)
    }
}
