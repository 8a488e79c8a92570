import AxonAPI
import AxonStore
import Foundation
import ModelKit
import Synchronization

extension JobQueue {
    /// The queue's bounds.
    struct Limits {
        /// Jobs training at once (`max_training_jobs`).
        var maxRunning: Int
        /// Jobs waiting (`limits.max_queued_jobs`).
        var maxQueued: Int
        /// Bytes the data and start models of all queued jobs may hold (`limits.max_queued_job_bytes`).
        var maxQueuedBytes: Int
        /// Job records kept (`jobs.retain`): beyond it the oldest finished ones are forgotten.
        var retain: Int
        /// Loss-curve points kept per job (`jobs.history_points`), evenly decimated past that.
        var historyPoints: Int
        /// How long a job waits for its model's training lock (`jobs.lock_timeout_seconds`).
        var lockTimeout: Duration
    }

    /// A point in time, from the two clocks a transition needs.
    struct Moment {
        /// For durations.
        var instant: ContinuousClock.Instant
        /// For the record's timestamps (ISO 8601).
        var date: String

        static var now: Moment { Moment(instant: .now, date: Date().iso8601) }
    }

    /// Raised to stop a running job at its next step.
    final class CancelFlag: Sendable {
        let raised = Atomic<Bool>(false)
        var isRaised: Bool { raised.load(ordering: .acquiring) }
    }

    /// A request waiting for a job to end (`?wait=true`, `DELETE /jobs/{id}`).
    typealias Waiter = CheckedContinuation<JobScheduler.Ended?, Never>

    struct Job {
        var snapshot: JobSnapshot
        /// Held while queued; handed to the runner when it starts.
        var plan: TrainingPlan?
        /// The loss curve, bounded; `snapshot.history` is its elements.
        var history: DecimatedHistory<JobSnapshot.Epoch>
        let cancel = CancelFlag()
        var started: ContinuousClock.Instant?
        /// When its record was last written (progress is written every `progressSaveInterval`).
        var saved: ContinuousClock.Instant
        /// When it first found its model's training lock taken.
        var lockWaitSince: ContinuousClock.Instant?
        /// Raised when its model is deleted while it is queued or training: the delete wins.
        var deletion: DeletionMark?
        /// Why it failed, for the answer to a request that waited.
        var failure: JobFailure?
    }

    /// A job to start: what the runner needs.
    struct Launch {
        let id: String
        let plan: TrainingPlan
        let cancel: CancelFlag
        let lock: TrainingLock
        let deletion: DeletionMark?
    }

    /// What a training-lock attempt for a queued job found.
    enum LockAttempt {
        case acquired(TrainingLock)
        /// Another job or process holds it (`holder` as the lock file says, if readable).
        case held(holder: String?)
        case failed(reason: String)
    }

    /// What a transition decided, for the scheduler to carry out.
    struct Effects {
        /// Records to queue for writing, in order (the scheduler queues them under its lock).
        var saves: [JobSnapshot] = []
        /// Jobs that ended: each record is written durably before its waiters and streams hear.
        var ended: [(snapshot: JobSnapshot, failure: JobFailure?, waiters: [Waiter])] = []
        /// Jobs that ended without running, for the metrics.
        var endedUnrun: [JobEnding] = []
        /// Jobs that just began waiting for a training lock.
        var waiting: [JobSnapshot] = []
        var launch: [Launch] = []
        /// Locks taken for jobs that did not start after all (cancelled meanwhile, no slot).
        var unusedLocks: [TrainingLock] = []
        /// Records forgotten past `retain`, to remove from disk.
        var forgotten: [String] = []
        /// Whether the scheduler must start retrying the training locks.
        var startPolling = false
    }

    /// What a run ended with.
    enum Outcome {
        case installed(StoredModel, TrainingReport, MetricsView)
        case cancelled(TrainingReport?)
        case failed(JobFailure)
    }

    /// What `addWaiter` found.
    enum WaitStart {
        /// No such job: the waiter was not kept.
        case unknown
        /// It had already ended so: the waiter was not kept.
        case ended(JobScheduler.Ended)
        /// The waiter is resumed when it ends.
        case waiting
    }
}
