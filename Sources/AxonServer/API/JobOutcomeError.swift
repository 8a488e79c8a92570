import AxonAPI
import AxonHTTP
import AxonJobs

/// What `?wait=true` answers for a job that did not succeed: the job's own error in the usual
/// envelope, with the status that fits it, and `Location: /jobs/{id}` so the client can read
/// the whole record (loss curve, timestamps).
///
/// | job | status | code |
/// |---|---|---|
/// | failed, model trained elsewhere past `jobs.lock_timeout_seconds` | 409 | `training_locked` |
/// | failed, continuing with an incompatible optimizer state | 409 | `optimizer_mismatch` |
/// | failed, loss diverged / data or settings ModelKit refused | 422 | `diverged`, `invalid_data`, `invalid_hyperparameter` |
/// | failed, store refused the result | the store error's (409 `too_many_models`, 507 `insufficient_storage`, ...) | its code |
/// | failed, daemon shutting down before the job started | 503 | `interrupted` |
/// | cancelled (`DELETE /jobs/{id}`) | 409 | `job_cancelled` |
/// | failed otherwise | 500 | `internal` |
struct JobOutcomeError: HTTPResponseError {
    let job: JobSnapshot
    /// Why it failed; nil for a record restored from disk (answered as 500).
    let failure: JobFailure?

    init(_ ended: JobScheduler.Ended) {
        self.job = ended.snapshot
        self.failure = ended.failure
    }

    var status: HTTPStatus {
        switch job.status {
        case .cancelled: .conflict
        case .failed: failure?.status ?? .internalServerError
        // Not finished or succeeded: never thrown for those; a 500 if it ever were.
        case .queued, .running, .succeeded: .internalServerError
        }
    }

    var code: String {
        job.status == .cancelled ? "job_cancelled" : job.error?.code ?? "internal"
    }

    var message: String {
        let detail = job.status == .cancelled
            ? "the job was cancelled by DELETE /jobs/\(job.id) before it finished; nothing was installed and its record was removed"
            : job.error?.message ?? "the job failed"
        return job.status == .cancelled ? detail : "\(detail) (job \(job.id), GET /jobs/\(job.id))"
    }

    var headers: HTTPHeaders { ["Location": "/jobs/\(job.id)"] }
}
