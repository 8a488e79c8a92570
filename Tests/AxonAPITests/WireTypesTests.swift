import AxonAPI
import Foundation
import Testing

@Suite("The API's wire types: snake_case JSON, as docs/events.md and openapi.yaml describe it")
struct WireTypesTests {
    static func text<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try APIJSON.encode(value), as: UTF8.self)
    }

    @Test("a failed job encodes with snake_case keys, leaves out what it lacks, and decodes back")
    func jobSnapshot() throws {
        var job = JobSnapshot(
            id: "job-1-ab", model: "m", kind: "train", status: .failed, createdAt: "2026-01-01T00:00:00Z", epochs: 5, epoch: 2, rows: 10,
            history: [JobSnapshot.Epoch(epoch: 0, trainLoss: 0.5, validationLoss: nil, samplesPerSecond: 100)])
        job.error = JobSnapshot.Failure(code: "diverged", message: "training diverged")
        let text = try Self.text(job)
        #expect(text == #"{"created_at":"2026-01-01T00:00:00Z","epoch":2,"epochs":5,"error":{"code":"diverged","message":"training diverged"},"history":[{"epoch":0,"samples_per_second":100,"train_loss":0.5}],"id":"job-1-ab","kind":"train","model":"m","rows":10,"status":"failed"}"#)
        let decoded = try APIJSON.decode(JobSnapshot.self, from: Array(text.utf8))
        #expect(decoded.error == JobSnapshot.Failure(code: "diverged", message: "training diverged"))
        #expect(decoded.history == job.history)
        #expect(decoded.status == .failed && decoded.status.isFinished)
    }

    @Test("the epoch event carries the job's ETA with the point's figures")
    func progress() throws {
        var job = JobSnapshot(id: "j", model: "m", kind: "train", status: .running, createdAt: "t", epochs: 20, epoch: 4, rows: 6, history: [])
        job.etaSeconds = 1.5
        let point = JobSnapshot.Epoch(epoch: 3, trainLoss: 0.25, validationLoss: 0.5, samplesPerSecond: 1000)
        #expect(try Self.text(JobProgress(job, point)) == #"{"epoch":3,"epochs":20,"eta_seconds":1.5,"job":"j","samples_per_second":1000,"train_loss":0.25,"validation_loss":0.5}"#)
        job.waitingFor = "the training lock of m"
        #expect(try Self.text(JobStage(job, status: .queued)) == #"{"epochs":20,"job":"j","model":"m","rows":6,"status":"queued","waiting_for":"the training lock of m"}"#)
        #expect(try Self.text(JobStage(job, status: .running)) == #"{"epochs":20,"job":"j","model":"m","rows":6,"status":"running"}"#)
        #expect(JobEventName.allCases.filter(\.isFinal) == [.succeeded, .failed, .cancelled])
    }

    @Test("prediction rows encode numbers, text and null; objects by column name; cells decode back")
    func prediction() throws {
        let rows = PredictRequest(model: "houses", inputs: .rows([[.number(1.5), .text("red"), .missing]]))
        #expect(try Self.text(rows) == #"{"inputs":[[1.5,"red",null]],"model":"houses"}"#)
        let objects = PredictRequest(model: "houses", version: 2, inputs: .objects([["size": .number(2), "color": .text("blue")]]))
        #expect(try Self.text(objects) == #"{"inputs":[{"color":"blue","size":2}],"model":"houses","version":2}"#)
        let cells = try APIJSON.decode([TableCell].self, from: Array(#"[1e3, "x", null, true]"#.utf8))
        #expect(cells == [.number(1000), .text("x"), .missing, .text("true")])
    }

    @Test("the predict answer as the server writes it by hand decodes")
    func predictResponse() throws {
        let body = #"{"model":"iris","version":3,"outputs":[[0.9,0.05,0.05]],"classes":[0],"labels":["setosa"],"probabilities":[[0.9,0.05,0.05]]}"#
        let answer = try APIJSON.decode(PredictResponse.self, from: Array(body.utf8))
        #expect(answer == PredictResponse(model: "iris", version: 3, outputs: [[0.9, 0.05, 0.05]], classes: [0], labels: ["setosa"], probabilities: [[0.9, 0.05, 0.05]]))
        let regression = try APIJSON.decode(PredictResponse.self, from: Array(#"{"model":"r","version":1,"outputs":[[2.5],[3]]}"#.utf8))
        #expect(regression.labels == nil && regression.outputs == [[2.5], [3]])
    }

    @Test("the error envelope's bytes")
    func envelope() throws {
        #expect(String(decoding: ErrorEnvelope(code: "not_found", message: "no route for path /x").encoded(), as: UTF8.self)
            == #"{"error":{"code":"not_found","message":"no route for path /x"}}"#)
        let decoded = try APIJSON.decode(ErrorEnvelope.self, from: Array(#"{"error":{"message":"m","code":"c"}}"#.utf8))
        #expect(decoded == ErrorEnvelope(code: "c", message: "m"))
    }

    @Test("metrics leave out per-class detail on request, and absent figures stay absent")
    func metrics() throws {
        var metrics = MetricsView()
        metrics.accuracy = 0.9
        metrics.confusionMatrix = [[1, 0], [0, 1]]
        metrics.classes = ["a", "b"]
        #expect(try Self.text(metrics) == #"{"accuracy":0.9,"classes":["a","b"],"confusion_matrix":[[1,0],[0,1]]}"#)
        #expect(try Self.text(metrics.withoutPerClassDetail) == #"{"accuracy":0.9}"#)
    }
}
