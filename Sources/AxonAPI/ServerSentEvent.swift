/// One Server-Sent Event (`text/event-stream`, the WHATWG format): the server writes events
/// with `encode`, clients read them back with `ServerSentEventParser`.
public struct ServerSentEvent: Sendable, Equatable {
    /// The last `id:` seen up to and including this event (ids persist across events).
    public var id: String?
    /// The `event:` name; `message` when the event gave none.
    public var name: String
    /// The `data:` lines joined with newlines.
    public var data: String

    /// An event from its fields.
    public init(id: String?, name: String = "message", data: String) {
        self.id = id
        self.name = name
        self.data = data
    }

    /// The wire form of an event: an `id:` line (when `id` is given), an `event:` line, a
    /// `data:` line per line of `data`, then a blank line. `data` that holds no newline (one
    /// line of JSON) is copied as it is.
    public static func encode(id: Int?, name: String, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + name.utf8.count + 32)
        if let id { out += Array("id: \(id)\n".utf8) }
        out += Array("event: \(name)\n".utf8)
        for line in data.split(separator: newline, omittingEmptySubsequences: false) {
            out += Array("data: ".utf8)
            out += line
            out.append(newline)
        }
        out.append(newline)
        return out
    }

    private static let newline = UInt8(ascii: "\n")
}

/// What stops a client from reading an event stream.
public enum ServerSentEventError: Error, Equatable, CustomStringConvertible {
    /// One event grew past the parser's `maxEventBytes`.
    case eventTooLarge(limit: Int)

    /// A sentence for the person reading it.
    public var description: String {
        switch self {
        case .eventTooLarge(let limit): "an event of the stream is larger than \(limit) bytes"
        }
    }
}

/// Reads `text/event-stream` bytes as they arrive, in chunks cut anywhere, into events:
/// lines end in LF, CR LF or CR; `:` starts a comment (the server's heartbeat); a blank line
/// dispatches the event; a field without a colon has an empty value.
public struct ServerSentEventParser: Sendable {
    /// An event, comments excluded, may hold at most this many bytes (a bound on what a
    /// misbehaving server can make the client buffer).
    public let maxEventBytes: Int
    /// The id of the last event that carried one: what a reconnecting client sends as
    /// `Last-Event-ID`.
    public private(set) var lastEventID: String?

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var name: String?
    private var eventBytes = 0
    // A CR ended the previous chunk: an LF opening the next one belongs to that line break.
    private var afterCR = false
    private var atStart = true

    /// A parser whose events may hold `maxEventBytes` bytes each.
    public init(maxEventBytes: Int = 64 << 20) {
        self.maxEventBytes = maxEventBytes
    }

    /// The events that `bytes` complete, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws(ServerSentEventError) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == lf { continue }
            }
            switch byte {
            case lf, cr:
                afterCR = byte == cr
                if let event = try endLine() { events.append(event) }
            default:
                line.append(byte)
                eventBytes += 1
                guard eventBytes <= maxEventBytes else { throw .eventTooLarge(limit: maxEventBytes) }
            }
        }
        return events
    }

    private mutating func endLine() throws(ServerSentEventError) -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if atStart {
            atStart = false
            // A UTF-8 byte order mark may open the stream and is not part of the first field.
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        guard !line.isEmpty else { return dispatch() }
        if line.first == UInt8(ascii: ":") {
            eventBytes -= line.count
            return nil
        }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = String(decoding: line[..<(colon ?? line.endIndex)], as: UTF8.self)
        var value = colon.map { line[($0 + 1)...] } ?? []
        if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        switch field {
        case "data":
            data += value
            data.append(lf)
        case "event":
            name = String(decoding: value, as: UTF8.self)
        case "id" where !value.contains(0):
            lastEventID = String(decoding: value, as: UTF8.self)
        default:
            break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            data.removeAll(keepingCapacity: true)
            name = nil
            eventBytes = 0
        }
        guard !data.isEmpty else { return nil }
        data.removeLast()
        return ServerSentEvent(id: lastEventID, name: name ?? "message", data: String(decoding: data, as: UTF8.self))
    }

    private let lf = UInt8(ascii: "\n")
    private let cr = UInt8(ascii: "\r")
}
