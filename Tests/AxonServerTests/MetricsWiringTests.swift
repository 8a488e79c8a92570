import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// The inference, training and store families as the daemon records them: a real training job
/// and real predictions through the live API, then the exact exposition lines.
@Suite("Metrics wiring")
struct MetricsWiringTests {
    private static let trainPath = "/train?model=iris&target=species&epochs=5&seed=1&validation_split=0.2&wait=true"
    private static let row = "[5.1, 3.5, 1.4, 0.2]"

    private func scrape(_ daemon: Daemon) -> [String] {
        String(decoding: daemon.metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The value of the series line starting with `series ` (exact name and labels), or nil.
    private func value(_ series: String, in lines: [String]) -> Double? {
        lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    /// Trains iris and predicts 2 + 1 + 3 rows through /predict, TF-Serving and KServe V2.
    private func trainAndPredict(_ port: Int) async throws -> [String: Any] {
        let trained = try await call(port, "POST", Self.trainPath, body: try repositoryFile("examples/iris.csv"), contentType: "text/csv")
        try #require(trained.status == 200, "\(trained.text)")
        let predict = try await call(port, "POST", "/predict", json: #"{"model": "iris", "inputs": [\#(Self.row), \#(Self.row)]}"#)
        #expect(predict.status == 200)
        let tf = try await call(port, "POST", "/v1/models/iris:predict", json: #"{"instances": [\#(Self.row)]}"#)
        #expect(tf.status == 200)
        let v2 = try await call(
            port, "POST", "/v2/models/iris/infer",
            json: #"{"inputs": [{"name": "input", "shape": [3, 4], "datatype": "FP32", "data": [\#(Self.row), \#(Self.row), \#(Self.row)]}]}"#)
        #expect(v2.status == 200)
        // Refused before any compute: not a prediction.
        let refused = try await call(port, "POST", "/predict", json: #"{"model": "iris", "inputs": [[1, 2]]}"#)
        #expect(refused.status == 422)
        return trained.object
    }

    @Test func trainingAndPredictionsMoveTheirFamilies() async throws {
        let directory = try TemporaryDirectory()
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        try await withAPIServer(daemon) { port in
            let job = try await trainAndPredict(port)
            let epochs = try #require((job["history"] as? [Any])?.count)
            #expect(epochs == 5)
            let lines = scrape(daemon)

            #expect(lines.contains(#"axon_inference_rows_total{model="iris",version="1"} 6"#))
            #expect(lines.contains(#"axon_inference_predict_duration_seconds_count{model="iris"} 3"#))
            #expect(lines.contains("axon_inference_batch_size_rows_count 3"))
            #expect(lines.contains("axon_inference_batch_size_rows_sum 6.0"))

            #expect(lines.contains(#"axon_training_jobs_total{outcome="succeeded"} 1"#))
            #expect(lines.contains(#"axon_training_jobs_total{outcome="failed"} 0"#))
            #expect(lines.contains("axon_training_jobs_queued 0.0"))
            #expect(lines.contains("axon_training_jobs_running 0.0"))
            #expect(lines.contains("axon_training_epochs_total \(epochs)"))
            #expect(lines.contains("axon_training_job_duration_seconds_count 1"))
            #expect(try #require(value(#"axon_training_last_train_loss{model="iris"}"#, in: lines)) > 0)
            #expect(try #require(value(#"axon_training_last_validation_loss{model="iris"}"#, in: lines)) > 0)
            #expect(try #require(value("axon_training_last_job_samples_per_second", in: lines)) > 0)

            #expect(lines.contains("axon_store_models_loaded 1.0"))
            #expect(lines.contains("axon_store_versions_on_disk 1.0"))
            #expect(lines.contains("axon_store_checkpoint_write_duration_seconds_count 1"))
            #expect(lines.contains("axon_store_checkpoint_failures_total 0"))
            let file = daemon.store.directory.path(of: try ModelName("iris"), version: 1)
            let size = try #require(try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber).intValue
            #expect(size > 0)
            #expect(lines.contains("axon_store_checkpoint_written_bytes_total \(size)"))
            let written = try #require(value(#"axon_store_last_checkpoint_timestamp_seconds{model="iris"}"#, in: lines))
            #expect(abs(written - Date().timeIntervalSince1970) < 3600)

            // Deleting the model drops every series labelled with it.
            #expect(try await call(port, "DELETE", "/models/iris").status < 300)
            let after = scrape(daemon)
            #expect(!after.contains { $0.contains(#"model="iris""#) })
            #expect(after.contains("axon_store_models_loaded 0.0"))
            #expect(after.contains("axon_store_versions_on_disk 0.0"))

            // A model trained again under the name starts from fresh series.
            let retrained = try await call(port, "POST", Self.trainPath, body: try repositoryFile("examples/iris.csv"), contentType: "text/csv")
            #expect(retrained.status == 200)
            let version = try #require(retrained.object["version"] as? Int)
            #expect(try await call(port, "POST", "/predict", json: #"{"model": "iris", "inputs": [\#(Self.row)]}"#).status == 200)
            let again = scrape(daemon)
            #expect(again.contains(#"axon_inference_rows_total{model="iris",version="\#(version)"} 1"#))
            #expect(again.filter { $0.hasPrefix("axon_inference_rows_total{") }.count == 1)
            #expect(again.contains(#"axon_training_jobs_total{outcome="succeeded"} 2"#))
        }
    }

    @Test func aRestartCountsTheModelsAndVersionsItLoads() async throws {
        let directory = try TemporaryDirectory()
        let first = await loadedDaemon(stateDirectory: directory.path)
        try await withAPIServer(first) { port in _ = try await trainAndPredict(port) }
        let second = await loadedDaemon(stateDirectory: directory.path)
        let lines = scrape(second)
        #expect(lines.contains("axon_store_models_loaded 1.0"))
        #expect(lines.contains("axon_store_versions_on_disk 1.0"))
        #expect(lines.contains("axon_store_quarantined_files_total 0"))
    }

    @Test func disabledMetricsRecordNothing() async throws {
        let directory = try TemporaryDirectory()
        let daemon = await loadedDaemon(stateDirectory: directory.path) { $0.metrics.enabled = false }
        try await withAPIServer(daemon) { port in _ = try await trainAndPredict(port) }
        let lines = scrape(daemon)
        #expect(!lines.contains { $0.hasPrefix("axon_inference_rows_total{") })
        #expect(lines.contains(#"axon_training_jobs_total{outcome="succeeded"} 0"#))
        #expect(lines.contains("axon_store_models_loaded 0.0"))
        #expect(lines.contains("axon_store_checkpoint_written_bytes_total 0"))
    }
}
