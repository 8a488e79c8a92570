import ModelKit

/// The inference routes: Axon's `/predict`, TF-Serving's `:predict` and KServe V2's `/infer`.
///
/// All three are synchronous handlers: they answer on the libmicrohttpd thread, read the
/// model through the store's lock-protected `current` (no Task, no actor hop), parse the
/// numbers straight from the body bytes and write the answer into one reserved buffer.
enum PredictRoutes {
    static func register(on router: inout Router, context: APIContext) {
        router.post("/predict") { request in try predict(request, context) }
        router.post("/v1/models/{name}:predict") { request in try tfPredict(request, context, version: nil) }
        router.post("/v1/models/{name}/versions/{version}:predict") { request in
            try tfPredict(request, context, version: APIContext.version(request.parameters.require("version")))
        }
        router.post("/v2/models/{name}/infer") { request in try infer(request, context, version: nil) }
        router.post("/v2/models/{name}/versions/{version}/infer") { request in
            try infer(request, context, version: APIContext.version(request.parameters.require("version")))
        }
    }

    // MARK: - POST /predict

    static func predict(_ request: Request, _ context: APIContext) throws -> Response {
        var name: String?
        var version: UInt64?
        var values: [Float] = []
        var shape: [Int]?
        try request.body.withUnsafeBufferPointer { (body) throws in
            var scanner = JSONScanner(body)
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "model": name = try scanner.readString(at: "model")
                case "version": version = try scanner.readUnsigned(at: "version")
                case "inputs":
                    // When "model" came first, rows of the wrong width are named as they are read.
                    let width = name.flatMap { context.store.current($0) }.map { ($0.inputWidth, "model \"\($0.name)\"") }
                    values.reserveCapacity(width?.0 ?? 64)
                    shape = try scanner.readTensor(at: "inputs", into: &values, innermost: width.map { (count: $0.0, owner: $0.1) })
                default: throw unknownKey(key, allowed: "model, inputs, version")
                }
            }
            try scanner.expectEnd()
        }
        guard let name else { throw APIError.badRequest("missing field model", code: "missing_field") }
        guard let shape else { throw APIError.badRequest("missing field inputs", code: "missing_field") }
        let stored = try context.model(name, version: version)
        let input = try Inference.rows(values: values, shape: shape, field: "inputs", model: stored, limits: context.limits, vectorIsRow: true)
        let outputs = try context.predict(stored, input)
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
            let classes = Inference.classes(outputs, width: width)
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
            Inference.writeRows(probabilities(outputs, width: width), width: max(width, 2), to: &writer)
        }
        writer.byte(UInt8(ascii: "}"))
        return Response.json(bytes: writer.bytes)
    }

    /// Class probabilities per row: the softmax outputs as they are; one sigmoid output p
    /// becomes [1 - p, p] so every classifier answers one probability per class.
    static func probabilities(_ outputs: [Float], width: Int) -> [Float] {
        guard width == 1 else { return outputs }
        var pairs = [Float]()
        pairs.reserveCapacity(outputs.count * 2)
        for p in outputs {
            pairs.append(1 - p)
            pairs.append(p)
        }
        return pairs
    }

    static func unknownKey(_ key: String, allowed: String) -> APIError {
        .badRequest("unknown field \(key); allowed: \(allowed)", code: "unknown_field")
    }

    // MARK: - TF-Serving

    static func tfPredict(_ request: Request, _ context: APIContext, version: UInt64?) throws -> Response {
        let stored = try context.model(request.parameters.require("name"), version: version)
        var values: [Float] = []
        values.reserveCapacity(stored.inputWidth)
        var shape: [Int]?
        var columnar = false
        try request.body.withUnsafeBufferPointer { (body) throws in
            var scanner = JSONScanner(body)
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "instances", "inputs":
                    guard shape == nil else {
                        throw APIError.badRequest("use either instances (row form) or inputs (columnar form), not both")
                    }
                    columnar = key == "inputs"
                    shape = try scanner.readTensor(at: key, into: &values)
                case "signature_name": _ = try scanner.readString(at: key)
                default: throw unknownKey(key, allowed: "instances or inputs, signature_name")
                }
            }
            try scanner.expectEnd()
        }
        guard let shape else { throw APIError.badRequest("missing field instances (or inputs)", code: "missing_field") }
        let field = columnar ? "inputs" : "instances"
        // TF-Serving semantics: each element of the list is one instance, so a flat list is
        // one scalar per instance (a model with one input).
        let input = try Inference.rows(values: values, shape: shape, field: field, model: stored, limits: context.limits, vectorIsRow: false)
        let outputs = try context.predict(stored, input)
        var writer = Inference.writer(floats: outputs.count)
        writer.raw(columnar ? #"{"outputs":"# : #"{"predictions":"#)
        Inference.writeRows(outputs, width: stored.outputWidth, to: &writer)
        writer.byte(UInt8(ascii: "}"))
        return Response.json(bytes: writer.bytes)
    }

    // MARK: - KServe V2 / Open Inference Protocol

    /// The one input and one output tensor Axon models expose over V2.
    static let inputTensorName = "input"
    static let outputTensorName = "output"

    static func infer(_ request: Request, _ context: APIContext, version: UInt64?) throws -> Response {
        let stored = try context.model(request.parameters.require("name"), version: version)
        var id: String?
        var values: [Float] = []
        values.reserveCapacity(stored.inputWidth)
        var declaredShape: [Int]?
        var dataShape: [Int]?
        var sawInput = false
        try request.body.withUnsafeBufferPointer { (body) throws in
            var scanner = JSONScanner(body)
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                switch key {
                case "id": id = try scanner.readString(at: "id")
                case "parameters": try scanner.skipValue(at: "parameters")
                case "inputs":
                    try scanner.readArray(at: "inputs") { (scanner, position) throws(APIError) in
                        let path = "inputs[\(position)]"
                        guard position == 0 else {
                            throw APIError.badRequest("\(path): model \"\(stored.name)\" takes one input tensor, \"\(inputTensorName)\"")
                        }
                        sawInput = true
                        var name: String?
                        var datatype: String?
                        try scanner.readObject(at: path) { (scanner, key) throws(APIError) in
                            switch key {
                            case "name": name = try scanner.readString(at: path + ".name")
                            case "datatype": datatype = try scanner.readString(at: path + ".datatype")
                            case "parameters": try scanner.skipValue(at: path + ".parameters")
                            case "shape":
                                var dims: [Int] = []
                                try scanner.readArray(at: path + ".shape") { (scanner, k) throws(APIError) in
                                    let dim = try scanner.readUnsigned(at: "\(path).shape[\(k)]")
                                    guard dim <= UInt64(Int32.max) else { throw APIError.badRequest("\(path).shape[\(k)] is too large") }
                                    dims.append(Int(dim))
                                }
                                declaredShape = dims
                            case "data": dataShape = try scanner.readTensor(at: path + ".data", into: &values)
                            default: throw unknownKey(key, allowed: "name, shape, datatype, data, parameters")
                            }
                        }
                        guard let name else { throw APIError.badRequest("missing field \(path).name", code: "missing_field") }
                        guard name == inputTensorName else {
                            throw APIError.badRequest("\(path).name is \"\(name)\"; model \"\(stored.name)\" has one input, \"\(inputTensorName)\"")
                        }
                        guard let datatype else { throw APIError.badRequest("missing field \(path).datatype", code: "missing_field") }
                        guard datatype == "FP32" else {
                            throw APIError.badRequest("\(path).datatype is \(datatype); model \"\(stored.name)\" takes FP32")
                        }
                    }
                case "outputs":
                    try scanner.readArray(at: "outputs") { (scanner, position) throws(APIError) in
                        let path = "outputs[\(position)]"
                        try scanner.readObject(at: path) { (scanner, key) throws(APIError) in
                            switch key {
                            case "name":
                                let name = try scanner.readString(at: path + ".name")
                                guard name == outputTensorName else {
                                    throw APIError.badRequest("\(path).name is \"\(name)\"; model \"\(stored.name)\" has one output, \"\(outputTensorName)\"")
                                }
                            case "parameters": try scanner.skipValue(at: path + ".parameters")
                            default: throw unknownKey(key, allowed: "name, parameters")
                            }
                        }
                    }
                default: throw unknownKey(key, allowed: "id, parameters, inputs, outputs")
                }
            }
            try scanner.expectEnd()
        }
        guard sawInput, let declaredShape, let dataShape else {
            throw APIError.badRequest("missing input tensor: inputs[0] needs name, shape, datatype and data", code: "missing_field")
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
        try Inference.checkRowLimit(rows, field: "inputs[0]", limits: context.limits)
        // Data may be flat or nested; either way it must hold exactly the declared elements.
        let nestedMatches = dataShape.count <= 1 || dataShape == declaredShape
        guard values.count == rows * width, nestedMatches else {
            throw APIError.badRequest(
                "inputs[0].data has \(values.count) values in shape \(dataShape); shape \(declaredShape) needs \(rows * width)",
                code: "shape_mismatch")
        }
        let outputs = try context.predict(stored, InferenceRows(values: values, rows: rows, width: width))
        var writer = Inference.writer(floats: outputs.count)
        writer.raw(#"{"model_name":"#)
        writer.string(stored.name)
        writer.key("model_version")
        writer.byte(UInt8(ascii: "\""))
        writer.integer(stored.version)
        writer.byte(UInt8(ascii: "\""))
        if let id {
            writer.key("id")
            writer.string(id)
        }
        writer.raw(#","outputs":[{"name":"output","datatype":"FP32","shape":["#)
        writer.integer(rows)
        writer.byte(UInt8(ascii: ","))
        writer.integer(stored.outputWidth)
        writer.raw(#"],"data":"#)
        outputs.withUnsafeBufferPointer { writer.floatArray($0) }
        writer.raw("}]}")
        return Response.json(bytes: writer.bytes)
    }
}
