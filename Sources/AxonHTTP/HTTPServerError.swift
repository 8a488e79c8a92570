/// Failures of the HTTP server's life cycle.
public enum HTTPServerError: Error, Equatable, CustomStringConvertible {
    /// A setting is out of range; the text names it.
    case invalidConfiguration(String)
    /// The address could not be bound or the daemon could not start.
    case bindFailed(host: String, port: Int, errno: Int32)
    /// `start()` was called on a server that is running or stopped.
    case alreadyStarted

    /// A sentence naming the problem and what to change.
    public var description: String {
        switch self {
        case .invalidConfiguration(let text): "invalid HTTP configuration: \(text)"
        case .bindFailed(let host, let port, let code):
            "cannot listen on \(host):\(port) (errno \(code)): is the port in use or the host not a numeric local address?"
        case .alreadyStarted: "the HTTP server was already started"
        }
    }
}
