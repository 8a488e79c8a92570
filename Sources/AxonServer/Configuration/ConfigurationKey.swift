import AxonHTTP
import AxonSupport
import Foundation
import Logging
import ModelKit

#if canImport(Glibc)
import Glibc
#endif

/// One configuration key: its dotted name (`http.port`), what values it accepts, and how it
/// reads and writes `DaemonConfiguration`. The same key is set from the file (nested or dotted
/// JSON), from the environment (`AXON_HTTP_PORT`) and from command-line flags.
public struct ConfigurationKey {
    /// What a key accepts; drives parsing of environment and flag text and the range checks.
    enum Kind {
        case integer(ClosedRange<Int>)
        case optionalInteger(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case optionalNumber(ClosedRange<Double>)
        case boolean
        case string
        case optionalString
        case stringList
        case choice([String])
    }

    /// The dotted name, as in the file.
    public let name: String
    /// One sentence for `check-config --keys` and the table in docs/operations.md.
    public let summary: String
    /// Whether the value is a secret that `check-config` must not print.
    public let isSecret: Bool
    /// Extra environment variable names (`AXON_READ_TOKEN`); the primary form wins when both are set.
    public let environmentAliases: [String]
    let kind: Kind
    private let setter: (inout DaemonConfiguration, ConfigurationValue) -> Void
    private let getter: (DaemonConfiguration) -> ConfigurationValue
    private let check: (ConfigurationValue) -> String?

    /// `AXON_` and the name upper-cased with dots as underscores: `AXON_HTTP_PORT`.
    public var environmentVariable: String {
        "AXON_" + String(name.uppercased().map { $0 == "." ? "_" : $0 })
    }

    /// The value `configuration` holds for this key.
    public func value(in configuration: DaemonConfiguration) -> ConfigurationValue { getter(configuration) }

    /// The accepted values, for messages and documentation.
    public var allowed: String {
        switch kind {
        case .integer(let range): "an integer in \(range.lowerBound)...\(range.upperBound)"
        case .optionalInteger(let range): "null or an integer in \(range.lowerBound)...\(range.upperBound)"
        case .number(let range): "a number in \(range.lowerBound)...\(range.upperBound)"
        case .optionalNumber(let range): "null or a number in \(range.lowerBound)...\(range.upperBound)"
        case .boolean: "a boolean"
        case .string: "a non-empty string"
        case .optionalString: "null or a non-empty string"
        case .stringList: "an array of strings"
        case .choice(let options): "one of " + options.joined(separator: ", ")
        }
    }

    /// Checks `value` (type, range, key-specific rules) and stores it in `configuration`.
    func apply(_ value: ConfigurationValue, to configuration: inout DaemonConfiguration, source: String) throws(ConfigurationError) {
        let normalized = try normalize(value, source: source)
        if let reason = check(normalized) {
            throw .outOfRange(key: name, value: normalized.json, allowed: reason, source: source)
        }
        setter(&configuration, normalized)
    }

    /// Parses environment or flag text into a value of this key's kind; text that does not parse
    /// stays a string, which `apply` then reports as the wrong type.
    func parse(text: String) -> ConfigurationValue {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .integer:
            return Int(trimmed).map(ConfigurationValue.int) ?? .string(text)
        case .optionalInteger:
            if trimmed.isEmpty || trimmed == "null" { return .null }
            return Int(trimmed).map(ConfigurationValue.int) ?? .string(text)
        case .number, .optionalNumber:
            if case .optionalNumber = kind, trimmed.isEmpty || trimmed == "null" { return .null }
            return Double(trimmed).map(ConfigurationValue.number) ?? .string(text)
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: return .string(text)
            }
        case .optionalString:
            return trimmed.isEmpty ? .null : .string(text)
        case .stringList:
            return .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
        case .string, .choice:
            return .string(text)
        }
    }

    private func normalize(_ value: ConfigurationValue, source: String) throws(ConfigurationError) -> ConfigurationValue {
        let wrong = ConfigurationError.wrongType(key: name, expected: allowed, got: value.summary, source: source)
        let outside = ConfigurationError.outOfRange(key: name, value: value.json, allowed: allowed, source: source)
        switch (kind, value) {
        case (.integer(let range), .int(let number)), (.optionalInteger(let range), .int(let number)):
            guard range.contains(number) else { throw outside }
            return value
        case (.integer(let range), .number(let number)), (.optionalInteger(let range), .number(let number)):
            // 8080.0 is an integer written oddly; 1.5 is not one.
            guard number.rounded() == number, let exact = Int(exactly: number) else { throw wrong }
            guard range.contains(exact) else { throw outside }
            return .int(exact)
        case (.number(let range), .int(let number)), (.optionalNumber(let range), .int(let number)):
            guard range.contains(Double(number)) else { throw outside }
            return .number(Double(number))
        case (.number(let range), .number(let number)), (.optionalNumber(let range), .number(let number)):
            guard number.isFinite, range.contains(number) else { throw outside }
            return value
        case (.optionalNumber, .null), (.optionalString, .null), (.optionalInteger, .null), (.boolean, .bool):
            return value
        case (.string, .string(let text)), (.optionalString, .string(let text)):
            guard !text.isEmpty else { throw outside }
            return value
        case (.choice(let options), .string(let text)):
            guard options.contains(text) else { throw outside }
            return value
        case (.stringList, .array(let items)):
            for item in items {
                guard case .string(let text) = item, !text.isEmpty else { throw wrong }
            }
            return value
        default:
            throw wrong
        }
    }

    init(
        _ name: String, _ kind: Kind, _ summary: String, secret: Bool = false, aliases: [String] = [],
        check: @escaping (ConfigurationValue) -> String? = { _ in nil },
        get: @escaping (DaemonConfiguration) -> ConfigurationValue,
        set: @escaping (inout DaemonConfiguration, ConfigurationValue) -> Void
    ) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.isSecret = secret
        self.environmentAliases = aliases
        self.check = check
        self.getter = get
        self.setter = set
    }
}

extension ConfigurationKey {
    static func integer(
        _ name: String, _ range: ClosedRange<Int>, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, Int>
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .integer(range), summary, get: { .int($0[keyPath: path]) },
            set: { configuration, value in if case .int(let number) = value { configuration[keyPath: path] = number } })
    }

    /// A duration given in (fractional) seconds, kept to the millisecond.
    static func seconds(
        _ name: String, _ range: ClosedRange<Double>, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, Duration>
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .number(range), summary, get: { .number(seconds($0[keyPath: path])) },
            set: { configuration, value in
                if case .number(let s) = value { configuration[keyPath: path] = .milliseconds(Int64((s * 1000).rounded())) }
            })
    }

    static func boolean(_ name: String, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, Bool>) -> ConfigurationKey {
        ConfigurationKey(
            name, .boolean, summary, get: { .bool($0[keyPath: path]) },
            set: { configuration, value in if case .bool(let flag) = value { configuration[keyPath: path] = flag } })
    }

    static func optionalString(
        _ name: String, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, String?>, secret: Bool = false,
        aliases: [String] = []
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .optionalString, summary, secret: secret, aliases: aliases,
            get: { $0[keyPath: path].map(ConfigurationValue.string) ?? .null },
            set: { configuration, value in
                if case .string(let text) = value { configuration[keyPath: path] = text } else { configuration[keyPath: path] = nil }
            })
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }

    /// Every key, in the order config/axond.json and docs/operations.md list them.
    public static var all: [ConfigurationKey] {
        [
            ConfigurationKey(
                "http.host", .string, "Numeric IPv4 or IPv6 address to bind; loopback unless exposing Axon is intended.",
                check: { value in
                    guard case .string(let host) = value else { return nil }
                    var v4 = in_addr(), v6 = in6_addr()
                    return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
                        ? nil : "a numeric IPv4 or IPv6 address (no host names)"
                },
                get: { .string($0.http.host) },
                set: { configuration, value in if case .string(let host) = value { configuration.http.host = host } }),
            .integer("http.port", 0...65535, "TCP port; 0 picks a free one (the log says which).", \.http.port),
            ConfigurationKey(
                "http.threads", .optionalInteger(1...1024), "libmicrohttpd polling threads; null is one per core but one (at least one).",
                get: { $0.http.threads == HTTPServerConfiguration.defaultThreads ? .null : .int($0.http.threads) },
                set: { configuration, value in
                    if case .int(let n) = value { configuration.http.threads = n } else {
                        configuration.http.threads = HTTPServerConfiguration.defaultThreads
                    }
                }),
            .integer(
                "http.connection_timeout_seconds", 0...86_400, "Idle connection timeout; 0 disables it.",
                \.http.connectionTimeoutSeconds),
            .integer(
                "http.connection_limit", 0...1_000_000, "Largest number of open connections; 0 keeps libmicrohttpd's default.",
                \.http.connectionLimit),
            .integer(
                "http.request_timeout_seconds", 0...86_400,
                "Seconds a request may take to arrive whole (headers and body), however slowly it trickles; 0 disables it.",
                \.http.requestTimeoutSeconds),
            .integer(
                "events.max_streams", 0...100_000,
                "Server-Sent Event streams (GET /jobs/{id}/events, GET /events) open at once; more get 503 too_many_streams.",
                \.maxEventStreams),
            .seconds(
                "events.heartbeat_seconds", 0.1...3_600,
                "Seconds between the comments that keep an idle event stream open through proxies (and find clients that left).",
                \.eventHeartbeat),
            .integer(
                "inference.threads", 1...256, "Threads that run predictions above inference.async_threshold_flops, and evaluations.",
                \.inference.threads),
            .integer(
                "inference.queue_limit", 0...1_000_000, "Requests waiting for an inference thread; more get 503 overloaded.",
                \.inference.queueLimit),
            .integer(
                "inference.async_threshold_flops", 0...Int.max,
                "Predictions costing more floating-point operations run on the inference threads; cheaper ones on the polling thread.",
                \.inference.asyncThresholdFlops),
            ConfigurationKey(
                "state_dir", .string, "Directory of checkpoints and state; created when missing.",
                get: { .string($0.stateDirectory) },
                set: { configuration, value in if case .string(let path) = value { configuration.stateDirectory = path } }),
            .boolean(
                "read_only",
                "Serves the models in state_dir without ever writing there (for read-only mounts such as KServe's /mnt/models): training, rollback and delete answer 405 read_only.",
                \.readOnly),
            .seconds(
                "drain_timeout_seconds", 0...86_400,
                "Seconds in-flight requests get on SIGTERM before they are answered 503; keep it below systemd's TimeoutStopSec.",
                \.drainTimeout),
            .integer("retain_versions", 1...10_000, "Checkpoint versions kept per model; older ones are pruned.", \.retainedVersions),
            ConfigurationKey(
                "watch_interval_seconds", .optionalNumber(0.05...86_400),
                "How often to rescan the state directory for versions other replicas wrote; null never.",
                get: { $0.watchInterval.map { .number(seconds($0)) } ?? .null },
                set: { configuration, value in
                    if case .number(let s) = value {
                        configuration.watchInterval = .milliseconds(Int64((s * 1000).rounded()))
                    } else {
                        configuration.watchInterval = nil
                    }
                }),
            .integer("max_training_jobs", 1...256, "Training jobs that run at once; the others queue.", \.maxTrainingJobs),
            ConfigurationKey(
                "training.threads", .optionalInteger(1...Trainer.maximumThreads),
                "Threads each training job splits its batches among; null is one per core but one (at least one), leaving a core to serving.",
                get: { $0.limits.trainingThreads == ServerLimits.defaultTrainingThreads ? .null : .int($0.limits.trainingThreads) },
                set: { configuration, value in
                    if case .int(let n) = value { configuration.limits.trainingThreads = n } else {
                        configuration.limits.trainingThreads = ServerLimits.defaultTrainingThreads
                    }
                }),
            .integer(
                "jobs.retain", 1...1_000_000,
                "Job records kept for GET /jobs, in memory and under <state_dir>/jobs; the oldest finished ones are removed first.",
                \.retainedJobs),
            .seconds(
                "jobs.lock_timeout_seconds", 0...604_800,
                "How long a queued job waits for its model's training lock (another replica training it) before failing with training_locked; it holds no training slot meanwhile.",
                \.trainingLockTimeout),
            .integer(
                "jobs.history_points", 10...1_000_000,
                "Loss-curve points kept per job; a longer run keeps evenly spaced epochs (the last one always).",
                \.jobHistoryPoints),
            .boolean("debug_routes", "Adds the benchmark and test routes under /debug/ (never in production).", \.enableDebugRoutes),
            ConfigurationKey(
                "limits.max_body_bytes", .integer(1...(1 << 40)), "Largest request body but a training one (limits.max_train_body_bytes); larger ones get 413.",
                get: { .int(Int(clamping: $0.http.maxBodyBytes)) },
                set: { configuration, value in if case .int(let n) = value { configuration.http.maxBodyBytes = UInt64(n) } }),
            .integer(
                "limits.max_rows_per_request", 1...Int(Int32.max), "Rows in one predict, evaluate or train request.",
                \.limits.maxRowsPerRequest),
            .integer("limits.max_features", 1...Int(Int32.max), "Input width of a model.", \.limits.maxFeatures),
            .integer(
                "limits.max_parameters_per_model", 1...Int(Int32.max), "Trainable parameters of one model.",
                \.limits.maxParametersPerModel),
            .integer(
                "limits.max_epoch_rows_per_job", 1...Int.max, "Epochs times training rows of one job: the work one request can start.",
                \.limits.maxEpochRowsPerJob),
            .integer("limits.max_models", 1...1_000_000, "Models the store holds.", \.limits.maxModels),
            .integer("limits.max_queued_jobs", 0...1_000_000, "Training jobs waiting in the queue.", \.limits.maxQueuedJobs),
            .integer(
                "limits.max_request_bytes", 1...Int.max,
                "Working memory of one predict or evaluate request: rows through every layer, outputs and the response.",
                \.limits.maxRequestBytes),
            .integer(
                "limits.max_request_flops", 1...Int.max, "Floating-point operations of one predict or evaluate request.",
                \.limits.maxRequestFlops),
            .integer(
                "limits.max_job_bytes", 1...Int.max,
                "Memory of one training job: data, one-hot targets, split, workspaces of every layer, parameters, gradients, moments, evaluation.",
                \.limits.maxJobBytes),
            .integer(
                "limits.max_job_flops", 1...Int.max, "Floating-point operations of one training job over all its epochs.",
                \.limits.maxJobFlops),
            .integer(
                "limits.max_queued_job_bytes", 1...Int.max, "Memory held by the data and start models of all queued jobs together.",
                \.limits.maxQueuedJobBytes),
            .integer("limits.max_classes", 2...1_000_000, "Classes of one classifier (evaluation builds classes x classes).", \.limits.maxClasses),
            .integer(
                "limits.max_categories", 1...10_000_000,
                "Categories of all text columns of one model together (each is one one-hot input).", \.limits.maxCategories),
            .integer("limits.max_layers", 2...100_000, "Layers of one network, input and output included.", \.limits.maxLayers),
            .integer("limits.max_json_depth", 2...100_000, "Nesting depth of a JSON body, skipped values included.", \.limits.maxJSONDepth),
            .integer(
                "limits.max_string_bytes", 1...(1 << 30), "Bytes of one string (key, name, label) in a JSON or CSV body.",
                \.limits.maxStringBytes),
            .integer("limits.max_number_bytes", 16...(1 << 20), "Characters of one number in a JSON or CSV body.", \.limits.maxNumberBytes),
            .integer(
                "limits.max_train_body_bytes", 1...(1 << 42),
                "Largest training body (POST /train, POST /models/{name}/train), read as it arrives; larger ones get 413.",
                \.limits.maxTrainBodyBytes),
            .optionalString(
                "auth.read_token", "Bearer token for predict, evaluate and metadata; null leaves reads open.",
                \.http.access.readToken, secret: true, aliases: ["AXON_READ_TOKEN"]),
            .optionalString(
                "auth.admin_token", "Bearer token for train, delete, rollback and job cancel (and reads); null turns auth off.",
                \.http.access.adminToken, secret: true, aliases: ["AXON_ADMIN_TOKEN"]),
            .boolean("auth.protect_metrics", "Whether /metrics needs the read token.", \.http.access.protectMetrics),
            .boolean("auth.protect_health", "Whether the health probes need the read token.", \.http.access.protectHealth),
            .boolean("cors.enabled", "Whether cross-origin requests from cors.allowed_origins are allowed.", \.http.cors.enabled),
            ConfigurationKey(
                "cors.allowed_origins", .stringList, "Origins allowed when CORS is on (\"https://app.example.com\"; \"*\" any).",
                get: { .array($0.http.cors.allowedOrigins.map(ConfigurationValue.string)) },
                set: { configuration, value in
                    if case .array(let items) = value {
                        configuration.http.cors.allowedOrigins = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                    }
                }),
            .integer("cors.max_age_seconds", 0...86_400, "How long browsers cache a preflight answer.", \.http.cors.maxAgeSeconds),
            .optionalString("tls.cert_file", "PEM certificate (chain) for HTTPS; null serves plain HTTP.", \.http.tls.certificateFile),
            .optionalString("tls.key_file", "PEM private key (unencrypted) matching tls.cert_file.", \.http.tls.keyFile),
            ConfigurationKey(
                "log.level", .choice(Logger.Level.allCases.map(\.rawValue)), "Lowest level written to the log (stderr).",
                get: { .string($0.logLevel.rawValue) },
                set: { configuration, value in
                    if case .string(let text) = value, let level = Logger.Level(rawValue: text) { configuration.logLevel = level }
                }),
            .boolean("log.access", "Whether every request writes one access-log line.", \.http.accessLog),
            ConfigurationKey(
                "log.format", .choice(LogFormat.allCases.map(\.rawValue)), "text lines for people, or one JSON object per line.",
                get: { .string($0.logFormat.rawValue) },
                set: { configuration, value in
                    if case .string(let text) = value, let format = LogFormat(rawValue: text) { configuration.logFormat = format }
                }),
            .boolean("metrics.enabled", "Whether requests are instrumented and GET /metrics is served.", \.metrics.enabled),
            ConfigurationKey(
                "metrics.duration_buckets_seconds", .string,
                "Upper bounds of the request and predict duration histograms: ascending seconds, comma-separated.",
                check: { value in
                    guard case .string(let text) = value else { return nil }
                    do { _ = try MetricsConfiguration.parseBuckets(text) } catch { return "ascending positive numbers of seconds, comma-separated" }
                    return nil
                },
                get: { .string($0.metrics.durationBuckets.map { "\(seconds($0))" }.joined(separator: ",")) },
                set: { configuration, value in
                    if case .string(let text) = value, let buckets = try? MetricsConfiguration.parseBuckets(text) {
                        configuration.metrics.durationBuckets = buckets
                    }
                }),
            .boolean(
                "ui.enabled", "Whether the web console is served at /ui (it asks for a token and uses the API like any client).",
                \.enableConsole),
        ]
    }
}
