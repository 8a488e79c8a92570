@testable import AxonJobs
import Foundation
import ModelKit
import Testing
import TestKit

@testable import AxonServer

/// `training.threads`: the key, what a plan and a job do with it, and what they report.
@Suite("training.threads")
struct TrainingThreadsTests {
    init() {
        // As Daemon.run does: the training threads call OpenBLAS, which stays single-threaded.
        BLAS.setThreadCount(1)
    }

    func load(_ json: String?, environment: [String: String] = [:]) throws(ConfigurationError) -> DaemonConfiguration {
        try ConfigurationLoader.load(contents: json.map { Data($0.utf8) }, path: "test.json", environment: environment, overrides: [])
    }

    @Test("the default is one per core but one, at least one: one core is left to serving on two")
    func defaultLeavesACore() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        #expect(ServerLimits.defaultTrainingThreads == max(1, cores - 1))
        #expect(try load(nil).limits.trainingThreads == ServerLimits.defaultTrainingThreads)
        #expect(try load(#"{"training": {"threads": null}}"#).limits.trainingThreads == ServerLimits.defaultTrainingThreads)
        #expect(try load(#"{"training": {"threads": 3}}"#).limits.trainingThreads == 3)
        #expect(try load(nil, environment: ["AXON_TRAINING_THREADS": "2"]).limits.trainingThreads == 2)
    }

    @Test("counts out of range or of the wrong type are refused at start-up, naming the key",
          arguments: [#"{"training": {"threads": 0}}"#, #"{"training": {"threads": 257}}"#, #"{"training": {"threads": -1}}"#,
                      #"{"training": {"threads": 1.5}}"#, #"{"training": {"threads": "two"}}"#, #"{"training.threads": true}"#])
    func invalidCounts(json: String) throws {
        do {
            _ = try load(json)
            Issue.record("\(json) was accepted")
        } catch {
            #expect(error.key == "training.threads")
            #expect(error.description.contains("training.threads"), "\(error.description)")
        }
        do {
            _ = try load(nil, environment: ["AXON_TRAINING_THREADS": "0"])
            Issue.record("AXON_TRAINING_THREADS=0 was accepted")
        } catch {
            #expect(error.description.contains("AXON_TRAINING_THREADS"), "\(error.description)")
        }
    }

    func plan(_ json: String, threads: Int) throws -> TrainingPlan {
        var limits = ServerLimits()
        limits.trainingThreads = threads
        return try TrainingPlan.fresh(try TrainRequest.parse(json: Array(json.utf8), limits: limits), limits: limits)
    }

    /// Wide enough for two threads at batch 3 (`Trainer.minimumFlopsPerThread`).
    static let request = #"{"model":"t","inputs":[[0,1],[1,0],[1,1],[0,0],[2,1],[1,2]],"targets":[1,1,0,0,1,1],"layers":[2,512,512,2],"batch_size":3,"epochs":5}"#

    @Test("a plan runs on the configured threads; one thread stores nothing new")
    func planUsesTheKey() throws {
        #expect(try plan(Self.request, threads: 3).configuration.threads == 3)
        #expect(try plan(Self.request, threads: 1).configuration.threads == nil)
    }

    @Test("the extra gradient buffers count against limits.max_job_bytes")
    func costCountsThreads() throws {
        var limits = ServerLimits()
        limits.trainingThreads = 1
        let request = #"{"model":"w","inputs":[[0,1],[1,0],[1,1],[0,0]],"targets":[1,1,0,0],"layers":[2,512,512,2],"batch_size":4,"epochs":1}"#
        let fits = try TrainingPlan.fresh(try TrainRequest.parse(json: Array(request.utf8), limits: limits), limits: limits)
        let one = fits.start.configuration.trainingCost(rows: 4, training: fits.configuration).bytes
        // Enough for one thread, not for the 4 x 264k x 4 bytes of three more gradient buffers.
        limits.maxJobBytes = one + fits.start.parameterCount * MemoryLayout<Float>.size
        _ = try TrainingPlan.fresh(try TrainRequest.parse(json: Array(request.utf8), limits: limits), limits: limits)
        limits.trainingThreads = 4
        do {
            _ = try TrainingPlan.fresh(try TrainRequest.parse(json: Array(request.utf8), limits: limits), limits: limits)
            Issue.record("four threads fit in a budget for two")
        } catch {
            #expect(error.status == .contentTooLarge && error.message.contains("limits.max_job_bytes"), "\(error.message)")
        }
    }

    @Test("a job on two threads reports them, and the same request trains the same weights again")
    func jobReportsAndRepeats() async throws {
        try await withFreshDaemon(configure: { $0.limits.trainingThreads = 2 }) { daemon, port in
            var weights: [[Float]] = []
            for name in ["a", "b"] {
                let body = Self.request.replacingOccurrences(of: #""model":"t""#, with: #""model":"\#(name)""#)
                let answer = try await call(port, "POST", "/train?wait=true", json: body)
                #expect(answer.status == 200, "\(answer.text)")
                let settings = answer.object["settings"] as? [String: Any]
                #expect(settings?["threads"] as? Int == 2, "\(answer.text)")
                #expect(try OpenAPIContract().problems(answer, method: "POST", template: "/train").isEmpty)
                let stored = try #require(daemon.store.current(name))
                #expect(stored.training?.threads == 2)
                weights.append(stored.model.parameters)
                let detail = try await call(port, "GET", "/models/\(name)")
                #expect((detail.object["settings"] as? [String: Any])?["threads"] as? Int == 2, "\(detail.text)")
            }
            #expect(weights[0] == weights[1])
        }
    }
}
