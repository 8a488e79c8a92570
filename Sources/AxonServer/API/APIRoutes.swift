import AxonAPI
import AxonHTTP
import AxonJobs
import AxonStore
import AxonSupport
import Foundation
import ModelKit

/// Registers every training, inference and management route.
public enum APIRoutes {
    /// Adds the API routes to `router`.
    public static func register(on router: inout Router, context: APIContext) {
        PredictRoutes.register(on: &router, context: context)
        TrainingRoutes.register(on: &router, context: context)
        ModelRoutes.register(on: &router, context: context)
        ServingMetadataRoutes.register(on: &router, context: context)
        router.get("/openapi.json") { _ in Response.json(bytes: OpenAPIDocument.json) }
    }
}

/// `POST /train`, `POST /models/{name}/train` and the `/jobs` routes.
enum TrainingRoutes {
    static func register(on router: inout Router, context: APIContext) {
        // Training bodies are read as they arrive, within their own limit (limits.max_train_body_bytes).
        let bodyLimit = UInt64(context.limits.maxTrainBodyBytes)
        router.post("/train", streaming: StreamingRoute(maxBodyBytes: bodyLimit, limitKey: "limits.max_train_body_bytes") { request in
            try context.refuseIfReadOnly(request)
            return try TrainingBodySink(request, context: context, continuing: nil)
        })
        router.post("/models/{name}/train", streaming: StreamingRoute(maxBodyBytes: bodyLimit, limitKey: "limits.max_train_body_bytes") { request in
            try context.refuseIfReadOnly(request)
            let name = try request.parameters.require("name")
            // Unknown model: refused before the body is read.
            guard context.store.current(name) != nil else { throw StoreError.modelNotFound(name: name) }
            return try TrainingBodySink(request, context: context, continuing: name)
        })
        router.get("/jobs") { request in
            var limit = defaultJobListLimit
            for (name, value) in request.queryItems {
                guard name == "limit" else {
                    throw APIError.badRequest("unknown query parameter \(name); allowed: limit", code: "unknown_field")
                }
                guard let number = Int(value), number >= 1 else {
                    throw APIError.badRequest("query parameter limit must be a positive integer, got \(value)")
                }
                limit = number
            }
            return try Response.json(JobList(jobs: context.jobs.list(limit: limit)))
        }
        router.get("/jobs/{id}") { request in
            let id = try request.parameters.require("id")
            guard let job = context.jobs.job(id) else { throw jobNotFound(id, context: context) }
            return try Response.json(job)
        }
        router.get("/jobs/{id}/events") { request in
            let id = try request.parameters.require("id")
            let after = try lastEventID(request)
            guard let stream = try context.events.open(following: id, after: after, snapshot: { context.jobs.job(id) }) else {
                throw jobNotFound(id, context: context)
            }
            return Response.eventStream(stream)
        }
        router.get("/events") { _ in
            Response.eventStream(try context.events.openAll())
        }
        router.delete("/jobs/{id}", async: { request in
            try context.refuseIfReadOnly(request, allowed: [.get, .head])
            let id = try request.parameters.require("id")
            guard let job = await context.jobs.remove(id) else { throw jobNotFound(id, context: context) }
            return try Response.json(job)
        })
    }

    /// The `Last-Event-ID` a reconnecting event-stream client sends (0 when absent).
    static func lastEventID(_ request: Request) throws(APIError) -> Int {
        guard let text = request.headers["Last-Event-ID"] else { return 0 }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
            throw APIError.badRequest(
                "header Last-Event-ID must be a non-negative integer (an id this server sent), got \"\(text.excerpt)\"",
                code: "invalid_header")
        }
        return value
    }

    /// Jobs `GET /jobs` lists without `?limit=`: each carries its whole loss curve, so a list
    /// of every retained job (`jobs.retain`, 1000) could be megabytes.
    static let defaultJobListLimit = 100

    static func jobNotFound(_ id: String, context: APIContext) -> APIError {
        APIError(status: .notFound, code: "job_not_found", message: "job \"\(id)\" not found (the last \(context.jobs.retain) jobs are kept, jobs.retain)")
    }

    /// The request as JSON, or as CSV with the settings in the query, from a whole body handed
    /// to the streaming reader in chunks of `chunkBytes` (the fuzz harnesses vary it).
    static func parse(_ request: Request, limits: ServerLimits, chunkBytes: Int = .max) throws(APIError) -> TrainRequest {
        var reader = try TrainingBodyReader(request, limits: limits)
        try request.body.withUnsafeBufferPointer { (body) throws(APIError) in
            var start = 0
            while start < body.count {
                let end = start + min(body.count - start, max(chunkBytes, 1))
                try reader.consume(UnsafeBufferPointer(rebasing: body[start ..< end]))
                start = end
            }
        }
        return try reader.finish()
    }

    /// 202 with the job and a Location header; with `wait`, once the job has finished: 200 with
    /// it if it succeeded, otherwise its error (`JobOutcomeError`), Location included.
    static func answer(_ job: JobSnapshot, wait: Bool, context: APIContext) async throws -> Response {
        let location = "/jobs/\(job.id)"
        await context.jobs.persisted()
        if wait, let ended = await context.jobs.ended(job.id) {
            guard ended.snapshot.status == .succeeded else { throw JobOutcomeError(ended) }
            var response = try Response.json(ended.snapshot)
            response.headers["Location"] = location
            return response
        }
        var response = try Response.json(job, status: .accepted)
        response.headers["Location"] = location
        return response
    }
}

/// What `?wait=true` answers for a job that did not succeed: the job's own error in the usual
/// envelope, with the status that fits it, and `Location: /jobs/{id}` so the client can read
/// the whole record (loss curve, timestamps).
///
/// | job | status | code |
/// |---|---|---|
/// | failed, model trained elsewhere past `jobs.lock_timeout_seconds` | 409 | `training_locked` |
/// | failed, continuing with an incompatible optimizer state | 409 | `optimizer_mismatch` |
/// | failed, loss diverged / data or settings ModelKit refused | 422 | `diverged`, `invalid_data`, `invalid_hyperparameter` |
/// | failed, store refused the result | the store error's (409 `too_many_models`, 507 `insufficient_storage`, ...) | its code |
/// | failed, daemon shutting down before the job started | 503 | `interrupted` |
/// | cancelled (`DELETE /jobs/{id}`) | 409 | `job_cancelled` |
/// | failed otherwise | 500 | `internal` |
struct JobOutcomeError: HTTPResponseError {
    let job: JobSnapshot
    /// Why it failed; nil for a record restored from disk (answered as 500).
    let failure: JobFailure?

    init(_ ended: JobScheduler.Ended) {
        self.job = ended.snapshot
        self.failure = ended.failure
    }

    var status: HTTPStatus {
        switch job.status {
        case .cancelled: .conflict
        case .failed: failure?.status ?? .internalServerError
        // Not finished or succeeded: never thrown for those; a 500 if it ever were.
        case .queued, .running, .succeeded: .internalServerError
        }
    }

    var code: String {
        job.status == .cancelled ? "job_cancelled" : job.error?.code ?? "internal"
    }

    var message: String {
        let detail = job.status == .cancelled
            ? "the job was cancelled by DELETE /jobs/\(job.id) before it finished; nothing was installed and its record was removed"
            : job.error?.message ?? "the job failed"
        return job.status == .cancelled ? detail : "\(detail) (job \(job.id), GET /jobs/\(job.id))"
    }

    var headers: HTTPHeaders { ["Location": "/jobs/\(job.id)"] }
}

extension Request {
    /// Whether the body is declared as CSV.
    var isCSV: Bool {
        headers["Content-Type"].map { $0.lowercased().hasPrefix("text/csv") } ?? false
    }

    /// 415 unless the body is declared as JSON (or not declared at all).
    func requireJSON() throws(APIError) {
        guard let type = headers["Content-Type"]?.lowercased(), !type.hasPrefix("application/json") else { return }
        // curl -d sends form encoding by default; JSON bodies sent that way are accepted too.
        guard type.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(
                status: .unsupportedMediaType, code: "unsupported_media_type",
                message: "Content-Type \(type) is not supported here; send application/json (or text/csv to /train)")
        }
    }
}

/// Model management: list, detail, versions, rollback, delete, evaluate.
enum ModelRoutes {
    static func register(on router: inout Router, context: APIContext) {
        router.get("/models") { _ in
            try Response.json(ModelList(models: context.store.list().map(ModelSummary.init), skipped: context.store.skipped))
        }
        router.get("/models/{name}", async: { request in
            let name = try request.parameters.require("name")
            let current = try context.model(name, version: nil)
            let versions = try await context.store.versions(name: name)
            return try Response.json(ModelDetail(current, versions: versions))
        })
        router.get("/models/{name}/versions", async: { request in
            let name = try request.parameters.require("name")
            let current = try context.model(name, version: nil)
            let versions = try await context.store.versions(name: name)
            return try Response.json(VersionList(
                model: name, currentVersion: current.version,
                versions: versions.map { VersionView($0, classes: current.classLabels) }))
        })
        router.post("/models/{name}/rollback", async: { request in
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
        })
        router.delete("/models/{name}", async: { request in
            try context.refuseIfReadOnly(request, allowed: [.get, .head])
            let name = try request.parameters.require("name")
            try await context.store.delete(name: name)
            // Deletes win: its queued jobs fail now, running ones at their next step.
            context.jobs.failJobsOfDeletedModels()
            context.events.publishModel(name, change: "deleted", version: nil)
            return try Response.json(ModelDeleted(model: name, deleted: true))
        })
        router.post("/models/{name}/evaluate", async: { request in
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
            let evaluation: Evaluation = try await context.pool.run { try evaluate(stored.model, dataset) }
            return try Response.json(EvaluationView(
                model: name, version: stored.version,
                metrics: MetricsView(evaluation, rows: dataset.count, classes: ModelDetail.classNames(stored))))
        })
    }

    static func evaluate(_ model: Model, _ dataset: Dataset) throws(APIError) -> Evaluation {
        do {
            return try model.evaluate(dataset)
        } catch {
            throw APIError(status: .unprocessableContent, code: "invalid_input", message: DataErrorText.describe(error, field: "inputs"))
        }
    }
}
