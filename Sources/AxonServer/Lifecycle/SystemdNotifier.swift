#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Speaks systemd's notify protocol (`sd_notify(3)`) directly over `$NOTIFY_SOCKET`.
///
/// Implemented by hand rather than through libsystemd so the daemon has no extra link
/// dependency and the protocol stays testable: every message is one datagram of
/// newline-separated `KEY=VALUE` assignments sent to a `AF_UNIX` `SOCK_DGRAM` socket.
/// When `NOTIFY_SOCKET` is unset (not run by systemd) every call is a cheap no-op.
public struct SystemdNotifier: Sendable {
    /// The socket address from `NOTIFY_SOCKET`; `nil` when not supervised.
    public let socketPath: String?
    /// The watchdog heartbeat period systemd asked for (`WATCHDOG_USEC`), if any.
    public let watchdogInterval: Duration?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String]) {
        let path = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        socketPath = path
        // systemd sets WATCHDOG_PID so that a child that inherited the environment does not
        // send heartbeats on behalf of its parent.
        var interval: Duration?
        if let usecText = environment["WATCHDOG_USEC"], let usec = UInt64(usecText), usec > 0 {
            let pidMatches = environment["WATCHDOG_PID"].map { Int32($0) == getpid() } ?? true
            if pidMatches { interval = .microseconds(Int64(clamping: usec)) }
        }
        watchdogInterval = interval
    }

    /// Reads the process environment.
    public init() {
        var env: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { env[key] = String(cString: value) }
        }
        self.init(environment: env)
    }

    /// Whether a supervisor is listening.
    public var isEnabled: Bool { socketPath != nil }

    /// Tells systemd the service is ready (`READY=1`), with an optional status line.
    @discardableResult
    public func ready(status: String? = nil) -> Int32 {
        send(["READY=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// Tells systemd the service is shutting down (`STOPPING=1`).
    @discardableResult
    public func stopping(status: String? = nil) -> Int32 {
        send(["STOPPING=1"] + (status.map { ["STATUS=\($0)"] } ?? []))
    }

    /// Sends a watchdog heartbeat (`WATCHDOG=1`).
    @discardableResult
    public func watchdog() -> Int32 { send(["WATCHDOG=1"]) }

    /// Sets the free-form status line `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Int32 { send(["STATUS=\(text)"]) }

    /// Sends one datagram of assignments. Returns 0, or a negative errno; newlines inside a
    /// value would start a new assignment, so they are replaced by spaces.
    @discardableResult
    public func send(_ assignments: [String]) -> Int32 {
        guard let path = socketPath else { return 0 }
        let message = assignments
            .map { String($0.map { $0 == "\n" ? " " : $0 }) }
            .joined(separator: "\n")
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(path.utf8)
        // A leading '@' names a socket in the abstract namespace, spelled with a NUL byte.
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else { return -ENAMETOOLONG }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return -errno }
        defer { close(fd) }
        let sent = message.utf8CString.withUnsafeBufferPointer { text in
            withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                    sendto(fd, text.baseAddress, text.count - 1, Int32(MSG_NOSIGNAL), sa, length)
                }
            }
        }
        return sent < 0 ? -errno : 0
    }
}
