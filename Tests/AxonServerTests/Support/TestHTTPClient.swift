import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Errors of the raw test client, each naming what went wrong.
enum TestClientError: Error, CustomStringConvertible {
    case connect(port: Int, errno: Int32)
    case send(errno: Int32)
    case receive(errno: Int32)
    case closedBeforeResponse(received: Int)
    case malformedResponse(String)

    var description: String {
        switch self {
        case .connect(let port, let code): "connect to 127.0.0.1:\(port) failed: errno \(code)"
        case .send(let code): "send failed: errno \(code)"
        case .receive(let code): "receive failed: errno \(code) (EAGAIN means the 10 s read timeout passed)"
        case .closedBeforeResponse(let n): "connection closed after \(n) bytes, before a complete response"
        case .malformedResponse(let text): "malformed response: \(text)"
        }
    }
}

/// A parsed HTTP/1.1 response.
struct TestResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: [UInt8]

    func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    var text: String { String(decoding: body, as: UTF8.self) }

    /// The `{"error": {"code", "message"}}` envelope, if the body is one.
    var envelope: (code: String, message: String)? {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let error = json["error"] as? [String: Any], let code = error["code"] as? String,
            let message = error["message"] as? String, json.count == 1, error.count == 2
        else { return nil }
        return (code, message)
    }
}

/// A blocking HTTP/1.1 client over a raw POSIX socket: exact control over what is sent
/// (chunked bodies, headers without a body, pipelining) that URLSession does not give. Every
/// read is bounded by a 10 s socket timeout so a broken server fails the test instead of hanging.
final class TestConnection: @unchecked Sendable {
    private let fd: Int32
    private var buffer: [UInt8] = []

    /// A connection whose every send and receive gives up after `timeoutSeconds`.
    init(port: Int, timeoutSeconds: Int = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestClientError.connect(port: port, errno: errno) }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            // No close here: every stored property is set, so deinit runs when init throws and
            // closes fd. Closing it twice closed whatever descriptor another test had opened
            // under the same number meanwhile (seen as EBADF in unrelated tests).
            throw TestClientError.connect(port: port, errno: errno)
        }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw TestClientError.send(errno: errno) }
            offset += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends a request head (and body with Content-Length unless `chunks` is given).
    func sendRequest(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, chunks: [[UInt8]]? = nil
    ) throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if let chunks {
            head += "Transfer-Encoding: chunked\r\n\r\n"
            try send(head)
            for chunk in chunks where !chunk.isEmpty {
                try send(String(chunk.count, radix: 16) + "\r\n")
                try send(chunk)
                try send("\r\n")
            }
            try send("0\r\n\r\n")
        } else {
            if let body { head += "Content-Length: \(body.count)\r\n" }
            try send(head + "\r\n")
            if let body, !body.isEmpty { try send(body) }
        }
    }

    /// Reads one final response (skipping `100 Continue`).
    func readResponse() throws -> TestResponse {
        while true {
            let response = try readOne()
            if response.status != 100 { return response }
        }
    }

    /// Sends a request and reads its response.
    func request(
        _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil, chunks: [[UInt8]]? = nil
    ) throws -> TestResponse {
        do {
            try sendRequest(method, path, headers: headers, body: body, chunks: chunks)
        } catch TestClientError.send(let code) where code == EPIPE || code == ECONNRESET {
            // The server answered before the body was whole (a 413 from the head or mid-body)
            // and closed; as curl does, read the answer it sent instead of failing the send.
            return try readResponse()
        }
        return try readResponse()
    }

    /// True when the server closed the connection (read returns 0 or a reset).
    func isClosedByPeer() -> Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, 0)
        if n > 0 { buffer.append(byte) }
        return n == 0 || (n < 0 && errno == ECONNRESET)
    }

    /// Sends one byte without waiting; false when the connection is already gone.
    func trickle(_ byte: UInt8) -> Bool {
        var value = byte
        return Glibc.send(fd, &value, 1, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) == 1
    }

    /// Waits up to `milliseconds` for the server to close the connection; true when it did.
    /// Bytes that arrive instead are kept for `readResponse`.
    func closed(within milliseconds: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, milliseconds) == 1 else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        if n > 0 { buffer.append(contentsOf: chunk[0..<n]) }
        return n == 0 || (n < 0 && errno != EAGAIN)
    }

    /// Reads the head of a response whose body is chunked and streamed: status and headers only.
    func readStreamHead() throws -> TestResponse {
        let response = try readResponse()
        guard response.header("Transfer-Encoding")?.lowercased() == "chunked" else {
            throw TestClientError.malformedResponse("not chunked: \(response.headers)")
        }
        return response
    }

    /// Reads the next chunk of a chunked body; nil at the terminating chunk.
    func readChunk() throws -> [UInt8]? {
        let sizeEnd = try fill(until: [13, 10])
        let sizeText = String(decoding: buffer[0..<sizeEnd], as: UTF8.self).split(separator: ";")[0]
        guard let size = Int(sizeText, radix: 16) else { throw TestClientError.malformedResponse("chunk size \(sizeText)") }
        buffer.removeFirst(sizeEnd + 2)
        try fill(atLeast: size + 2)
        let chunk = Array(buffer[0..<size])
        buffer.removeFirst(size + 2)
        return size == 0 ? nil : chunk
    }

    // Receives more into the buffer; the peer closing first is `closedBeforeResponse`.
    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 { throw TestClientError.receive(errno: errno) }
        if n == 0 { throw TestClientError.closedBeforeResponse(received: buffer.count) }
        buffer.append(contentsOf: chunk[0..<n])
    }

    // Receives until the buffer holds `delimiter`, and returns where it starts.
    private func fill(until delimiter: [UInt8]) throws -> Int {
        while true {
            if let range = buffer.firstRange(of: delimiter) { return range.lowerBound }
            try fill()
        }
    }

    private func fill(atLeast count: Int) throws {
        while buffer.count < count { try fill() }
    }

    private func readOne() throws -> TestResponse {
        let headEnd = try fill(until: [13, 10, 13, 10])
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        buffer.removeFirst(headEnd + 4)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw TestClientError.malformedResponse(head)
        }
        let headers: [(String, String)] = lines.compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let response = TestResponse(status: status, headers: headers, body: [])
        guard let lengthText = response.header("Content-Length") else { return response }
        guard let length = Int(lengthText) else { throw TestClientError.malformedResponse("Content-Length \(lengthText)") }
        try fill(atLeast: length)
        var complete = response
        complete.body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return complete
    }
}

/// True when nothing accepts connections on the port (refused or reset at once).
func connectionRefused(port: Int) -> Bool {
    do {
        let connection = try TestConnection(port: port)
        // The kernel may complete the handshake on a socket being shut down; the server
        // answering nothing but a close counts as refused too.
        try connection.sendRequest("GET", "/healthz")
        _ = try connection.readResponse()
        return false
    } catch TestClientError.connect(_, let code) {
        return code == ECONNREFUSED
    } catch TestClientError.closedBeforeResponse {
        return true
    } catch TestClientError.receive(let code) {
        return code == ECONNRESET
    } catch {
        return false
    }
}
