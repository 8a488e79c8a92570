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
struct PredictRoutes: Sendable {
    let context: APIContext

    /// Adds these routes to `router`, each pointing at its handler (`predict`, `tfPredict`, `infer`).
    func register(on router: inout Router) {
        router.post("/predict", deferrable: context.deferrable(predict))
        router.post("/v1/models/{name}:predict", versioned: "/v1/models/{name}/versions/{version}:predict", context: context, tfPredict)
        router.post("/v2/models/{name}/infer", versioned: "/v2/models/{name}/versions/{version}/infer", context: context, infer)
    }

    // MARK: - Tensor names

    /// The one input and one output tensor Axon models expose over V2 (and TF-Serving's named forms).
    static let inputTensorName = "input"
    static let outputTensorName = "output"

    // MARK: - POST /predict

    /// `POST /predict`: rows of numbers, or, for a model trained on named or text columns,
    /// rows as objects or arrays of cells.
    func predict(_ request: Request) throws -> PendingPrediction {
        let body = try readPredictBody(request)
        guard let name = body.name else { throw APIError.badRequest("missing field model", code: "missing_field") }
        guard let shape = body.shape else { throw APIError.badRequest("missing field inputs", code: "missing_field") }
        let stored = try context.model(name, version: body.version)
        if body.tableStart != nil || stored.takesTableRows, let preprocessing = stored.preprocessing {
            let input = try predictTableRows(request, at: body.tableStart, stored: stored, preprocessing: preprocessing)
            return PendingPrediction(stored: stored, input: input) { outputs in Self.predictAnswer(stored, outputs) }
        }
        if let numericError = body.numericError { throw numericError }
        if body.tableStart != nil {
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "model \"\(stored.name)\" takes rows of \(stored.inputWidth) numbers: it was trained without named or text columns, so its inputs cannot be objects, text or null")
        }
        let input = try Inference.rows(values: body.values, shape: shape, field: "inputs", model: stored, limits: context.limits, vectorIsRow: true)
        return PendingPrediction(stored: stored, input: input) { outputs in Self.predictAnswer(stored, outputs) }
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
    func readPredictBody(_ request: Request) throws -> PredictBody {
        var read = PredictBody()
        try request.body.withUnsafeBufferPointer { (body) throws in
            var scanner = JSONScanner(body, limits: JSONLimits(context.limits))
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "model": read.name = try scanner.readString(at: "model")
                case "version": read.version = try scanner.readUnsigned(at: "version")
                case "inputs": try readPredictInputs(&scanner, into: &read)
                default: throw Self.unknownKey(key, allowed: "model, inputs, version")
                }
            }
            try scanner.expectEnd()
        }
        return read
    }

    /// Reads `inputs` as numbers, or notes where they start and skips them when they are a
    /// table: objects, text or null cells, or rows for a model with text columns.
    func readPredictInputs(_ scanner: inout JSONScanner, into read: inout PredictBody) throws(APIError) {
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
    func predictTableRows(
        _ request: Request, at tableStart: Int?, stored: StoredModel, preprocessing: Preprocessing
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
}
