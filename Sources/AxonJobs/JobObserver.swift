import AxonAPI

/// Hears of every job as it moves, outside the scheduler's lock; the event streams implement it.
public protocol JobObserver: Sendable {
    /// Whether anyone listens: while nobody does, the scheduler builds no snapshot per epoch.
    var isListening: Bool { get }
    /// `job` was queued.
    func queued(_ job: JobSnapshot)
    /// `job` began waiting for its model's training lock (`waiting_for` says who holds it).
    func waiting(_ job: JobSnapshot)
    /// `job` started; told before its thread exists, so no epoch can overtake it.
    func started(_ job: JobSnapshot)
    /// `job` finished `epoch`.
    func epoch(_ job: JobSnapshot, _ epoch: JobSnapshot.Epoch)
    /// `job` ended: succeeded, failed or cancelled.
    func finished(_ job: JobSnapshot)
    /// A job installed `version` of model `name`.
    func installed(model name: String, version: UInt64)
}

/// How a job ended, as the metrics count it.
public enum JobEnding: String, Sendable, CaseIterable {
    /// It ran all its epochs or stopped early on its own criterion.
    case succeeded
    /// It threw (bad data, a failed checkpoint, ...) or could not start.
    case failed
    /// A client or the shutdown cancelled it.
    case cancelled
}

/// Where the scheduler records its counts and the jobs' losses; the Prometheus families implement it.
public protocol JobMetrics: Sendable {
    /// The queued and running counts; called under the scheduler's lock, so never out of order.
    func setJobs(queued: Int, running: Int)
    /// One epoch of a job training `model` ended with these losses.
    func epochCompleted(model: String, trainLoss: Double, validationLoss: Double?)
    /// `model` was installed; its last losses are these.
    func recordLosses(model: String, trainLoss: Double, validationLoss: Double?)
    /// A job ended after `duration` (zero if it never ran), having seen `samples` rows.
    func jobFinished(outcome: JobEnding, duration: Duration, samples: Int, earlyStopped: Bool)
}
