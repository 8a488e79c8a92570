import ArgumentParser
import AxonServer
import Foundation

/// `axon-bench ingest`: how fast a training body (CSV or JSON) becomes rows in memory, through
/// the same reader `POST /train` uses, read from the file in chunks as libmicrohttpd delivers an
/// upload (so the peak RSS is the rows' and the process's, never the whole body's).
struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time parsing a training body into rows; print one JSON line per run with seconds, MB/s and peak RSS.")

    @Option(help: "The body: a CSV file (header row) or a JSON training body.")
    var file: String

    @Option(help: "Target column of a CSV body (default: the last).")
    var target: String?

    @Option(help: "Bytes per chunk handed to the reader.")
    var chunk = 16_384

    @Option(help: "Runs in this process.")
    var runs = 1

    mutating func run() throws {
        let csv = !file.hasSuffix(".json")
        let clock = ContinuousClock()
        for run in 0 ..< runs {
            var parsed: TrainingBodyProbe.Parsed?
            let cpuStart = Self.threadCPUSeconds()
            let elapsed = try clock.measure {
                parsed = try TrainingBodyProbe.parse(file: file, csv: csv, target: target, chunkBytes: chunk)
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            let cpu = Self.threadCPUSeconds() - cpuStart
            let line: [String: Any] = [
                "framework": "axon", "format": csv ? "csv" : "json", "run": run, "seconds": seconds, "cpu_seconds": cpu,
                "mb_per_s": Double(parsed?.bytes ?? 0) / 1e6 / seconds, "bytes": parsed?.bytes ?? 0, "rows": parsed?.rows ?? 0,
                "columns": parsed?.columns ?? 0, "peak_rss_mb": Self.peakResidentMegabytes(),
            ]
            let json = try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys])
            print(String(decoding: json, as: UTF8.self))
        }
    }

    /// CPU time of the calling thread: what the parse cost, whatever else the machine runs.
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// VmHWM of this process, in MB.
    static func peakResidentMegabytes() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kib * 1024 / 1e6
    }
}
