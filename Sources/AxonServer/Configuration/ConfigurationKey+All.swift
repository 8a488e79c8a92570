import AxonHTTP
import AxonSupport
import Foundation
import Logging
import ModelKit

// The keys, one section per part of config/axond.json, in the order the file and
// docs/operations.md list them.
extension ConfigurationKey {
    /// Every key, in the order config/axond.json and docs/operations.md list them.
    public static var all: [ConfigurationKey] {
        let sections: [[ConfigurationKey]] = [http, events, inference, server, training, debug, limits, auth, cors, tls, log, metrics, console]
        return Array(sections.joined())
    }

    /// `http.*`: the listening socket, its threads and the connection and request timeouts.
    private static var http: [ConfigurationKey] {
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
        ]
    }

    /// `events.*`: the Server-Sent Event streams.
    private static var events: [ConfigurationKey] {
        [
            .integer(
                "events.max_streams", 0...100_000,
                "Server-Sent Event streams (GET /jobs/{id}/events, GET /events) open at once; more get 503 too_many_streams.",
                \.maxEventStreams),
            .seconds(
                "events.heartbeat_seconds", 0.1...3_600,
                "Seconds between the comments that keep an idle event stream open through proxies (and find clients that left).",
                \.eventHeartbeat),
        ]
    }

    /// `inference.*`: the pool that runs costly predictions and evaluations.
    private static var inference: [ConfigurationKey] {
        [
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
        ]
    }

    /// The state directory and how the daemon serves, drains, keeps and rescans its versions.
    private static var server: [ConfigurationKey] {
        [
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
        ]
    }

    /// Training jobs: how many run, on how many threads, and what `jobs.*` keeps of them.
    private static var training: [ConfigurationKey] {
        [
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
        ]
    }

    /// `debug_routes`: the benchmark and test routes.
    private static var debug: [ConfigurationKey] {
        [
            .boolean("debug_routes", "Adds the benchmark and test routes under /debug/ (never in production).", \.enableDebugRoutes),
        ]
    }

    /// `limits.*`: what one request, model or job may size, checked before it is allocated.
    private static var limits: [ConfigurationKey] {
        [
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
        ]
    }

    /// `auth.*`: the bearer tokens and what they protect.
    private static var auth: [ConfigurationKey] {
        [
            .optionalString(
                "auth.read_token", "Bearer token for predict, evaluate and metadata; null leaves reads open.",
                \.http.access.readToken, secret: true, aliases: ["AXON_READ_TOKEN"]),
            .optionalString(
                "auth.admin_token", "Bearer token for train, delete, rollback and job cancel (and reads); null turns auth off.",
                \.http.access.adminToken, secret: true, aliases: ["AXON_ADMIN_TOKEN"]),
            .boolean("auth.protect_metrics", "Whether /metrics needs the read token.", \.http.access.protectMetrics),
            .boolean("auth.protect_health", "Whether the health probes need the read token.", \.http.access.protectHealth),
        ]
    }

    /// `cors.*`: cross-origin requests.
    private static var cors: [ConfigurationKey] {
        [
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
        ]
    }

    /// `tls.*`: HTTPS.
    private static var tls: [ConfigurationKey] {
        [
            .optionalString("tls.cert_file", "PEM certificate (chain) for HTTPS; null serves plain HTTP.", \.http.tls.certificateFile),
            .optionalString("tls.key_file", "PEM private key (unencrypted) matching tls.cert_file.", \.http.tls.keyFile),
        ]
    }

    /// `log.*`: the log level, the access log and the line format.
    private static var log: [ConfigurationKey] {
        [
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
        ]
    }

    /// `metrics.*`: Prometheus instrumentation.
    private static var metrics: [ConfigurationKey] {
        [
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
        ]
    }

    /// `ui.enabled`: the web console.
    private static var console: [ConfigurationKey] {
        [
            .boolean(
                "ui.enabled", "Whether the web console is served at /ui (it asks for a token and uses the API like any client).",
                \.enableConsole),
        ]
    }
}
