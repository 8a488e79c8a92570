import AxonAPI
import AxonHTTP
import AxonJobs
import AxonStore

/// `POST /train` and `POST /models/{name}/train`: the body is parsed as it arrives
/// (`TrainingBodySink`), then planned, queued and answered (`answer(_:wait:context:)`).
struct TrainingRoutes: Sendable {
    let context: APIContext

    /// Adds these routes to `router`, each pointing at its handler below.
    func register(on router: inout Router) {
        router.post("/train", streaming: streaming(train))
        router.post("/models/{name}/train", streaming: streaming(continueTraining))
    }

    /// A streaming route that reads the body within the training body limit
    /// (limits.max_train_body_bytes), not the one for other requests.
    private func streaming(_ open: @escaping @Sendable (Request) throws -> any BodySink) -> StreamingRoute {
        StreamingRoute(maxBodyBytes: UInt64(context.limits.maxTrainBodyBytes), limitKey: "limits.max_train_body_bytes", open: open)
    }

    /// `POST /train`: a new model, or a retrain from scratch of an existing name.
    func train(_ request: Request) throws -> any BodySink {
        try context.refuseIfReadOnly(request)
        return try TrainingBodySink(request, context: context, continuing: nil)
    }

    /// `POST /models/{name}/train`: continues the current version on new data.
    func continueTraining(_ request: Request) throws -> any BodySink {
        try context.refuseIfReadOnly(request)
        let name = try request.parameters.require("name")
        // Unknown model: refused before the body is read.
        guard context.store.current(name) != nil else { throw StoreError.modelNotFound(name: name) }
        return try TrainingBodySink(request, context: context, continuing: name)
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
