import AxonAPI

/// Shows a followed job's events as they come.
protocol JobDisplay: AnyObject {
    /// `queued` or `started`.
    func stage(_ stage: JobStage, event: JobEventName)
    /// A finished epoch; `done` counts this job's epochs from 1.
    func epoch(_ progress: JobProgress, done: Int)
    /// The job has ended (its summary follows): the last progress is shown and its line ended.
    func end()
}

extension JobDisplay {
    /// What a stage event says, one line.
    static func describe(_ stage: JobStage, event: JobEventName) -> String {
        switch event {
        case .queued:
            let waiting = stage.waitingFor.map { ", waiting for \($0)" } ?? ""
            return "job \(stage.job) queued: model \(stage.model), \(stage.epochs) epochs\(waiting)"
        default:
            return "job \(stage.job) started: \(stage.rows) training rows, \(stage.epochs) epochs"
        }
    }

    /// An epoch's figures: "epoch 37/200", then loss, validation loss, throughput and ETA.
    static func figures(_ progress: JobProgress, done: Int) -> (epoch: String, rest: String) {
        var rest = "loss \(Format.number(progress.trainLoss))"
        if let validation = progress.validationLoss { rest += "  val \(Format.number(validation))" }
        rest += "  \(Format.rate(progress.samplesPerSecond))"
        if let eta = progress.etaSeconds, done < progress.epochs { rest += "  ETA \(Format.duration(eta))" }
        let count = String(progress.epochs)
        let doneText = String(done)
        return ("epoch \(String(repeating: " ", count: max(0, count.count - doneText.count)))\(doneText)/\(count)", rest)
    }
}

/// On a terminal: one progress line redrawn in place (`\r`, then erase to the end of the line),
/// at most `redrawInterval` apart, never wider than the terminal (a wrapped line would not
/// redraw).
final class TerminalDisplay: JobDisplay {
    static let redrawInterval = Duration.milliseconds(50)
    private var drawn = false
    private var lastDraw: ContinuousClock.Instant?
    private var latest: (JobProgress, Int)?
    private var latestDrawn = true

    func stage(_ stage: JobStage, event: JobEventName) {
        if drawn {
            Terminal.write("\n")
            drawn = false
        }
        Terminal.line(Self.describe(stage, event: event))
    }

    func epoch(_ progress: JobProgress, done: Int) {
        latest = (progress, done)
        latestDrawn = false
        let now = ContinuousClock.now
        if let lastDraw, now - lastDraw < Self.redrawInterval { return }
        draw()
        lastDraw = now
    }

    func end() {
        if !latestDrawn { draw() }
        if drawn { Terminal.write("\n") }
        drawn = false
    }

    private func draw() {
        guard let (progress, done) = latest else { return }
        Terminal.write("\r" + Self.line(progress, done: done, width: Terminal.width) + "\u{1B}[K")
        drawn = true
        latestDrawn = true
    }

    /// Columns kept for the figures after the bar, so the bar keeps its width while they vary.
    static let figuresWidth = 50

    /// The progress line for a terminal `width` columns wide.
    static func line(_ progress: JobProgress, done: Int, width: Int) -> String {
        let (epoch, rest) = figures(progress, done: done)
        let barWidth = min(30, width - 1 - epoch.count - 4 - figuresWidth)
        let text: String
        if barWidth >= 10 {
            let filled = progress.epochs > 0 ? min(barWidth, barWidth * done / progress.epochs) : 0
            let bar = "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: barWidth - filled) + "]"
            text = "\(epoch) \(bar) \(rest)"
        } else {
            text = "\(epoch)  \(rest)"
        }
        return String(text.prefix(max(width - 1, 1)))
    }
}

/// Not on a terminal (a pipe, a log): plain lines, no `\r`. The first epoch, then at most one
/// epoch a second, and the last one before the job ends.
final class LineDisplay: JobDisplay {
    static let interval = Duration.seconds(1)
    private var lastLine: ContinuousClock.Instant?
    private var pending: String?

    func stage(_ stage: JobStage, event: JobEventName) {
        flush()
        Terminal.line(Self.describe(stage, event: event))
    }

    func epoch(_ progress: JobProgress, done: Int) {
        let (epoch, rest) = Self.figures(progress, done: done)
        pending = "\(epoch)  \(rest)"
        let now = ContinuousClock.now
        if let lastLine, now - lastLine < Self.interval { return }
        flush()
        lastLine = now
    }

    func end() { flush() }

    private func flush() {
        if let pending { Terminal.line(pending) }
        pending = nil
    }
}

/// `--json`: nothing while the job runs; the command prints the finished job.
final class QuietDisplay: JobDisplay {
    func stage(_ stage: JobStage, event: JobEventName) {}
    func epoch(_ progress: JobProgress, done: Int) {}
    func end() {}
}
