import AxonHTTP
import AxonServer
import Foundation
import Logging
import Synchronization
import TestKit

/// Log lines captured for assertions.
final class LogCapture: Sendable {
    struct Line: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let storage = Mutex<[Line]>([])

    var lines: [Line] { storage.withLock { $0 } }

    func append(_ line: Line) { storage.withLock { $0.append(line) } }

    var logger: Logger {
        Logger(label: "test") { _ in CapturingHandler(capture: self) }
    }
}

struct CapturingHandler: LogHandler {
    let capture: LogCapture
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var flat: [String: String] = [:]
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }) { flat[key] = "\(value)" }
        capture.append(.init(level: event.level, message: "\(event.message)", metadata: flat))
    }
}

/// A silent logger for tests that do not look at logs.
let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// A test configuration: loopback, ephemeral port, two threads, small body limit.
func testConfiguration(maxBodyBytes: UInt64 = 1024) -> HTTPServerConfiguration {
    var configuration = HTTPServerConfiguration()
    configuration.port = 0
    configuration.threads = 2
    configuration.maxBodyBytes = maxBodyBytes
    configuration.connectionTimeoutSeconds = 10
    configuration.accessLog = false
    return configuration
}

/// Starts a server on 127.0.0.1:0, runs `body` with it and its port, and drains it afterwards on
/// the success and the failure path alike.
func withServer<T>(
    router: Router, configuration: HTTPServerConfiguration = testConfiguration(), logger: Logger = quietLogger,
    _ body: (HTTPServer, Int) async throws -> T
) async throws -> T {
    let server = HTTPServer(configuration: configuration, router: router, logger: logger)
    try server.start()
    guard let port = server.port else { throw HTTPServerError.invalidConfiguration("server reported no port") }
    do {
        let result = try await body(server, port)
        _ = await server.stop(drainTimeout: .seconds(5))
        return result
    } catch {
        _ = await server.stop(drainTimeout: .seconds(5))
        throw error
    }
}

/// A gate async handlers wait on; the test opens it. Also counts how many handlers arrived.
final class Gate: Sendable {
    private struct State {
        var open = false
        var waiters: [CheckedContinuation<Void, Never>] = []
        var arrived = 0
    }

    private let state = Mutex(State())

    var arrived: Int { state.withLock { $0.arrived } }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                state.arrived += 1
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

extension Router {
    /// An asynchronous `GET` at `template` that waits for `gate` to open, then answers `text`.
    mutating func get(_ template: String, after gate: Gate, answering text: String) {
        get(template, async: { _ in
            await gate.wait()
            return Response.text(text)
        })
    }
}

/// Polls `condition` every millisecond, at most `limit` times; true once it holds. Used to observe
/// a state change another thread makes, never to wait for a fixed time.
func eventually(limit: Int = 5000, _ condition: () -> Bool) async -> Bool {
    for _ in 0..<limit {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(1))
    }
    return condition()
}

/// Strings recorded from any thread.
final class Recorder: Sendable {
    private let storage = Mutex<[String]>([])

    func record(_ value: String) { storage.withLock { $0.append(value) } }

    var values: [String] { storage.withLock { $0 } }
}
