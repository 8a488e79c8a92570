import Foundation
import Testing

@testable import AxonServer
import TestKit

/// Plays systemd: a datagram socket that `NOTIFY_SOCKET` points at. Used from one thread at a time.
final class NotifySocket: @unchecked Sendable {
    let fd: Int32
    let path: String

    init() throws {
        path = "/tmp/axon-notify-live-\(getpid())-\(UInt32.random(in: 0 ... .max)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw TestFailure("socket failed: errno \(errno)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else { throw TestFailure("bind \(path) failed: errno \(errno)") }
        // Bounded: a message that never comes fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram's assignments, or nil after the 10 s timeout.
    func receive() -> [String]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Receives (at most `limit` datagrams) until one contains `assignment`; returns all seen.
    func receive(until assignment: String, limit: Int = 200) throws -> [[String]] {
        var seen: [[String]] = []
        for _ in 0..<limit {
            guard let message = receive() else { throw TestFailure("no \(assignment) within 10 s; saw \(seen)") }
            seen.append(message)
            if message.contains(assignment) { return seen }
        }
        throw TestFailure("no \(assignment) in \(limit) datagrams: \(seen)")
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

/// The real axond under a fake systemd: it binds port 0 and reports the port in a STATUS line
/// before READY=1, which is how a test learns it without polling.
struct NotifiedDaemon {
    let process: Subprocess
    let socket: NotifySocket
    let port: Int
    /// The datagrams up to and including READY=1.
    let untilReady: [[String]]

    static func start(
        state: String, _ arguments: [String] = [], environment: [String: String] = [:]
    ) async throws -> NotifiedDaemon {
        let socket = try NotifySocket()
        let process = try Subprocess(
            try Subprocess.builtProduct("axond"),
            ["serve", "--port", "0", "--state-dir", state, "--log-level", "warning", "--no-access-log"] + arguments,
            environment: environment.merging(["NOTIFY_SOCKET": socket.path]) { _, notify in notify })
        let untilReady = try await onThread { try socket.receive(until: "READY=1") }
        let listening = try #require(
            untilReady.joined().first { $0.hasPrefix("STATUS=listening on 127.0.0.1:") }, "\(untilReady)")
        let port = try #require(Int(listening.split(separator: ":").last ?? ""))
        return NotifiedDaemon(process: process, socket: socket, port: port, untilReady: untilReady)
    }
}

@Suite("systemd notify: the real axond under a fake systemd")
struct NotifyLiveTests {
    // Swift Testing makes a fresh suite value for each test: each gets its own directory,
    // removed when the test is over.
    let directory: TemporaryDirectory

    init() throws { directory = try TemporaryDirectory() }

    /// Writes `json` to a configuration file in the test's directory and returns its path.
    func configurationFile(_ json: String) throws -> String {
        let file = "\(directory.path)/axond.json"
        try Data(json.utf8).write(to: URL(fileURLWithPath: file))
        return file
    }

    @Test("READY=1 only once the port answers, WATCHDOG=1 heartbeats, STOPPING=1 on SIGTERM, exit 0")
    func lifecycle() async throws {
        let daemon = try await NotifiedDaemon.start(
            state: directory.path, ["--drain-timeout", "2"], environment: ["WATCHDOG_USEC": "200000"])
        let (process, socket, port) = (daemon.process, daemon.socket, daemon.port)
        let ready = try await onThread { try TestConnection(port: port).request("GET", "/readyz") }
        #expect(ready.status == 200)

        let heartbeats = try await onThread { try socket.receive(until: "WATCHDOG=1") }
        #expect(heartbeats.last == ["WATCHDOG=1"])

        kill(process.pid, SIGTERM)
        let untilStopping = try await onThread { try socket.receive(until: "STOPPING=1") }
        let stopping = try #require(untilStopping.last)
        #expect(stopping.contains { $0.hasPrefix("STATUS=draining") })
        let status = try await onThread { try process.wait() }
        #expect(status == 0)
    }

    @Test("an invalid configuration exits 78 naming the key, before binding anything")
    func invalidConfigurationExits() async throws {
        let axond = try Subprocess.builtProduct("axond")
        let file = try configurationFile(#"{"limits": {"max_rows_per_request": 0}}"#)
        let (serve, serveOutput) = try await onThread { try Subprocess.run(axond, ["serve", "--config", file]) }
        #expect(serve == 78)
        #expect(serveOutput.contains("limits.max_rows_per_request"))
        let (check, checkOutput) = try await onThread {
            try Subprocess.run(axond, ["check-config", file], environment: ["AXON_HTTP_PORT": "1"])
        }
        #expect(check == 78 && checkOutput.contains("limits.max_rows_per_request"))
        let (flag, flagOutput) = try await onThread { try Subprocess.run(axond, ["serve", "--port", "99999"]) }
        #expect(flag == 78 && flagOutput.contains("http.port") && flagOutput.contains("--port"))
    }

    @Test("check-config prints the effective configuration: file < environment")
    func checkConfigPrints() async throws {
        let axond = try Subprocess.builtProduct("axond")
        let file = try configurationFile(#"{"http": {"port": 9000}, "limits": {"max_models": 7}}"#)
        let (status, output) = try await onThread {
            try Subprocess.run(
                axond, ["check-config", file],
                environment: ["AXON_LIMITS_MAX_MODELS": "8", "AXON_ADMIN_TOKEN": "admin-0123456789abcdef"])
        }
        #expect(status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let section = { (name: String) in json[name] as? [String: Any] ?? [:] }
        #expect(section("http")["port"] as? Int == 9000)
        #expect(section("limits")["max_models"] as? Int == 8)
        #expect(section("auth")["admin_token"] as? String == "<redacted>")
        #expect(!output.contains("admin-0123456789abcdef"))
    }
}
