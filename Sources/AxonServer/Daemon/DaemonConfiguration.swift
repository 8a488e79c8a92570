/// Everything `axond serve` configures.
public struct DaemonConfiguration: Sendable, Equatable {
    /// The HTTP server settings.
    public var http = HTTPServerConfiguration()
    /// Directory for checkpoints and other state; created when missing.
    public var stateDirectory: String = "./var"
    /// How long in-flight requests get on SIGTERM/SIGINT before they are answered 503.
    public var drainTimeout: Duration = .seconds(30)
    /// Adds the benchmark and test routes under `/debug/` (off in production).
    public var enableDebugRoutes = false

    /// The defaults: loopback:8080, state in ./var, 30 s drain, no debug routes.
    public init() {}
}
