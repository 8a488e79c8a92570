import AxonHTTP
import AxonJobs
import AxonStore
import Checkpoint
import Logging
import ModelKit

/// Every request body the API decodes, run in process through its route's real decoding path.
///
/// For the libFuzzer harnesses (`Fuzz/Decoders`, `make fuzz`) and the regression tests that
/// replay their crashes: both build requests from the same bytes the same way, so a saved
/// crashing input reproduces exactly. Nothing here is reachable over HTTP.
public enum RequestDecoders {
    /// One decoder, named as its harness and its `Fuzz/seeds/<name>` folder.
    public enum Body: String, CaseIterable, Sendable {
        /// `POST /predict`: the input is the JSON body.
        case predict
        /// `POST /v1/models/c:predict`: the input is the JSON body (row, columnar or named forms).
        case tfServing = "tf-serving"
        /// `POST /v2/models/c/infer` without `Inference-Header-Content-Length`: the input is the body.
        case v2JSON = "v2-json"
        /// `POST /v2/models/c/infer` with the binary tensor extension: the first two input bytes,
        /// little-endian, are the `Inference-Header-Content-Length` value, the rest is the body.
        case v2Binary = "v2-binary"
        /// `POST /train` with a JSON body, then the fresh plan and a continued plan for "c". The
        /// body reaches the streaming reader in chunks of 1 + (input length mod 257) bytes, so
        /// inputs also differ in where their tokens are cut.
        case trainJSON = "train-json"
        /// `POST /train` with `Content-Type: text/csv`: an input starting with `?` has its query
        /// string on the first line, the body after it; then the plans as for `trainJSON`, and
        /// chunks as there.
        case trainCSV = "train-csv"
    }

    /// The served classifier (4 inputs, 8 hidden, 3 classes labelled a, b, c).
    public static let classifier = "c"
    /// The served regression model (4 inputs, 2 outputs).
    public static let regressor = "r"

    /// A context over a store in `stateDirectory` (which must be empty) that serves
    /// `classifier` and `regressor`, with `limits`. Decoding never touches the disk afterwards,
    /// except for a request that names a version other than the current one.
    public static func context(stateDirectory: String, limits: ServerLimits = ServerLimits()) async throws -> APIContext {
        let quiet = Logger(label: "axon.fuzz") { _ in SwiftLogNoOpLogHandler() }
        let store = ModelStore(stateDirectory: stateDirectory, logger: quiet)
        _ = await store.load()
        let classes = try ModelConfiguration(
            layerSizes: [4, 8, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy,
            classLabels: ["a", "b", "c"])
        try await store.install(name: classifier, model: Model(configuration: classes, seed: 1), metadata: ModelMetadata())
        let numbers = try ModelConfiguration(layerSizes: [4, 2], activations: [.identity], loss: .meanSquaredError)
        try await store.install(name: regressor, model: Model(configuration: numbers, seed: 2), metadata: ModelMetadata())
        let events = JobEvents()
        let jobs = JobScheduler(store: store, maxRunning: 1, maxQueued: 1, logger: quiet, observer: events)
        return APIContext(store: store, jobs: jobs, events: events, limits: limits)
    }

    /// Decodes `input` as `body` against `context` (from `context(stateDirectory:)`) and runs
    /// what the route runs before it answers or queues: the prediction for the inference routes,
    /// the training plans for `/train`. Throws what the route would throw.
    public static func decode(_ input: [UInt8], as body: Body, context: APIContext) throws {
        switch body {
        case .predict:
            // A body may name a retained version; the route reads it from disk as the pool would.
            try run(context.parseLoading(post("/predict", input)) { request in try PredictRoutes(context: context).predict(request) }, context)
        case .tfServing:
            try run(PredictRoutes(context: context).tfPredict(post("/v1/models/c:predict", input, name: classifier), version: nil), context)
        case .v2JSON:
            try run(PredictRoutes(context: context).infer(post("/v2/models/c/infer", input, name: classifier), version: nil), context)
        case .v2Binary:
            guard input.count >= 2 else { return }
            let split = Int(input[0]) | Int(input[1]) << 8
            let request = post(
                "/v2/models/c/infer", Array(input[2...]), headers: [V2InferRequest.headerLengthField: String(split)], name: classifier)
            try run(PredictRoutes(context: context).infer(request, version: nil), context)
        case .trainJSON:
            try plan(post("/train", input, headers: ["Content-Type": "application/json"]), context)
        case .trainCSV:
            var query = ""
            var csv = input[...]
            if input.first == UInt8(ascii: "?") {
                let end = input.firstIndex(of: UInt8(ascii: "\n")) ?? input.endIndex
                query = String(decoding: input[1 ..< end], as: UTF8.self)
                csv = input[min(end + 1, input.endIndex)...]
            }
            try plan(post("/train", Array(csv), query: query, headers: ["Content-Type": "text/csv"]), context)
        }
    }

    private static func post(
        _ path: String, _ body: [UInt8], query: String = "", headers: HTTPHeaders = [:], name: String? = nil
    ) -> Request {
        var request = Request(method: .post, path: path, query: query, headers: headers, body: body, id: "fuzz")
        if let name { request.parameters.append(name: "name", value: name) }
        return request
    }

    /// What the inference routes do with a parsed request, on the calling thread (the route may
    /// move it to the inference pool first; the work is the same).
    private static func run(_ pending: PendingPrediction, _ context: APIContext) throws {
        _ = try pending.answer(context.predict(pending.stored, pending.input))
    }

    /// The training routes' parse, then both plans: continuing the classifier (its error is
    /// dropped, only a crash matters) and fresh, whose error is the route's.
    private static func plan(_ request: Request, _ context: APIContext) throws {
        let train = try TrainingRoutes.parse(request, limits: context.limits, chunkBytes: 1 + request.body.count % 257)
        if let current = context.store.current(classifier) {
            _ = try? TrainingPlan.continuing(train, current: current, limits: context.limits)
        }
        _ = try TrainingPlan.fresh(train, limits: context.limits)
    }
}
