@testable import AxonHTTP
import Foundation
import Logging
import Testing

@testable import AxonServer

private func load(
    _ json: String?, environment: [String: String] = [:], overrides: [ConfigurationOverride] = []
) throws(ConfigurationError) -> DaemonConfiguration {
    try ConfigurationLoader.load(
        contents: json.map { Data($0.utf8) }, path: "test.json", environment: environment, overrides: overrides)
}

/// The error `body` throws, or nil when it succeeds.
private func error(_ body: () throws(ConfigurationError) -> DaemonConfiguration) -> ConfigurationError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

private let adminToken = "admin-0123456789abcdef"
private let readToken = "read-0123456789abcdef"

@Suite("configuration: file < environment < flags")
struct ConfigurationTests {
    @Test("no file, no environment: the defaults")
    func defaults() throws {
        #expect(try load(nil) == DaemonConfiguration())
    }

    @Test("nested and dotted keys set the same fields")
    func nestedAndDotted() throws {
        let nested = try load(#"{"http": {"port": 9001, "host": "::1"}, "limits": {"max_rows_per_request": 7}}"#)
        let dotted = try load(#"{"http.port": 9001, "http.host": "::1", "limits.max_rows_per_request": 7}"#)
        #expect(nested == dotted)
        #expect(nested.http.port == 9001)
        #expect(nested.http.host == "::1")
        #expect(nested.limits.maxRowsPerRequest == 7)
    }

    @Test("every field a key maps to is set from the file")
    func everyKey() throws {
        let json = """
            {"http": {"host": "0.0.0.0", "port": 1, "threads": 3, "connection_timeout_seconds": 4, "connection_limit": 5},
             "state_dir": "/srv/axon", "drain_timeout_seconds": 2.5, "retain_versions": 6, "watch_interval_seconds": 0.5,
             "max_training_jobs": 2, "debug_routes": true,
             "limits": {"max_body_bytes": 10, "max_rows_per_request": 11, "max_features": 12,
                        "max_parameters_per_model": 13, "max_epoch_rows_per_job": 14, "max_models": 15, "max_queued_jobs": 16},
             "auth": {"read_token": "\(readToken)", "admin_token": "\(adminToken)", "protect_metrics": true, "protect_health": true},
             "cors": {"enabled": true, "allowed_origins": ["https://a.example"], "max_age_seconds": 17},
             "log": {"level": "debug", "access": false}}
            """
        let c = try load(json)
        #expect(c.http.host == "0.0.0.0" && c.http.port == 1 && c.http.threads == 3)
        #expect(c.http.connectionTimeoutSeconds == 4 && c.http.connectionLimit == 5)
        #expect(c.stateDirectory == "/srv/axon" && c.drainTimeout == .milliseconds(2500))
        #expect(c.retainedVersions == 6 && c.watchInterval == .milliseconds(500) && c.maxTrainingJobs == 2)
        #expect(c.enableDebugRoutes)
        #expect(c.http.maxBodyBytes == 10)
        #expect(c.limits.maxRowsPerRequest == 11 && c.limits.maxFeatures == 12 && c.limits.maxParametersPerModel == 13)
        #expect(c.limits.maxEpochRowsPerJob == 14 && c.limits.maxModels == 15 && c.limits.maxQueuedJobs == 16)
        #expect(c.http.access.readToken == readToken && c.http.access.adminToken == adminToken)
        #expect(c.http.access.protectMetrics && c.http.access.protectHealth)
        #expect(c.http.cors.enabled && c.http.cors.allowedOrigins == ["https://a.example"] && c.http.cors.maxAgeSeconds == 17)
        #expect(c.logLevel == .debug && !c.http.accessLog)
    }

    @Test("the environment overrides the file, and flags override both")
    func precedence() throws {
        let file = #"{"http": {"port": 1000, "host": "127.0.0.1"}, "limits": {"max_models": 3}, "drain_timeout_seconds": 9}"#
        let environment = ["AXON_HTTP_PORT": "2000", "AXON_LIMITS_MAX_MODELS": "4"]
        let flags = [ConfigurationOverride(key: "http.port", value: "3000", source: "flag --port")]
        let c = try load(file, environment: environment, overrides: flags)
        #expect(c.http.port == 3000)
        #expect(c.limits.maxModels == 4)
        #expect(c.drainTimeout == .seconds(9))
        #expect(c.http.host == "127.0.0.1")
        #expect(try load(file, environment: environment).http.port == 2000)
    }

    @Test("AXON_READ_TOKEN and AXON_ADMIN_TOKEN set the tokens; the AXON_AUTH_* forms win over them")
    func tokenAliases() throws {
        let c = try load(nil, environment: ["AXON_READ_TOKEN": readToken, "AXON_ADMIN_TOKEN": adminToken])
        #expect(c.http.access.readToken == readToken && c.http.access.adminToken == adminToken)
        let both = try load(
            nil, environment: ["AXON_ADMIN_TOKEN": adminToken, "AXON_AUTH_ADMIN_TOKEN": "other-0123456789abcdef"])
        #expect(both.http.access.adminToken == "other-0123456789abcdef")
    }

    @Test("environment text parses per kind: booleans, lists, null for optionals")
    func environmentParsing() throws {
        let c = try load(
            #"{"watch_interval_seconds": 2}"#,
            environment: [
                "AXON_LOG_ACCESS": "off", "AXON_CORS_ENABLED": "yes",
                "AXON_CORS_ALLOWED_ORIGINS": "https://a.example, https://b.example", "AXON_WATCH_INTERVAL_SECONDS": "",
            ])
        #expect(!c.http.accessLog)
        #expect(c.http.cors.allowedOrigins == ["https://a.example", "https://b.example"])
        #expect(c.watchInterval == nil)
    }

    @Test("unrelated AXON_* variables are ignored (other tools share the prefix)")
    func unrelatedEnvironment() throws {
        #expect(try load(nil, environment: ["AXON_CHECKPOINT_STRESS": "/bin/true"]) == DaemonConfiguration())
    }

    @Test(
        "every invalid value is reported with its key",
        arguments: [
            (#"{"http": {"port": 70000}}"#, "http.port"),
            (#"{"http": {"port": "80"}}"#, "http.port"),
            (#"{"http": {"port": true}}"#, "http.port"),
            (#"{"http": {"port": 1.5}}"#, "http.port"),
            (#"{"http": {"host": "localhost"}}"#, "http.host"),
            (#"{"http": {"threads": 0}}"#, "http.threads"),
            (#"{"http": {"connection_timeout_seconds": -1}}"#, "http.connection_timeout_seconds"),
            (#"{"http": {"connection_limit": null}}"#, "http.connection_limit"),
            (#"{"http": 8080}"#, "http"),
            (#"{"state_dir": ""}"#, "state_dir"),
            (#"{"drain_timeout_seconds": -1}"#, "drain_timeout_seconds"),
            (#"{"retain_versions": 0}"#, "retain_versions"),
            (#"{"watch_interval_seconds": 0}"#, "watch_interval_seconds"),
            (#"{"max_training_jobs": 0}"#, "max_training_jobs"),
            (#"{"debug_routes": "yes"}"#, "debug_routes"),
            (#"{"limits": {"max_body_bytes": 0}}"#, "limits.max_body_bytes"),
            (#"{"limits": {"max_rows_per_request": 0}}"#, "limits.max_rows_per_request"),
            (#"{"limits": {"max_features": -5}}"#, "limits.max_features"),
            (#"{"limits": {"max_parameters_per_model": "big"}}"#, "limits.max_parameters_per_model"),
            (#"{"limits": {"max_epoch_rows_per_job": 0}}"#, "limits.max_epoch_rows_per_job"),
            (#"{"limits": {"max_models": 0}}"#, "limits.max_models"),
            (#"{"limits": {"max_queued_jobs": -1}}"#, "limits.max_queued_jobs"),
            (#"{"limits": {"max_rows": 5}}"#, "limits.max_rows"),
            (#"{"auth": {"read_token": 5}}"#, "auth.read_token"),
            (#"{"auth": {"admin_token": "short"}}"#, "auth.admin_token"),
            (#"{"auth": {"admin_token": "has space in the token!"}}"#, "auth.admin_token"),
            (#"{"auth": {"read_token": "read-0123456789abcdef"}}"#, "auth.admin_token"),
            (#"{"auth": {"read_token": "same-0123456789abcdef", "admin_token": "same-0123456789abcdef"}}"#, "auth.read_token"),
            (#"{"auth": {"protect_metrics": 1}}"#, "auth.protect_metrics"),
            (#"{"auth": {"protect_health": null}}"#, "auth.protect_health"),
            (#"{"cors": {"enabled": true}}"#, "cors.allowed_origins"),
            (#"{"cors": {"allowed_origins": "https://a.example"}}"#, "cors.allowed_origins"),
            (#"{"cors": {"allowed_origins": [1]}}"#, "cors.allowed_origins"),
            (#"{"cors": {"max_age_seconds": 100000}}"#, "cors.max_age_seconds"),
            (#"{"tls": {"cert_file": "/nonexistent/cert.pem"}}"#, "tls.key_file"),
            (#"{"tls": {"key_file": "/nonexistent/key.pem"}}"#, "tls.cert_file"),
            (#"{"tls": {"cert_file": "/nonexistent/c.pem", "key_file": "/nonexistent/k.pem"}}"#, "tls.cert_file"),
            (#"{"log": {"level": "verbose"}}"#, "log.level"),
            (#"{"log": {"access": "no"}}"#, "log.access"),
            (#"{"metrics_port": 9090}"#, "metrics_port"),
        ])
    func invalidNamesKey(json: String, key: String) throws {
        let failure = try #require(error { () throws(ConfigurationError) in try load(json) })
        #expect(failure.key == key)
        #expect(failure.description.contains(key))
    }

    @Test("every key has an environment form that is checked like the file")
    func everyEnvironmentVariableIsChecked() throws {
        for key in ConfigurationKey.all {
            // "[" is no valid integer, number, boolean, host, log level or list element.
            // Any text is a valid string or origin list; the host is the one string key with a rule.
            switch key.kind {
            case .stringList, .optionalString: continue
            case .string: if key.name != "http.host" { continue }
            default: break
            }
            let text = "["
            let failure = error { () throws(ConfigurationError) in try load(nil, environment: [key.environmentVariable: text]) }
            #expect(failure?.key == key.name, "\(key.environmentVariable)")
            #expect(failure?.description.contains(key.environmentVariable) == true)
        }
    }

    @Test("an unknown key suggests the nearest one")
    func suggestion() {
        let failure = error { () throws(ConfigurationError) in try load(#"{"http": {"prot": 1}}"#) }
        #expect(failure == .unknownKey("http.prot", source: "file test.json", suggestion: "http.port"))
    }

    @Test("an unknown flag key and a flag's bad value name the key and the flag")
    func badFlag() {
        let failure = error { () throws(ConfigurationError) in
            try load(nil, overrides: [ConfigurationOverride(key: "http.port", value: "eighty", source: "flag --port")])
        }
        #expect(failure?.key == "http.port")
        #expect(failure?.description.contains("flag --port") == true)
    }

    @Test("malformed JSON and a non-object top level are file errors")
    func malformedFile() {
        for text in ["{", "[1, 2]", "\"text\""] {
            let failure = error { () throws(ConfigurationError) in try load(text) }
            guard case .malformedFile(let path, _) = failure else {
                Issue.record("expected malformedFile for \(text), got \(String(describing: failure))")
                continue
            }
            #expect(path == "test.json")
        }
        let missing = error { () throws(ConfigurationError) in
            try ConfigurationLoader.load(file: "/nonexistent/axond.json", environment: [:])
        }
        guard case .unreadableFile(let path, _) = missing else {
            Issue.record("expected unreadableFile, got \(String(describing: missing))")
            return
        }
        #expect(path == "/nonexistent/axond.json")
    }

    @Test("the rendering round-trips, and redacts tokens")
    func renderRoundTrip() throws {
        var configuration = try load(#"{"http": {"port": 1234}, "watch_interval_seconds": 1.5, "cors": {"enabled": true, "allowed_origins": ["*"]}}"#)
        configuration.limits.maxModels = 42
        let text = ConfigurationLoader.render(configuration, redactingSecrets: false)
        #expect(try load(text) == configuration)
        configuration.http.access.adminToken = adminToken
        let redacted = ConfigurationLoader.render(configuration)
        #expect(!redacted.contains(adminToken))
        #expect(redacted.contains(#""admin_token": "<redacted>""#))
    }

    @Test("config/axond.json lists every key with its default")
    func shippedFileIsTheDefaults() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let shipped = try String(contentsOf: root.appendingPathComponent("config/axond.json"), encoding: .utf8)
        #expect(shipped == ConfigurationLoader.render(DaemonConfiguration()))
        #expect(try load(shipped) == DaemonConfiguration())
    }

    @Test("docs/operations.md documents every key with its summary")
    func operationsGuideListsEveryKey() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let guide = try String(contentsOf: root.appendingPathComponent("docs/operations.md"), encoding: .utf8)
        let rows = guide.split(separator: "\n").filter { $0.hasPrefix("| `") }
        for key in ConfigurationKey.all {
            let row = rows.first { $0.hasPrefix("| `\(key.name)` |") }
            #expect(row != nil, "docs/operations.md has no row for \(key.name)")
            #expect(row?.contains(key.summary) ?? true, "docs/operations.md describes \(key.name) otherwise than the code: \(key.summary)")
        }
    }
}

@Suite("limit errors name the key")
struct LimitErrorTests {
    @Test("a request over a limit is a 413 naming what it needs, the key and the limit, in the limit's unit")
    func limitExceeded() {
        let rows = APIError.limitExceeded(key: "limits.max_rows_per_request", limit: 10, needed: 11, what: "inputs rows")
        #expect(rows.status == .contentTooLarge && rows.code == "limit_exceeded")
        #expect(rows.message == "inputs rows needs 11; limits.max_rows_per_request is 10")
        let bytes = APIError.limitExceeded(key: "limits.max_request_bytes", limit: 512 << 20, needed: 3 << 29, what: "this request", unit: .bytes)
        #expect(bytes.message == "this request needs 1.5 GiB (1610612736 bytes); limits.max_request_bytes is 512 MiB (536870912 bytes)")
        let flops = APIError.limitExceeded(key: "limits.max_request_flops", limit: 50_000_000_000, needed: 3_200_000_000_000, what: "this request", unit: .flops)
        #expect(flops.message == "this request needs 3.2e+12 floating-point operations; limits.max_request_flops is 5.0e+10 floating-point operations")
        #expect(APIError.contentTooLarge(limit: 5).message.contains("limits.max_body_bytes"))
    }
}
