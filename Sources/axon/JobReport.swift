import AxonAPI
import Foundation

/// How a finished job is reported: its metrics on stdout when it succeeded, or the error that
/// `axon` exits with.
enum JobReport {
    /// Prints the outcome of `job` (the API's JSON, `raw`, with `json`); throws `jobFailed`
    /// unless it succeeded.
    static func finish(_ job: JobSnapshot, raw: String, json: Bool) throws(CLIError) {
        if json {
            Terminal.line(raw)
        } else if job.status == .succeeded {
            for line in lines(job) { Terminal.line(line) }
        }
        switch job.status {
        case .succeeded:
            return
        case .failed:
            let error = job.error.map { "\($0.message) (\($0.code))" } ?? "no error was recorded"
            throw .jobFailed("job \(job.id) failed: \(error)")
        case .cancelled:
            throw .jobFailed("job \(job.id) was cancelled; nothing was installed")
        case .queued, .running:
            throw .badResponse("job \(job.id) ended its event stream while \(job.status.rawValue)")
        }
    }

    /// The summary of a job that succeeded: what was installed, then its metrics.
    static func lines(_ job: JobSnapshot) -> [String] {
        let metrics = job.metrics ?? MetricsView()
        var head = "model \(job.model) version \(job.version.map(String.init) ?? "?") trained"
        // The job's own epochs; a continued model's metrics count its earlier versions' too.
        head += ": \(job.epoch) epochs"
        if let total = metrics.epochs, total != job.epoch { head += " (\(total) in all)" }
        if let reason = metrics.stopReason { head += ", \(reason.replacingOccurrences(of: "_", with: " "))" }
        if let seconds = metrics.trainingSeconds { head += " in \(Format.duration(seconds))" }
        if let rate = metrics.samplesPerSecond ?? job.samplesPerSecond { head += ", \(Format.rate(rate))" }
        var rows: [[String]] = []
        func add(_ name: String, _ value: Double?) {
            if let value { rows.append(["  " + name, Format.number(value)]) }
        }
        add("accuracy", metrics.accuracy)
        add("macro F1", metrics.macroF1)
        add("macro precision", metrics.macroPrecision)
        add("macro recall", metrics.macroRecall)
        add("rmse", metrics.rmse)
        add("mae", metrics.mae)
        add("r2", metrics.r2)
        add("loss", metrics.loss)
        add("train loss", metrics.trainLoss)
        add("validation loss", metrics.validationLoss)
        return [head] + Format.table(rows)
    }
}
