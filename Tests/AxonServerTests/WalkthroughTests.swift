import AxonServer
import Foundation
import Testing
import TestKit

/// The walkthrough of docs/api.md, request by request, against live daemons on
/// 127.0.0.1:0: train on the shipped CSVs, predict over the three protocols, evaluate,
/// continue training, restart on the same state directory, roll back and delete.
@Suite("API walkthrough")
struct WalkthroughTests {
    static let irisRow = "[5.1,3.5,1.4,0.2]"

    @Test func walkthrough() async throws {
        let directory = try TemporaryDirectory()
        let contract = try OpenAPIContract()
        func conforms(_ response: TestResponse, _ method: String, _ template: String) {
            let problems = contract.problems(response, method: method, template: template)
            #expect(problems.isEmpty, "\(method) \(template) \(response.status): \(problems) in \(response.text)")
        }
        let iris = try repositoryFile("examples/iris.csv")
        let digits = try repositoryFile("examples/digits.csv")
        let digitRows = String(decoding: digits, as: UTF8.self).split(separator: "\n").dropFirst().map { line in
            line.split(separator: ",").map(String.init)
        }
        let firstDigit = "[" + digitRows[0].dropLast().joined(separator: ",") + "]"

        var beforeRestart = ""
        var irisVersion1 = ""
        let first = await loadedDaemon(stateDirectory: directory.path)
        try await withAPIServer(first) { port in
            // 1. Train iris from CSV and wait for the result.
            let trained = try await call(
                port, "POST", "/train?model=iris&target=species&epochs=200&seed=1&wait=true", body: iris, contentType: "text/csv")
            #expect(trained.status == 200, "\(trained.text)")
            conforms(trained, "POST", "/train")
            #expect(trained.object["status"] as? String == "succeeded")
            #expect(trained.object["version"] as? Int == 1)
            let metrics = try #require(trained.object["metrics"] as? [String: Any])
            #expect((metrics["accuracy"] as? Double ?? 0) >= 0.8, "\(metrics)")

            // 2. Train digits in the background and follow the job.
            let accepted = try await call(
                port, "POST", "/train?model=digits&target=digit&epochs=12&seed=7", body: digits, contentType: "text/csv")
            #expect(accepted.status == 202, "\(accepted.text)")
            conforms(accepted, "POST", "/train")
            let id = try #require(accepted.object["id"] as? String)
            #expect(accepted.header("Location") == "/jobs/\(id)")
            var job: [String: Any] = [:]
            for _ in 0 ..< 3000 {
                let polled = try await call(port, "GET", "/jobs/\(id)")
                conforms(polled, "GET", "/jobs/{id}")
                job = polled.object
                if job["status"] as? String == "succeeded" || job["status"] as? String == "failed" { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(job["status"] as? String == "succeeded", "\(job)")
            #expect((job["history"] as? [Any])?.isEmpty == false)
            let jobs = try await call(port, "GET", "/jobs")
            conforms(jobs, "GET", "/jobs")
            #expect((jobs.object["jobs"] as? [Any])?.count == 2)

            // 3. Predict: Axon's own route, one row and a batch.
            let one = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[\#(Self.irisRow)]}"#)
            #expect(one.status == 200, "\(one.text)")
            conforms(one, "POST", "/predict")
            #expect(one.object["labels"] as? [String] == ["setosa"])
            irisVersion1 = one.text
            let batch = try await call(
                port, "POST", "/predict", json: #"{"model":"digits","inputs":[\#(firstDigit),\#(firstDigit)]}"#)
            #expect(batch.status == 200, "\(batch.text)")
            let outputs = try #require(batch.object["outputs"] as? [[Double]])
            #expect(outputs.count == 2 && outputs[0].count == 10 && outputs[0] == outputs[1])
            #expect(batch.object["labels"] as? [String] == ["0", "0"])

            // 4. TF-Serving and KServe V2 answer the same numbers as /predict for the same row
            // (a batch goes through BLAS and may differ in the last bit from one row).
            let single = try await call(port, "POST", "/predict", json: #"{"model":"digits","inputs":\#(firstDigit)}"#)
            let row = try #require((single.object["outputs"] as? [[Double]])?.first)
            let tf = try await call(port, "POST", "/v1/models/digits:predict", json: #"{"instances":[\#(firstDigit)]}"#)
            #expect(tf.status == 200, "\(tf.text)")
            conforms(tf, "POST", "/v1/models/{name}:predict")
            #expect((tf.object["predictions"] as? [[Double]])?.first == row)
            let status = try await call(port, "GET", "/v1/models/digits")
            conforms(status, "GET", "/v1/models/{name}")
            let metadata = try await call(port, "GET", "/v2/models/digits")
            conforms(metadata, "GET", "/v2/models/{name}")
            let input = try #require((metadata.object["inputs"] as? [[String: Any]])?.first)
            #expect(input["name"] as? String == "input" && input["shape"] as? [Int] == [-1, 64])
            let infer = try await call(
                port, "POST", "/v2/models/digits/infer",
                json: #"{"id":"req-1","inputs":[{"name":"input","shape":[1,64],"datatype":"FP32","data":\#(firstDigit)}]}"#)
            #expect(infer.status == 200, "\(infer.text)")
            conforms(infer, "POST", "/v2/models/{name}/infer")
            #expect(infer.object["id"] as? String == "req-1")
            let tensor = try #require((infer.object["outputs"] as? [[String: Any]])?.first)
            #expect(tensor["shape"] as? [Int] == [1, 10] && tensor["data"] as? [Double] == row)
            let ready = try await call(port, "GET", "/v2/models/digits/ready")
            #expect(ready.status == 200)

            // 5. Evaluate on labelled rows: the full metric set with the confusion matrix.
            let rows = digitRows.prefix(50)
            let inputs = rows.map { "[" + $0.dropLast().joined(separator: ",") + "]" }.joined(separator: ",")
            let targets = rows.map { $0.last! }.joined(separator: ",")
            let evaluation = try await call(
                port, "POST", "/models/digits/evaluate", json: #"{"inputs":[\#(inputs)],"targets":[\#(targets)]}"#)
            #expect(evaluation.status == 200, "\(evaluation.text)")
            conforms(evaluation, "POST", "/models/{name}/evaluate")
            let evaluated = try #require(evaluation.object["metrics"] as? [String: Any])
            #expect((evaluated["confusion_matrix"] as? [[Int]])?.count == 10)

            // 6. Management: the list, the detail and continued training on new rows.
            let list = try await call(port, "GET", "/models")
            conforms(list, "GET", "/models")
            let detail = try await call(port, "GET", "/models/iris")
            conforms(detail, "GET", "/models/{name}")
            #expect(detail.object["parameter_count"] as? Int == 4 * 64 + 64 + 64 * 3 + 3)
            let more = #"{"inputs":[[5.0,3.4,1.5,0.2],[6.4,3.2,4.5,1.5],[6.3,3.3,6.0,2.5]],"targets":["setosa","versicolor","virginica"],"epochs":3}"#
            let continued = try await call(port, "POST", "/models/iris/train?wait=true", json: more)
            #expect(continued.status == 200, "\(continued.text)")
            #expect(continued.object["version"] as? Int == 2 && continued.object["parent_version"] as? Int == 1)
            let versions = try await call(port, "GET", "/models/iris/versions")
            conforms(versions, "GET", "/models/{name}/versions")
            #expect((versions.object["versions"] as? [Any])?.count == 2)
            beforeRestart = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[\#(Self.irisRow)]}"#).text
            let pinned = try await call(port, "POST", "/predict", json: #"{"model":"iris","version":1,"inputs":[\#(Self.irisRow)]}"#)
            #expect(pinned.text == irisVersion1)
            let openapi = try await call(port, "GET", "/openapi.json")
            #expect(openapi.status == 200 && (openapi.object["paths"] as? [String: Any])?.isEmpty == false)
        }

        // 7. Restart on the same state directory: bit-identical answers, then roll back and delete.
        first.jobs.close()
        let second = await loadedDaemon(stateDirectory: directory.path)
        try await withAPIServer(second) { port in
            let again = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[\#(Self.irisRow)]}"#)
            #expect(again.text == beforeRestart)
            let rollback = try await call(port, "POST", "/models/iris/rollback", json: #"{"version":1}"#)
            #expect(rollback.status == 200, "\(rollback.text)")
            conforms(rollback, "POST", "/models/{name}/rollback")
            let rolledBack = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[\#(Self.irisRow)]}"#)
            #expect(rolledBack.text == irisVersion1)
            let deleted = try await call(port, "DELETE", "/models/iris")
            #expect(deleted.status == 200)
            conforms(deleted, "DELETE", "/models/{name}")
            let gone = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[\#(Self.irisRow)]}"#)
            #expect(gone.status == 404 && gone.envelope?.code == "model_not_found")
            conforms(gone, "POST", "/predict")
        }
    }
}
