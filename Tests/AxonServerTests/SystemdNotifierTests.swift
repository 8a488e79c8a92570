import Testing
@testable import AxonServer
#if canImport(Glibc)
import Glibc
#endif

/// A datagram socket bound where `NOTIFY_SOCKET` would point, standing in for systemd.
private final class NotifyListener {
    let fd: Int32
    let path: String

    init(abstract: Bool) throws {
        let name = "axon-notify-test-\(getpid())-\(UInt32.random(in: 0 ... .max))"
        path = abstract ? "@\(name)" : "/tmp/\(name).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        try #require(fd >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        try #require(rc == 0)
        // Bounded wait: a missing datagram fails the test instead of hanging it.
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0 ..< n], as: UTF8.self)
    }

    deinit {
        close(fd)
        if !path.hasPrefix("@") { unlink(path) }
    }
}

@Suite("systemd notify protocol")
struct SystemdNotifierTests {
    @Test("READY=1 with a status line reaches a filesystem socket")
    func readyOnPathSocket() throws {
        let listener = try NotifyListener(abstract: false)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path])
        #expect(notifier.ready(status: "serving 3 models") == 0)
        #expect(listener.receive() == "READY=1\nSTATUS=serving 3 models")
    }

    @Test("abstract-namespace sockets ('@' prefix) work and newlines cannot inject assignments")
    func abstractSocket() throws {
        let listener = try NotifyListener(abstract: true)
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": listener.path])
        #expect(notifier.stopping(status: "draining\nREADY=1") == 0)
        #expect(listener.receive() == "STOPPING=1\nSTATUS=draining READY=1")
        #expect(notifier.watchdog() == 0)
        #expect(listener.receive() == "WATCHDOG=1")
    }

    @Test("without NOTIFY_SOCKET nothing is sent and nothing fails")
    func disabled() {
        let notifier = SystemdNotifier(environment: [:])
        #expect(!notifier.isEnabled)
        #expect(notifier.ready() == 0)
    }

    @Test("a socket that does not exist reports a negative errno")
    func missingSocket() {
        let notifier = SystemdNotifier(environment: ["NOTIFY_SOCKET": "/tmp/axon-no-such-socket-\(getpid())"])
        #expect(notifier.ready() == -ENOENT)
    }

    @Test("WATCHDOG_USEC sets the heartbeat period only for the process it names")
    func watchdogInterval() {
        let mine = SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "\(getpid())"])
        #expect(mine.watchdogInterval == .seconds(2))
        let other = SystemdNotifier(environment: ["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": "1"])
        #expect(other.watchdogInterval == nil)
        let unset = SystemdNotifier(environment: ["WATCHDOG_USEC": "0"])
        #expect(unset.watchdogInterval == nil)
    }
}
