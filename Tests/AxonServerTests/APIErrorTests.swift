import AxonServer
import Checkpoint
import Foundation
import ModelKit
import Testing
import TestKit

/// One test per class of error: each answers its status with a code and a message naming the
/// field, the expected and the received value.
@Suite("API errors")
struct APIErrorTests {
    /// A daemon with one 4-input classifier "m", 4 rows per request at most and no room in the
    /// training queue, so every error class is reachable without training.
    func withErrorServer(_ body: (Int) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        let daemon = await loadedDaemon(stateDirectory: directory.path) { configuration in
            configuration.limits.maxRowsPerRequest = 4
            configuration.limits.maxQueuedJobs = 0
            configuration.limits.maxModels = 1
        }
        try await daemon.store.install(name: "m", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata())
        try await withAPIServer(daemon, body)
    }

    @Test func malformedJSONIs400() async throws {
        try await withErrorServer { port in
            expectError(try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,2,3,4]"#), 400, "invalid_json", mentions: ["expected"])
            expectError(try await call(port, "POST", "/train", json: #"{"model": }"#), 400, "invalid_json")
        }
    }

    @Test func unknownKeysAre400() async throws {
        try await withErrorServer { port in
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,2,3,4]],"input":1}"#), 400, "unknown_field",
                mentions: ["input"])
            expectError(try await call(port, "POST", "/train", json: #"{"model":"x","epoch":3}"#), 400, "unknown_field", mentions: ["epoch"])
        }
    }

    @Test func nonFiniteNumbersAre400() async throws {
        try await withErrorServer { port in
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,NaN,3,4]]}"#), 400, "non_finite_number",
                mentions: ["inputs[0][1]", "NaN"])
            expectError(
                try await call(port, "POST", "/v1/models/m:predict", json: #"{"instances":[[1,2,-Infinity,4]]}"#), 400,
                "non_finite_number", mentions: ["instances[0][2]"])
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,2,3,1e39]]}"#), 400, "non_finite_number",
                mentions: ["32-bit float"])
        }
    }

    @Test func raggedRowsAndWrongWidthsNameTheRow() async throws {
        try await withErrorServer { port in
            let ragged = try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,2,3,4],[1,2,3,4],[1,2,3]]}"#)
            #expect(ragged.status == 422 && ragged.envelope?.code == "shape_mismatch")
            #expect(ragged.envelope?.message == #"inputs[2] has 3 values; model "m" expects 4"#, "\(ragged.text)")
            let narrow = try await call(port, "POST", "/v1/models/m:predict", json: #"{"instances":[[1,2,3],[1,2,3]]}"#)
            expectError(narrow, 422, "shape_mismatch", mentions: [#"instances[0] has 3 values; model "m" expects 4"#])
            let tfRagged = try await call(port, "POST", "/v1/models/m:predict", json: #"{"instances":[[1,2,3,4],[1,2]]}"#)
            // Rows that disagree in length are each schema-valid: 422, not 400.
            expectError(tfRagged, 422, "ragged_array", mentions: ["instances[1]"])
        }
    }

    @Test func wrongTypesAre400() async throws {
        try await withErrorServer { port in
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,"2",3,4]]}"#), 400, "bad_request",
                mentions: ["inputs[0][1]", "number", "string"])
            expectError(try await call(port, "POST", "/predict", json: #"{"model":7,"inputs":[[1,2,3,4]]}"#), 400, "bad_request", mentions: ["model"])
            expectError(try await call(port, "POST", "/train", json: #"{"model":"x","epochs":"ten"}"#), 400, "bad_request", mentions: ["epochs"])
        }
    }

    @Test func nonUTF8BodiesAre400() async throws {
        try await withErrorServer { port in
            var body = Array(#"{"model":"m"#.utf8)
            body += [0xC3, 0x28]
            body += Array(#"","inputs":[[1,2,3,4]]}"#.utf8)
            expectError(try await call(port, "POST", "/predict", body: body, contentType: "application/json"), 400, "invalid_utf8")
            expectError(try await call(port, "POST", "/train?model=x", body: [0x61, 0x2C, 0x62, 0x0A, 0xFF, 0x2C, 0x31], contentType: "text/csv"), 400, "invalid_utf8")
        }
    }

    @Test func unknownModelsAndJobsAre404() async throws {
        try await withErrorServer { port in
            expectError(try await call(port, "POST", "/predict", json: #"{"model":"nope","inputs":[[1,2,3,4]]}"#), 404, "model_not_found", mentions: ["nope"])
            expectError(try await call(port, "POST", "/v2/models/nope/infer", json: "{}"), 404, "model_not_found")
            expectError(try await call(port, "GET", "/models/nope"), 404, "model_not_found")
            expectError(try await call(port, "GET", "/jobs/job-404"), 404, "job_not_found")
            expectError(try await call(port, "DELETE", "/jobs/job-404"), 404, "job_not_found")
            expectError(try await call(port, "POST", "/predict", json: #"{"model":"m","version":9,"inputs":[[1,2,3,4]]}"#), 404, "version_not_found")
            expectError(try await call(port, "POST", "/models/m/rollback", json: #"{"version":9}"#), 404, "version_not_found")
        }
    }

    @Test func fullQueueAndModelLimitAre409() async throws {
        try await withErrorServer { port in
            let body = #"{"model":"m","inputs":[[1],[2],[3],[4]],"targets":[0,1,0,1],"epochs":1}"#
            expectError(try await call(port, "POST", "/train", json: body), 409, "queue_full", mentions: ["limits.max_queued_jobs"])
            let another = #"{"model":"n","inputs":[[1],[2],[3],[4]],"targets":[0,1,0,1],"epochs":1}"#
            expectError(try await call(port, "POST", "/train", json: another), 409, "too_many_models", mentions: ["limits.max_models"])
        }
    }

    @Test func sizesOverLimitsAre413() async throws {
        try await withErrorServer { port in
            let rows = Array(repeating: "[1,2,3,4]", count: 5).joined(separator: ",")
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[\#(rows)]}"#), 413, "limit_exceeded",
                mentions: ["limits.max_rows_per_request"])
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"big","inputs":[\#(rows)],"targets":[0,1,0,1,0]}"#), 413,
                "limit_exceeded", mentions: ["limits.max_rows_per_request"])
        }
    }

    @Test func validRequestsThatMakeNoSenseAre422() async throws {
        try await withErrorServer { port in
            expectError(
                try await call(port, "POST", "/v2/models/m/infer", json: #"{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}"#),
                422, "shape_mismatch", mentions: ["[-1, 4]"])
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","layers":[3,8,2],"inputs":[[1,2],[3,4]],"targets":[0,1],"validation_split":0}"#),
                422, "shape_mismatch", mentions: ["layers[0]"])
            expectError(
                try await call(port, "POST", "/models/m/evaluate", json: #"{"inputs":[[1,2,3,4]],"targets":["zebra"]}"#), 422,
                "invalid_training_request", mentions: ["zebra"])
        }
    }

    @Test func badHyperparametersAre400NamingTheField() async throws {
        try await withErrorServer { port in
            expectError(
                try await call(port, "POST", "/train", json: #"{"model":"x","inputs":[[1],[2]],"targets":[0,1],"dropout":1.5,"validation_split":0}"#),
                400, "invalid_hyperparameter", mentions: ["dropout"])
        }
    }

    @Test func unsupportedMediaTypeIs415() async throws {
        try await withErrorServer { port in
            expectError(try await call(port, "POST", "/train", body: Array("x".utf8), contentType: "application/xml"), 415, "unsupported_media_type")
        }
    }

    @Test func cancellingAFinishedJobAnswersItsState() async throws {
        try await withFreshDaemon { port in
            let body = #"{"model":"tiny","inputs":[[0],[1],[2],[3]],"targets":[0,1,0,1],"epochs":2,"validation_split":0}"#
            let done = try await call(port, "POST", "/train?wait=true", json: body)
            #expect(done.status == 200 && done.object["status"] as? String == "succeeded", "\(done.text)")
            let id = try #require(done.object["id"] as? String)
            let cancelled = try await call(port, "DELETE", "/jobs/\(id)")
            #expect(cancelled.status == 200 && cancelled.object["status"] as? String == "succeeded")
        }
    }
}
