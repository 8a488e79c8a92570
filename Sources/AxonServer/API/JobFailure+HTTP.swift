import AxonHTTP
import AxonJobs

/// A failed job as the answer to the request that waited for it (`?wait=true`).
extension JobFailure: HTTPResponseError {
    public var status: HTTPStatus {
        switch self {
        case .diverged, .invalidHyperparameter, .invalidData: .unprocessableContent
        case .optimizerMismatch, .trainingLocked: .conflict
        case .threadsUnavailable, .interrupted: .serviceUnavailable
        case .store(let error): error.status
        case .trainingLockFailed, .internalError: .internalServerError
        }
    }
}

/// A submission the queue refused: nothing was queued.
extension JobRefusal: HTTPResponseError {
    private var answer: APIError {
        switch self {
        case .draining: .draining
        case .queueFull(let queued, let limit):
            APIError(
                status: .conflict, code: "queue_full",
                message: "\(queued) training jobs are queued, limits.max_queued_jobs is \(limit); retry later")
        case .tooLarge(let needed, let limit):
            .limitExceeded(key: "limits.max_queued_job_bytes", limit: limit, needed: needed, what: "this job's data and model", unit: .bytes)
        case .queueBytesFull(let held, let needed, let limit):
            APIError(
                status: .conflict, code: "queue_full",
                message: "queued training jobs hold \(LimitUnit.bytes.format(held)) and this one needs \(LimitUnit.bytes.format(needed)); "
                    + "limits.max_queued_job_bytes is \(LimitUnit.bytes.format(limit)); retry later")
        case .modelGone(let error): APIError(status: error.status, code: error.code, message: error.message)
        }
    }

    public var status: HTTPStatus { answer.status }
    public var code: String { answer.code }
    public var message: String { answer.message }
}
