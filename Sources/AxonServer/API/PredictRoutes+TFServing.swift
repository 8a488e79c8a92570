import AxonHTTP
import AxonSupport
import AxonStore
import ModelKit

// TF-Serving's REST predict API.
extension PredictRoutes {
    /// The one signature every Axon model has, as TF-Serving names its default.
    static let signatureName = "serving_default"

    /// `POST /v1/models/{name}[/versions/{v}]:predict`: the row (`instances`) or columnar
    /// (`inputs`) form, plain or named by the model's one input.
    func tfPredict(_ request: Request, version: UInt64?) throws -> PendingPrediction {
        let stored = try context.model(request.parameters.require("name"), version: version)
        let width = stored.inputWidth
        var values: [Float] = []
        values.reserveCapacity(width)
        var shape: [Int]?
        var field = "instances"
        var columnar = false
        try request.body.withUnsafeBufferPointer { (body) throws in
            var scanner = JSONScanner(body, limits: JSONLimits(context.limits))
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "instances", "inputs":
                    guard shape == nil else {
                        throw APIError.badRequest("use either instances (row form) or inputs (columnar form), not both")
                    }
                    columnar = key == "inputs"
                    field = key
                    if !columnar, scanner.peekFirstElement() == UInt8(ascii: "{") {
                        shape = try Self.readNamedRows(&scanner, stored: stored, into: &values)
                    } else if columnar, scanner.peek() == UInt8(ascii: "{") {
                        field = "inputs.\(Self.inputTensorName)"
                        shape = try Self.readNamedColumns(&scanner, stored: stored, into: &values)
                    } else {
                        shape = try scanner.readTensor(at: key, into: &values)
                    }
                case "signature_name":
                    let name = try scanner.readString(at: key)
                    // TF-Serving reads an empty name as the default signature.
                    guard name == Self.signatureName || name.isEmpty else {
                        throw APIError.badRequest(
                            "signature_name is \"\(name.excerpt)\"; model \"\(stored.name)\" has one signature, \"\(Self.signatureName)\"",
                            code: "unknown_signature")
                    }
                default: throw Self.unknownKey(key, allowed: "instances or inputs, signature_name")
                }
            }
            try scanner.expectEnd()
        }
        guard let shape else { throw APIError.badRequest("missing field instances (or inputs)", code: "missing_field") }
        // TF-Serving semantics: each element of the list is one instance, so a flat list is
        // one scalar per instance (a model with one input).
        let input = try Inference.rows(values: values, shape: shape, field: field, model: stored, limits: context.limits, vectorIsRow: false)
        return PendingPrediction(stored: stored, input: input) { [columnar] outputs in Self.tfAnswer(stored, outputs, columnar: columnar) }
    }

    /// The TF-Serving answer: `predictions` for the row form, `outputs` for the columnar form.
    static func tfAnswer(_ stored: StoredModel, _ outputs: [Float], columnar: Bool) -> Response {
        var writer = Inference.writer(floats: outputs.count)
        writer.raw(columnar ? #"{"outputs":"# : #"{"predictions":"#)
        Inference.writeRows(outputs, width: stored.outputWidth, to: &writer)
        writer.byte(UInt8(ascii: "}"))
        return Response.json(bytes: writer.bytes)
    }

    /// TF-Serving's named row form, `[{"input": [...]}, ...]`: one object per instance, keyed by
    /// the model's one input name. Returns the shape `[rows, width]`.
    static func readNamedRows(_ scanner: inout JSONScanner, stored: StoredModel, into values: inout [Float]) throws(APIError) -> [Int] {
        let width = stored.inputWidth
        var rows = 0
        try scanner.readArray(at: "instances") { (scanner, position) throws(APIError) in
            let path = "instances[\(position)]"
            guard scanner.peek() == UInt8(ascii: "{") else {
                throw scanner.typeError(path, expected: "an object like instances[0] ({\"\(inputTensorName)\": [...]})")
            }
            var seen = false
            try scanner.readObject(at: path) { (scanner, key) throws(APIError) in
                guard key == inputTensorName else { throw notAnInput("\(path).\(key)", stored) }
                guard !seen else { throw APIError.badRequest("\(path) has \"\(inputTensorName)\" twice") }
                seen = true
                let element = "\(path).\(inputTensorName)"
                let shape = try scanner.readTensor(at: element, into: &values, innermost: (count: width, owner: "model \"\(stored.name)\""))
                guard shape == [width] || (shape.isEmpty && width == 1) else {
                    throw APIError(
                        status: .unprocessableContent, code: "shape_mismatch",
                        message: "\(element) has shape \(shape); model \"\(stored.name)\" expects one row of \(width) values")
                }
            }
            guard seen else {
                throw APIError.badRequest(
                    "\(path) has no \"\(inputTensorName)\"; model \"\(stored.name)\" takes one named input, \"\(inputTensorName)\"",
                    code: "missing_field")
            }
            rows += 1
        }
        return [rows, width]
    }

    /// TF-Serving's named columnar form, `{"input": [[...], ...]}`: the model's one input name
    /// mapped to the whole batch. Returns the tensor's shape.
    static func readNamedColumns(_ scanner: inout JSONScanner, stored: StoredModel, into values: inout [Float]) throws(APIError) -> [Int] {
        var shape: [Int]?
        try scanner.readObject(at: "inputs") { (scanner, key) throws(APIError) in
            guard key == inputTensorName else { throw notAnInput("inputs.\(key)", stored) }
            guard shape == nil else { throw APIError.badRequest("inputs has \"\(inputTensorName)\" twice") }
            shape = try scanner.readTensor(at: "inputs.\(inputTensorName)", into: &values)
        }
        guard let shape else {
            throw APIError.badRequest(
                "inputs has no \"\(inputTensorName)\"; model \"\(stored.name)\" takes one named input, \"\(inputTensorName)\"",
                code: "missing_field")
        }
        return shape
    }

    static func notAnInput(_ path: String, _ stored: StoredModel) -> APIError {
        .badRequest(
            "\(path) is not an input of model \"\(stored.name)\"; its one input is \"\(inputTensorName)\"", code: "unknown_field")
    }
}
