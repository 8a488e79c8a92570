import AxonServer
import Checkpoint
import Foundation
import Testing
import TestKit

/// The request and answer variants of the three inference protocols, on a stored classifier.
@Suite("Inference protocols")
struct APIProtocolTests {
    @Test func formsOfTheSameRowsAgree() async throws {
        try await withStoredClassifier { port in
            let rows = "[[0.5,-1,2,0.25],[1,1,1,1]]"
            let own = try await call(port, "POST", "/predict", json: #"{"inputs":\#(rows),"model":"m"}"#)
            #expect(own.status == 200, "\(own.text)")
            let outputs = try #require(own.object["outputs"] as? [[Double]])
            #expect(Set(own.object["labels"] as? [String] ?? []).isSubset(of: ["a", "b", "c"]))
            #expect((own.object["probabilities"] as? [[Double]]) == outputs)

            let columnar = try await call(port, "POST", "/v1/models/m/versions/1:predict", json: #"{"inputs":\#(rows)}"#)
            #expect(columnar.status == 200 && columnar.object["outputs"] as? [[Double]] == outputs, "\(columnar.text)")

            let nested = try await call(
                port, "POST", "/v2/models/m/versions/1/infer",
                json: #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":\#(rows)}],"outputs":[{"name":"output"}]}"#)
            let flat = try await call(
                port, "POST", "/v2/models/m/infer",
                json: #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1],"parameters":{"binary_data":false}}]}"#)
            #expect(nested.status == 200 && flat.status == 200, "\(nested.text) \(flat.text)")
            let data = try #require((flat.object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])
            #expect(data == outputs.flatMap { $0 })
            #expect(nested.object["id"] == nil && flat.object["model_version"] as? String == "1")
        }
    }

    @Test func metadataAndStatusRoutes() async throws {
        try await withStoredClassifier { port in
            let server = try await call(port, "GET", "/v2")
            #expect(server.status == 200 && server.object["name"] as? String == "axon")
            let status = try await call(port, "GET", "/v1/models/m/versions/1")
            let entry = try #require((status.object["model_version_status"] as? [[String: Any]])?.first)
            #expect(entry["version"] as? String == "1" && entry["state"] as? String == "AVAILABLE")
            let metadata = try await call(port, "GET", "/v1/models/m/metadata")
            #expect(metadata.status == 200 && (metadata.object["model_spec"] as? [String: Any])?["name"] as? String == "m")
            #expect(try await call(port, "GET", "/v2/models/m/versions/2/ready").status == 404)
            #expect(try await call(port, "GET", "/v1/models/m/versions/x").status == 400)
        }
    }

    @Test func protocolMisuseIsNamed() async throws {
        try await withStoredClassifier { port in
            let both = try await call(port, "POST", "/v1/models/m:predict", json: #"{"instances":[[1,2,3,4]],"inputs":[[1,2,3,4]]}"#)
            #expect(both.status == 400 && both.envelope?.message.contains("not both") == true, "\(both.text)")
            let output = try await call(
                port, "POST", "/v2/models/m/infer",
                json: #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"probs"}]}"#)
            #expect(output.status == 400 && output.envelope?.message.contains("\"probs\"") == true, "\(output.text)")
            let datatype = try await call(
                port, "POST", "/v2/models/m/infer", json: #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"INT64","data":[1,2,3,4]}]}"#)
            #expect(datatype.status == 400 && datatype.envelope?.message.contains("FP32") == true)
            let count = try await call(
                port, "POST", "/v2/models/m/infer", json: #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[1,2,3,4]}]}"#)
            // Well-formed data that disagrees with its shape: 422, as the schema allows both parts.
            #expect(count.status == 422 && count.envelope?.code == "shape_mismatch", "\(count.text)")
        }
    }
}
