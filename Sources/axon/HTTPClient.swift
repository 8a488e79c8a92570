import AxonAPI
import Glibc

/// A response read in full.
struct HTTPResponse {
    var status: Int
    var headers: [(name: String, value: String)]
    var body: [UInt8]

    /// The first header called `name` (case-insensitive).
    func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The body decoded as `type`; a body that is not that JSON is a `badResponse`.
    func decode<T: Decodable>(_ type: T.Type, what: String) throws(CLIError) -> T {
        do {
            return try APIJSON.decode(type, from: body)
        } catch {
            throw .badResponse("the server's \(what) is not what axon expects (\(error)); is AXON_URL an axond?")
        }
    }
}

/// What a request sends.
enum RequestBody {
    case none
    case bytes([UInt8], contentType: String)
    /// A file sent as it is read, so a large CSV is never held in memory.
    case file(path: String, contentType: String)
}

/// A minimal blocking HTTP/1.1 client of axond: one request per connection
/// (`Connection: close`), bodies framed by Content-Length, chunked or the end of the
/// connection. It speaks plain HTTP only (see `ServerURL`).
struct HTTPClient {
    let server: ServerURL
    /// Sent as `Authorization: Bearer <token>`.
    let token: String?

    /// Seconds to wait for a connection.
    static let connectTimeout = 10.0
    /// Seconds a request may wait for the server's next byte (a large prediction computes first).
    static let readTimeout = 300.0
    /// A response body may hold at most this many bytes.
    static let maxResponseBytes = 256 << 20
    /// The status line and headers may hold at most this many bytes.
    static let maxHeadBytes = 64 << 10

    /// Sends a request and reads the whole answer (any status).
    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: RequestBody = .none
    ) throws(CLIError) -> HTTPResponse {
        // Opened first: a file that cannot be read is said so whether or not the server is up.
        var file: BodyFile?
        if case .file(let path, _) = body { file = try BodyFile(path) }
        let connection = try Connection(host: server.host, port: server.port, timeout: Self.connectTimeout)
        let reader = ResponseReader(connection: connection)
        do throws(CLIError) {
            try write(method, path + URLText.query(query), body: body, file: file, accept: "application/json", extra: [], to: connection)
        } catch {
            // A server that refuses early (401, 413) answers and closes while the body is still
            // being sent: its answer says more than the broken pipe.
            if case .unreachable = error, let head = try? reader.head(), let bytes = try? reader.body(head) {
                return HTTPResponse(status: head.status, headers: head.headers, body: bytes)
            }
            throw error
        }
        let head = try reader.head()
        return HTTPResponse(status: head.status, headers: head.headers, body: try reader.body(head))
    }

    /// Sends a GET for a stream and returns its reader once the head has arrived; a non-2xx
    /// answer is read in full and thrown as its error.
    func stream(_ path: String, headers: [(String, String)]) throws(CLIError) -> ResponseStream {
        let connection = try Connection(host: server.host, port: server.port, timeout: Self.connectTimeout)
        let reader = ResponseReader(connection: connection)
        try write("GET", path, body: .none, file: nil, accept: "text/event-stream", extra: headers, to: connection)
        let head = try reader.head()
        guard (200 ..< 300).contains(head.status) else {
            throw CLIError.from(HTTPResponse(status: head.status, headers: head.headers, body: try reader.body(head)))
        }
        return ResponseStream(reader: reader, head: head)
    }

    private func write(
        _ method: String, _ target: String, body: RequestBody, file: BodyFile?, accept: String, extra: [(String, String)],
        to connection: Connection
    ) throws(CLIError) {
        var head = "\(method) \(server.basePath)\(target) HTTP/1.1\r\nHost: \(server.hostHeader)\r\n"
        head += "User-Agent: axon/\(AxonVersion.current)\r\nAccept: \(accept)\r\nConnection: close\r\n"
        if let token { head += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        switch body {
        case .none:
            if method != "GET" { head += "Content-Length: 0\r\n" }
        case .bytes(let bytes, let type):
            head += "Content-Type: \(type)\r\nContent-Length: \(bytes.count)\r\n"
        case .file(_, let type):
            head += "Content-Type: \(type)\r\nContent-Length: \(file?.size ?? 0)\r\n"
        }
        head += "\r\n"
        try connection.write(Array(head.utf8)[...], timeout: Self.readTimeout)
        if case .bytes(let bytes, _) = body { try connection.write(bytes[...], timeout: Self.readTimeout) }
        try file?.send(to: connection, timeout: Self.readTimeout)
    }
}

/// A regular file sent as a request body, read as it is sent.
final class BodyFile {
    let path: String
    let size: Int
    private let descriptor: Int32

    init(_ path: String) throws(CLIError) {
        self.path = path
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw .unreadable("cannot read \(path): \(String(cString: strerror(errno)).lowercased())") }
        var info = stat()
        guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw .unreadable("cannot read \(path): not a regular file (use - to read standard input)")
        }
        size = Int(info.st_size)
    }

    deinit {
        close(descriptor)
    }

    /// Copies the file to `connection` in 64 KiB pieces.
    func send(to connection: Connection, timeout: Double) throws(CLIError) {
        var left = size
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while left > 0 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, left)) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw .unreadable("cannot read \(path): it ended or failed while being sent") }
            try connection.write(chunk[..<count], timeout: timeout)
            left -= count
        }
    }
}
