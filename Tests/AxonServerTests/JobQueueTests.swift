import AxonAPI
@testable import AxonJobs
import AxonStore
import Checkpoint
import Foundation
import ModelKit
import TestKit
import Testing

/// The queue's state machine on its own: no threads, no clock, locks as the scheduler would
/// hand them in.
@Suite struct JobQueueTests {
    static func plan(_ name: String, rows: Int = 4) throws -> TrainingPlan {
        let configuration = try ModelConfiguration(layerSizes: [1, 2, 1], activations: [.relu, .identity], loss: .meanSquaredError)
        let dataset = try Dataset(inputs: (0 ..< rows).map { [Float($0)] }, targets: (0 ..< rows).map { [Float($0 * $0)] })
        return TrainingPlan(name: name, start: Model(configuration: configuration, seed: 1), configuration: TrainingConfiguration(), dataset: dataset)
    }

    static func queue(maxRunning: Int = 1, maxQueued: Int = 10, maxQueuedBytes: Int = 1 << 30, retain: Int = 100) -> JobQueue {
        JobQueue(limits: JobQueue.Limits(
            maxRunning: maxRunning, maxQueued: maxQueued, maxQueuedBytes: maxQueuedBytes, retain: retain, historyPoints: 10,
            lockTimeout: .seconds(10)))
    }

    /// A moment `seconds` after `base`.
    static func at(_ base: ContinuousClock.Instant, _ seconds: Int) -> JobQueue.Moment {
        JobQueue.Moment(instant: base + .seconds(seconds), date: "2026-01-01T00:00:\(String(format: "%02d", seconds))Z")
    }

    /// A real training lock in `directory` (the queue only carries it).
    static func lock(_ directory: TemporaryDirectory, _ name: String) throws -> TrainingLock {
        try #require(try TrainingLock.tryAcquire(path: "\(directory.path)/\(name).lock"))
    }

    @Test("a plan is refused by count, by its own bytes and by the bytes already queued, and nothing is queued then")
    func refusals() throws {
        var queue = Self.queue(maxQueued: 2, maxQueuedBytes: 1_000)
        let now = Self.at(.now, 0)
        let big = try Self.plan("big", rows: 200)
        #expect(big.heldBytes > 1_000)
        #expect(throws: JobRefusal.self) { try queue.submit(big, deletion: nil, at: now) }
        let small = try Self.plan("s")
        _ = try queue.submit(small, deletion: nil, at: now)
        let medium = try Self.plan("m", rows: 115)
        #expect(medium.heldBytes <= 1_000 && medium.heldBytes + small.heldBytes > 1_000)
        do {
            _ = try queue.submit(medium, deletion: nil, at: now)
            Issue.record("a plan over the queued-bytes budget was queued")
        } catch {
            guard case .queueBytesFull(let held, let needed, 1_000) = error else { Issue.record("\(error)"); return }
            #expect(held == small.heldBytes && needed == medium.heldBytes)
        }
        _ = try queue.submit(small, deletion: nil, at: now)
        do {
            _ = try queue.submit(small, deletion: nil, at: now)
            Issue.record("a third job was queued past limits.max_queued_jobs 2")
        } catch {
            guard case .queueFull(2, 2) = error else { Issue.record("\(error)"); return }
        }
        #expect(queue.queue.count == 2 && queue.order.count == 2)
    }

    @Test("a job whose lock is held waits without a slot, lets the next start, and fails with training_locked after the timeout")
    func lockWait() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var queue = Self.queue()
        let base = ContinuousClock.now
        let blocked = try queue.submit(try Self.plan("a"), deletion: nil, at: Self.at(base, 0))
        let next = try queue.submit(try Self.plan("b"), deletion: nil, at: Self.at(base, 0))
        #expect(queue.candidates().map(\.id) == [blocked.id, next.id])

        let lockB = try Self.lock(directory, "b")
        let first = queue.start([blocked.id: .held(holder: "pid 7"), next.id: .acquired(lockB)], at: Self.at(base, 1))
        #expect(first.launch.map(\.id) == [next.id])
        #expect(first.waiting.map(\.waitingFor) == [#"the training lock of model "a", held by pid 7"#])
        #expect(first.startPolling)
        #expect(queue.running == 1 && queue.queue == [blocked.id])
        #expect(queue.jobs[next.id]?.snapshot.status == .running)
        // No slot now: nothing is worth a lock attempt.
        #expect(queue.candidates().isEmpty)

        _ = queue.finish(next.id, .cancelled(nil), at: Self.at(base, 2))
        let again = queue.start([blocked.id: .held(holder: "pid 7")], at: Self.at(base, 5))
        #expect(again.waiting.isEmpty, "the same holder is not announced twice")
        #expect(again.ended.isEmpty)
        let late = queue.start([blocked.id: .held(holder: "pid 7")], at: Self.at(base, 11))
        #expect(late.ended.map(\.snapshot.error?.code) == ["training_locked"])
        guard case .trainingLocked(let model, let holder, let waited) = late.ended.first?.failure else {
            Issue.record("\(String(describing: late.ended.first?.failure))")
            return
        }
        #expect(model == "a" && holder == "pid 7" && waited == .seconds(10))
        #expect(late.endedUnrun == [.failed])
        #expect(!queue.stillWaiting() && queue.queue.isEmpty)
    }

    @Test("a lock taken for a job cancelled meanwhile, or with no slot left, is handed back")
    func unusedLocks() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var queue = Self.queue()
        let now = Self.at(.now, 0)
        let cancelled = try queue.submit(try Self.plan("a"), deletion: nil, at: now)
        let first = try queue.submit(try Self.plan("b"), deletion: nil, at: now)
        let second = try queue.submit(try Self.plan("c"), deletion: nil, at: now)
        var effects = JobQueue.Effects()
        #expect(queue.cancel(cancelled.id, at: now, into: &effects)?.status == .cancelled)
        #expect(effects.endedUnrun == [.cancelled] && effects.saves.count == 1)
        let start = queue.start(
            [cancelled.id: .acquired(try Self.lock(directory, "a")), first.id: .acquired(try Self.lock(directory, "b")),
             second.id: .acquired(try Self.lock(directory, "c"))],
            at: now)
        #expect(start.launch.map(\.id) == [first.id])
        #expect(start.unusedLocks.count == 2)
        for lock in start.unusedLocks + start.launch.map(\.lock) { lock.unlock() }
    }

    @Test("draining fails the queued jobs with interrupted and refuses new ones; a lock failure fails its job")
    func drainAndLockFailure() throws {
        var queue = Self.queue()
        let now = Self.at(.now, 0)
        let broken = try queue.submit(try Self.plan("a"), deletion: nil, at: now)
        let queued = try queue.submit(try Self.plan("b"), deletion: nil, at: now)
        let failed = queue.start([broken.id: .failed(reason: "EACCES")], at: now)
        #expect(failed.ended.map(\.snapshot.error?.code) == ["training_lock_failed"])
        #expect(queue.queue == [queued.id], "the job after it is still queued")
        let drained = queue.drain(at: now)
        #expect(drained.ended.map(\.snapshot.id) == [queued.id])
        #expect(drained.ended.first?.snapshot.error?.code == "interrupted")
        #expect(queue.freeSlots == 0 && queue.candidates().isEmpty)
        #expect(throws: JobRefusal.self) { try queue.submit(try Self.plan("c"), deletion: nil, at: now) }
    }

    @Test("past jobs.retain the oldest finished records are forgotten, never an unfinished one")
    func retain() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        var queue = Self.queue(retain: 2)
        let now = Self.at(.now, 0)
        var ids: [String] = []
        for name in ["a", "b"] {
            let job = try queue.submit(try Self.plan(name), deletion: nil, at: now)
            let start = queue.start([job.id: .acquired(try Self.lock(directory, name))], at: now)
            #expect(start.launch.count == 1)
            start.launch.first?.lock.unlock()
            let (ended, effects) = queue.finish(job.id, .failed(.internalError), at: now)
            #expect(ended?.snapshot.status == .failed && effects.ended.first?.snapshot.error?.code == "internal")
            ids.append(job.id)
        }
        let waiting = try queue.submit(try Self.plan("c"), deletion: nil, at: now)
        // Three records, two kept: the oldest finished goes, when the next job ends.
        let lock = try Self.lock(directory, "c")
        _ = queue.start([waiting.id: .acquired(lock)], at: now)
        lock.unlock()
        let (_, effects) = queue.finish(waiting.id, .cancelled(nil), at: now)
        #expect(effects.forgotten == [ids[0]])
        #expect(queue.order == [ids[1], waiting.id])
    }
}
