import AxonServer
import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

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
        let directory = try TemporaryDirectory()
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
        let directory = try TemporaryDirectory()
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

    func shortPlan(_ name: String) throws -> TrainingPlan {
        let body = #"{"model":"\#(name)","inputs":[[0],[1],[2],[3]],"targets":[[1],[3],[5],[7]],"epochs":5,"validation_split":0,"seed":3}"#
        return try TrainingPlan.fresh(try TrainRequest.parse(json: Array(body.utf8)), limits: ServerLimits())
    }

    /// Two schedulers over two stores on one state directory stand for two replicas: while one
    /// trains model "m", the other's job for "m" waits at epoch 0, then trains once it is free.
    @Test func replicasTrainAModelOneAtATime() async throws {
        let directory = try TemporaryDirectory()
        let storeA = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        let storeB = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        await storeA.load()
        await storeB.load()
        let replicaA = JobScheduler(store: storeA, maxRunning: 1, maxQueued: 10, logger: quietLogger)
        let replicaB = JobScheduler(store: storeB, maxRunning: 1, maxQueued: 10, logger: quietLogger)
        let long = try replicaA.submit(try longPlan("m"))
        #expect(await eventually { (replicaA.job(long.id)?.epoch ?? 0) >= 1 })
        let short = try replicaB.submit(try shortPlan("m"))
        #expect(await eventually { replicaB.job(short.id)?.status == .running })
        // Replica A keeps training; unlocked, B's five-epoch job would long have finished.
        let epochA = replicaA.job(long.id)?.epoch ?? 0
        #expect(await eventually { (replicaA.job(long.id)?.epoch ?? 0) >= epochA + 20 })
        let waiting = try #require(replicaB.job(short.id))
        #expect(waiting.status == .running && waiting.epoch == 0)
        #expect(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")) == nil)

        _ = replicaA.cancel(long.id)
        #expect(await replicaA.wait(long.id)?.status == .cancelled)
        let finished = try #require(await replicaB.wait(short.id))
        #expect(finished.status == .succeeded && finished.version == 1)
        #expect(storeB.current("m")?.version == 1)
        // Released after the install: the lock is free again.
        #expect(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")) != nil)
    }

    @Test func aLockHeldPastTheTimeoutFailsTheJobNamingTheModel() async throws {
        let directory = try TemporaryDirectory()
        let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        await store.load()
        let held = try #require(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")))
        defer { held.unlock() }
        let jobs = JobScheduler(store: store, maxRunning: 1, maxQueued: 10, lockTimeout: .milliseconds(200), logger: quietLogger)
        let job = try jobs.submit(try shortPlan("m"))
        let failed = try #require(await jobs.wait(job.id))
        #expect(failed.status == .failed && failed.epoch == 0 && failed.version == nil)
        #expect(failed.error?.code == "training_locked")
        let message = failed.error?.message ?? ""
        #expect(message.contains(#"model "m""#) && message.contains("pid \(getpid())"))
        #expect(store.current("m") == nil)
        // Another model's lock is independent of "m".
        let other = try jobs.submit(try shortPlan("n"))
        #expect(await jobs.wait(other.id)?.status == .succeeded)
    }

    @Test func aJobWaitingForTheLockCanBeCancelled() async throws {
        let directory = try TemporaryDirectory()
        let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        await store.load()
        let held = try #require(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")))
        defer { held.unlock() }
        let jobs = JobScheduler(store: store, maxRunning: 1, maxQueued: 10, logger: quietLogger)
        let job = try jobs.submit(try shortPlan("m"))
        #expect(await eventually { jobs.job(job.id)?.status == .running })
        // A whole job for another model runs meanwhile; the waiting one has not started training.
        let other = JobScheduler(store: store, maxRunning: 1, maxQueued: 10, logger: quietLogger)
        let meanwhile = try other.submit(try shortPlan("n"))
        #expect(await other.wait(meanwhile.id)?.status == .succeeded)
        let waiting = try #require(jobs.job(job.id))
        #expect(waiting.status == .running && waiting.epoch == 0)
        _ = jobs.cancel(job.id)
        let cancelled = try #require(await jobs.wait(job.id))
        #expect(cancelled.status == .cancelled && cancelled.version == nil)
        #expect(store.current("m") == nil)
    }
}
