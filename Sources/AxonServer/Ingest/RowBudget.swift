import AxonHTTP
import AxonJobs
import ModelKit

/// How many rows of a given width a training body may hold, from the limits, so that a reader
/// refuses the row that would cross a limit before that row is stored: the request-cost model
/// applied to what has been read so far.
///
/// The bounds are the row limit (`limits.max_rows_per_request`) and the data's share of the
/// job's memory (`ModelConfiguration.trainingDataBytes` within `limits.max_job_bytes`, counting
/// one output per row: the least any network has). The whole job (every layer, the epochs'
/// work) is checked once the network is chosen, in `TrainingPlan`.
struct RowBudget: Sendable {
    /// Rows allowed.
    let rows: Int
    private let width: Int
    private let limits: ServerLimits

    /// The budget of rows of `width` input values.
    init(width: Int, limits: ServerLimits) {
        self.width = width
        self.limits = limits
        let perRow = ModelConfiguration.trainingDataBytes(rows: 1, inputs: width, outputs: 1)
        rows = min(limits.maxRowsPerRequest, limits.maxJobBytes / max(perRow, 1))
    }

    /// The error for the row after `rows` rows, naming the limit it crosses; `place` says where
    /// in the body it starts (`CSV line 7`, `inputs[6]`).
    func refusal(after rows: Int, place: String) -> APIError {
        let needed = rows + 1
        if needed > limits.maxRowsPerRequest {
            return .limitExceeded(
                key: "limits.max_rows_per_request", limit: limits.maxRowsPerRequest, needed: needed,
                what: "the training rows (at least; \(place) is one more)")
        }
        let bytes = ModelConfiguration.trainingDataBytes(rows: needed, inputs: width, outputs: 1)
        return .limitExceeded(
            key: "limits.max_job_bytes", limit: limits.maxJobBytes, needed: bytes,
            what: "the training data read so far (\(needed) rows of \(width) inputs, up to \(place); the rows, their split and normalized copies)",
            unit: .bytes)
    }
}
