import AxonHTTP
import AxonSupport
import AxonStore
import ModelKit

// KServe V2 / Open Inference Protocol inference.
extension PredictRoutes {
    /// `POST /v2/models/{name}[/versions/{v}]/infer`: JSON or binary tensors (`V2InferRequest`).
    func infer(_ request: Request, version: UInt64?) throws -> PendingPrediction {
        let stored = try context.model(request.parameters.require("name"), version: version)
        let parsed = try V2InferRequest.parse(
            body: request.body, headerLength: request.headers[V2InferRequest.headerLengthField], model: stored, limits: context.limits)
        return PendingPrediction(stored: stored, input: parsed.input) { outputs in Self.inferAnswer(stored, parsed, outputs) }
    }

    /// The V2 answer: the output tensor as JSON or binary, or the classification extension's.
    static func inferAnswer(_ stored: StoredModel, _ parsed: V2InferRequest, _ outputs: [Float]) -> Response {
        let rows = parsed.input.rows
        var writer = Inference.writer(floats: outputs.count)
        writer.raw(#"{"model_name":"#)
        writer.string(stored.name)
        writer.key("model_version")
        writer.byte(UInt8(ascii: "\""))
        writer.integer(stored.version)
        writer.byte(UInt8(ascii: "\""))
        if let id = parsed.id {
            writer.key("id")
            writer.string(id)
        }
        if let k = parsed.classification {
            return classificationAnswer(writer, stored: stored, outputs: outputs, rows: rows, count: k, binary: parsed.binaryOutput)
        }
        writer.raw(#","outputs":[{"name":"output","datatype":"FP32","shape":["#)
        writer.integer(rows)
        writer.byte(UInt8(ascii: ","))
        writer.integer(stored.outputWidth)
        guard parsed.binaryOutput else {
            writer.raw(#"],"data":"#)
            outputs.withUnsafeBufferPointer { writer.floatArray($0) }
            writer.raw("}]}")
            return Response.json(bytes: writer.bytes)
        }
        let size = outputs.count * MemoryLayout<Float>.size
        writer.raw(#"],"parameters":{"binary_data_size":"#)
        writer.integer(size)
        writer.raw("}}]}")
        var body = writer.bytes
        let headerLength = body.count
        body.reserveCapacity(headerLength + size)
        for value in outputs {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { body.append(contentsOf: $0) }
        }
        return binaryResponse(body, headerLength: headerLength)
    }

    /// A binary-tensor answer: the JSON header, then the tensor bytes.
    static func binaryResponse(_ body: [UInt8], headerLength: Int) -> Response {
        Response(
            status: .ok,
            headers: ["Content-Type": "application/octet-stream", V2InferRequest.headerLengthField: String(headerLength)],
            body: body)
    }

    /// Triton's classification extension: a BYTES tensor of shape [rows, k] whose elements read
    /// `"<probability>:<class index>[:<label>]"`, best class first. `k` is capped at the number of
    /// classes (a one-output sigmoid classifier has two).
    static func classificationAnswer(
        _ header: JSONWriter, stored: StoredModel, outputs: [Float], rows: Int, count: Int, binary: Bool
    ) -> Response {
        let width = stored.outputWidth
        let probabilities = ClassScores.probabilities(outputs, width: width)
        let classes = max(width, 2)
        let k = min(count, classes)
        var elements: [String] = []
        elements.reserveCapacity(rows * k)
        let labels = stored.classLabels
        for row in 0 ..< rows {
            let base = row * classes
            for index in ClassScores.top(k, row: row, of: probabilities, classes: classes) {
                var text = "\(probabilities[base + index]):\(index)"
                if index < labels.count { text += ":\(labels[index])" }
                elements.append(text)
            }
        }
        var writer = header
        writer.raw(#","outputs":[{"name":"output","datatype":"BYTES","shape":["#)
        writer.integer(rows)
        writer.byte(UInt8(ascii: ","))
        writer.integer(k)
        guard binary else {
            writer.raw(#"],"data":["#)
            for (n, element) in elements.enumerated() {
                if n > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(element)
            }
            writer.raw("]}]}")
            return Response.json(bytes: writer.bytes)
        }
        // BYTES elements travel as a 4-byte little-endian length followed by the UTF-8 bytes.
        var tensor: [UInt8] = []
        for element in elements {
            withUnsafeBytes(of: UInt32(element.utf8.count).littleEndian) { tensor.append(contentsOf: $0) }
            tensor.append(contentsOf: element.utf8)
        }
        writer.raw(#"],"parameters":{"binary_data_size":"#)
        writer.integer(tensor.count)
        writer.raw("}}]}")
        let headerLength = writer.bytes.count
        return binaryResponse(writer.bytes + tensor, headerLength: headerLength)
    }
}
