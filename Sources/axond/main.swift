import ArgumentParser
import AxonServer
import Logging

/// `axond`: arguments -> configuration -> logging -> run. Everything else lives in AxonServer.
@main
struct Axond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "axond",
        abstract: "Axon: trains multilayer perceptrons over HTTP and serves their predictions.",
        version: AxonVersion.current,
        subcommands: [Serve.self]
    )
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the HTTP daemon until SIGTERM or SIGINT, then drain.")

    @Option(help: "Numeric address to bind (loopback by default).")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0 picks a free one; the log says which).")
    var port = 8080

    @Option(help: "Directory for checkpoints and state (created when missing).")
    var stateDir = "./var"

    @Option(help: "Versions kept on disk per model (at least 1); older ones are pruned.")
    var retainVersions = 5

    @Option(help: "Seconds between rescans of the state directory for versions other processes wrote (0: never).")
    var watchInterval: Double = 0

    @Option(help: "libmicrohttpd polling threads (default: one per core).")
    var threads = HTTPServerConfiguration.defaultThreads

    @Option(help: "Largest request body in bytes; larger ones get 413.")
    var maxBodyBytes: UInt64 = 64 << 20

    @Option(help: "Seconds in-flight requests get to finish on SIGTERM/SIGINT.")
    var drainTimeout: Double = 30

    @Option(help: "Idle connection timeout in seconds (0: none).")
    var connectionTimeout = 30

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Flag(inversion: .prefixedNo, help: "Write one log line per request.")
    var accessLog = true

    @Flag(help: "Add the benchmark/test routes under /debug/.")
    var enableDebugRoutes = false

    @Option(help: "Log line format: text or json (one object per line).")
    var logFormat = "text"

    @Flag(inversion: .prefixedNo, help: "Instrument requests and serve GET /metrics.")
    var metrics = true

    @Option(help: "Request/predict duration histogram buckets, comma-separated seconds (default 0.00005 ... 10).")
    var metricsDurationBuckets: String?

    func validate() throws {
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown log level \(logLevel)") }
        guard LogFormat(rawValue: logFormat) != nil else { throw ValidationError("--log-format must be text or json, got \(logFormat)") }
        if let metricsDurationBuckets {
            do { _ = try MetricsConfiguration.parseBuckets(metricsDurationBuckets) } catch { throw ValidationError(error.description) }
        }
        guard drainTimeout >= 0, drainTimeout <= 86_400 else { throw ValidationError("--drain-timeout must be 0...86400 seconds") }
        guard retainVersions >= 1, retainVersions <= 1_000_000 else { throw ValidationError("--retain-versions must be 1...1000000") }
        guard watchInterval == 0 || (watchInterval >= 0.01 && watchInterval <= 86_400) else {
            throw ValidationError("--watch-interval must be 0 (off) or 0.01...86400 seconds")
        }
        var http = httpConfiguration
        http.port = port
        do { try http.validate() } catch { throw ValidationError(error.description) }
    }

    private var httpConfiguration: HTTPServerConfiguration {
        var http = HTTPServerConfiguration()
        http.host = host
        http.port = port
        http.threads = threads
        http.maxBodyBytes = maxBodyBytes
        http.connectionTimeoutSeconds = connectionTimeout
        http.accessLog = accessLog
        return http
    }

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let format = LogFormat(rawValue: logFormat) ?? .text
        LoggingSystem.bootstrap { label in AxonLogHandler(label: label, format: format, level: level) }
        // Buffered lines must reach stderr however run ends.
        defer { LogOutput.standardError.flush() }
        var metricsConfiguration = MetricsConfiguration()
        metricsConfiguration.enabled = metrics
        if let metricsDurationBuckets {
            metricsConfiguration.durationBuckets = try MetricsConfiguration.parseBuckets(metricsDurationBuckets)
        }
        let axonMetrics = AxonMetrics(configuration: metricsConfiguration)
        axonMetrics.bootstrapMetricsSystem()
        var configuration = DaemonConfiguration()
        configuration.http = httpConfiguration
        configuration.stateDirectory = stateDir
        configuration.drainTimeout = .milliseconds(Int64(drainTimeout * 1000))
        configuration.enableDebugRoutes = enableDebugRoutes
        configuration.retainedVersions = retainVersions
        configuration.watchInterval = watchInterval > 0 ? .milliseconds(Int64(watchInterval * 1000)) : nil
        try await Daemon(configuration: configuration, logger: Logger(label: "axond"), metrics: axonMetrics).run()
    }
}
