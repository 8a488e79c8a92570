import AxonServer
import Checkpoint
import Foundation
import TestKit
import Testing

/// TF-Serving's named-input request forms and signature_name, against the plain forms.
@Suite("TF-Serving named inputs and signatures")
struct TFServingFormsTests {
    @Test func namedFormsAnswerLikeThePlainForms() async throws {
        try await withStoredClassifier { port in
            let contract = try OpenAPIContract()
            let plain = try await call(port, "POST", "/v1/models/m:predict", json: #"{"instances":[[0.5,-1,2,0.25],[1,1,1,1]]}"#)
            let reference = try #require(plain.object["predictions"] as? [[Double]])
            #expect(reference.count == 2)

            let rows = try await call(
                port, "POST", "/v1/models/m:predict",
                json: #"{"signature_name":"serving_default","instances":[{"input":[0.5,-1,2,0.25]},{"input":[1,1,1,1]}]}"#)
            #expect(rows.status == 200 && rows.object["predictions"] as? [[Double]] == reference, "\(rows.text)")
            #expect(contract.problems(rows, method: "POST", template: "/v1/models/{name}:predict").isEmpty)

            let columns = try await call(
                port, "POST", "/v1/models/m/versions/1:predict", json: #"{"inputs":{"input":[[0.5,-1,2,0.25],[1,1,1,1]]},"signature_name":""}"#)
            #expect(columns.status == 200 && columns.object["outputs"] as? [[Double]] == reference, "\(columns.text)")

            let one = try await call(port, "POST", "/v1/models/m:predict", json: #"{"instances":[{"input":[1,1,1,1]}]}"#)
            #expect(one.object["predictions"] as? [[Double]] == [reference[1]], "\(one.text)")
        }
    }

    @Test func namedFormMistakesAreNamed() async throws {
        try await withStoredClassifier { port in
            func predict(_ json: String) async throws -> TestResponse {
                try await call(port, "POST", "/v1/models/m:predict", json: json)
            }
            let signature = try await predict(#"{"signature_name":"classify","instances":[[1,2,3,4]]}"#)
            #expect(signature.status == 400 && signature.envelope?.code == "unknown_signature", "\(signature.text)")
            #expect(signature.envelope?.message.contains(#"signature_name is "classify"; model "m" has one signature, "serving_default""#) == true)

            let key = try await predict(#"{"instances":[{"x":[1,2,3,4]}]}"#)
            #expect(key.status == 400 && key.envelope?.message.contains(#"instances[0].x is not an input of model "m"; its one input is "input""#) == true, "\(key.text)")

            let width = try await predict(#"{"instances":[{"input":[1,2,3,4]},{"input":[1,2,3]}]}"#)
            #expect(width.status == 422 && width.envelope?.message.contains("instances[1].input has 3 values; model \"m\" expects 4") == true, "\(width.text)")

            let mixed = try await predict(#"{"instances":[{"input":[1,2,3,4]},[1,2,3,4]]}"#)
            #expect(mixed.status == 400 && mixed.envelope?.message.contains("instances[1] must be an object") == true, "\(mixed.text)")

            let empty = try await predict(#"{"instances":[{}]}"#)
            #expect(empty.status == 400 && empty.envelope?.code == "missing_field", "\(empty.text)")

            let nested = try await predict(#"{"instances":[{"input":[[1,2,3,4]]}]}"#)
            #expect(nested.status == 422 && nested.envelope?.message.contains("instances[0].input has shape [1, 4]") == true, "\(nested.text)")

            let columnKey = try await predict(#"{"inputs":{"images":[[1,2,3,4]]}}"#)
            #expect(columnKey.status == 400 && columnKey.envelope?.message.contains("inputs.images is not an input") == true, "\(columnKey.text)")

            let columnWidth = try await predict(#"{"inputs":{"input":[[1,2,3]]}}"#)
            #expect(columnWidth.status == 422 && columnWidth.envelope?.message.contains("inputs.input[0] has 3 values") == true, "\(columnWidth.text)")

            let columnEmpty = try await predict(#"{"inputs":{}}"#)
            #expect(columnEmpty.status == 400 && columnEmpty.envelope?.code == "missing_field", "\(columnEmpty.text)")
        }
    }

    @Test func metadataNamesTheInputRequestsUse() async throws {
        try await withStoredClassifier { port in
            let metadata = try await call(port, "GET", "/v1/models/m/metadata")
            #expect(metadata.status == 200, "\(metadata.text)")
            let signatures = try #require(
                ((metadata.object["metadata"] as? [String: Any])?["signature_def"] as? [String: Any])?["signature_def"] as? [String: Any])
            let signature = try #require(signatures["serving_default"] as? [String: Any])
            let input = try #require((signature["inputs"] as? [String: Any])?["input"] as? [String: Any])
            #expect(input["dtype"] as? String == "DT_FLOAT")
            let dims = try #require((input["tensor_shape"] as? [String: Any])?["dim"] as? [[String: Any]])
            #expect(dims.compactMap { $0["size"] as? String } == ["-1", "4"])
            #expect(signature["method_name"] as? String == "tensorflow/serving/predict")
        }
    }
}
