import AxonServer
import Foundation

// baseline-probe FILE: times the older commit's TrainRequest parse of a whole body (as its
// routes did: the body already in memory), printing a JSON line like axon-bench ingest.
let path = CommandLine.arguments[1]
let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
func cpu() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}
let csv = !path.hasSuffix(".json")
let clock = ContinuousClock()
let cpuStart = cpu()
var count = 0
let elapsed = try clock.measure { count = csv ? try BaselineProbe.parseCSV(bytes, target: "label") : try BaselineProbe.parseJSON(bytes) }
let cpuSeconds = cpu() - cpuStart
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
let hwm = Double(status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }!.split(separator: " ").dropFirst().first!)!
let line: [String: Any] = ["framework": "baseline", "format": csv ? "csv" : "json", "seconds": seconds, "cpu_seconds": cpuSeconds,
                           "mb_per_s": Double(bytes.count) / 1e6 / seconds, "bytes": bytes.count, "values": count, "peak_rss_mb": hwm * 1024 / 1e6]
print(String(decoding: try JSONSerialization.data(withJSONObject: line, options: [.sortedKeys]), as: UTF8.self))
