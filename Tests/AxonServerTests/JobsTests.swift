import AxonServer
import Foundation
import Testing

@testable import AxonServer

/// The training queue: slots, order, cancellation, and that nothing is installed when a job
/// does not succeed.
@Suite("Training jobs")
struct JobsTests {
    func longPlan(_ name: String) throws -> TrainingPlan {
        let rows = (0 ..< 64).map { "[\($0 % 7),\(($0 * 3) % 5)]" }.joined(separator: ",")
        let targets = (0 ..< 64).map { String($0 % 2) }.joined(separator: ",")
        let body = #"{"model":"\#(name)","inputs":[\#(rows)],"targets":[\#(targets)],"epochs":1000000,"early_stopping":false,"validation_split":0}"#
        return try TrainingPlan.fresh(try TrainRequest.parse(json: Array(body.utf8)), limits: ServerLimits())
    }

    @Test func oneSlotQueuesTheRestAndCancelStopsBoth() async throws {
        let directory = try StoreTemporaryDirectory()
        let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        await store.load()
        let jobs = JobScheduler(store: store, maxRunning: 1, maxQueued: 10, logger: quietLogger)
        let first = try jobs.submit(try longPlan("a"))
        let second = try jobs.submit(try longPlan("b"))
        #expect(await eventually { jobs.job(first.id)?.status == .running })
        #expect(jobs.job(second.id)?.status == .queued)
        #expect(jobs.list().map(\.id) == [second.id, first.id])

        let cancelledQueued = try #require(jobs.cancel(second.id))
        #expect(cancelledQueued.status == .cancelled)
        // The running job learns of its cancellation between two steps.
        #expect(await eventually { (jobs.job(first.id)?.epoch ?? 0) >= 1 })
        _ = jobs.cancel(first.id)
        let finished = try #require(await jobs.wait(first.id))
        #expect(finished.status == .cancelled && finished.stopReason == "cancelled" && finished.version == nil)
        #expect(store.current("a") == nil && store.current("b") == nil)
        #expect(jobs.activeCount == 0)
        #expect(jobs.cancel("job-unknown") == nil)
    }

    @Test func aFullQueueRefusesWithTheLimitKey() async throws {
        let directory = try StoreTemporaryDirectory()
        let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        await store.load()
        let jobs = JobScheduler(store: store, maxRunning: 1, maxQueued: 1, logger: quietLogger)
        let running = try jobs.submit(try longPlan("a"))
        #expect(await eventually { jobs.job(running.id)?.status == .running })
        let queued = try jobs.submit(try longPlan("b"))
        #expect(throws: APIError.self) { _ = try jobs.submit(try longPlan("c")) }
        _ = jobs.cancel(queued.id)
        _ = jobs.cancel(running.id)
        #expect(await jobs.wait(running.id)?.status == .cancelled)
    }
}
