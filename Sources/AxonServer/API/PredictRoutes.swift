import AxonHTTP
import AxonSupport
import AxonStore
import ModelKit

/// The inference routes: Axon's `/predict`, TF-Serving's `:predict` and KServe V2's `/infer`.
///
/// All three are deferrable handlers: a small request answers on the libmicrohttpd thread,
/// reading the model through the store's lock-protected `current` (no Task, no actor hop),
/// parsing the numbers straight from the body bytes and writing the answer into one reserved
/// buffer; a costly one runs in the inference pool (`APIContext.deferrable`). Each handler
/// parses and checks the request, and returns how to answer the outputs.
enum PredictRoutes {
    static func register(on router: inout Router, context: APIContext) {
        router.post("/predict", deferrable: context.deferrable { request in try predict(request, context) })
        router.post("/v1/models/{name}:predict", versioned: "/v1/models/{name}/versions/{version}:predict", context: context) {
            request, version in try tfPredict(request, context, version: version)
        }
        router.post("/v2/models/{name}/infer", versioned: "/v2/models/{name}/versions/{version}/infer", context: context) {
            request, version in try infer(request, context, version: version)
        }
    }

    // MARK: - POST /predict

    /// `POST /predict`: rows of numbers, or, for a model trained on named or text columns,
    /// rows as objects or arrays of cells.
    static func predict(_ request: Request, _ context: APIContext) throws -> PendingPrediction {
        let body = try readPredictBody(request, context)
        guard let name = body.name else { throw APIError.badRequest("missing field model", code: "missing_field") }
        guard let shape = body.shape else { throw APIError.badRequest("missing field inputs", code: "missing_field") }
        let stored = try context.model(name, version: body.version)
        if body.tableStart != nil || stored.takesTableRows, let preprocessing = stored.preprocessing {
            let input = try predictTableRows(request, at: body.tableStart, stored: stored, preprocessing: preprocessing, context: context)
            return PendingPrediction(stored: stored, input: input) { outputs in predictAnswer(stored, outputs) }
        }
        if let numericError = body.numericError { throw numericError }
        if body.tableStart != nil {
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "model \"\(stored.name)\" takes rows of \(stored.inputWidth) numbers: it was trained without named or text columns, so its inputs cannot be objects, text or null")
        }
        let input = try Inference.rows(values: body.values, shape: shape, field: "inputs", model: stored, limits: context.limits, vectorIsRow: true)
        return PendingPrediction(stored: stored, input: input) { outputs in predictAnswer(stored, outputs) }
    }

    /// A `POST /predict` body as read before its model is known.
    struct PredictBody {
        var name: String?
        var version: UInt64?
        /// The rows, row-major, when they read as numbers.
        var values: [Float] = []
        var shape: [Int]?
        /// Where "inputs" starts, when its rows are a table (objects, text or null cells, or a
        /// model with text columns) that is read once the model is known.
        var tableStart: Int?
        /// Why the rows did not read as numbers: the answer for a model without preprocessing.
        var numericError: APIError?
    }

    /// Reads the members of a `POST /predict` body; rows that are a table are skipped for now.
    static func readPredictBody(_ request: Request, _ context: APIContext) throws -> PredictBody {
        var read = PredictBody()
        try request.body.withUnsafeBufferPointer { (body) throws in
            var scanner = JSONScanner(body, limits: JSONLimits(context.limits))
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "model": read.name = try scanner.readString(at: "model")
                case "version": read.version = try scanner.readUnsigned(at: "version")
                case "inputs": try readPredictInputs(&scanner, into: &read, context: context)
                default: throw unknownKey(key, allowed: "model, inputs, version")
                }
            }
            try scanner.expectEnd()
        }
        return read
    }

    /// Reads `inputs` as numbers, or notes where they start and skips them when they are a
    /// table: objects, text or null cells, or rows for a model with text columns.
    static func readPredictInputs(_ scanner: inout JSONScanner, into read: inout PredictBody, context: APIContext) throws(APIError) {
        // When "model" came first, rows of the wrong width are named as they are read.
        let current = read.name.flatMap { context.store.current($0) }
        let start = scanner.index
        if current?.takesTableRows == true || scanner.peekFirstElement() == UInt8(ascii: "{")
            || scanner.peek() == UInt8(ascii: "{") {
            read.tableStart = start
            try scanner.skipValue(at: "inputs")
            read.shape = []
            return
        }
        let width = current.map { ($0.inputWidth, "model \"\($0.name)\"") }
        read.values.reserveCapacity(width?.0 ?? 64)
        do throws(APIError) {
            let shape = try scanner.readTensor(at: "inputs", into: &read.values, innermost: width.map { (count: $0.0, owner: $0.1) })
            read.shape = shape
        } catch {
            guard let next = scanner.peek(), TableReader.startsNonNumericCell(next) else { throw error }
            scanner.rewind(to: start)
            read.values = []
            read.numericError = error
            read.tableStart = start
            try scanner.skipValue(at: "inputs")
            read.shape = []
        }
    }

    /// The rows of a `POST /predict` body as cells for `preprocessing`, read from `tableStart`,
    /// or from where `inputs` starts when they were first read as numbers (before the model
    /// was known).
    static func predictTableRows(
        _ request: Request, at tableStart: Int?, stored: StoredModel, preprocessing: Preprocessing, context: APIContext
    ) throws(APIError) -> InferenceRows {
        let limits = JSONLimits(context.limits)
        return try request.body.withUnsafeBufferPointer { (body) throws(APIError) in
            var start = tableStart
            if start == nil {
                var scanner = JSONScanner(body, limits: limits)
                try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                    if key == "inputs" { start = scanner.index }
                    try scanner.skipValue(at: key)
                }
            }
            var scanner = JSONScanner(body, limits: limits, at: start ?? 0, depth: 1)
            return try TableReader.predictionRows(&scanner, field: "inputs", stored: stored, preprocessing: preprocessing, limits: context.limits)
        }
    }

    /// The `/predict` answer: outputs, and for a classifier its classes, labels and probabilities.
    static func predictAnswer(_ stored: StoredModel, _ outputs: [Float]) -> Response {
        let width = stored.outputWidth
        let isClassifier = stored.task == .classification
        var writer = Inference.writer(floats: outputs.count * (isClassifier ? 2 : 1))
        writer.raw(#"{"model":"#)
        writer.string(stored.name)
        writer.key("version")
        writer.integer(stored.version)
        writer.key("outputs")
        Inference.writeRows(outputs, width: width, to: &writer)
        if isClassifier {
            let classes = ClassScores.classes(outputs, width: width)
            writer.key("classes")
            writer.byte(UInt8(ascii: "["))
            for (k, index) in classes.enumerated() {
                if k > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.integer(index)
            }
            writer.byte(UInt8(ascii: "]"))
            writer.key("labels")
            writer.byte(UInt8(ascii: "["))
            for (k, index) in classes.enumerated() {
                if k > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(Inference.label(stored, index))
            }
            writer.byte(UInt8(ascii: "]"))
            writer.key("probabilities")
            Inference.writeRows(ClassScores.probabilities(outputs, width: width), width: max(width, 2), to: &writer)
        }
        writer.byte(UInt8(ascii: "}"))
        return Response.json(bytes: writer.bytes)
    }

    static func unknownKey(_ key: String, allowed: String) -> APIError {
        .badRequest("unknown field \(key.excerpt); allowed: \(allowed)", code: "unknown_field")
    }

    // MARK: - TF-Serving

    /// The one signature every Axon model has, as TF-Serving names its default.
    static let signatureName = "serving_default"

    static func tfPredict(_ request: Request, _ context: APIContext, version: UInt64?) throws -> PendingPrediction {
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
                        shape = try readNamedRows(&scanner, stored: stored, into: &values)
                    } else if columnar, scanner.peek() == UInt8(ascii: "{") {
                        field = "inputs.\(inputTensorName)"
                        shape = try readNamedColumns(&scanner, stored: stored, into: &values)
                    } else {
                        shape = try scanner.readTensor(at: key, into: &values)
                    }
                case "signature_name":
                    let name = try scanner.readString(at: key)
                    // TF-Serving reads an empty name as the default signature.
                    guard name == signatureName || name.isEmpty else {
                        throw APIError.badRequest(
                            "signature_name is \"\(name.excerpt)\"; model \"\(stored.name)\" has one signature, \"\(signatureName)\"",
                            code: "unknown_signature")
                    }
                default: throw unknownKey(key, allowed: "instances or inputs, signature_name")
                }
            }
            try scanner.expectEnd()
        }
        guard let shape else { throw APIError.badRequest("missing field instances (or inputs)", code: "missing_field") }
        // TF-Serving semantics: each element of the list is one instance, so a flat list is
        // one scalar per instance (a model with one input).
        let input = try Inference.rows(values: values, shape: shape, field: field, model: stored, limits: context.limits, vectorIsRow: false)
        return PendingPrediction(stored: stored, input: input) { [columnar] outputs in tfAnswer(stored, outputs, columnar: columnar) }
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

    // MARK: - KServe V2 / Open Inference Protocol

    /// The one input and one output tensor Axon models expose over V2.
    static let inputTensorName = "input"
    static let outputTensorName = "output"

    static func infer(_ request: Request, _ context: APIContext, version: UInt64?) throws -> PendingPrediction {
        let stored = try context.model(request.parameters.require("name"), version: version)
        let parsed = try V2InferRequest.parse(
            body: request.body, headerLength: request.headers[V2InferRequest.headerLengthField], model: stored, limits: context.limits)
        return PendingPrediction(stored: stored, input: parsed.input) { outputs in inferAnswer(stored, parsed, outputs) }
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
