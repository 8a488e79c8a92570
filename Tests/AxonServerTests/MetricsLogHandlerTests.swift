import Foundation
import Logging
import Testing

@testable import AxonServer

/// A pipe whose write end a `LogOutput` writes to; `read()` flushes and returns the lines.
private final class PipeOutput: Sendable {
    let output: LogOutput
    let readEnd: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw POSIXError(.EMFILE) }
        readEnd = fds[0]
        // Never flushed by size in these tests: lines appear only on flush or urgency.
        output = LogOutput(fileDescriptor: fds[1], flushThreshold: 1 << 20, flushInterval: .seconds(3600))
    }

    func lines() -> [String] {
        output.flush()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        _ = fcntl(readEnd, F_SETFL, O_NONBLOCK)
        let n = read(readEnd, &buffer, buffer.count)
        guard n > 0 else { return [] }
        return String(decoding: buffer[..<n], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    deinit {
        close(readEnd)
        close(output.fileDescriptor)
    }
}

private struct ModelNotFound: Error, CustomStringConvertible {
    var description: String { "no model named iris" }
}

@Suite("Log handler")
struct MetricsLogHandlerTests {
    @Test func jsonLinesCarryTimestampLevelLabelMessageAndMetadata() throws {
        let pipe = try PipeOutput()
        let logger = Logger(label: "axond") { AxonLogHandler(label: $0, format: .json, level: .info, output: pipe.output) }
        logger.info("request", metadata: ["http.route": "/healthz", "http.status": "200", "note": "quote \" and\nnewline"])
        logger.debug("below the level")
        let lines = pipe.lines()
        try #require(lines.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "axond")
        #expect(object["message"] as? String == "request")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["http.route"] as? String == "/healthz")
        #expect(metadata["note"] as? String == "quote \" and\nnewline")
        let timestamp = try #require(object["timestamp"] as? String)
        // 2026-11-29T10:52:47.123456Z
        #expect(timestamp.count == 27 && timestamp.hasSuffix("Z") && timestamp.dropFirst(10).hasPrefix("T"))
        let parsed = try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: timestamp))
        #expect(abs(parsed.timeIntervalSinceNow) < 3600)
    }

    @Test func textLinesAreOneLineWithSortedMetadata() throws {
        let pipe = try PipeOutput()
        let logger = Logger(label: "axond") { AxonLogHandler(label: $0, format: .text, level: .info, output: pipe.output) }
        logger.info("two\nlines", metadata: ["b": "2", "a": "1"])
        let lines = pipe.lines()
        try #require(lines.count == 1)
        #expect(lines[0].hasSuffix(#" info axond: two\nlines a=1 b=2"#))
    }

    @Test func errorsCarryTheirTypeAndWarningsAreWrittenAtOnce() throws {
        let pipe = try PipeOutput()
        let logger = Logger(label: "axond") { AxonLogHandler(label: $0, format: .json, level: .info, output: pipe.output) }
        logger.error("predict failed", error: ModelNotFound())
        // No flush needed: warnings and worse are urgent.
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = read(pipe.readEnd, &buffer, buffer.count)
        try #require(n > 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(buffer[..<n])) as? [String: Any])
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect((metadata["error.type"] as? String)?.hasSuffix("ModelNotFound") == true)
        #expect(metadata["error"] as? String == "no model named iris")
    }

    @Test func sizeThresholdFlushesWithoutAnExplicitFlush() throws {
        var fds: [Int32] = [0, 0]
        try #require(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let output = LogOutput(fileDescriptor: fds[1], flushThreshold: 256, flushInterval: .seconds(3600))
        let logger = Logger(label: "t") { AxonLogHandler(label: $0, format: .text, level: .info, output: output) }
        _ = fcntl(fds[0], F_SETFL, O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 8192)
        logger.info("short")
        #expect(read(fds[0], &buffer, buffer.count) < 0, "one short line stays buffered")
        for i in 0..<10 { logger.info("line \(i) with enough text to pass the threshold soon") }
        #expect(read(fds[0], &buffer, buffer.count) > 256)
    }
}

extension ISO8601DateFormatter {
    fileprivate static var withFractionalSeconds: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
