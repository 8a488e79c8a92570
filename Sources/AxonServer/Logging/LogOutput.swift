import AxonSupport
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
// Qualified once here: inside LogOutput, `write` names its own method.
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
import Darwin
private let systemWrite = Darwin.write
#endif

/// A buffered, thread-safe line writer for log handlers.
///
/// `StreamLogHandler` issues one `write(2)` per line (stderr is unbuffered) and formats the time
/// with `strftime`; at tens of thousands of requests per second that costs more than the request.
/// Here lines are appended to a buffer under a lock and written in batches: when the buffer
/// passes `flushThreshold`, at once for warnings and worse, and by a background thread every
/// `flushInterval`, so an idle process still shows its last lines within that interval.
public final class LogOutput: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var flusherStarted = false
        // The formatted "YYYY-MM-DDTHH:MM:SS" of `second`, reused for every line within it.
        var second = -1
        var secondText: [UInt8] = []
    }

    /// Standard error, shared by every handler that writes there.
    public static let standardError = LogOutput(fileDescriptor: 2)

    /// The descriptor lines are written to (not closed by this object).
    public let fileDescriptor: Int32
    /// Buffered bytes that trigger a write.
    public let flushThreshold: Int
    /// Longest time a line waits in the buffer.
    public let flushInterval: Duration
    private let state = Mutex(State())
    private let writing = Mutex(())

    /// A writer to `fileDescriptor`.
    public init(fileDescriptor: Int32, flushThreshold: Int = 32 << 10, flushInterval: Duration = .milliseconds(100)) {
        self.fileDescriptor = fileDescriptor
        self.flushThreshold = flushThreshold
        self.flushInterval = flushInterval
    }

    /// Appends one line built by `body` (which gets the UTC timestamp text and the buffer);
    /// `urgent` writes the buffer out before returning.
    func write(urgent: Bool, _ body: (_ timestamp: [UInt8], _ buffer: inout [UInt8]) -> Void) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (due, startFlusher) = state.withLock { state in
            if state.second != now.tv_sec {
                state.second = now.tv_sec
                state.secondText = Self.formatSecond(now.tv_sec)
            }
            var stamp = state.secondText
            stamp.append(UInt8(ascii: "."))
            Self.appendPadded(&stamp, Int(now.tv_nsec / 1000), width: 6)
            stamp.append(UInt8(ascii: "Z"))
            body(stamp, &state.buffer)
            let start = !state.flusherStarted
            state.flusherStarted = true
            return (urgent || state.buffer.count >= flushThreshold, start)
        }
        if startFlusher { self.startFlusher() }
        if due { flush() }
    }

    /// Writes out whatever is buffered and returns once it is written (call before exiting).
    public func flush() {
        // Taking and writing under one lock keeps batches in order, and a flush returns only
        // after every line appended before it reached the descriptor.
        writing.withLock { _ in
            let pending: [UInt8] = state.withLock { state in
                defer { state.buffer.removeAll(keepingCapacity: true) }
                return state.buffer
            }
            if !pending.isEmpty { writeAll(pending) }
        }
    }

    private func startFlusher() {
        let (seconds, attoseconds) = flushInterval.components
        let interval = Double(seconds) + Double(attoseconds) * 1e-18
        DedicatedThread.start("axon-log-flush") { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: interval)
                // Strong only while flushing, so the output can go away between rounds.
                guard let output = self else { return }
                output.flush()
            }
        }
    }

    // Each batch holds whole lines; a short write continues where it stopped.
    private func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = systemWrite(fileDescriptor, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return  // Nowhere left to report a failing log; dropping the batch is all that is safe.
                }
                offset += n
            }
        }
    }

    private static func formatSecond(_ seconds: Int) -> [UInt8] {
        var time = seconds
        var parts = tm()
        gmtime_r(&time, &parts)
        var text: [UInt8] = []
        text.reserveCapacity(32)
        appendPadded(&text, Int(parts.tm_year) + 1900, width: 4)
        text.append(UInt8(ascii: "-"))
        appendPadded(&text, Int(parts.tm_mon) + 1, width: 2)
        text.append(UInt8(ascii: "-"))
        appendPadded(&text, Int(parts.tm_mday), width: 2)
        text.append(UInt8(ascii: "T"))
        appendPadded(&text, Int(parts.tm_hour), width: 2)
        text.append(UInt8(ascii: ":"))
        appendPadded(&text, Int(parts.tm_min), width: 2)
        text.append(UInt8(ascii: ":"))
        appendPadded(&text, Int(parts.tm_sec), width: 2)
        return text
    }

    static func appendPadded(_ buffer: inout [UInt8], _ value: Int, width: Int) {
        var digits: [UInt8] = []
        var rest = max(0, value)
        repeat {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        if digits.count < width { buffer.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: width - digits.count)) }
        buffer.append(contentsOf: digits.reversed())
    }
}
