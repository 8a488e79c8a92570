@testable import AxonHTTP
@testable import AxonStore
@testable import AxonJobs
import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// `?wait=true` answers 200 only for a job that succeeded; otherwise the job's error with a
/// fitting status and `Location: /jobs/{id}`, against a live server on 127.0.0.1:0.
@Suite("Waiting for a job")
struct JobWaitTests {
    struct Server {
        let port: Int
        let jobs: JobScheduler
        let store: ModelStore
        let directory: TemporaryDirectory
    }

    func withJobsServer<T>(
        maxRunning: Int = 1, lockTimeout: Duration = .seconds(600), _ body: (Server) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = await loadedStore(directory)
        let events = JobEvents()
        let jobs = JobScheduler(testing: store, maxRunning: maxRunning, lockTimeout: lockTimeout, observer: events)
        jobs.restore(stateDirectory: directory.path)
        defer { jobs.close() }
        var router = Router()
        APIRoutes.register(on: &router, context: APIContext(store: store, jobs: jobs, events: events, limits: ServerLimits()))
        return try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 1 << 20)) { _, port in
            try await body(Server(port: port, jobs: jobs, store: store, directory: directory))
        }
    }

    static let short = #"{"model":"m","task":"classification","inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7],"epochs":5,"validation_split":0,"seed":3}"#
    static let long: String = {
        let rows = (0 ..< 64).map { "[\($0 % 7),\(($0 * 3) % 5)]" }.joined(separator: ",")
        let targets = (0 ..< 64).map { String($0 % 2) }.joined(separator: ",")
        return #"{"model":"long","inputs":[\#(rows)],"targets":[\#(targets)],"epochs":1000000,"early_stopping":false,"validation_split":0}"#
    }()

    /// Checks the envelope, the Location header and that it names a job that GET answers.
    func expectJobError(_ response: TestResponse, _ status: Int, _ code: String, port: Int) async throws -> [String: Any] {
        #expect(response.status == status, "\(response.text)")
        #expect(response.envelope?.code == code, "\(response.text)")
        let location = try #require(response.header("Location"), "\(response.text)")
        #expect(location.hasPrefix("/jobs/job-"))
        let id = String(location.dropFirst("/jobs/".count))
        #expect(response.envelope?.message.contains(id) == true)
        let problems = try OpenAPIContract().problems(response, method: "POST", template: "/train")
        #expect(problems.isEmpty, "\(problems)")
        let job = try await call(port, "GET", location)
        #expect(job.status == 200)
        return job.object
    }

    @Test("a job that succeeded answers 200 with the job and its Location")
    func succeeded() async throws {
        try await withJobsServer { server in
            let response = try await call(server.port, "POST", "/train?wait=true", json: Self.short)
            #expect(response.status == 200, "\(response.text)")
            #expect(response.object["status"] as? String == "succeeded")
            #expect(response.header("Location") == "/jobs/\(response.object["id"] as? String ?? "?")")
        }
    }

    @Test("training_locked answers 409 with the job's error and Location")
    func lockedAnswers409() async throws {
        try await withJobsServer(lockTimeout: .milliseconds(100)) { server in
            let held = try #require(try TrainingLock.tryAcquire(stateDirectory: server.directory.path, model: ModelName("m")))
            defer { held.unlock() }
            let response = try await call(server.port, "POST", "/train?wait=true", json: Self.short)
            let job = try await expectJobError(response, 409, "training_locked", port: server.port)
            #expect(job["status"] as? String == "failed")
            #expect((job["error"] as? [String: Any])?["code"] as? String == "training_locked")
            #expect(server.store.current("m") == nil)
        }
    }

    @Test("training that diverges answers 422 diverged, on /train and on /models/{name}/train")
    func divergedAnswers422() async throws {
        try await withJobsServer { server in
            // Squared errors of 1e30 overflow Float: the first step's loss is not finite.
            let diverging = #"{"model":"d","inputs":[[1],[2],[3],[4]],"targets":[1e30,2e30,3e30,4e30],"epochs":3,"validation_split":0,"normalize":"none","normalize_targets":false}"#
            let response = try await call(server.port, "POST", "/train?wait=true", json: diverging)
            let job = try await expectJobError(response, 422, "diverged", port: server.port)
            #expect(job["version"] == nil)

            let regression = #"{"model":"r","task":"regression","inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7],"epochs":5,"validation_split":0}"#
            let trained = try await call(server.port, "POST", "/train?wait=true", json: regression)
            #expect(trained.status == 200, "\(trained.text)")
            let more = #"{"inputs":[[1],[2]],"targets":[1e30,3e30],"epochs":2,"validation_split":0}"#
            let continued = try await call(server.port, "POST", "/models/r/train?wait=true", json: more)
            #expect(continued.status == 422 && continued.envelope?.code == "diverged", "\(continued.text)")
            #expect(continued.header("Location")?.hasPrefix("/jobs/") == true)
            #expect(server.store.current("r")?.version == 1)
            // A class index far beyond Int's range is refused by name, not trapped on.
            let classifier = try await call(server.port, "POST", "/train?wait=true", json: Self.short)
            #expect(classifier.status == 200, "\(classifier.text)")
            let huge = #"{"inputs":[[1]],"targets":[1e30],"epochs":1,"validation_split":0}"#
            let refused = try await call(server.port, "POST", "/models/m/train", json: huge)
            #expect(refused.status == 422 && refused.envelope?.message.contains("targets[0]") == true, "\(refused.text)")
            let fresh = #"{"model":"c","task":"classification","inputs":[[1],[2]],"targets":[0,1e30]}"#
            let refusedFresh = try await call(server.port, "POST", "/train", json: fresh)
            #expect(refusedFresh.status == 422, "\(refusedFresh.text)")
        }
    }

    @Test("a cancelled job answers 409 job_cancelled")
    func cancelledAnswers409() async throws {
        try await withJobsServer { server in
            let port = server.port
            async let waited = call(port, "POST", "/train?wait=true", json: Self.long)
            #expect(await eventually { server.jobs.list().first.map { $0.status == .running && $0.epoch >= 1 } ?? false })
            let id = try #require(server.jobs.list().first?.id)
            let cancel = try await call(port, "DELETE", "/jobs/\(id)")
            #expect(cancel.status == 200 && cancel.object["status"] as? String == "cancelled", "\(cancel.text)")
            // DELETE removed the job: its Location names it, but it is gone (ContractTests).
            let answer = try await waited
            #expect(answer.status == 409 && answer.envelope?.code == "job_cancelled", "\(answer.text)")
            #expect(answer.header("Location") == "/jobs/\(id)")
            let problems = try OpenAPIContract().problems(answer, method: "POST", template: "/train")
            #expect(problems.isEmpty, "\(problems)")
        }
    }

    @Test("a queued job when the daemon drains answers 503 interrupted; new jobs are refused with draining")
    func drainAnswers503() async throws {
        try await withJobsServer { server in
            let port = server.port
            let running = try await call(port, "POST", "/train", json: Self.long)
            #expect(running.status == 202)
            let runningID = try #require(running.object["id"] as? String)
            #expect(await eventually { server.jobs.job(runningID)?.status == .running })
            async let waited = call(port, "POST", "/train?wait=true", json: Self.short)
            #expect(await eventually { server.jobs.list().count == 2 })
            server.jobs.beginDrain()
            let job = try await expectJobError(try await waited, 503, "interrupted", port: port)
            #expect((job["error"] as? [String: Any])?["message"] as? String == JobScheduler.drainMessage)
            #expect(server.jobs.job(runningID)?.status == .running)
            let refused = try await call(port, "POST", "/train", json: Self.short)
            #expect(refused.status == 503 && refused.envelope?.code == "draining", "\(refused.text)")
            _ = server.jobs.cancel(runningID)
            #expect(await server.jobs.wait(runningID)?.status == .cancelled)
        }
    }

    @Test("the daemon's drain fails its queued jobs with interrupted at once; a running job carries on")
    func daemonDrainReachesTheJobs() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var configuration = DaemonConfiguration()
        configuration.stateDirectory = directory.path
        configuration.http.port = 0
        let daemon = Daemon(configuration: configuration, logger: quietLogger)
        let running = Task { try await daemon.run() }
        #expect(await eventually { daemon.readiness.phase == .ready })
        let plans = JobsTests()
        let training = try daemon.jobs.submit(try plans.longPlan("a"))
        let queued = try daemon.jobs.submit(try plans.shortPlan("b"))
        #expect(await eventually { daemon.jobs.job(training.id)?.status == .running })
        daemon.triggerGracefulShutdown()
        #expect(await daemon.jobs.wait(queued.id)?.error?.code == "interrupted")
        #expect(daemon.readiness.phase == .draining)
        #expect(daemon.jobs.job(training.id)?.status == .running)
        _ = daemon.jobs.cancel(training.id)
        #expect(await daemon.jobs.wait(training.id)?.status == .cancelled)
        try await running.value
    }
}
