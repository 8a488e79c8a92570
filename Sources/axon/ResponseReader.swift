/// The status line and headers of a response, and how its body is framed.
struct ResponseHead {
    enum Framing {
        case length(Int)
        case chunked
        /// Until the server closes the connection.
        case close
    }

    var status: Int
    var headers: [(name: String, value: String)]
    var framing: Framing
}

/// Reads one response from a connection: the head, then the body in full or as it arrives.
final class ResponseReader {
    private let connection: Connection
    /// Received bytes not consumed yet.
    private var pending: [UInt8] = []
    private var ended = false
    private var chunked = ChunkedDecoder()
    /// How the body of the head read last is framed; for `.length`, the bytes still to come.
    private var framing = ResponseHead.Framing.close
    private var remaining = 0

    init(connection: Connection) {
        self.connection = connection
    }

    /// Reads more from the connection into `pending`; false at the end of the stream.
    private func fill(timeout: Double) throws(CLIError) -> Bool {
        guard !ended else { return false }
        let chunk = try connection.read(upTo: 64 << 10, timeout: timeout)
        guard !chunk.isEmpty else {
            ended = true
            return false
        }
        pending += chunk
        return true
    }

    /// The status line and headers.
    func head() throws(CLIError) -> ResponseHead {
        var searched = 0
        while true {
            if let end = Self.headEnd(pending, from: max(0, searched - 3)) {
                let text = String(decoding: pending[..<end], as: UTF8.self)
                pending.removeSubrange(..<end)
                let head = try Self.parseHead(text)
                framing = head.framing
                if case .length(let count) = head.framing { remaining = count }
                return head
            }
            searched = pending.count
            guard pending.count <= HTTPClient.maxHeadBytes else { throw .badResponse("the response headers are larger than \(HTTPClient.maxHeadBytes) bytes") }
            guard try fill(timeout: HTTPClient.readTimeout) else {
                throw pending.isEmpty
                    ? .unreachable("the server closed the connection without answering")
                    : .badResponse("the server's answer is not HTTP: \(String(decoding: pending.prefix(60), as: UTF8.self))")
            }
        }
    }

    /// The index just past the blank line ending the head (CRLF CRLF, or LF LF), if present.
    private static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    private static func parseHead(_ text: String) throws(CLIError) -> ResponseHead {
        var lines = text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard !lines.isEmpty else { throw .badResponse("the server's answer has no status line") }
        let first = lines.removeFirst()
        let statusLine = first.split(separator: " ", maxSplits: 2)
        guard statusLine.count >= 2, statusLine[0].hasPrefix("HTTP/1."), let status = Int(statusLine[1]), (100 ... 599).contains(status) else {
            throw .badResponse("the server's answer is not HTTP/1.x: \(first.prefix(60))")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), line[line.index(after: colon)...].trimmingSpaces))
        }
        func value(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        let framing: ResponseHead.Framing
        if value("transfer-encoding")?.lowercased().contains("chunked") == true {
            framing = .chunked
        } else if let length = value("content-length") {
            guard let count = Int(length), count >= 0 else { throw .badResponse("the response has a malformed Content-Length \(length)") }
            framing = .length(count)
        } else {
            framing = .close
        }
        return ResponseHead(status: status, headers: headers, framing: framing)
    }

    /// The whole body (at most `HTTPClient.maxResponseBytes`).
    func body(_ head: ResponseHead) throws(CLIError) -> [UInt8] {
        if case .length(let count) = head.framing, count > HTTPClient.maxResponseBytes {
            throw .badResponse("the response body of \(count) bytes is larger than axon reads (\(HTTPClient.maxResponseBytes))")
        }
        var body: [UInt8] = []
        while let bytes = try next(timeout: HTTPClient.readTimeout) {
            body += bytes
            guard body.count <= HTTPClient.maxResponseBytes else {
                throw .badResponse("the response body is larger than axon reads (\(HTTPClient.maxResponseBytes) bytes)")
            }
        }
        return body
    }

    /// The next body bytes as they arrive (waiting at most `timeout` seconds), or nil at the
    /// end of the body.
    func next(timeout: Double) throws(CLIError) -> [UInt8]? {
        while true {
            switch framing {
            case .length:
                guard remaining > 0 else { return nil }
                if !pending.isEmpty {
                    let take = min(remaining, pending.count)
                    let out = Array(pending[..<take])
                    pending.removeSubrange(..<take)
                    remaining -= take
                    return out
                }
                guard try fill(timeout: timeout) else { throw .unreachable("the server closed the connection in the middle of its answer") }
            case .chunked:
                if chunked.isDone { return nil }
                if !pending.isEmpty {
                    let out = try chunked.decode(pending[...])
                    pending.removeAll(keepingCapacity: true)
                    if !out.isEmpty { return out }
                    continue
                }
                guard try fill(timeout: timeout) else { throw .unreachable("the server closed the connection in the middle of its answer") }
            case .close:
                if !pending.isEmpty {
                    defer { pending.removeAll(keepingCapacity: true) }
                    return pending
                }
                guard try fill(timeout: timeout) else { return nil }
            }
        }
    }
}

/// A response whose body is read as it arrives (an event stream).
struct ResponseStream {
    let reader: ResponseReader
    let head: ResponseHead

    /// The next bytes, or nil once the body has ended; waits at most `timeout` seconds.
    func next(timeout: Double) throws(CLIError) -> [UInt8]? {
        try reader.next(timeout: timeout)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
