import AxonAPI
@testable import AxonHTTP
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// The exposition of a fresh `AxonMetrics` (own registry: nothing global is touched).
private func exposition(_ metrics: AxonMetrics) -> String {
    String(decoding: metrics.exposition(), as: UTF8.self)
}

/// `# TYPE` lines as name -> type.
private func types(_ text: String) -> [String: String] {
    var result: [String: String] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix("# TYPE ") {
        let parts = line.split(separator: " ")
        if parts.count == 4 { result[String(parts[2])] = String(parts[3]) }
    }
    return result
}

private func lines(_ text: String) -> Set<String> {
    Set(text.split(separator: "\n").map(String.init))
}

/// Every family a scrape must show from the start, with its type.
let requiredFamilies: [String: String] = [
    "axon_http_requests_total": "counter",
    "axon_http_request_duration_seconds": "histogram",
    "axon_http_requests_in_flight": "gauge",
    "axon_http_request_bytes_total": "counter",
    "axon_http_response_bytes_total": "counter",
    "axon_http_rejections_total": "counter",
    "axon_inference_batch_size_rows": "histogram",
    "axon_training_jobs_total": "counter",
    "axon_training_jobs_queued": "gauge",
    "axon_training_jobs_running": "gauge",
    "axon_training_epochs_total": "counter",
    "axon_training_last_job_samples_per_second": "gauge",
    "axon_training_job_duration_seconds": "histogram",
    "axon_training_early_stops_total": "counter",
    "axon_store_models_loaded": "gauge",
    "axon_store_versions_on_disk": "gauge",
    "axon_store_checkpoint_write_duration_seconds": "histogram",
    "axon_store_checkpoint_written_bytes_total": "counter",
    "axon_store_checkpoint_failures_total": "counter",
    "axon_store_quarantined_files_total": "counter",
    "axon_build_info": "gauge",
    "process_start_time_seconds": "gauge",
    "process_resident_memory_bytes": "gauge",
    "process_virtual_memory_bytes": "gauge",
    "process_cpu_seconds_total": "counter",
    "process_open_fds": "gauge",
    "process_max_fds": "gauge",
]

/// Families labelled by model: they appear with the first model that records into them.
let perModelFamilies: [String: String] = [
    "axon_inference_rows_total": "counter",
    "axon_inference_predict_duration_seconds": "histogram",
    "axon_training_last_train_loss": "gauge",
    "axon_training_last_validation_loss": "gauge",
    "axon_store_last_checkpoint_timestamp_seconds": "gauge",
]

private let promtool: String? = ["/usr/bin/promtool", "/usr/local/bin/promtool"].first {
    FileManager.default.isExecutableFile(atPath: $0)
}

/// Runs `promtool check metrics` on `text`; returns its exit status and output.
private func promtoolCheck(_ text: String, promtool: String) throws -> (Int32, String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: promtool)
    process.arguments = ["check", "metrics"]
    let input = Pipe(), output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    try process.run()
    input.fileHandleForWriting.write(Data(text.utf8))
    try input.fileHandleForWriting.close()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// Records into every per-model family once, as the store, jobs and predict routes will.
private func exerciseModelFamilies(_ metrics: AxonMetrics, model: String = "iris") {
    metrics.inference.observe(model: model, version: 3, rows: 8, duration: .microseconds(120))
    metrics.training.epochCompleted(model: model, trainLoss: 0.5, validationLoss: 0.75)
    metrics.store.checkpointWritten(model: model, bytes: 4096, duration: .milliseconds(2), at: Date(timeIntervalSince1970: 1_700_000_000))
}

@Suite("Metrics")
struct MetricsTests {
    @Test func everyRequiredFamilyExistsFromTheStartWithItsType() {
        let found = types(exposition(AxonMetrics()))
        for (name, type) in requiredFamilies {
            #expect(found[name] == type, "family \(name)")
        }
        for name in perModelFamilies.keys {
            #expect(found[name] == nil, "\(name) has no series before a model records")
        }
    }

    @Test func perModelFamiliesAppearWithTheirTypeAndLeaveOnForget() {
        let metrics = AxonMetrics()
        exerciseModelFamilies(metrics)
        let found = types(exposition(metrics))
        for (name, type) in perModelFamilies {
            #expect(found[name] == type, "family \(name)")
        }
        metrics.forget(model: "iris")
        let after = exposition(metrics)
        #expect(!after.contains(#"model="iris""#))
    }

    @Test func everyFamilyHasHelpText() {
        let metrics = AxonMetrics()
        exerciseModelFamilies(metrics)
        let text = exposition(metrics)
        for name in types(text).keys {
            #expect(text.contains("# HELP \(name) "), "help for \(name)")
        }
    }

    @Test(.enabled(if: promtool != nil, "promtool is installed by make deps-test (Debian package prometheus)"))
    func promtoolAcceptsTheExposition() throws {
        let metrics = AxonMetrics()
        exerciseModelFamilies(metrics)
        metrics.http.requestFinished(route: "/healthz", method: .get, status: 200, requestBytes: 0, responseBytes: 17, nanoseconds: 80_000)
        let (status, output) = try promtoolCheck(exposition(metrics), promtool: try #require(promtool))
        #expect(status == 0, "promtool: \(output)")
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "promtool: \(output)")
    }

    @Test func buildInfoCarriesVersionAndCommit() {
        let text = exposition(AxonMetrics(commit: "abc123"))
        #expect(lines(text).contains(#"axon_build_info{version="\#(AxonVersion.current)",commit="abc123"} 1.0"#))
    }

    @Test func inferenceObservationsMoveRowsDurationAndBatchSize() {
        let metrics = AxonMetrics()
        metrics.inference.observe(model: "iris", version: 2, rows: 5, duration: .microseconds(70))
        metrics.inference.observe(model: "iris", version: 2, rows: 3, duration: .microseconds(30))
        metrics.inference.observe(model: "iris", version: 3, rows: 1, duration: .milliseconds(2))
        let text = lines(exposition(metrics))
        #expect(text.contains(#"axon_inference_rows_total{model="iris",version="2"} 8"#))
        #expect(text.contains(#"axon_inference_rows_total{model="iris",version="3"} 1"#))
        #expect(text.contains(#"axon_inference_predict_duration_seconds_bucket{model="iris",le="0.00005"} 1"#))
        #expect(text.contains(#"axon_inference_predict_duration_seconds_bucket{model="iris",le="0.0001"} 2"#))
        #expect(text.contains(#"axon_inference_predict_duration_seconds_count{model="iris"} 3"#))
        #expect(text.contains(#"axon_inference_batch_size_rows_bucket{le="1.0"} 1"#))
        #expect(text.contains(#"axon_inference_batch_size_rows_bucket{le="4.0"} 2"#))
        #expect(text.contains(#"axon_inference_batch_size_rows_sum 9.0"#))
    }

    @Test func trainingEventsMoveJobsEpochsLossesAndThroughput() {
        let metrics = AxonMetrics()
        metrics.training.setJobs(queued: 2, running: 1)
        metrics.training.epochCompleted(model: "xor", trainLoss: 0.25, validationLoss: nil)
        metrics.training.epochCompleted(model: "xor", trainLoss: 0.125, validationLoss: 0.5)
        metrics.training.jobFinished(outcome: .succeeded, duration: .seconds(2), samples: 1000, earlyStopped: true)
        metrics.training.jobFinished(outcome: .failed, duration: .milliseconds(5), samples: 0, earlyStopped: false)
        let text = lines(exposition(metrics))
        #expect(text.contains("axon_training_jobs_queued 2.0"))
        #expect(text.contains("axon_training_jobs_running 1.0"))
        #expect(text.contains("axon_training_epochs_total 2"))
        #expect(text.contains(#"axon_training_last_train_loss{model="xor"} 0.125"#))
        #expect(text.contains(#"axon_training_last_validation_loss{model="xor"} 0.5"#))
        #expect(text.contains(#"axon_training_jobs_total{outcome="succeeded"} 1"#))
        #expect(text.contains(#"axon_training_jobs_total{outcome="failed"} 1"#))
        #expect(text.contains(#"axon_training_jobs_total{outcome="cancelled"} 0"#))
        #expect(text.contains("axon_training_last_job_samples_per_second 500.0"))
        #expect(text.contains("axon_training_early_stops_total 1"))
        #expect(text.contains("axon_training_job_duration_seconds_count 2"))
    }

    @Test func storeEventsMoveCheckpointFamilies() {
        let metrics = AxonMetrics()
        metrics.store.setModelsLoaded(4)
        metrics.store.setVersionsOnDisk(9)
        metrics.store.checkpointWritten(model: "iris", bytes: 1000, duration: .milliseconds(3), at: Date(timeIntervalSince1970: 1_700_000_000))
        metrics.store.checkpointWritten(model: "iris", bytes: 24, duration: .milliseconds(30), at: Date(timeIntervalSince1970: 1_700_000_050))
        metrics.store.checkpointFailed()
        metrics.store.filesQuarantined(2)
        let text = lines(exposition(metrics))
        #expect(text.contains("axon_store_models_loaded 4.0"))
        #expect(text.contains("axon_store_versions_on_disk 9.0"))
        #expect(text.contains("axon_store_checkpoint_written_bytes_total 1024"))
        #expect(text.contains("axon_store_checkpoint_write_duration_seconds_count 2"))
        #expect(text.contains(#"axon_store_checkpoint_write_duration_seconds_bucket{le="0.005"} 1"#))
        #expect(text.contains("axon_store_checkpoint_failures_total 1"))
        #expect(text.contains("axon_store_quarantined_files_total 2"))
        #expect(text.contains(#"axon_store_last_checkpoint_timestamp_seconds{model="iris"} 1700000050.0"#))
    }

    @Test func unknownMethodsAndUnmatchedPathsShareOneLabelValue() {
        let metrics = AxonMetrics()
        for method in ["BREW", "PROPFIND"] {
                metrics.http.requestFinished(
                route: nil, method: HTTPMethod(rawValue: method), status: 404, requestBytes: 0, responseBytes: 10, nanoseconds: 1000)
        }
        let text = lines(exposition(metrics))
        #expect(text.contains(#"axon_http_requests_total{route="unmatched",method="other",status="404"} 2"#))
    }

    @Test func processMetricsReadProc() throws {
        let text = exposition(AxonMetrics())
        let resident = try #require(lines(text).first { $0.hasPrefix("process_resident_memory_bytes ") })
        #expect((Double(resident.split(separator: " ")[1]) ?? 0) > 1_000_000)
        let start = try #require(lines(text).first { $0.hasPrefix("process_start_time_seconds ") })
        let startValue = Double(start.split(separator: " ")[1]) ?? 0
        #expect(abs(startValue - Date().timeIntervalSince1970) < 86_400)
    }

    @Test func bucketListsParseAndRejectBadInput() throws {
        #expect(try MetricsConfiguration.parseBuckets("0.00005, 0.001,1") == [.microseconds(50), .milliseconds(1), .seconds(1)])
        #expect(throws: MetricsConfigurationError.invalidBucket("x")) { try MetricsConfiguration.parseBuckets("0.1,x") }
        #expect(throws: MetricsConfigurationError.invalidBucket("-1")) { try MetricsConfiguration.parseBuckets("-1") }
        #expect(throws: MetricsConfigurationError.bucketsNotAscending("1,0.5")) { try MetricsConfiguration.parseBuckets("1,0.5") }
    }
}

/// `/metrics` through a real server on 127.0.0.1:0, instrumentation injected (no global state).
@Suite("Metrics over HTTP")
struct MetricsLiveTests {
    private func withInstrumentedDaemon<T>(
        metrics: AxonMetrics, maxBodyBytes: UInt64 = 1024, _ body: (Int) async throws -> T
    ) async throws -> T {
        var configuration = DaemonConfiguration()
        configuration.http = testConfiguration(maxBodyBytes: maxBodyBytes)
        configuration.enableDebugRoutes = true
        let daemon = Daemon(configuration: configuration, logger: quietLogger, metrics: metrics)
        let server = HTTPServer(
            configuration: configuration.http, router: daemon.makeRouter(), logger: quietLogger, metrics: metrics.http)
        try server.start()
        let port = try #require(server.port)
        do {
            let result = try await body(port)
            _ = await server.stop(drainTimeout: .seconds(5))
            return result
        } catch {
            _ = await server.stop(drainTimeout: .seconds(5))
            throw error
        }
    }

    @Test func scrapeIsPrometheusTextAndCountsRequestsExactly() async throws {
        let metrics = AxonMetrics()
        try await withInstrumentedDaemon(metrics: metrics) { port in
            let (scrape, polls) = try await onThread {
                let c = try TestConnection(port: port)
                // An async route is counted by its Task just after the answer is handed over, so
                // the client can see the answer first: poll (bounded) until the count shows.
                _ = try c.request("POST", "/debug/echo", body: Array("hello".utf8))
                var polls = 0
                while polls < 500 {
                    polls += 1
                    let text = try c.request("GET", "/metrics").text
                    if text.contains(#"axon_http_requests_total{route="/debug/echo",method="POST",status="200"} 1"#) { break }
                }
                for _ in 0..<5 { _ = try c.request("GET", "/healthz") }
                _ = try c.request("DELETE", "/healthz")
                _ = try c.request("GET", "/no/such/path")
                return (try c.request("GET", "/metrics"), polls)
            }
            #expect(scrape.status == 200)
            #expect(scrape.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            let text = lines(scrape.text)
            #expect(text.contains(#"axon_http_requests_total{route="/healthz",method="GET",status="200"} 5"#))
            #expect(text.contains(#"axon_http_requests_total{route="/healthz",method="DELETE",status="405"} 1"#))
            #expect(text.contains(#"axon_http_requests_total{route="/debug/echo",method="POST",status="200"} 1"#))
            #expect(text.contains(#"axon_http_requests_total{route="unmatched",method="GET",status="404"} 1"#))
            #expect(text.contains(#"axon_http_request_duration_seconds_count{route="/healthz"} 6"#))
            #expect(text.contains(#"axon_http_request_bytes_total{route="/debug/echo"} 5"#))
            #expect(text.contains(#"axon_http_response_bytes_total{route="/debug/echo"} 5"#))
            // The scrape itself is still in flight while it renders.
            #expect(text.contains("axon_http_requests_in_flight 1.0"))

            let second = try await onThread { try TestConnection(port: port).request("GET", "/metrics") }
            #expect(lines(second.text).contains(#"axon_http_requests_total{route="/metrics",method="GET",status="200"} \#(polls + 1)"#))
        }
    }

    @Test func oversizedBodiesCountAs413Rejections() async throws {
        let metrics = AxonMetrics()
        try await withInstrumentedDaemon(metrics: metrics, maxBodyBytes: 16) { port in
            let (rejected, scrape) = try await onThread {
                let rejected = try TestConnection(port: port).request("POST", "/debug/echo", body: [UInt8](repeating: 7, count: 64))
                return (rejected, try TestConnection(port: port).request("GET", "/metrics"))
            }
            #expect(rejected.status == 413)
            let text = lines(scrape.text)
            #expect(text.contains(#"axon_http_rejections_total{reason="body_too_large",status="413"} 1"#))
            #expect(text.contains(#"axon_http_rejections_total{reason="draining",status="503"} 0"#))
            #expect(text.contains(#"axon_http_requests_total{route="/debug/echo",method="POST",status="413"} 1"#))
        }
    }

    @Test func drainingAndDrainDeadline503sAreCounted() async throws {
        let metrics = AxonMetrics()
        let gate = Gate()
        var router = Router()
        router.get("/healthz") { _ in Response.text("live") }
        router.get("/stuck", after: gate, answering: "too late")
        // The idle connection must outlive a slow machine's waits below: no idle timeout of 10 s.
        var configuration = testConfiguration()
        configuration.connectionTimeoutSeconds = 300
        let server = HTTPServer(configuration: configuration, router: router, logger: quietLogger, metrics: metrics.http)
        try server.start()
        let port = try #require(server.port)
        let idle = try TestConnection(port: port)
        #expect(try await onThread { try idle.request("GET", "/healthz") }.status == 200)
        let stuck = Task { try await onThread { try TestConnection(port: port).request("GET", "/stuck") } }
        #expect(await eventually { gate.arrived == 1 })

        // Long enough that the 503 below is asked for while the drain still waits, even when
        // the machine stalls this test for a while (500 ms was missed under a full parallel run).
        let stop = Task { await server.stop(drainTimeout: .seconds(3)) }
        #expect(await eventually { server.isDraining })
        let refused = try await onThread { try idle.request("GET", "/healthz") }
        #expect(refused.status == 503)
        #expect(await stop.value.forcedRequests == 1)
        #expect(try await stuck.value.status == 503)
        // The late answer meets the forced 503 (-ECANCELED from the shim) and is counted then.
        gate.open()
        let deadline = #"axon_http_rejections_total{reason="drain_deadline",status="503"} 1"#
        #expect(await eventually { lines(exposition(metrics)).contains(deadline) })
        let text = lines(exposition(metrics))
        #expect(text.contains(#"axon_http_rejections_total{reason="draining",status="503"} 1"#))
        #expect(text.contains(#"axon_http_requests_total{route="/healthz",method="GET",status="503"} 1"#))
        #expect(text.contains(#"axon_http_requests_total{route="/stuck",method="GET",status="503"} 1"#))
    }

    @Test func disabledMetricsServeNoRoute() async throws {
        var configuration = MetricsConfiguration()
        configuration.enabled = false
        var daemonConfiguration = DaemonConfiguration()
        daemonConfiguration.http = testConfiguration()
        let daemon = Daemon(configuration: daemonConfiguration, logger: quietLogger, metrics: AxonMetrics(configuration: configuration))
        #expect(daemon.makeRouter().match(method: .get, path: "/metrics").isNotFound)
    }
}

extension Router.Match {
    fileprivate var isNotFound: Bool {
        if case .notFound = self { return true }
        return false
    }
}
