@testable import AxonHTTP
@testable import AxonStore
@testable import AxonJobs
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
        return try TrainingPlan.fresh(try TrainRequest.parse(json: Array(body.utf8), limits: ServerLimits()), limits: ServerLimits())
    }

    @Test func oneSlotQueuesTheRestAndCancelStopsBoth() async throws {
        let (directory, store, jobs) = try await freshJobs()
        defer { directory.remove() }
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
        let (directory, _, jobs) = try await freshJobs(maxQueued: 1)
        defer { directory.remove() }
        let running = try jobs.submit(try longPlan("a"))
        #expect(await eventually { jobs.job(running.id)?.status == .running })
        let queued = try jobs.submit(try longPlan("b"))
        let refusal = #expect(throws: JobRefusal.self) { _ = try jobs.submit(try longPlan("c")) }
        #expect(refusal?.code == "queue_full" && refusal?.message.contains("limits.max_queued_jobs") == true)
        _ = jobs.cancel(queued.id)
        _ = jobs.cancel(running.id)
        #expect(await jobs.wait(running.id)?.status == .cancelled)
    }

    func shortPlan(_ name: String) throws -> TrainingPlan {
        let body = #"{"model":"\#(name)","inputs":[[0],[1],[2],[3]],"targets":[[1],[3],[5],[7]],"epochs":5,"validation_split":0,"seed":3}"#
        return try TrainingPlan.fresh(try TrainRequest.parse(json: Array(body.utf8), limits: ServerLimits()), limits: ServerLimits())
    }

    /// Two schedulers over two stores on one state directory stand for two replicas: while one
    /// trains model "m", the other's job for "m" stays queued, then trains once it is free.
    @Test func replicasTrainAModelOneAtATime() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let storeB = await loadedStore(directory)
        let replicaA = JobScheduler(testing: await loadedStore(directory))
        let replicaB = JobScheduler(testing: storeB)
        let long = try replicaA.submit(try longPlan("m"))
        #expect(await eventually { (replicaA.job(long.id)?.epoch ?? 0) >= 1 })
        let short = try replicaB.submit(try shortPlan("m"))
        #expect(await eventually { replicaB.job(short.id)?.waitingFor != nil })
        // Replica A keeps training; unlocked, B's five-epoch job would long have finished.
        let epochA = replicaA.job(long.id)?.epoch ?? 0
        #expect(await eventually { (replicaA.job(long.id)?.epoch ?? 0) >= epochA + 20 })
        let waiting = try #require(replicaB.job(short.id))
        #expect(waiting.status == .queued && waiting.epoch == 0 && waiting.startedAt == nil)
        #expect(waiting.waitingFor?.contains(#"model "m", held by pid \#(getpid())"#) == true, "\(waiting)")
        #expect(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")) == nil)

        _ = replicaA.cancel(long.id)
        #expect(await replicaA.wait(long.id)?.status == .cancelled)
        let finished = try #require(await replicaB.wait(short.id))
        #expect(finished.status == .succeeded && finished.version == 1 && finished.waitingFor == nil)
        #expect(storeB.current("m")?.version == 1)
        // Released after the install: the lock is free again.
        #expect(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")) != nil)
    }

    @Test func aLockHeldPastTheTimeoutFailsTheJobNamingTheModel() async throws {
        let (directory, store, jobs) = try await freshJobs(lockTimeout: .milliseconds(200))
        defer { directory.remove() }
        let held = try #require(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")))
        defer { held.unlock() }
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
        let (directory, store, jobs) = try await freshJobs()
        defer { directory.remove() }
        let held = try #require(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")))
        defer { held.unlock() }
        let job = try jobs.submit(try shortPlan("m"))
        #expect(await eventually { jobs.job(job.id)?.waitingFor != nil })
        // The waiting job holds no slot: with one slot, a whole job for another model, submitted
        // after it, runs meanwhile; the waiting one has not started.
        let meanwhile = try jobs.submit(try shortPlan("n"))
        #expect(await jobs.wait(meanwhile.id)?.status == .succeeded)
        let waiting = try #require(jobs.job(job.id))
        #expect(waiting.status == .queued && waiting.epoch == 0)
        _ = jobs.cancel(job.id)
        let cancelled = try #require(await jobs.wait(job.id))
        #expect(cancelled.status == .cancelled && cancelled.version == nil)
        #expect(store.current("m") == nil)
    }

    @Test("a job waiting for its lock starts as soon as the lock is released, and keeps its place")
    func aReleasedLockStartsTheWaitingJob() async throws {
        let (directory, _, jobs) = try await freshJobs()
        defer { directory.remove() }
        let held = try #require(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")))
        let waiting = try jobs.submit(try shortPlan("m"))
        #expect(await eventually { jobs.job(waiting.id)?.waitingFor != nil })
        // Two long jobs for other models: the first takes the slot, the second queues behind it.
        let first = try jobs.submit(try longPlan("a"))
        let second = try jobs.submit(try longPlan("b"))
        #expect(await eventually { (jobs.job(first.id)?.epoch ?? 0) >= 1 })
        #expect(jobs.job(second.id)?.status == .queued && jobs.job(waiting.id)?.status == .queued)
        held.unlock()
        // The freed slot goes to the job first in the queue, now that its lock is free.
        _ = jobs.cancel(first.id)
        #expect(await jobs.wait(first.id)?.status == .cancelled)
        // Bounded rather than `wait`: had the second job taken the slot, this one would wait for it.
        #expect(await eventually { jobs.job(waiting.id)?.status == .succeeded })
        #expect(await eventually { jobs.job(second.id)?.status == .running })
        for id in [waiting.id, second.id] { _ = jobs.cancel(id) }
        #expect(await jobs.wait(second.id)?.status == .cancelled)
    }

    @Test("jobs.lock_timeout_seconds reaches the daemon's scheduler: POST /train?wait=true gives up after it")
    func lockTimeoutIsConfigured() async throws {
        let configuration = try ConfigurationLoader.load(
            contents: Data(#"{"jobs": {"lock_timeout_seconds": 0.2, "retain": 7}}"#.utf8), path: "test.json", environment: [:])
        #expect(configuration.trainingLockTimeout == .milliseconds(200) && configuration.retainedJobs == 7)
        #expect(DaemonConfiguration().trainingLockTimeout == .seconds(600))
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path) {
            $0.trainingLockTimeout = configuration.trainingLockTimeout
            $0.retainedJobs = configuration.retainedJobs
        }
        defer { daemon.jobs.close() }
        #expect(daemon.jobs.retain == 7)
        let held = try #require(try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName("m")))
        defer { held.unlock() }
        try await withAPIServer(daemon) { port in
            let train = #"{"model":"m","inputs":[[0],[1]],"targets":[1,3],"epochs":2,"validation_split":0}"#
            let response = try await call(port, "POST", "/train?wait=true", json: train)
            #expect(response.status == 409 && response.envelope?.code == "training_locked", "\(response.text)")
            #expect(response.envelope?.message.contains("waited 0.2 s") == true, "\(response.text)")
        }
    }
}
