import ArgumentParser
import AxonAPI
import AxonServer
import Foundation
import Logging

/// `axond`: arguments -> configuration -> logging -> run. Everything else lives in AxonServer.
@main
struct Axond: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "axond",
        abstract: "Axon: trains multilayer perceptrons over HTTP and serves their predictions.",
        version: AxonVersion.current,
        subcommands: [Serve.self, CheckConfig.self]
    )
}

/// sysexits.h EX_CONFIG: what systemd and scripts see for a configuration that cannot be used.
let exitConfigurationError = ExitCode(78)

/// Loads the configuration (file < environment < overrides) or prints the error naming the key.
func loadConfiguration(file: String?, overrides: [ConfigurationOverride]) throws -> DaemonConfiguration {
    do {
        return try ConfigurationLoader.load(
            file: file, environment: ProcessInfo.processInfo.environment, overrides: overrides)
    } catch {
        FileHandle.standardError.write(Data("axond: \(error.description)\n".utf8))
        throw exitConfigurationError
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP daemon until SIGTERM or SIGINT, then drain.",
        discussion: "Settings come from the defaults, then --config, then AXON_<KEY> environment variables, then these flags.")

    @Option(help: "JSON configuration file (see config/axond.json).")
    var config: String?

    @Option(help: "Numeric address to bind (http.host; loopback by default).")
    var host: String?

    @Option(help: "TCP port (http.port; 0 picks a free one, the log says which).")
    var port: String?

    @Option(help: "Directory for checkpoints and state (state_dir; created when missing).")
    var stateDir: String?

    @Flag(help: "Serve the models in the state directory without ever writing there (read_only); training, rollback and delete answer 405.")
    var readOnly = false

    @Option(help: "Versions kept on disk per model (retain_versions); older ones are pruned.")
    var retainVersions: String?

    @Option(help: "Seconds between rescans of the state directory for versions other processes wrote (watch_interval_seconds).")
    var watchInterval: String?

    @Option(help: "Training jobs that run at once (max_training_jobs); the others queue.")
    var maxTrainingJobs: String?

    @Option(help: "libmicrohttpd polling threads (http.threads; default: one per core but one, at least one).")
    var threads: String?

    @Option(help: "Threads each training job splits its batches among (training.threads; default: one per core but one, at least one).")
    var trainingThreads: String?

    @Option(help: "Largest request body in bytes (limits.max_body_bytes); larger ones get 413.")
    var maxBodyBytes: String?

    @Option(help: "Seconds in-flight requests get to finish on SIGTERM/SIGINT (drain_timeout_seconds).")
    var drainTimeout: String?

    @Option(help: "Idle connection timeout in seconds (http.connection_timeout_seconds; 0: none).")
    var connectionTimeout: String?

    @Option(help: "Log level (log.level): trace, debug, info, notice, warning, error, critical.")
    var logLevel: String?

    @Flag(inversion: .prefixedNo, help: "Write one log line per request (log.access).")
    var accessLog: Bool?

    @Flag(help: "Add the benchmark/test routes under /debug/ (debug_routes).")
    var enableDebugRoutes = false

    @Option(help: "Log line format (log.format): text or json (one object per line).")
    var logFormat: String?

    @Flag(inversion: .prefixedNo, help: "Instrument requests and serve GET /metrics (metrics.enabled).")
    var metrics: Bool?

    @Option(help: "Request/predict duration histogram buckets, comma-separated seconds (metrics.duration_buckets_seconds).")
    var metricsDurationBuckets: String?

    @Flag(inversion: .prefixedNo, help: "Serve the web console at /ui (ui.enabled).")
    var ui: Bool?

    /// Only flags actually given override the file and the environment.
    var overrides: [ConfigurationOverride] {
        let given: [(String, String?, String)] = [
            ("http.host", host, "--host"), ("http.port", port, "--port"), ("state_dir", stateDir, "--state-dir"),
            ("retain_versions", retainVersions, "--retain-versions"),
            ("watch_interval_seconds", watchInterval, "--watch-interval"),
            ("max_training_jobs", maxTrainingJobs, "--max-training-jobs"),
            ("http.threads", threads, "--threads"), ("training.threads", trainingThreads, "--training-threads"), ("limits.max_body_bytes", maxBodyBytes, "--max-body-bytes"),
            ("drain_timeout_seconds", drainTimeout, "--drain-timeout"),
            ("http.connection_timeout_seconds", connectionTimeout, "--connection-timeout"),
            ("log.level", logLevel, "--log-level"), ("log.access", accessLog.map { String($0) }, "--[no-]access-log"),
            ("log.format", logFormat, "--log-format"), ("metrics.enabled", metrics.map { String($0) }, "--[no-]metrics"),
            ("metrics.duration_buckets_seconds", metricsDurationBuckets, "--metrics-duration-buckets"),
            ("debug_routes", enableDebugRoutes ? "true" : nil, "--enable-debug-routes"),
            ("read_only", readOnly ? "true" : nil, "--read-only"),
            ("ui.enabled", ui.map { String($0) }, "--[no-]ui"),
        ]
        return given.compactMap { key, value, flag in value.map { ConfigurationOverride(key: key, value: $0, source: "flag \(flag)") } }
    }

    func run() async throws {
        let configuration = try loadConfiguration(file: config, overrides: overrides)
        let level = configuration.logLevel
        let format = configuration.logFormat
        LoggingSystem.bootstrap { label in AxonLogHandler(label: label, format: format, level: level) }
        // Buffered lines must reach stderr however run ends.
        defer { LogOutput.standardError.flush() }
        let axonMetrics = AxonMetrics(configuration: configuration.metrics)
        axonMetrics.bootstrapMetricsSystem()
        try await Daemon(configuration: configuration, logger: Logger(label: "axond"), metrics: axonMetrics).run()
    }
}

struct CheckConfig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Print the effective configuration (FILE, then AXON_* environment), or the error naming the key.",
        discussion: "Exits 0 when the configuration is usable, 78 (EX_CONFIG) otherwise. Tokens print as <redacted>.")

    @Argument(help: "JSON configuration file; omit to check the defaults and the environment only.")
    var file: String?

    @Flag(help: "List every key (tab-separated: key, environment variable, default, accepted values, meaning) instead.")
    var keys = false

    func run() async throws {
        if keys {
            let defaults = DaemonConfiguration()
            for key in ConfigurationKey.all {
                let variables = ([key.environmentVariable] + key.environmentAliases).joined(separator: ", ")
                print("\(key.name)\t\(variables)\t\(key.value(in: defaults).json)\t\(key.allowed)\t\(key.summary)")
            }
            return
        }
        let configuration = try loadConfiguration(file: file, overrides: [])
        print(ConfigurationLoader.render(configuration), terminator: "")
    }
}
