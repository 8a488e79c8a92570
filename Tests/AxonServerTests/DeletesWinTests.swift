import AxonAPI
@testable import AxonHTTP
@testable import AxonStore
@testable import AxonJobs
import Checkpoint
import Foundation
import ModelKit
import Synchronization
import TestKit
import Testing

@testable import AxonServer

/// A delete of a model while one of its jobs is queued or training wins: the job fails with
/// `model_deleted` (409) and nothing is re-created, whenever the delete lands.
@Suite("Deletes win")
struct DeletesWinTests {
    /// 64 rows of the 4-feature, 3-class data `StoreFixtures.model` takes.
    static let rows = (0 ..< 64).map { "[\($0 % 7),\(($0 * 3) % 5),\($0 % 3),1]" }.joined(separator: ",")
    static let classes = (0 ..< 64).map { String($0 % 3) }.joined(separator: ",")

    /// A fresh job for `name` that trains until stopped (or `epochs`).
    static func freshPlan(_ name: String, epochs: Int = 1_000_000) throws -> TrainingPlan {
        let body = #"{"model":"\#(name)","inputs":[\#(rows)],"targets":[\#(classes)],"epochs":\#(epochs),"early_stopping":false,"validation_split":0,"seed":1}"#
        return try TrainingPlan.fresh(try TrainRequest.parse(json: Array(body.utf8), limits: ServerLimits()), limits: ServerLimits())
    }

    /// A job continuing `current` that trains until stopped.
    static func continuingPlan(_ current: StoredModel) throws -> TrainingPlan {
        let body = #"{"inputs":[\#(rows)],"targets":[\#(classes)],"epochs":1000000,"early_stopping":false,"validation_split":0}"#
        return try TrainingPlan.continuing(try TrainRequest.parse(json: Array(body.utf8), limits: ServerLimits()), current: current, limits: ServerLimits())
    }

    /// `freshJobs`, its store holding the classifiers `names` (version 1 each).
    static func setUp(_ names: [String], maxRunning: Int = 1) async throws -> (TemporaryDirectory, ModelStore, JobScheduler) {
        let (directory, store, jobs) = try await freshJobs(maxRunning: maxRunning)
        for name in names {
            try await store.install(name: name, model: StoreFixtures.model(seed: 5), metadata: ModelMetadata())
        }
        return (directory, store, jobs)
    }

    /// Deletes `name` as `DELETE /models/{name}` does.
    static func delete(_ name: String, _ store: ModelStore, _ jobs: JobScheduler) async throws {
        try await store.delete(name: name)
        jobs.failJobsOfDeletedModels()
    }

    static func expectDeleted(_ ended: JobScheduler.Ended?, _ name: String, _ store: ModelStore, _ directory: TemporaryDirectory) {
        let job = ended?.snapshot
        #expect(job?.status == .failed)
        #expect(job?.error?.code == "model_deleted")
        #expect(ended?.failure?.status == .conflict)
        #expect(job?.version == nil)
        #expect(store.current(name) == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(directory.path)/models/\(name)"), "model \(name) was re-created on disk")
    }

    @Test func aRunningJobWhoseModelIsDeletedFailsAndRecreatesNothing() async throws {
        let (directory, store, jobs) = try await Self.setUp(["a"])
        defer { directory.remove() }
        let job = try jobs.submit(try Self.freshPlan("a"))
        #expect(await eventually { (jobs.job(job.id)?.epoch ?? 0) >= 1 })
        try await Self.delete("a", store, jobs)
        // The job stops at its next step rather than training on for a model that is gone.
        let finished = await jobs.ended(job.id)
        Self.expectDeleted(finished, "a", store, directory)
        #expect(finished?.snapshot.error?.message.contains(#"model "a" was deleted"#) == true)
    }

    @Test func aQueuedJobWhoseModelIsDeletedFailsAtOnce() async throws {
        let (directory, store, jobs) = try await Self.setUp(["a", "b"])
        defer { directory.remove() }
        let running = try jobs.submit(try Self.freshPlan("b"))
        #expect(await eventually { jobs.job(running.id)?.status == .running })
        let queuedFresh = try jobs.submit(try Self.freshPlan("a"))
        let queuedContinuing = try jobs.submit(try Self.continuingPlan(try #require(store.current("a"))))
        #expect(jobs.job(queuedFresh.id)?.status == .queued)
        try await Self.delete("a", store, jobs)
        // Failed while "b" still trains: they did not wait for a slot.
        Self.expectDeleted(await jobs.ended(queuedFresh.id), "a", store, directory)
        Self.expectDeleted(await jobs.ended(queuedContinuing.id), "a", store, directory)
        #expect(jobs.job(running.id)?.status == .running)
        #expect(await jobs.wait(queuedFresh.id)?.error?.code == "model_deleted")
        _ = jobs.cancel(running.id)
        #expect(await jobs.wait(running.id)?.status == .cancelled)
        #expect(store.current("b")?.version == 1)
    }

    @Test func aQueuedJobMissedBySweepFailsWhenItWouldStart() async throws {
        let (directory, store, jobs) = try await Self.setUp(["a", "b"])
        defer { directory.remove() }
        let running = try jobs.submit(try Self.freshPlan("b"))
        #expect(await eventually { jobs.job(running.id)?.status == .running })
        let queued = try jobs.submit(try Self.freshPlan("a", epochs: 2))
        // Deleted without the sweep (as a watch rescan sees another process's delete).
        try await store.delete(name: "a")
        #expect(jobs.job(queued.id)?.status == .queued)
        _ = jobs.cancel(running.id)
        Self.expectDeleted(await jobs.ended(queued.id), "a", store, directory)
    }

    @Test func continuedTrainingOfADeletedModelFailsAndIsRefusedOnceTheModelIsGone() async throws {
        let (directory, store, jobs) = try await Self.setUp(["c"])
        defer { directory.remove() }
        let current = try #require(store.current("c"))
        let job = try jobs.submit(try Self.continuingPlan(current))
        #expect(await eventually { (jobs.job(job.id)?.epoch ?? 0) >= 1 })
        try await Self.delete("c", store, jobs)
        Self.expectDeleted(await jobs.ended(job.id), "c", store, directory)
        // A plan read before the delete and submitted after it: nothing to continue.
        let refusal = #expect(throws: JobRefusal.self) { try jobs.submit(try Self.continuingPlan(current)) }
        #expect(refusal?.status == .notFound && refusal?.code == "model_not_found" && refusal?.message == #"model "c" not found"#)
    }

    @Test func aDeleteBetweenTheEndOfTrainingAndTheInstallWins() async throws {
        let (directory, store, jobs) = try await Self.setUp(["a"])
        defer { directory.remove() }
        final class Flag: Sendable { let raised = Atomic<Bool>(false) }
        let deleted = Flag()
        // On the training thread, after the last step and before the install.
        jobs.beforeInstall { name in
            let result = Result { try waitForTask { try await store.delete(name: name) } }
            deleted.raised.store((try? result.get()) != nil, ordering: .relaxed)
        }
        let job = try jobs.submit(try Self.freshPlan("a", epochs: 3))
        let finished = await jobs.ended(job.id)
        let didDelete = deleted.raised.load(ordering: .relaxed)
        #expect(didDelete)
        Self.expectDeleted(finished, "a", store, directory)
    }

    @Test func jobsSubmittedAfterADeleteCreateTheModelAgain() async throws {
        let (directory, store, jobs) = try await Self.setUp(["a"])
        defer { directory.remove() }
        try await Self.delete("a", store, jobs)
        let job = try jobs.submit(try Self.freshPlan("a", epochs: 3))
        let finished = await jobs.wait(job.id)
        #expect(finished?.status == .succeeded)
        #expect(store.current("a")?.version == finished?.version)
        // Deleting another model raises nothing of this one's.
        let second = try jobs.submit(try Self.freshPlan("a", epochs: 3))
        try await store.install(name: "z", model: StoreFixtures.model(seed: 2), metadata: ModelMetadata())
        try await Self.delete("z", store, jobs)
        #expect(await jobs.wait(second.id)?.status == .succeeded)
    }

    @Test func theStoreRefusesAnInstallWhoseMarkADeleteRaised() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = await loadedStore(directory)
        try await store.install(name: "m", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata())
        let mark = store.deletionMark(for: "m")
        let other = store.deletionMark(for: "n")
        #expect(!mark.isRaised)
        try await store.delete(name: "m")
        #expect(mark.isRaised && !other.isRaised)
        await #expect(throws: StoreError.modelDeleted(name: "m")) {
            try await store.install(name: "m", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata(), mark: mark)
        }
        #expect(store.current("m") == nil)
        #expect(StoreError.modelDeleted(name: "m").status == .conflict && StoreError.modelDeleted(name: "m").code == "model_deleted")
        // A mark taken after the delete lets the model be created again.
        let fresh = store.deletionMark(for: "m")
        try await store.install(name: "m", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata(), mark: fresh)
        #expect(store.current("m")?.version == 1)
    }

    @Test func waitingCallersOfADeletedModelsJobGet409ModelDeletedLive() async throws {
        try await withStoredClassifier { port in
            let body = #"{"inputs":[\#(Self.rows)],"targets":[\#(Self.classes)],"epochs":1000000,"early_stopping":false,"validation_split":0}"#
            async let waited = call(port, "POST", "/models/m/train?wait=true", json: body)
            var running = false
            for _ in 0 ..< 2000 where !running {
                let list = try await call(port, "GET", "/jobs")
                let jobs = list.object["jobs"] as? [[String: Any]] ?? []
                running = jobs.contains { $0["status"] as? String == "running" && ($0["epoch"] as? Int ?? 0) >= 1 }
                if !running { try await Task.sleep(for: .milliseconds(5)) }
            }
            #expect(running)
            let deleted = try await call(port, "DELETE", "/models/m")
            #expect(deleted.status == 200)
            let answer = try await waited
            #expect(answer.status == 409)
            let error = answer.object["error"] as? [String: Any]
            #expect(error?["code"] as? String == "model_deleted", "\(String(decoding: answer.body, as: UTF8.self))")
            #expect(answer.header("Location")?.hasPrefix("/jobs/") == true)
            #expect(try await call(port, "GET", "/models/m").status == 404)
        }
    }
}
