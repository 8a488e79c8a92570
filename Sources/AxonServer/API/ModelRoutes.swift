import AxonAPI
import AxonHTTP
import AxonJobs
import AxonStore
import ModelKit

/// Model management: list, detail, versions, rollback, delete, evaluate.
struct ModelRoutes: Sendable {
    let context: APIContext

    /// Adds these routes to `router`, each pointing at its handler below.
    func register(on router: inout Router) {
        router.get("/models", list)
        router.get("/models/{name}", async: detail)
        router.get("/models/{name}/versions", async: versions)
        router.post("/models/{name}/rollback", async: rollback)
        router.delete("/models/{name}", async: delete)
        router.post("/models/{name}/evaluate", async: evaluate)
    }

    /// `GET /models`: every model's current version, and the files the store skipped.
    func list(_ request: Request) throws -> Response {
        try Response.json(ModelList(models: context.store.list().map(ModelSummary.init), skipped: context.store.skipped))
    }

    /// `GET /models/{name}`: the current version and every retained one.
    func detail(_ request: Request) async throws -> Response {
        let name = try request.parameters.require("name")
        let current = try context.model(name, version: nil)
        let versions = try await context.store.versions(name: name)
        return try Response.json(ModelDetail(current, versions: versions))
    }

    /// `GET /models/{name}/versions`.
    func versions(_ request: Request) async throws -> Response {
        let name = try request.parameters.require("name")
        let current = try context.model(name, version: nil)
        let versions = try await context.store.versions(name: name)
        return try Response.json(VersionList(
            model: name, currentVersion: current.version,
            versions: versions.map { VersionView($0, classes: current.classLabels) }))
    }

    /// `POST /models/{name}/rollback` with `{"version": n}`: serves a retained version again.
    func rollback(_ request: Request) async throws -> Response {
        try context.refuseIfReadOnly(request)
        let name = try request.parameters.require("name")
        try request.requireJSON()
        var version: UInt64?
        try request.body.withUnsafeBufferPointer { (body) throws(APIError) in
            var scanner = JSONScanner(body, limits: JSONLimits(context.limits))
            try scanner.readObject(at: "$") { (scanner, key) throws(APIError) in
                guard key == "version" else { throw PredictRoutes.unknownKey(key, allowed: "version") }
                version = try scanner.readUnsigned(at: "version")
            }
            try scanner.expectEnd()
        }
        guard let version else { throw APIError.badRequest("missing field version", code: "missing_field") }
        _ = try context.model(name, version: nil)
        let stored = try await context.store.rollback(name: name, to: version)
        context.events.publishModel(name, change: "rolled_back", version: stored.version)
        return try Response.json(ModelSummary(stored))
    }

    /// `DELETE /models/{name}`: every version, and the model's queued and running jobs.
    func delete(_ request: Request) async throws -> Response {
        try context.refuseIfReadOnly(request, allowed: [.get, .head])
        let name = try request.parameters.require("name")
        try await context.store.delete(name: name)
        // Deletes win: its queued jobs fail now, running ones at their next step.
        context.jobs.failJobsOfDeletedModels()
        context.events.publishModel(name, change: "deleted", version: nil)
        return try Response.json(ModelDeleted(model: name, deleted: true))
    }

    /// `POST /models/{name}/evaluate`: loss and metrics of a version on the rows sent.
    func evaluate(_ request: Request) async throws -> Response {
        let name = try request.parameters.require("name")
        try request.requireJSON()
        let train = try TrainRequest.parse(json: request.body, allowingVersion: true, limits: context.limits)
        if let extra = train.seenKeys.first(where: { $0 != "inputs" && $0 != "targets" && $0 != "version" }) {
            throw PredictRoutes.unknownKey(extra, allowed: "inputs, targets, version")
        }
        let current = try context.model(name, version: nil)
        // A retained version is read through the actor (and cached by the store).
        let stored: StoredModel
        if let version = train.version {
            stored = try await context.store.model(name: name, version: version)
        } else {
            stored = current
        }
        // The request budget, before the targets are encoded: the forward pass, the answer,
        // and a confusion matrix of classes x classes counts (each also written as text).
        let classes = stored.task == .classification ? max(stored.outputWidth, 2) : 0
        let confusion = ComputeCost.saturating(classes, classes, MemoryLayout<Int>.size + 12)
        try Inference.checkCost(of: stored, rows: train.inputShape?.first ?? 0, limits: context.limits, extraBytes: confusion)
        var probe = train
        // The same validation as continuing training: widths, classes, limits.
        probe.epochs = 1
        probe.validationSplit = 0
        let plan = try TrainingPlan.continuing(probe, current: stored, limits: context.limits)
        let dataset = plan.dataset
        // In the inference pool, like large predictions: bounded threads, no thread per request.
        let evaluation: Evaluation = try await context.pool.run { try Self.evaluation(of: stored.model, on: dataset) }
        return try Response.json(EvaluationView(
            model: name, version: stored.version,
            metrics: MetricsView(evaluation, rows: dataset.count, classes: ModelDetail.classNames(stored))))
    }

    /// `model` evaluated on `dataset`; data it cannot take is a 422 naming the inputs.
    static func evaluation(of model: Model, on dataset: Dataset) throws(APIError) -> Evaluation {
        do {
            return try model.evaluate(dataset)
        } catch {
            throw APIError(status: .unprocessableContent, code: "invalid_input", message: DataErrorText.describe(error, field: "inputs"))
        }
    }
}
