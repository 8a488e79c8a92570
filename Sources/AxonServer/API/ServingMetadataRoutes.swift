import AxonAPI
import AxonHTTP
import AxonStore
import ModelKit

/// Status and metadata in the TF-Serving and KServe V2 shapes, so their clients (tritonclient,
/// KServe) find the tensor names and shapes that the inference routes accept.
struct ServingMetadataRoutes: Sendable {
    let context: APIContext

    /// Adds these routes to `router`, each pointing at its handler below.
    func register(on router: inout Router) {
        // TF-Serving
        router.get("/v1/models/{name}", versioned: "/v1/models/{name}/versions/{version}", async: tfStatus)
        router.get("/v1/models/{name}/metadata", versioned: "/v1/models/{name}/versions/{version}/metadata", async: tfMetadata)
        // KServe V2
        router.get("/v2", serverMetadata)
        router.get("/v2/models/{name}", versioned: "/v2/models/{name}/versions/{version}", async: v2Metadata)
        router.get("/v2/models/{name}/config", versioned: "/v2/models/{name}/versions/{version}/config", async: v2Config)
        router.get("/v2/models/{name}/ready", versioned: "/v2/models/{name}/versions/{version}/ready", async: v2Ready)
    }

    /// The snapshot of `version` (current when nil), read through the store.
    func resolve(_ request: Request, version: UInt64?) async throws -> StoredModel {
        let name = try request.parameters.require("name")
        let current = try context.model(name, version: nil)
        guard let version, version != current.version else { return current }
        return try await context.store.model(name: name, version: version)
    }

    /// `GET /v2`: the server's name, version and protocol extensions.
    func serverMetadata(_ request: Request) throws -> Response {
        try Response.json(ServerMetadata(name: "axon", version: AxonVersion.current, extensions: Self.extensions))
    }

    /// The protocol extensions `GET /v2` announces, named as Triton names them.
    static let extensions = ["binary_tensor_data", "classification", "model_configuration"]

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
        /// The `platform` Axon reports in V2 metadata and Triton configuration.
        static let platformName = "axon_mlp"
        var name: String
        var versions: [String]
        var platform: String
        var inputs: [V2Tensor]
        var outputs: [V2Tensor]
    }

    /// `GET /v2/models/{name}[/versions/{v}]`: the V2 model metadata (versions, tensor names and shapes).
    func v2Metadata(_ request: Request, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, version: version)
        let versions = try await context.store.versions(name: stored.name).map { String($0.version) }
        return try Response.json(V2ModelMetadata(
            name: stored.name, versions: version.map { [String($0)] } ?? versions, platform: V2ModelMetadata.platformName,
            inputs: [V2Tensor(name: PredictRoutes.inputTensorName, datatype: "FP32", shape: [-1, stored.inputWidth])],
            outputs: [V2Tensor(name: PredictRoutes.outputTensorName, datatype: "FP32", shape: [-1, stored.outputWidth])]))
    }

    /// Triton's model configuration (`model_config.proto` as JSON), the subset that describes
    /// an Axon model: the batch dimension is implicit (`max_batch_size` > 0), so `dims` are
    /// per row, and every retained version serves by number (`version_policy.all`).
    struct TritonConfig: Encodable, Sendable {
        struct Input: Encodable, Sendable {
            var name: String
            var dataType = "TYPE_FP32"
            var format = "FORMAT_NONE"
            var dims: [Int]
            var isShapeTensor = false
            var allowRaggedBatch = false
            var optional = false
            enum CodingKeys: String, CodingKey {
                case name, format, dims, optional
                case dataType = "data_type", isShapeTensor = "is_shape_tensor", allowRaggedBatch = "allow_ragged_batch"
            }
        }
        struct Output: Encodable, Sendable {
            var name: String
            var dataType = "TYPE_FP32"
            var dims: [Int]
            var labelFilename = ""
            var isShapeTensor = false
            enum CodingKeys: String, CodingKey {
                case name, dims
                case dataType = "data_type", labelFilename = "label_filename", isShapeTensor = "is_shape_tensor"
            }
        }
        struct VersionPolicy: Encodable, Sendable {
            struct All: Encodable, Sendable {}
            var all = All()
        }
        struct Parameter: Encodable, Sendable {
            var stringValue: String
            enum CodingKeys: String, CodingKey { case stringValue = "string_value" }
        }
        var name: String
        var platform = V2ModelMetadata.platformName
        var backend = "axon"
        var versionPolicy = VersionPolicy()
        var maxBatchSize: Int
        var input: [Input]
        var output: [Output]
        var parameters: [String: Parameter]
        enum CodingKeys: String, CodingKey {
            case name, platform, backend, input, output, parameters
            case versionPolicy = "version_policy", maxBatchSize = "max_batch_size"
        }
    }

    /// `GET /v2/models/{name}[/versions/{v}]/config`: the Triton model configuration.
    func v2Config(_ request: Request, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, version: version)
        return try Response.json(TritonConfig(
            name: stored.name,
            maxBatchSize: min(context.limits.maxRowsPerRequest, Int(Int32.max)),
            input: [.init(name: PredictRoutes.inputTensorName, dims: [stored.inputWidth])],
            output: [.init(name: PredictRoutes.outputTensorName, dims: [stored.outputWidth])],
            parameters: ["task": .init(stringValue: stored.task == .classification ? "classification" : "regression")]))
    }

    struct Ready: Encodable, Sendable {
        var name: String
        var version: String
        var ready: Bool
    }

    /// `GET /v2/models/{name}[/versions/{v}]/ready`: an existing version is always ready.
    func v2Ready(_ request: Request, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, version: version)
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

    /// `GET /v1/models/{name}[/versions/{v}]`: TF-Serving's model status.
    func tfStatus(_ request: Request, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, version: version)
        // Every retained version can serve (by number); the current one answers unversioned requests.
        return try Response.json(StatusList(modelVersionStatus: [VersionStatus(version: String(stored.version), state: "AVAILABLE")]))
    }

    /// One tensor of a TF-Serving signature: its key in `inputs`/`outputs` is the name requests
    /// use (`{"instances": [{"input": [...]}]}`); `name` is the graph tensor's, as TF reports it.
    struct TFTensorInfo: Encodable, Sendable {
        struct Shape: Encodable, Sendable {
            struct Dim: Encodable, Sendable {
                var size: String
                var name = ""
            }
            var dim: [Dim]
            var unknownRank = false
            enum CodingKeys: String, CodingKey { case dim, unknownRank = "unknown_rank" }
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

    /// `GET /v1/models/{name}[/versions/{v}]/metadata`: TF-Serving's signature definition.
    func tfMetadata(_ request: Request, version: UInt64?) async throws -> Response {
        let stored = try await resolve(request, version: version)
        let signature = TFSignature(
            inputs: [PredictRoutes.inputTensorName: TFTensorInfo(name: PredictRoutes.inputTensorName, width: stored.inputWidth)],
            outputs: [PredictRoutes.outputTensorName: TFTensorInfo(name: PredictRoutes.outputTensorName, width: stored.outputWidth)])
        return try Response.json(TFMetadata(
            modelSpec: TFMetadata.Spec(name: stored.name, version: String(stored.version)),
            metadata: TFMetadata.SignatureDefs(signatureDef: .init(signatureDef: [PredictRoutes.signatureName: signature]))))
    }
}
