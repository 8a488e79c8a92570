import AxonJobs
import AxonServer
import Checkpoint
import Foundation
import ModelKit
import Testing
import TestKit

/// The server does what openapi.yaml says, where `make api-check` found them apart: the forms
/// of `inputs` the schema allows or refuses, what `DELETE /jobs/{id}` means, and that a
/// request the schema allows is never a 400 (rules beyond a schema are 422).
@Suite("API contract")
struct ContractTests {
    /// A 4-input classifier "m" (classes a, b, c) on a live daemon.
    func withModel(_ body: (Int) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        defer { daemon.jobs.close() }
        try await daemon.store.install(name: "m", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata())
        try await withAPIServer(daemon, body)
    }

    @Test("a flat row on /predict is one row, answered as the same row nested")
    func flatRowOnPredict() async throws {
        try await withModel { port in
            let flat = try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[0.5,-1,2,0.25]}"#)
            let nested = try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[0.5,-1,2,0.25]]}"#)
            #expect(flat.status == 200, "\(flat.text)")
            #expect(flat.body == nested.body, "\(flat.text) != \(nested.text)")
            #expect((flat.object["outputs"] as? [[Double]])?.count == 1)
            let problems = try OpenAPIContract().problems(flat, method: "POST", template: "/predict")
            #expect(problems.isEmpty, "\(problems)")
            // A flat row of another width than the model's is a 422 naming both widths.
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[1]}"#), 422, "shape_mismatch",
                mentions: ["1 values", "expects 4"])
        }
    }

    @Test("one-dimensional inputs are refused by name on /train, /models/{name}/train and evaluate, as the schema does")
    func flatInputsRefusedForTraining() async throws {
        try await withModel { port in
            let fresh = try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[1,2,3,4],"targets":[0,1,0,1]}"#)
            expectError(fresh, 400, "bad_request", mentions: ["inputs", "array of rows", "[4]"])
            let continued = try await call(port, "POST", "/models/m/train", json: #"{"inputs":[1,2,3,4],"targets":["a"]}"#)
            expectError(continued, 400, "bad_request", mentions: ["inputs", "array of rows"])
            let evaluated = try await call(port, "POST", "/models/m/evaluate", json: #"{"inputs":[1,2,3,4],"targets":["a"]}"#)
            expectError(evaluated, 400, "bad_request", mentions: ["inputs", "array of rows"])
            // The same rows nested are accepted.
            let nested = try await call(port, "POST", "/models/m/evaluate", json: #"{"inputs":[[1,2,3,4]],"targets":["a"]}"#)
            #expect(nested.status == 200, "\(nested.text)")
        }
    }

    @Test("rules a schema cannot state are 422, never 400")
    func crossFieldRulesAre422() async throws {
        try await withModel { port in
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[[1],[2],[3]],"targets":[0,1]}"#), 422, "shape_mismatch",
                mentions: ["targets has 2 values", "3 rows"])
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[[1],[2]],"targets":[0,1],"validation_split":0.1}"#),
                422, "invalid_training_request", mentions: ["validation_split"])
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[[1,2],[3]],"targets":[0,1]}"#), 422, "ragged_array",
                mentions: ["inputs[1]"])
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[[1],[2]],"targets":[[1,2],[3]]}"#), 422, "ragged_array",
                mentions: ["targets[1]"])
            // Still 400: what the schema itself refuses (mixed kinds of targets, a 3-D row).
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[[1],[2]],"targets":[0,"b"]}"#), 400, "bad_request",
                mentions: ["targets[1]"])
            expectError(try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[[1,2,3,4]]]}"#), 400, "shape_mismatch")
        }
    }

    @Test("integers are read exactly up to UInt64.max; an ignored parameter may be any JSON number")
    func integerAndSkippedNumberRanges() async throws {
        try await withModel { port in
            // A version past 2^53 is a version that does not exist, not a malformed number.
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","version":18446744073709551615,"inputs":[[1,2,3,4]]}"#),
                404, "version_not_found", mentions: ["18446744073709551615"])
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","version":18446744073709551616,"inputs":[[1,2,3,4]]}"#),
                400, "bad_request", mentions: ["version", "18446744073709551615"])
            let ignored = try await call(
                port, "POST", "/v2/models/m/infer",
                json: #"{"parameters":{"priority":1e300},"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4],"parameters":{"x":-1e300}}]}"#)
            #expect(ignored.status == 200, "\(ignored.text)")
        }
    }

    @Test("DELETE of a finished job answers it as it ended, then GET, the list and a restart no longer know it")
    func deletingAFinishedJobForgetsIt() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        let body = #"{"model":"tiny","inputs":[[0],[1],[2],[3]],"targets":[0,1,0,1],"epochs":2,"validation_split":0}"#
        let id = try await withAPIServer(daemon) { port in
            let done = try await call(port, "POST", "/train?wait=true", json: body)
            #expect(done.status == 200 && done.object["status"] as? String == "succeeded", "\(done.text)")
            let id = try #require(done.object["id"] as? String)
            let kept = try await call(port, "POST", "/train?wait=true", json: body)
            let keptID = try #require(kept.object["id"] as? String)

            let deleted = try await call(port, "DELETE", "/jobs/\(id)")
            #expect(deleted.status == 200 && deleted.object["status"] as? String == "succeeded", "\(deleted.text)")
            #expect(deleted.object["id"] as? String == id && deleted.object["version"] as? Int == 1)
            let problems = try OpenAPIContract().problems(deleted, method: "DELETE", template: "/jobs/{id}")
            #expect(problems.isEmpty, "\(problems)")

            expectError(try await call(port, "GET", "/jobs/\(id)"), 404, "job_not_found", mentions: [id])
            expectError(try await call(port, "DELETE", "/jobs/\(id)"), 404, "job_not_found")
            let listed = (try await call(port, "GET", "/jobs").object["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(listed == [keptID])
            // The version it installed stays: deleting a job's record is not deleting its model.
            let model = try await call(port, "GET", "/models/tiny")
            #expect(model.status == 200 && (model.object["versions"] as? [Any])?.count == 2, "\(model.text)")
            return id
        }
        daemon.jobs.close()
        let restarted = JobScheduler(testing: daemon.store)
        defer { restarted.close() }
        #expect(restarted.restore(stateDirectory: directory.path) == 1)
        #expect(restarted.job(id) == nil)
    }

    @Test("DELETE of a running job cancels it, answers once it stopped, and forgets it; its ?wait=true caller gets 409")
    func deletingARunningJobCancelsAndForgetsIt() async throws {
        try await withFreshDaemon { daemon, port in
            async let waited = call(port, "POST", "/train?wait=true", json: JobWaitTests.long)
            #expect(await eventually { daemon.jobs.list().first.map { $0.status == .running && $0.epoch >= 1 } ?? false })
            let id = try #require(daemon.jobs.list().first?.id)
            let deleted = try await call(port, "DELETE", "/jobs/\(id)")
            #expect(deleted.status == 200 && deleted.object["status"] as? String == "cancelled", "\(deleted.text)")
            #expect(deleted.object["stop_reason"] as? String == "cancelled" && deleted.object["finished_at"] != nil)
            expectError(try await call(port, "GET", "/jobs/\(id)"), 404, "job_not_found")
            let answer = try await waited
            expectError(answer, 409, "job_cancelled", mentions: ["DELETE /jobs/\(id)", "nothing was installed"])
            #expect(answer.header("Location") == "/jobs/\(id)")
            // Nothing was installed: the model never existed.
            expectError(try await call(port, "GET", "/models/long"), 404, "model_not_found")
        }
    }
}
