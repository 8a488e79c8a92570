import AxonAPI
import AxonHTTP
import AxonSupport
import Foundation

/// The `/jobs` routes and the event streams: list, read, follow and cancel training jobs.
struct JobRoutes: Sendable {
    let context: APIContext

    /// Adds these routes to `router`, each pointing at its handler below.
    func register(on router: inout Router) {
        router.get("/jobs", list)
        router.get("/jobs/{id}", job)
        router.get("/jobs/{id}/events", events)
        router.get("/events", allEvents)
        router.delete("/jobs/{id}", async: cancel)
    }

    /// `GET /jobs[?limit=n]`: the newest jobs first.
    func list(_ request: Request) throws -> Response {
        var limit = Self.defaultListLimit
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

    /// `GET /jobs/{id}`.
    func job(_ request: Request) throws -> Response {
        let id = try request.parameters.require("id")
        guard let job = context.jobs.job(id) else { throw notFound(id) }
        return try Response.json(job)
    }

    /// `GET /jobs/{id}/events`: the job's events after `Last-Event-ID`, then as they happen.
    func events(_ request: Request) throws -> Response {
        let id = try request.parameters.require("id")
        let after = try Self.lastEventID(request)
        guard let stream = try context.events.open(following: id, after: after, snapshot: { context.jobs.job(id) }) else {
            throw notFound(id)
        }
        return Response.eventStream(stream)
    }

    /// `GET /events`: every job's events and model changes from now on.
    func allEvents(_ request: Request) throws -> Response {
        Response.eventStream(try context.events.openAll())
    }

    /// `DELETE /jobs/{id}`: cancels a queued or running job and removes its record.
    func cancel(_ request: Request) async throws -> Response {
        try context.refuseIfReadOnly(request, allowed: [.get, .head])
        let id = try request.parameters.require("id")
        guard let job = await context.jobs.remove(id) else { throw notFound(id) }
        return try Response.json(job)
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
    static let defaultListLimit = 100

    private func notFound(_ id: String) -> APIError {
        APIError(status: .notFound, code: "job_not_found", message: "job \"\(id)\" not found (the last \(context.jobs.retain) jobs are kept, jobs.retain)")
    }
}
