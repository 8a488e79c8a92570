import Foundation
import Testing

@testable import AxonServer
import TestKit

/// The connections each epoll set of process `pid` watches, by epoll descriptor number.
/// libmicrohttpd gives every polling thread its own epoll set, so this is the per-thread load.
private func watchedConnections(pid: Int32) throws -> [Int: Int] {
    let fdDirectory = "/proc/\(pid)/fd"
    var counts: [Int: Int] = [:]
    for entry in try FileManager.default.contentsOfDirectory(atPath: fdDirectory) {
        guard let fd = Int(entry),
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(entry)"),
            target == "anon_inode:[eventpoll]",
            let info = try? String(contentsOfFile: "/proc/\(pid)/fdinfo/\(entry)", encoding: .utf8)
        else { continue }
        counts[fd] = info.split(separator: "\n").filter { $0.hasPrefix("tfd:") }.count
    }
    return counts
}

@Suite("Accepting: a burst of connections is spread over the polling threads")
struct ConnectionBalanceTests {
    @Test("8 connections opened at once reach a 2-thread daemon as 4 and 4")
    func burstIsBalanced() async throws {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let daemon = try await NotifiedDaemon.start(state: state.path, ["--threads", "2"])
        let (process, port) = (daemon.process, daemon.port)
        defer {
            kill(process.pid, SIGTERM)
            _ = try? process.wait()
        }

        let before = try watchedConnections(pid: process.pid)
        // All connected before any request: they wait in the backlog together, the case in
        // which one thread used to accept them all (wrk's 16 were seen split 16/0).
        let connections = try (0..<8).map { _ in try TestConnection(port: port) }
        for connection in connections {
            #expect(try await onThread { try connection.request("GET", "/healthz") }.status == 200)
        }
        let after = try watchedConnections(pid: process.pid)
        let gained = after.map { fd, count in count - (before[fd] ?? 0) }.filter { $0 != 0 }.sorted()
        #expect(gained == [4, 4], "connections gained per epoll set: \(gained)")
        withExtendedLifetime(connections) {}
    }
}
