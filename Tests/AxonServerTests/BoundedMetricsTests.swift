import Checkpoint
import Foundation
import TestKit
import Testing

@testable import AxonServer

/// Per-model series exist only for models that exist, and are dropped with them: a first job
/// that never installs its model leaves none, and a deleted model's disappear, even when a job
/// or a prediction records for it as it goes.
@Suite("Bounded metrics")
struct BoundedMetricsTests {
    private func scrape(_ daemon: Daemon) -> [String] {
        String(decoding: daemon.metrics.exposition(), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The value of the series line starting with `series ` (exact name and labels), or nil.
    private func value(_ series: String, in lines: [String]) -> Double? {
        lines.first { $0.hasPrefix(series + " ") }.flatMap { Double($0.dropFirst(series.count + 1)) }
    }

    private func labelled(_ model: String, in lines: [String]) -> [String] {
        lines.filter { $0.contains(#"model="\#(model)""#) }
    }

    @Test func aFirstJobThatFailsLeavesNoSeries() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path) { $0.limits.maxModels = 1 }
        let store = daemon.store
        // Another model takes the only slot after training and before the install: the job
        // fails with too_many_models after five epochs.
        daemon.jobs.beforeInstall { _ in
            _ = try? waitForTask { try await store.install(name: "other", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata()) }
        }
        let job = try daemon.jobs.submit(try DeletesWinTests.freshPlan("fresh", epochs: 5))
        let finished = await daemon.jobs.wait(job.id)
        #expect(finished?.status == .failed && finished?.error?.code == "too_many_models")
        let lines = scrape(daemon)
        #expect(lines.contains("axon_training_epochs_total 5"))
        #expect(lines.contains(#"axon_training_jobs_total{outcome="failed"} 1"#))
        #expect(labelled("fresh", in: lines) == [])
        // The model that exists has its series.
        #expect(value(#"axon_store_last_checkpoint_timestamp_seconds{model="other"}"#, in: lines) != nil)
    }

    @Test func aFirstJobHasNoSeriesWhileItTrainsNorAfterItIsCancelled() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        let job = try daemon.jobs.submit(try DeletesWinTests.freshPlan("fresh"))
        #expect(await eventually { (daemon.jobs.job(job.id)?.epoch ?? 0) >= 2 })
        let training = scrape(daemon)
        #expect(try #require(value("axon_training_epochs_total", in: training)) >= 2)
        #expect(labelled("fresh", in: training) == [])
        _ = daemon.jobs.cancel(job.id)
        #expect(await daemon.jobs.wait(job.id)?.status == .cancelled)
        #expect(labelled("fresh", in: scrape(daemon)) == [])
    }

    @Test func aFirstJobsSeriesAppearWithItsModel() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        let job = try daemon.jobs.submit(try DeletesWinTests.freshPlan("fresh", epochs: 4))
        let finished = try #require(await daemon.jobs.wait(job.id))
        #expect(finished.status == .succeeded)
        let lines = scrape(daemon)
        let last = try #require(finished.history.last?.trainLoss)
        let recorded = try #require(value(#"axon_training_last_train_loss{model="fresh"}"#, in: lines))
        #expect(abs(recorded - last) <= 1e-9 * max(1, abs(last)))
        #expect(value(#"axon_store_last_checkpoint_timestamp_seconds{model="fresh"}"#, in: lines) != nil)
        // No validation split: no validation series.
        #expect(value(#"axon_training_last_validation_loss{model="fresh"}"#, in: lines) == nil)
    }

    @Test func aDeletedModelsSeriesGoAndStayGoneWhileItsJobAndPredictionsFinish() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        try await daemon.store.install(name: "a", model: StoreFixtures.model(seed: 5), metadata: ModelMetadata())
        let stored = try #require(daemon.store.current("a"))
        // A prediction on "a" through every protocol's recorder, as the routes do.
        try #require(daemon.metrics.inference.series(for: stored)).record(rows: 2, nanoseconds: 1_000)
        let job = try daemon.jobs.submit(try DeletesWinTests.freshPlan("a"))
        #expect(await eventually { (daemon.jobs.job(job.id)?.epoch ?? 0) >= 1 })
        let before = scrape(daemon)
        #expect(before.contains(#"axon_inference_rows_total{model="a",version="1"} 2"#))
        #expect(before.contains(#"axon_inference_predict_duration_seconds_count{model="a"} 1"#))
        #expect(value(#"axon_training_last_train_loss{model="a"}"#, in: before) != nil)
        #expect(value(#"axon_store_last_checkpoint_timestamp_seconds{model="a"}"#, in: before) != nil)

        try await daemon.store.delete(name: "a")
        daemon.jobs.failJobsOfDeletedModels()
        #expect(await daemon.jobs.wait(job.id)?.error?.code == "model_deleted")
        // Recorders that held the deleted snapshot or name record nothing new.
        #expect(daemon.metrics.inference.series(for: stored) == nil)
        daemon.metrics.inference.observe(model: "a", version: 1, rows: 3, duration: .microseconds(5))
        daemon.metrics.training.epochCompleted(model: "a", trainLoss: 0.5, validationLoss: 0.25)
        daemon.metrics.store.checkpointWritten(model: "a", bytes: 10, duration: .milliseconds(1))
        let after = scrape(daemon)
        #expect(labelled("a", in: after) == [])
        #expect(after.contains("axon_store_models_loaded 0.0"))
    }
}
