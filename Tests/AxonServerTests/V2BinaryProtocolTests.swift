import AxonServer
import Checkpoint
import Foundation
import ModelKit
import TestKit
import Testing

/// A V2 request body with Triton's binary tensor extension: the JSON header, then `floats`
/// as little-endian FP32 bytes. Returns the body and the header's length.
func binaryTensorBody(json: String, floats: [Float]) -> (body: [UInt8], headerLength: Int) {
    var body = Array(json.utf8)
    let headerLength = body.count
    for value in floats {
        withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) }
    }
    return (body, headerLength)
}

/// One request with extra headers, on a fresh connection.
func send(_ port: Int, _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) async throws
    -> TestResponse
{
    try await onThread { try TestConnection(port: port).request(method, path, headers: headers, body: body) }
}

/// A binary-tensor answer split into its JSON header and the bytes after it.
struct BinaryAnswer {
    let header: [String: Any]
    let tensor: [UInt8]

    init(_ response: TestResponse) throws {
        let length = try #require(response.header("Inference-Header-Content-Length").flatMap { Int($0) }, "\(response.text)")
        try #require(length <= response.body.count)
        header = try #require(try JSONSerialization.jsonObject(with: Data(response.body[0 ..< length])) as? [String: Any])
        tensor = Array(response.body[length...])
    }

    var output: [String: Any] { ((header["outputs"] as? [[String: Any]])?.first) ?? [:] }

    /// The tensor bytes as little-endian FP32 values.
    var floats: [Float] {
        stride(from: 0, to: tensor.count - 3, by: 4).map { k in
            Float(bitPattern: UInt32(tensor[k]) | UInt32(tensor[k + 1]) << 8 | UInt32(tensor[k + 2]) << 16 | UInt32(tensor[k + 3]) << 24)
        }
    }
}

/// The KServe V2 binary tensor extension, Triton's classification extension and model
/// configuration, spoken byte for byte as tritonclient speaks them.
@Suite("KServe V2 binary tensors and Triton routes")
struct V2BinaryProtocolTests {
    static let rows: [Float] = [0.5, -1, 2, 0.25, 1, 1, 1, 1]

    /// The outputs of the JSON form, the reference every binary form must match bit for bit.
    func jsonOutputs(_ port: Int) async throws -> [Float] {
        let answer = try await call(
            port, "POST", "/v2/models/m/infer",
            json: #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}]}"#)
        #expect(answer.status == 200, "\(answer.text)")
        let data = try #require((answer.object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])
        return data.map { Float($0) }
    }

    func binaryInput(_ port: Int, path: String = "/v2/models/m/infer", parameters: String = "", outputs: String = "")
        async throws -> TestResponse
    {
        let json = #"{"id":"r1",\#(parameters)"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}]\#(outputs)}"#
        let (body, length) = binaryTensorBody(json: json, floats: Self.rows)
        return try await send(port, "POST", path, headers: [("Inference-Header-Content-Length", String(length))], body: body)
    }

    @Test func binaryInputsAndOutputsMatchTheJSONForm() async throws {
        try await withStoredClassifier { port in
            let reference = try await jsonOutputs(port)
            #expect(reference.count == 6)

            // Binary in, JSON out (the output asks for JSON explicitly).
            let jsonOut = try await binaryInput(port, outputs: #","outputs":[{"name":"output","parameters":{"binary_data":false}}]"#)
            #expect(jsonOut.status == 200 && jsonOut.header("Content-Type") == "application/json", "\(jsonOut.text)")
            #expect(jsonOut.header("Inference-Header-Content-Length") == nil)
            let data = try #require((jsonOut.object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double])
            #expect(data.map { Float($0) } == reference)
            #expect(jsonOut.object["id"] as? String == "r1")

            // Binary in and out, asked for at request level (what tritonclient sends without outputs).
            let both = try await binaryInput(port, parameters: #""parameters":{"binary_data_output":true},"#)
            #expect(both.status == 200 && both.header("Content-Type") == "application/octet-stream", "\(both.text)")
            let answer = try BinaryAnswer(both)
            #expect(answer.header["id"] as? String == "r1" && answer.header["model_version"] as? String == "1")
            #expect(answer.output["data"] == nil && answer.output["datatype"] as? String == "FP32")
            #expect(answer.output["shape"] as? [Int] == [2, 3])
            #expect((answer.output["parameters"] as? [String: Any])?["binary_data_size"] as? Int == 24)
            #expect(answer.floats == reference)

            // Asked for per output, on the versioned route.
            let perOutput = try await binaryInput(
                port, path: "/v2/models/m/versions/1/infer", outputs: #","outputs":[{"name":"output","parameters":{"binary_data":true}}]"#)
            #expect(try BinaryAnswer(perOutput).floats == reference)

            // An output's binary_data=false overrides the request-level default.
            let overridden = try await binaryInput(
                port, parameters: #""parameters":{"binary_data_output":true},"#,
                outputs: #","outputs":[{"name":"output","parameters":{"binary_data":false}}]"#)
            #expect(overridden.header("Content-Type") == "application/json" && overridden.object["outputs"] != nil, "\(overridden.text)")

            // JSON in, binary out; a header length equal to the body is plain JSON too.
            let json = #"{"inputs":[{"name":"input","shape":[8],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}],"parameters":{"binary_data_output":true}}"#
            let plain = try await send(
                port, "POST", "/v2/models/m/infer", headers: [("Inference-Header-Content-Length", String(json.utf8.count))],
                body: Array(json.utf8))
            #expect(plain.status == 422, "one row of 8 values for a 4-feature model: \(plain.text)")
            let jsonIn = try await send(
                port, "POST", "/v2/models/m/infer",
                body: Array(#"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}],"parameters":{"binary_data_output":true}}"#.utf8))
            #expect(try BinaryAnswer(jsonIn).floats == reference)
        }
    }

    @Test func binaryMistakesNameTheFieldAndBothValues() async throws {
        try await withStoredClassifier { port in
            func post(_ json: String, _ floats: [Float], header: String?, extra: [UInt8] = []) async throws -> TestResponse {
                var (body, length) = binaryTensorBody(json: json, floats: floats)
                body += extra
                let headers = header.map { [("Inference-Header-Content-Length", $0 == "auto" ? String(length) : $0)] } ?? []
                return try await send(port, "POST", "/v2/models/m/infer", headers: headers, body: body)
            }
            let declared32 = #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","parameters":{"binary_data_size":32}}]}"#

            let short = try await post(declared32, Array(Self.rows.prefix(7)), header: "auto")
            #expect(short.status == 400 && short.envelope?.code == "binary_size_mismatch", "\(short.text)")
            #expect(short.envelope?.message.contains("binary_data_size is 32") == true && short.envelope?.message.contains("28 bytes") == true)

            let wrongShape = try await post(
                #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","parameters":{"binary_data_size":32}}]}"#, Self.rows, header: "auto")
            #expect(wrongShape.status == 400 && wrongShape.envelope?.code == "shape_mismatch", "\(wrongShape.text)")
            #expect(wrongShape.envelope?.message.contains("needs 16 bytes") == true)

            let datatype = try await post(
                #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP64","parameters":{"binary_data_size":32}}]}"#,
                Self.rows, header: "auto")
            #expect(datatype.status == 400 && datatype.envelope?.message.contains("FP64; model \"m\" takes FP32") == true, "\(datatype.text)")

            let noHeader = try await post(declared32, Self.rows, header: nil)
            #expect(noHeader.status == 400 && noHeader.envelope?.code == "missing_header", "\(noHeader.text)")
            #expect(noHeader.envelope?.message.contains("Inference-Header-Content-Length") == true)

            let tooLong = try await post(declared32, Self.rows, header: "9999")
            #expect(tooLong.status == 400 && tooLong.envelope?.code == "invalid_header", "\(tooLong.text)")
            let bodySize = declared32.utf8.count + 32
            #expect(tooLong.envelope?.message.contains("is 9999; the body has only \(bodySize) bytes") == true, "\(tooLong.text)")

            let notNumber = try await post(declared32, Self.rows, header: "12abc")
            #expect(notNumber.status == 400 && notNumber.envelope?.message.contains("\"12abc\"") == true, "\(notNumber.text)")
            let negative = try await post(declared32, Self.rows, header: "-4")
            #expect(negative.status == 400 && negative.envelope?.code == "invalid_header", "\(negative.text)")

            // 0 means the whole body is JSON, as in Triton.
            let plainJSON = #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}]}"#
            let zero = try await post(plainJSON, [], header: "0")
            #expect(zero.status == 200 && zero.object["outputs"] != nil, "\(zero.text)")

            let undeclared = try await post(
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}]}"#, [1], header: "auto")
            #expect(undeclared.status == 400 && undeclared.envelope?.code == "binary_size_mismatch", "\(undeclared.text)")
            #expect(undeclared.envelope?.message.contains("4 bytes after the") == true)

            let twice = try await post(
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1],"parameters":{"binary_data_size":32}}]}"#,
                Self.rows, header: "auto")
            #expect(twice.status == 400 && twice.envelope?.message.contains("both data and parameters.binary_data_size") == true, "\(twice.text)")

            var poisoned = Self.rows
            poisoned[6] = .nan
            let nan = try await post(declared32, poisoned, header: "auto")
            #expect(nan.status == 400 && nan.envelope?.code == "non_finite_number", "\(nan.text)")
            #expect(nan.envelope?.message.contains("[1][2] is nan") == true)

            let shared = try await post(
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","parameters":{"shared_memory_region":"r"}}]}"#, [], header: nil)
            #expect(shared.status == 400 && shared.envelope?.code == "unsupported_extension", "\(shared.text)")

            let flag = try await post(
                #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}],"parameters":{"binary_data_output":"yes"}}"#,
                [], header: nil)
            #expect(flag.status == 400 && flag.envelope?.message.contains("parameters.binary_data_output must be a boolean") == true, "\(flag.text)")
        }
    }

    @Test func classificationExtensionRanksClassesWithLabels() async throws {
        try await withStoredClassifier { port in
            let predicted = try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[0.5,-1,2,0.25],[1,1,1,1]]}"#)
            let probabilities = try #require(predicted.object["probabilities"] as? [[Double]])
            let labels = try #require(predicted.object["labels"] as? [String])

            let json = try await call(
                port, "POST", "/v2/models/m/infer",
                json: #"{"inputs":[{"name":"input","shape":[2,4],"datatype":"FP32","data":[0.5,-1,2,0.25,1,1,1,1]}],"outputs":[{"name":"output","parameters":{"classification":2,"binary_data":false}}]}"#)
            #expect(json.status == 200, "\(json.text)")
            let output = try #require((json.object["outputs"] as? [[String: Any]])?.first)
            #expect(output["datatype"] as? String == "BYTES" && output["shape"] as? [Int] == [2, 2])
            let elements = try #require(output["data"] as? [String])
            #expect(elements.count == 4)
            for row in 0 ..< 2 {
                let best = elements[row * 2].split(separator: ":")
                #expect(best.count == 3 && String(best[2]) == labels[row], "\(elements)")
                #expect(Float(String(best[0])) == Float(probabilities[row].max()!))
                #expect(Int(String(best[1])) == probabilities[row].firstIndex(of: probabilities[row].max()!))
            }

            // The same as BYTES binary data: a 4-byte little-endian length before each element.
            let binary = try await binaryInput(port, outputs: #","outputs":[{"name":"output","parameters":{"classification":5,"binary_data":true}}]"#)
            let answer = try BinaryAnswer(binary)
            #expect(answer.output["shape"] as? [Int] == [2, 3], "k is capped at the 3 classes")
            var decoded: [String] = []
            var offset = 0
            while offset + 4 <= answer.tensor.count {
                let length = Int(answer.tensor[offset]) | Int(answer.tensor[offset + 1]) << 8
                decoded.append(String(decoding: answer.tensor[offset + 4 ..< offset + 4 + length], as: UTF8.self))
                offset += 4 + length
            }
            #expect(offset == answer.tensor.count && decoded.count == 6)
            #expect(decoded[0] == elements[0] && decoded[3] == elements[2], "\(decoded) vs \(elements)")
        }
    }

    @Test func classificationOnARegressionModelIsRefused() async throws {
        let directory = try TemporaryDirectory()
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        let configuration = try ModelConfiguration(
            layerSizes: [4, 8, 2], hiddenActivation: .relu, outputActivation: .identity, loss: .meanSquaredError)
        try await daemon.store.install(name: "r", model: Model(configuration: configuration, seed: 3), metadata: ModelMetadata())
        try await withAPIServer(daemon) { port in
            let refused = try await call(
                port, "POST", "/v2/models/r/infer",
                json: #"{"inputs":[{"name":"input","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}],"outputs":[{"name":"output","parameters":{"classification":1}}]}"#)
            #expect(refused.status == 422 && refused.envelope?.code == "not_a_classifier", "\(refused.text)")
            #expect(refused.envelope?.message.contains("regression model") == true, "\(refused.text)")
            let config = try await call(port, "GET", "/v2/models/r/config")
            let task = ((config.object["parameters"] as? [String: Any])?["task"] as? [String: Any])?["string_value"] as? String
            #expect(task == "regression" && (config.object["output"] as? [[String: Any]])?.first?["dims"] as? [Int] == [2], "\(config.text)")
        }
    }

    @Test func tritonConfigurationAndVersionedRoutes() async throws {
        try await withStoredClassifier { port in
            let contract = try OpenAPIContract()
            let config = try await call(port, "GET", "/v2/models/m/config")
            #expect(config.status == 200, "\(config.text)")
            #expect(contract.problems(config, method: "GET", template: "/v2/models/{name}/config").isEmpty)
            #expect(config.object["name"] as? String == "m" && config.object["max_batch_size"] as? Int == 1_000_000)
            #expect(config.object["platform"] as? String == "axon_mlp" && config.object["backend"] as? String == "axon")
            let input = try #require((config.object["input"] as? [[String: Any]])?.first)
            #expect(input["name"] as? String == "input" && input["data_type"] as? String == "TYPE_FP32" && input["dims"] as? [Int] == [4])
            let output = try #require((config.object["output"] as? [[String: Any]])?.first)
            #expect(output["name"] as? String == "output" && output["dims"] as? [Int] == [3])

            let versioned = try await call(port, "GET", "/v2/models/m/versions/1/config")
            #expect(versioned.status == 200 && versioned.object["name"] as? String == "m")
            #expect(try await call(port, "GET", "/v2/models/m/versions/7/config").status == 404)
            #expect(try await call(port, "GET", "/v2/models/nope/config").status == 404)

            let metadata = try await call(port, "GET", "/v2/models/m/versions/1")
            #expect(metadata.status == 200 && metadata.object["versions"] as? [String] == ["1"])
            #expect(contract.problems(metadata, method: "GET", template: "/v2/models/{name}/versions/{version}").isEmpty)
            #expect(try await call(port, "GET", "/v2/models/m/versions/1/ready").status == 200)

            let server = try await call(port, "GET", "/v2")
            #expect((server.object["extensions"] as? [String])?.contains("binary_tensor_data") == true)
        }
    }
}
