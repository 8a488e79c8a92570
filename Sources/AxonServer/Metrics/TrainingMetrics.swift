import AxonJobs
import AxonSupport
import Prometheus
import Synchronization

/// Training families: jobs by outcome, queued and running jobs, epochs, the last losses per
/// model, throughput of the last job, job durations and early stops. The loss series of a model
/// exist only while the model does: a first job's losses appear once its model is installed,
/// and a job whose model never is (it failed, was cancelled or its model deleted) leaves none.
public final class TrainingMetrics: JobMetrics {
    /// How a training job ended.
    public typealias Outcome = JobEnding

    /// Bounds of the job-duration histogram: 10 ms to 1 h.
    public static let durationBuckets: [Duration] = [
        .milliseconds(10), .milliseconds(100), .seconds(1), .seconds(5), .seconds(15), .seconds(60),
        .seconds(300), .seconds(900), .seconds(3600),
    ]

    private struct ModelSeries: Sendable {
        let trainLoss: Gauge
        var validationLoss: Gauge?
    }

    private let registry: PrometheusCollectorRegistry
    private let jobs: [Outcome: Counter]
    private let queued: Gauge
    private let running: Gauge
    private let epochs: Counter
    private let samplesPerSecond: Gauge
    private let duration: DurationHistogram
    private let earlyStops: Counter
    private let eventStreams: ScrapedGauge
    private let droppedEvents: ScrapedCounter
    private let models = Mutex<[String: ModelSeries]>([:])
    private let gate: ModelSeriesGate

    init(registry: PrometheusCollectorRegistry, models gate: ModelSeriesGate) {
        self.registry = registry
        self.gate = gate
        var jobs: [Outcome: Counter] = [:]
        for outcome in Outcome.allCases {
            jobs[outcome] = registry.counter(
                name: "axon_training_jobs_total", labels: [("outcome", outcome.rawValue)], help: "Training jobs finished, by outcome.")
        }
        self.jobs = jobs
        queued = registry.gauge(name: "axon_training_jobs_queued", help: "Training jobs waiting for a free slot.")
        running = registry.gauge(name: "axon_training_jobs_running", help: "Training jobs running now.")
        epochs = registry.counter(name: "axon_training_epochs_total", help: "Training epochs completed, all models.")
        samplesPerSecond = registry.gauge(
            name: "axon_training_last_job_samples_per_second", help: "Training samples per second of the last finished job (epochs times rows over its duration).")
        duration = registry.durationHistogram(
            name: "axon_training_job_duration_seconds", buckets: Self.durationBuckets, help: "Wall-clock duration of finished training jobs.")
        earlyStops = registry.counter(
            name: "axon_training_early_stops_total", help: "Training jobs that stopped before their last epoch because validation loss stopped improving.")
        eventStreams = ScrapedGauge(registry.gauge(
            name: "axon_event_streams_open", help: "Server-Sent Event streams of jobs open now (at most events.max_streams), read when scraped."))
        droppedEvents = ScrapedCounter(registry.counter(
            name: "axon_event_stream_dropped_total",
            help: "Epoch events not written to a stream whose reader had fallen a whole buffer behind (final events are never dropped)."))
    }

    /// Makes the event-stream families read `open` and `dropped` (the job events' own counts) at each scrape.
    public func observeEvents(open: @escaping @Sendable () -> Int, dropped: @escaping @Sendable () -> Int) {
        eventStreams.observe(open)
        droppedEvents.observe(dropped)
    }

    /// Reads the event-stream counts; called once per scrape.
    func refresh() {
        eventStreams.refresh()
        droppedEvents.refresh()
    }

    /// Sets the queued and running job counts (the job scheduler owns the truth; setting avoids drift).
    public func setJobs(queued: Int, running: Int) {
        self.queued.set(Double(queued))
        self.running.set(Double(running))
    }

    /// Records one completed epoch of `model`, and its losses if the model exists.
    public func epochCompleted(model: String, trainLoss: Double, validationLoss: Double?) {
        epochs.increment()
        recordLosses(model: model, trainLoss: trainLoss, validationLoss: validationLoss)
    }

    /// Sets the last losses of `model`, if it exists (a job records its last epoch's again
    /// once it installed the model it trained first).
    public func recordLosses(model: String, trainLoss: Double, validationLoss: Double?) {
        let found = gate.ifExists(model) {
            models.withLock { models in
                var series = models[model] ?? ModelSeries(
                    trainLoss: registry.gauge(
                        name: "axon_training_last_train_loss", labels: [("model", model)],
                        help: "Training loss after the last completed epoch, by model."))
                if validationLoss != nil, series.validationLoss == nil {
                    series.validationLoss = registry.gauge(
                        name: "axon_training_last_validation_loss", labels: [("model", model)],
                        help: "Validation loss after the last completed epoch, by model (absent without a validation split).")
                }
                models[model] = series
                return series
            }
        }
        guard let series = found else { return }
        if trainLoss.isFinite { series.trainLoss.set(trainLoss) }
        if let validationLoss, validationLoss.isFinite { series.validationLoss?.set(validationLoss) }
    }

    /// Records a finished job: its outcome, duration, the samples it processed (epochs times rows)
    /// and whether early stopping ended it.
    public func jobFinished(outcome: Outcome, duration: Duration, samples: Int, earlyStopped: Bool) {
        jobs[outcome]?.increment()
        self.duration.record(duration)
        let seconds = duration.inSeconds
        if seconds > 0, samples > 0 { samplesPerSecond.set(Double(samples) / seconds) }
        if earlyStopped { earlyStops.increment() }
    }

    /// Drops the loss series of `model` (after it is unloaded or deleted).
    public func forget(model: String) {
        guard let series = models.withLock({ $0.removeValue(forKey: model) }) else { return }
        registry.unregisterGauge(series.trainLoss)
        if let validation = series.validationLoss { registry.unregisterGauge(validation) }
    }
}
