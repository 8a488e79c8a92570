import AxonAPI
import AxonStore
import AxonSupport
import ModelKit

/// Why a job failed, in the domain's terms. AxonServer maps each case to the HTTP answer of a
/// request that waited for the job (`?wait=true`); the job record carries `code` and `message`.
public enum JobFailure: Error, Sendable {
    /// The loss stopped being finite.
    case diverged(epoch: Int, step: Int)
    /// ModelKit refused a setting.
    case invalidHyperparameter(name: String, value: Double, allowed: String)
    /// The parent version's optimizer state does not fit the network being continued.
    case optimizerMismatch(reason: String)
    /// `training.threads` threads could not be started.
    case threadsUnavailable(requested: Int, reason: String)
    /// ModelKit refused the rows (`message` names the field).
    case invalidData(message: String)
    /// The store refused to read the parent or to install the result (`model_deleted` among them).
    case store(StoreError)
    /// Another job (here or in a replica) held the model's training lock for `waited`.
    case trainingLocked(model: String, holder: String?, waited: Duration)
    /// The training lock's file could not be opened or locked.
    case trainingLockFailed(reason: String)
    /// The daemon drained before the job started.
    case interrupted
    /// Anything else; the server log has the detail.
    case internalError

    /// The failure of a training thread's error.
    init(_ error: any Error) {
        switch error {
        case let error as JobFailure: self = error
        case let error as StoreError: self = .store(error)
        case let error as DataError: self = .invalidData(message: DataErrorText.describe(error, field: "inputs"))
        case let error as TrainingError:
            switch error {
            case .diverged(let epoch, let step): self = .diverged(epoch: epoch, step: step)
            case .invalidHyperparameter(let name, let value, let allowed): self = .invalidHyperparameter(name: name, value: value, allowed: allowed)
            case .optimizerStateMismatch(let reason): self = .optimizerMismatch(reason: reason)
            case .threadsUnavailable(let requested, let reason): self = .threadsUnavailable(requested: requested, reason: reason)
            }
        default: self = .internalError
        }
    }

    /// The stable machine-readable code.
    public var code: String {
        switch self {
        case .diverged: "diverged"
        case .invalidHyperparameter: "invalid_hyperparameter"
        case .optimizerMismatch: "optimizer_mismatch"
        case .threadsUnavailable: "threads_unavailable"
        case .invalidData: "invalid_data"
        case .store(let error): error.code
        case .trainingLocked: "training_locked"
        case .trainingLockFailed: "training_lock_failed"
        case .interrupted: "interrupted"
        case .internalError: "internal"
        }
    }

    /// What went wrong, and what to do about it.
    public var message: String {
        switch self {
        case .diverged(let epoch, let step):
            "training diverged (loss not finite) in epoch \(epoch), step \(step); lower the learning rate or normalize the inputs"
        case .invalidHyperparameter(let name, let value, let allowed): "\(name) is \(value); allowed: \(allowed)"
        case .optimizerMismatch(let reason): "cannot continue training: \(reason)"
        case .threadsUnavailable(let requested, let reason): "could not start \(requested) training threads: \(reason); lower training.threads"
        case .invalidData(let message): message
        case .store(let error): error.message
        case .trainingLocked(let model, let holder, let waited):
            "model \"\(model)\" is being trained by another job" + (holder.map { " (\($0))" } ?? "")
                + "; waited \(waited.inSeconds) s for its training lock (jobs.lock_timeout_seconds); retry when that job has finished"
        case .trainingLockFailed(let reason): "cannot take the model's training lock: \(reason)"
        case .interrupted: "the daemon is shutting down and the job had not started; its training data was not kept, resubmit it"
        case .internalError: "training failed with an internal error; see the server log"
        }
    }

    /// The record's form of it.
    var record: JobSnapshot.Failure { JobSnapshot.Failure(code: code, message: message) }
}

/// Why `JobScheduler.submit` refused a plan; nothing was queued.
public enum JobRefusal: Error, Sendable {
    /// The daemon is draining.
    case draining
    /// `limits.max_queued_jobs` jobs already wait.
    case queueFull(queued: Int, limit: Int)
    /// This plan alone holds more than `limits.max_queued_job_bytes`.
    case tooLarge(needed: Int, limit: Int)
    /// The queued jobs and this one together would hold more than `limits.max_queued_job_bytes`.
    case queueBytesFull(held: Int, needed: Int, limit: Int)
    /// The model a continuing plan starts from was deleted meanwhile.
    case modelGone(StoreError)
}
