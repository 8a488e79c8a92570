import Glibc

/// One TCP connection to the server: a non-blocking socket whose every connect, read and write
/// waits in `poll` for at most its timeout, so a silent server never hangs `axon`.
final class Connection {
    private let fd: Int32
    private let peer: String

    /// Connects to `host`:`port`, trying each address the name resolves to, each for at most
    /// `timeout` seconds.
    init(host: String, port: UInt16, timeout: Double) throws(CLIError) {
        peer = host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            throw .unreachable("cannot resolve \(host): \(String(cString: gai_strerror(resolved)))")
        }
        defer { freeaddrinfo(list) }
        var failure = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next {
            next = info.pointee.ai_next
            let socketFD = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard socketFD >= 0 else {
                failure = Self.describe(errno)
                continue
            }
            let error = Self.connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen, timeout: timeout)
            if error == 0 {
                fd = socketFD
                var on: Int32 = 1
                // Small requests and SSE reads: no Nagle delay on the request line and headers.
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
                setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, socklen_t(MemoryLayout<Int32>.size))
                return
            }
            close(socketFD)
            failure = error == ETIMEDOUT ? "no answer within \(Int(timeout)) s" : Self.describe(error)
        }
        throw .unreachable("cannot connect to \(peer): \(failure) (is axond running there? AXON_URL or --url says where)")
    }

    deinit {
        close(fd)
    }

    /// 0, or the errno of a connect that failed or did not finish within `timeout`.
    private static func connect(_ fd: Int32, _ address: UnsafeMutablePointer<sockaddr>?, _ length: socklen_t, timeout: Double) -> Int32 {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let started = Glibc.connect(fd, address, length)
        if started == 0 { return 0 }
        guard errno == EINPROGRESS else { return errno }
        guard wait(fd, for: Int16(POLLOUT), timeout: timeout) else { return ETIMEDOUT }
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size)
        return error
    }

    /// Whether `fd` became ready for `events` within `timeout` seconds (EINTR waits again).
    private static func wait(_ fd: Int32, for events: Int16, timeout: Double) -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while true {
            let left = deadline - ContinuousClock.now
            let milliseconds = max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            var poller = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&poller, 1, Int32(clamping: milliseconds))
            if ready > 0 { return true }
            if ready == 0 { return false }
            if errno != EINTR { return true }
        }
    }

    /// Sends all of `bytes`, waiting at most `timeout` seconds each time the socket is full.
    func write(_ bytes: ArraySlice<UInt8>, timeout: Double) throws(CLIError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let sent = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent > 0 {
                offset += sent
            } else if sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                guard Self.wait(fd, for: Int16(POLLOUT), timeout: timeout) else {
                    throw .unreachable("\(peer) took no data for \(Int(timeout)) s")
                }
            } else if sent < 0 && errno == EINTR {
                continue
            } else {
                throw .unreachable("the connection to \(peer) broke while sending: \(Self.describe(errno))")
            }
        }
    }

    /// Reads what has arrived (at most `limit` bytes); empty at end of stream. Waits at most
    /// `timeout` seconds for the first byte.
    func read(upTo limit: Int, timeout: Double) throws(CLIError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: limit)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count >= 0 {
                buffer.removeSubrange(count...)
                return buffer
            }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                guard Self.wait(fd, for: Int16(POLLIN), timeout: timeout) else {
                    throw .unreachable("\(peer) sent nothing for \(Int(timeout)) s")
                }
            default:
                throw .unreachable("the connection to \(peer) broke: \(Self.describe(errno))")
            }
        }
    }

    private static func describe(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
