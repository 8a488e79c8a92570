import Foundation
import Prometheus
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` families, read from /proc when scraped (Linux). Elsewhere only the
/// file-descriptor limit is reported; the other values stay 0.
final class ProcessMetrics: Sendable {
    private let startTime: Gauge
    private let resident: Gauge
    private let virtual: Gauge
    private let cpu: Counter
    private let openFDs: Gauge
    private let maxFDs: Gauge
    // The counter can only grow by deltas, so the last reading is kept.
    private let lastCPUSeconds = Mutex<Double>(0)
    private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    private let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))

    init(registry: PrometheusCollectorRegistry) {
        startTime = registry.gauge(name: "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds.")
        resident = registry.gauge(name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
        virtual = registry.gauge(name: "process_virtual_memory_bytes", help: "Virtual memory size in bytes.")
        cpu = registry.counter(name: "process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds.")
        openFDs = registry.gauge(name: "process_open_fds", help: "Number of open file descriptors.")
        maxFDs = registry.gauge(name: "process_max_fds", help: "Maximum number of open file descriptors.")
        if let stat = Self.readStat(), let bootTime = Self.bootTime() {
            startTime.set(bootTime + stat.startTicks / ticksPerSecond)
        }
        update()
    }

    /// Refreshes every value; called once per scrape.
    func update() {
        if let stat = Self.readStat() {
            resident.set(stat.residentPages * pageSize)
            virtual.set(stat.virtualBytes)
            let seconds = (stat.userTicks + stat.systemTicks) / ticksPerSecond
            let delta = lastCPUSeconds.withLock { last -> Double in
                let delta = seconds - last
                if delta > 0 { last = seconds }
                return delta
            }
            if delta > 0 { cpu.increment(by: delta) }
        }
        if let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            // Minus one: listing the directory opens a descriptor of its own.
            openFDs.set(Double(max(0, entries.count - 1)))
        }
        var limit = rlimit()
        if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 { maxFDs.set(Double(limit.rlim_cur)) }
    }

    private struct Stat {
        var userTicks: Double
        var systemTicks: Double
        var startTicks: Double
        var virtualBytes: Double
        var residentPages: Double
    }

    /// Fields of /proc/self/stat (proc(5)): the command name in parentheses may contain spaces,
    /// so fields are counted from the last ')'.
    private static func readStat() -> Stat? {
        guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): field n is at index n - 3.
        guard fields.count > 21 else { return nil }
        func number(_ field: Int) -> Double? { Double(fields[field - 3]) }
        guard let user = number(14), let system = number(15), let start = number(22), let vsize = number(23),
            let rss = number(24)
        else { return nil }
        return Stat(userTicks: user, systemTicks: system, startTicks: start, virtualBytes: vsize, residentPages: rss)
    }

    private static func bootTime() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("btime ") {
            return Double(line.dropFirst(6).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}
