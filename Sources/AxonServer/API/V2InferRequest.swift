import AxonHTTP
import AxonSupport
import AxonStore
import ModelKit

/// A KServe V2 / Open Inference Protocol inference request, validated against the model.
///
/// The body is JSON, or, with Triton's binary tensor extension, a JSON header of
/// `Inference-Header-Content-Length` bytes followed by the raw little-endian FP32 tensor that
/// `inputs[0].parameters.binary_data_size` announces. Every inconsistency between the header,
/// the JSON and the bytes is a 400 naming the field, the expected and the received value.
struct V2InferRequest {
    /// The request's `id`, echoed in the answer.
    var id: String?
    /// The input rows.
    var input: InferenceRows
    /// Whether the output tensor goes back as raw bytes after a JSON header.
    var binaryOutput: Bool
    /// Triton's classification extension: the top `k` classes per row instead of the raw outputs.
    var classification: Int?

    /// The request header that splits a binary-tensor body into JSON and bytes.
    static let headerLengthField = "Inference-Header-Content-Length"

    /// Parses `body` for `model`; `headerLength` is the raw `Inference-Header-Content-Length` value.
    static func parse(
        body: [UInt8], headerLength: String?, model stored: StoredModel, limits: ServerLimits
    ) throws(APIError) -> V2InferRequest {
        let jsonLength = try Self.jsonLength(headerLength, bodyCount: body.count)
        var header = try readHeader(body, jsonLength: jsonLength, headerLength: headerLength, model: stored, limits: limits)
        let binary = body.count - jsonLength
        let shape = try declaredShape(header, model: stored)
        try Inference.checkRowLimit(shape.rows, field: "inputs[0]", limits: limits)
        let flops = try Inference.checkCost(of: stored, rows: shape.rows, limits: limits).flops
        if let size = header.binarySize {
            try checkBinaryData(header, size: size, shape: shape, headerLength: headerLength, jsonLength: jsonLength, binary: binary)
            header.values = try decodeFloats(body[jsonLength...], width: shape.width)
        } else {
            try checkJSONData(header, shape: shape, jsonLength: jsonLength, binary: binary)
        }
        let binaryOutput = header.outputBinary ?? header.requestBinary ?? false
        try checkClassification(header, model: stored)
        return V2InferRequest(
            id: header.id, input: InferenceRows(values: header.values, rows: shape.rows, width: shape.width, flops: flops),
            binaryOutput: binaryOutput, classification: header.classification)
    }

    /// The input tensor's shape as declared, read as rows of the model's width.
    private struct DeclaredShape {
        /// `inputs[0].shape` as sent: `[rows, width]`, or `[width]` for one row.
        var dimensions: [Int]
        var rows: Int
        var width: Int
    }

    /// Reads the JSON part, the first `jsonLength` bytes of `body`.
    private static func readHeader(
        _ body: [UInt8], jsonLength: Int, headerLength: String?, model stored: StoredModel, limits: ServerLimits
    ) throws(APIError) -> Header {
        var header = Header(model: stored)
        header.values.reserveCapacity(stored.inputWidth)
        try body.withUnsafeBufferPointer { (all) throws(APIError) in
            var scanner = JSONScanner(UnsafeBufferPointer(rebasing: all[0 ..< jsonLength]), limits: JSONLimits(limits))
            try header.read(&scanner)
            if headerLength == nil, let size = header.binarySize, scanner.peek() != nil {
                // Binary data sent without the header that says where the JSON ends.
                throw APIError.badRequest(
                    "inputs[0].parameters.binary_data_size is \(size) but the request has no \(headerLengthField) header; "
                        + "the JSON ends at byte \(scanner.index) of \(jsonLength), expected the header to say so",
                    code: "missing_header")
            }
            try scanner.expectEnd()
        }
        return header
    }

    /// The input tensor's FP32 shape as rows of `model`'s width (`[width]` is one row).
    private static func declaredShape(_ header: Header, model stored: StoredModel) throws(APIError) -> DeclaredShape {
        guard let declaredShape = header.shape, let datatype = header.datatype, header.sawInput else {
            throw APIError.badRequest(
                "missing input tensor: inputs[0] needs name, shape, datatype and data (or parameters.binary_data_size)",
                code: "missing_field")
        }
        guard datatype == "FP32" else {
            throw APIError.badRequest("inputs[0].datatype is \(datatype.excerpt); model \"\(stored.name)\" takes FP32")
        }
        let width = stored.inputWidth
        let rows: Int
        switch declaredShape.count {
        case 1 where declaredShape[0] == width: rows = 1
        case 2 where declaredShape[1] == width: rows = declaredShape[0]
        default:
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "inputs[0].shape is \(declaredShape); model \"\(stored.name)\" expects [-1, \(width)] (rows x \(width))")
        }
        guard rows > 0 else { throw APIError.badRequest("inputs[0].shape has no rows") }
        return DeclaredShape(dimensions: declaredShape, rows: rows, width: width)
    }

    /// Checks that the `binary` bytes after the JSON part are the tensor that
    /// `binary_data_size` (`size`) announces, in the declared shape.
    private static func checkBinaryData(
        _ header: Header, size: UInt64, shape: DeclaredShape, headerLength: String?, jsonLength: Int, binary: Int
    ) throws(APIError) {
        let expectedBytes = shape.rows * shape.width * MemoryLayout<Float>.size
        guard header.dataShape == nil else {
            throw APIError.badRequest("inputs[0] has both data and parameters.binary_data_size; send the tensor one way")
        }
        guard headerLength != nil else {
            throw APIError.badRequest(
                "inputs[0].parameters.binary_data_size is \(size) but the request has no \(headerLengthField) header; "
                    + "binary tensor data needs it to tell where the JSON ends", code: "missing_header")
        }
        guard size == UInt64(binary) else {
            throw APIError.badRequest(
                "inputs[0].parameters.binary_data_size is \(size); the body has \(binary) bytes after the "
                    + "\(jsonLength)-byte JSON header (\(headerLengthField): \(jsonLength))", code: "binary_size_mismatch")
        }
        guard binary == expectedBytes else {
            throw APIError.badRequest(
                "inputs[0].parameters.binary_data_size is \(size); shape \(shape.dimensions) of FP32 needs \(expectedBytes) bytes "
                    + "(\(shape.rows * shape.width) values x 4)", code: "shape_mismatch")
        }
    }

    /// Checks that `inputs[0].data` holds the declared tensor and nothing follows the JSON.
    private static func checkJSONData(_ header: Header, shape: DeclaredShape, jsonLength: Int, binary: Int) throws(APIError) {
        guard binary == 0 else {
            throw APIError.badRequest(
                "the body has \(binary) bytes after the \(jsonLength)-byte JSON header (\(headerLengthField): \(jsonLength)) "
                    + "but inputs[0].parameters.binary_data_size is absent; expected 0 bytes after the header",
                code: "binary_size_mismatch")
        }
        guard let dataShape = header.dataShape else {
            throw APIError.badRequest(
                "missing field inputs[0].data (or inputs[0].parameters.binary_data_size with binary data)", code: "missing_field")
        }
        // Data may be flat or nested; either way it must hold exactly the declared elements.
        let nestedMatches = dataShape.count <= 1 || dataShape == shape.dimensions
        guard header.values.count == shape.rows * shape.width, nestedMatches else {
            // Well-formed data and shape that disagree: a 422, like a shape the model refuses.
            throw APIError(
                status: .unprocessableContent, code: "shape_mismatch",
                message: "inputs[0].data has \(header.values.count) values in shape \(dataShape); shape \(shape.dimensions) needs \(shape.rows * shape.width)")
        }
    }

    /// The classification extension needs a classifier and at least one class.
    private static func checkClassification(_ header: Header, model stored: StoredModel) throws(APIError) {
        guard let k = header.classification else { return }
        guard stored.task == .classification else {
            throw APIError(
                status: .unprocessableContent, code: "not_a_classifier",
                message: "outputs[0].parameters.classification is \(k); model \"\(stored.name)\" is a regression model, "
                    + "classification needs a classifier")
        }
        guard k >= 1 else { throw APIError.badRequest("outputs[0].parameters.classification is 0; expected at least 1") }
    }

    /// The JSON part's length: the whole body without the header, else the header's value,
    /// which must be a byte count within the body (0 means the whole body, as in Triton).
    static func jsonLength(_ header: String?, bodyCount: Int) throws(APIError) -> Int {
        guard let header else { return bodyCount }
        guard let length = Int(header), length >= 0 else {
            throw APIError.badRequest(
                "\(headerLengthField) is \"\(header.excerpt)\"; expected the JSON header's length in bytes, a non-negative integer",
                code: "invalid_header")
        }
        guard length <= bodyCount else {
            throw APIError.badRequest(
                "\(headerLengthField) is \(length); the body has only \(bodyCount) bytes, expected at most \(bodyCount)",
                code: "invalid_header")
        }
        return length == 0 ? bodyCount : length
    }

    /// Little-endian FP32 values, rejecting NaN and Infinity by element.
    static func decodeFloats(_ bytes: ArraySlice<UInt8>, width: Int) throws(APIError) -> [Float] {
        let count = bytes.count / MemoryLayout<Float>.size
        let values = bytes.withUnsafeBytes { raw in
            [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                for k in 0 ..< count {
                    let bits = raw.loadUnaligned(fromByteOffset: k * 4, as: UInt32.self)
                    buffer[k] = Float(bitPattern: UInt32(littleEndian: bits))
                }
                initialized = count
            }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw APIError.badRequest(
                "inputs[0] binary data element [\(bad / width)][\(bad % width)] is \(values[bad]); only finite numbers are accepted",
                code: "non_finite_number")
        }
        return values
    }

    /// What the JSON header says, before it is checked against the binary part and the model.
    private struct Header {
        let model: StoredModel
        var id: String?
        var values: [Float] = []
        var shape: [Int]?
        var dataShape: [Int]?
        var datatype: String?
        var binarySize: UInt64?
        var sawInput = false
        var requestBinary: Bool?
        var outputBinary: Bool?
        var classification: Int?

        init(model: StoredModel) {
            self.model = model
        }

        mutating func read(_ scanner: inout JSONScanner) throws(APIError) {
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "id": id = try scanner.readString(at: "id")
                case "parameters": try readRequestParameters(&scanner)
                case "inputs":
                    try scanner.readArray(at: "inputs") { (scanner, position) throws(APIError) in
                        guard position == 0 else {
                            throw APIError.badRequest(
                                "inputs[\(position)]: model \"\(model.name)\" takes one input tensor, \"\(PredictRoutes.inputTensorName)\"")
                        }
                        try readInput(&scanner)
                    }
                case "outputs":
                    try scanner.readArray(at: "outputs") { (scanner, position) throws(APIError) in
                        try readOutput(&scanner, position: position)
                    }
                default: throw PredictRoutes.unknownKey(key, allowed: "id, parameters, inputs, outputs")
                }
            }
        }

        /// Request-level parameters: `binary_data_output` is read, others (priority, timeout,
        /// custom ones) are accepted and ignored, as Triton does for models that do not use them.
        private mutating func readRequestParameters(_ scanner: inout JSONScanner) throws(APIError) {
            try scanner.readObject(at: "parameters") { (scanner, key) throws(APIError) in
                switch key {
                case "binary_data_output": requestBinary = try scanner.readBool(at: "parameters.binary_data_output")
                default: try scanner.skipValue(at: "parameters." + key)
                }
            }
        }

        private mutating func readInput(_ scanner: inout JSONScanner) throws(APIError) {
            let path = "inputs[0]"
            sawInput = true
            var name: String?
            try scanner.readObject(at: path) { (scanner, key) throws(APIError) in
                switch key {
                case "name": name = try scanner.readString(at: path + ".name")
                case "datatype": datatype = try scanner.readString(at: path + ".datatype")
                case "shape":
                    var dims: [Int] = []
                    try scanner.readArray(at: path + ".shape") { (scanner, k) throws(APIError) in
                        // Rows x features: more dimensions than a tensor route reads is refused as it is read.
                        guard k < 8 else { throw APIError.badRequest("\(path).shape has more than 8 dimensions; expected [rows, \(model.inputWidth)]") }
                        let dim = try scanner.readUnsigned(at: "\(path).shape[\(k)]")
                        guard dim <= UInt64(Int32.max) else { throw APIError.badRequest("\(path).shape[\(k)] is \(dim), too large") }
                        dims.append(Int(dim))
                    }
                    shape = dims
                case "data": dataShape = try scanner.readTensor(at: path + ".data", into: &values)
                case "parameters":
                    try scanner.readObject(at: path + ".parameters") { (scanner, key) throws(APIError) in
                        let field = { "\(path).parameters.\(key)" }
                        switch key {
                        case "binary_data_size": binarySize = try scanner.readUnsigned(at: field())
                        case "shared_memory_region", "shared_memory_byte_size", "shared_memory_offset":
                            throw sharedMemoryUnsupported(field())
                        default: try scanner.skipValue(at: field())
                        }
                    }
                default: throw PredictRoutes.unknownKey(key, allowed: "name, shape, datatype, data, parameters")
                }
            }
            guard let name else { throw APIError.badRequest("missing field \(path).name", code: "missing_field") }
            guard name == PredictRoutes.inputTensorName else {
                throw APIError.badRequest(
                    "\(path).name is \"\(name.excerpt)\"; model \"\(model.name)\" has one input, \"\(PredictRoutes.inputTensorName)\"")
            }
            guard datatype != nil else { throw APIError.badRequest("missing field \(path).datatype", code: "missing_field") }
            guard shape != nil else { throw APIError.badRequest("missing field \(path).shape", code: "missing_field") }
        }

        private mutating func readOutput(_ scanner: inout JSONScanner, position: Int) throws(APIError) {
            // Paths are built only for an error message: this runs on every tritonclient request.
            let path = { "outputs[\(position)]" }
            try scanner.readObject(at: path()) { (scanner, key) throws(APIError) in
                switch key {
                case "name":
                    let name = try scanner.readString(at: path() + ".name")
                    guard name == PredictRoutes.outputTensorName else {
                        throw APIError.badRequest(
                            "\(path()).name is \"\(name.excerpt)\"; model \"\(model.name)\" has one output, \"\(PredictRoutes.outputTensorName)\"")
                    }
                case "parameters":
                    try scanner.readObject(at: path() + ".parameters") { (scanner, key) throws(APIError) in
                        let field = { "\(path()).parameters.\(key)" }
                        switch key {
                        case "binary_data": outputBinary = try scanner.readBool(at: field())
                        case "classification":
                            let k = try scanner.readUnsigned(at: field())
                            classification = Int(clamping: k)
                        case "shared_memory_region", "shared_memory_byte_size", "shared_memory_offset":
                            throw sharedMemoryUnsupported(field())
                        default: try scanner.skipValue(at: field())
                        }
                    }
                default: throw PredictRoutes.unknownKey(key, allowed: "name, parameters")
                }
            }
        }

        private func sharedMemoryUnsupported(_ field: String) -> APIError {
            .badRequest(
                "\(field) is set; Axon does not support the shared-memory extension, send the tensor in the body "
                    + "(data, or binary data with parameters.binary_data_size)", code: "unsupported_extension")
        }
    }
}
