import ModelKit

/// Status and metadata in the TF-Serving and KServe V2 shapes, so their clients (tritonclient,
/// KServe) find the tensor names and shapes that the inference routes accept.
enum ServingMetadataRoutes {
    static func register(on router: inout Router, context: APIContext) {
        // TF-Serving
        router.get("/v1/models/{name}", async: { request in try await tfStatus(request, context, version: nil) })
        router.get("/v1/models/{name}/versions/{version}", async: { request in
            try await tfStatus(request, context, version: APIContext.version(request.parameters.require("version")))
        })
        router.get("/v1/models/{name}/metadata", async: { request in try await tfMetadata(request, context, version: nil) })
        router.get("/v1/models/{name}/versions/{version}/metadata", async: { request in
            try await tfMetadata(request, context, version: APIContext.version(request.parameters.require("version")))
        })
        // KServe V2
        router.get("/v2") { _ in try Response.json(ServerMetadata(name: "axon", version: AxonVersion.current, extensions: [])) }
        router.get("/v2/models/{name}", async: { request in try await v2Metadata(request, context, version: nil) })
        router.get("/v2/models/{name}/versions/{version}", async: { request in
            try await v2Metadata(request, context, version: APIContext.version(request.parameters.require("version")))
        })
        router.get("/v2/models/{name}/ready", async: { request in try await v2Ready(request, context, version: nil) })
        router.get("/v2/models/{name}/versions/{version}/ready", async: { request in
            try await v2Ready(request, context, version: APIContext.version(request.parameters.require("version")))
        })
    }

    /// The snapshot of `version` (current when nil), read through the store.
    static func resolve(_ request: Request, _ context: APIContext, version: UInt64?) async throws -> StoredModel {
        let name = try request.parameters.require("name")
        let current = try context.model(name, version: nil)
        guard let version, version != current.version else { return current }
        return try await context.store.model(name: name, version: version)
    }

    struct ServerMetadata: Encodable, Sendable {
        var name: String
        var version: String
        var extensions: [String]
    }

    struct V2Tensor: Encodable, Sendable {
        var name: String
        var datatype: String
        var shape: [Int]
    }

    struct V2ModelMetadata: Encodable, Sendable {
        var name: String
        var versions: [String]
        var platform: String
        var inputs: [V2Tensor]
        var outputs: [V2Tensor]
    }

    static func v2Metadata(_ request: Request, _ context: APIContext, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, context, version: version)
        let versions = try await context.store.versions(name: stored.name).map { String($0.version) }
        return try Response.json(V2ModelMetadata(
            name: stored.name, versions: version.map { [String($0)] } ?? versions, platform: "axon_mlp",
            inputs: [V2Tensor(name: PredictRoutes.inputTensorName, datatype: "FP32", shape: [-1, stored.inputWidth])],
            outputs: [V2Tensor(name: PredictRoutes.outputTensorName, datatype: "FP32", shape: [-1, stored.outputWidth])]))
    }

    struct Ready: Encodable, Sendable {
        var name: String
        var version: String
        var ready: Bool
    }

    static func v2Ready(_ request: Request, _ context: APIContext, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, context, version: version)
        return try Response.json(Ready(name: stored.name, version: String(stored.version), ready: true))
    }

    struct VersionStatus: Encodable, Sendable {
        struct Status: Encodable, Sendable {
            var errorCode = "OK"
            var errorMessage = ""
            enum CodingKeys: String, CodingKey { case errorCode = "error_code", errorMessage = "error_message" }
        }
        var version: String
        var state: String
        var status = Status()
    }

    struct StatusList: Encodable, Sendable {
        var modelVersionStatus: [VersionStatus]
        enum CodingKeys: String, CodingKey { case modelVersionStatus = "model_version_status" }
    }

    static func tfStatus(_ request: Request, _ context: APIContext, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, context, version: version)
        // Every retained version can serve (by number); the current one answers unversioned requests.
        return try Response.json(StatusList(modelVersionStatus: [VersionStatus(version: String(stored.version), state: "AVAILABLE")]))
    }

    struct TFTensorInfo: Encodable, Sendable {
        struct Shape: Encodable, Sendable {
            struct Dim: Encodable, Sendable { var size: String }
            var dim: [Dim]
        }
        var dtype = "DT_FLOAT"
        var tensorShape: Shape
        var name: String
        enum CodingKeys: String, CodingKey { case dtype, name, tensorShape = "tensor_shape" }

        init(name: String, width: Int) {
            self.name = name
            tensorShape = Shape(dim: [Shape.Dim(size: "-1"), Shape.Dim(size: String(width))])
        }
    }

    struct TFSignature: Encodable, Sendable {
        var inputs: [String: TFTensorInfo]
        var outputs: [String: TFTensorInfo]
        var methodName = "tensorflow/serving/predict"
        enum CodingKeys: String, CodingKey { case inputs, outputs, methodName = "method_name" }
    }

    struct TFMetadata: Encodable, Sendable {
        struct Spec: Encodable, Sendable {
            var name: String
            var signatureName = ""
            var version: String
            enum CodingKeys: String, CodingKey { case name, version, signatureName = "signature_name" }
        }
        struct SignatureDefs: Encodable, Sendable {
            struct Inner: Encodable, Sendable {
                var signatureDef: [String: TFSignature]
                enum CodingKeys: String, CodingKey { case signatureDef = "signature_def" }
            }
            var signatureDef: Inner
            enum CodingKeys: String, CodingKey { case signatureDef = "signature_def" }
        }
        var modelSpec: Spec
        var metadata: SignatureDefs
        enum CodingKeys: String, CodingKey { case metadata, modelSpec = "model_spec" }
    }

    static func tfMetadata(_ request: Request, _ context: APIContext, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, context, version: version)
        let signature = TFSignature(
            inputs: [PredictRoutes.inputTensorName: TFTensorInfo(name: PredictRoutes.inputTensorName, width: stored.inputWidth)],
            outputs: [PredictRoutes.outputTensorName: TFTensorInfo(name: PredictRoutes.outputTensorName, width: stored.outputWidth)])
        return try Response.json(TFMetadata(
            modelSpec: TFMetadata.Spec(name: stored.name, version: String(stored.version)),
            metadata: TFMetadata.SignatureDefs(signatureDef: .init(signatureDef: ["serving_default": signature]))))
    }
}
