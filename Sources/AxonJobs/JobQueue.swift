import AxonAPI
import AxonStore
import AxonSupport
import Foundation
import ModelKit
import Synchronization

/// The jobs and their queue as a state machine: each transition changes the state and returns
/// the `Effects` it decided (records to write, jobs to launch, waiters to answer, events to
/// publish), which `JobScheduler` carries out. It performs no I/O, takes no lock and reads no
/// clock: the time comes in as a `Moment`, and a training lock as the `LockAttempt` the
/// scheduler made outside the state lock.
///
/// The values transitions take and return (`Limits`, `Moment`, `Job`, `Effects`, ...) are in
/// `JobQueue+Types.swift`.
struct JobQueue {
    let limits: Limits
    private(set) var jobs: [String: Job] = [:]
    /// Every retained job, oldest first.
    private(set) var order: [String] = []
    /// Queued jobs, in order.
    private(set) var queue: [String] = []
    private(set) var running = 0
    private var waiters: [String: [Waiter]] = [:]
    private var nextNumber = 1
    /// Set once the daemon drains: nothing new is queued or started.
    private(set) var draining = false
    /// Whether the scheduler retries the training locks.
    private(set) var polling = false

    init(limits: Limits) {
        self.limits = limits
    }

    var freeSlots: Int { draining ? 0 : max(limits.maxRunning - running, 0) }

    // MARK: - Submitting

    /// Queues `plan` as a new job; throws when the queue is full (by count or by bytes held)
    /// or draining.
    mutating func submit(_ plan: TrainingPlan, deletion: DeletionMark?, at now: Moment) throws(JobRefusal) -> JobSnapshot {
        guard !draining else { throw .draining }
        guard queue.count < limits.maxQueued else { throw .queueFull(queued: queue.count, limit: limits.maxQueued) }
        // Queued jobs hold their data until they run: bounded in bytes as well as in count.
        let needed = plan.heldBytes
        guard needed <= limits.maxQueuedBytes else { throw .tooLarge(needed: needed, limit: limits.maxQueuedBytes) }
        let held = queue.reduce(0) { $0 + (jobs[$1]?.plan?.heldBytes ?? 0) }
        guard held <= limits.maxQueuedBytes - needed else {
            throw .queueBytesFull(held: held, needed: needed, limit: limits.maxQueuedBytes)
        }
        let id = "job-\(nextNumber)-\(String(UInt32.random(in: 0 ... .max), radix: 16))"
        nextNumber += 1
        var snapshot = JobSnapshot(
            id: id, model: plan.name, kind: plan.parentVersion == nil ? "train" : "continue", status: .queued,
            createdAt: now.date, epochs: plan.configuration.epochs, epoch: 0, rows: plan.dataset.count, history: [],
            parentVersion: plan.parentVersion)
        snapshot.settings = ResolvedSettings(model: plan.start, training: plan.configuration, rows: plan.dataset.count, why: plan.reasons)
        jobs[id] = Job(
            snapshot: snapshot, plan: plan, history: DecimatedHistory(capacity: limits.historyPoints), saved: now.instant,
            deletion: deletion)
        order.append(id)
        queue.append(id)
        return snapshot
    }

    /// Adopts the records of daemons that are gone (sorted oldest first), older than any job
    /// submitted here; returns the records forgotten past `retain`.
    mutating func adopt(_ restored: [JobSnapshot], at now: Moment) -> [String] {
        var known = Set(order)
        var adopted: [String] = []
        for job in restored where !known.contains(job.id) {
            known.insert(job.id)
            jobs[job.id] = Job(snapshot: job, history: DecimatedHistory(capacity: limits.historyPoints), saved: now.instant)
            adopted.append(job.id)
        }
        order = adopted + order
        nextNumber = max(nextNumber, (restored.map { Self.number($0.id) }.max() ?? 0) + 1)
        return forgetOld()
    }

    /// The sequence number in `job-<n>-<hex>` (0 for other ids).
    static func number(_ id: String) -> Int {
        let parts = id.split(separator: "-")
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }

    // MARK: - Starting

    /// The queued jobs worth a training-lock attempt now, in order, with their models; empty
    /// when no slot is free.
    func candidates() -> [(id: String, model: String)] {
        guard freeSlots > 0 else { return [] }
        return queue.compactMap { id in
            guard let job = jobs[id], job.plan != nil, job.deletion?.isRaised != true else { return nil }
            return (id, job.snapshot.model)
        }
    }

    /// Starts queued jobs in order while slots are free, given the lock `attempts` the scheduler
    /// made for `candidates()`. A job whose lock is held stays queued without a slot (the next
    /// is tried) until `lockTimeout`, then fails with `training_locked`; a job whose model was
    /// deleted fails with `model_deleted`.
    mutating func start(_ attempts: [String: LockAttempt], at now: Moment) -> Effects {
        var effects = Effects()
        var used = Set<String>()
        var index = 0
        var blocked = false
        while !draining, running < limits.maxRunning, index < queue.count {
            let id = queue[index]
            guard let job = jobs[id], job.plan != nil else {
                queue.remove(at: index)
                continue
            }
            if job.deletion?.isRaised == true {
                queue.remove(at: index)
                fail(id, .store(.modelDeleted(name: job.snapshot.model)), at: now, into: &effects)
                continue
            }
            switch attempts[id] {
            case nil:
                index += 1
            case .acquired(let lock):
                used.insert(id)
                queue.remove(at: index)
                effects.launch.append(begin(id, lock: lock, at: now, into: &effects))
            case .failed(let reason):
                queue.remove(at: index)
                fail(id, .trainingLockFailed(reason: reason), at: now, into: &effects)
            case .held(let holder):
                if wait(id, holder: holder, at: now, into: &effects) {
                    blocked = true
                    index += 1
                } else {
                    queue.remove(at: index)
                }
            }
        }
        for (id, attempt) in attempts where !used.contains(id) {
            if case .acquired(let lock) = attempt { effects.unusedLocks.append(lock) }
        }
        if blocked, !polling {
            polling = true
            effects.startPolling = true
        }
        return effects
    }

    /// Marks queued job `id` running with `lock`.
    private mutating func begin(_ id: String, lock: TrainingLock, at now: Moment, into effects: inout Effects) -> Launch {
        guard var job = jobs[id], let plan = job.plan else { preconditionFailure("queued job \(id) has no plan") }
        job.plan = nil
        job.snapshot.status = .running
        job.snapshot.waitingFor = nil
        job.snapshot.startedAt = now.date
        job.started = now.instant
        job.saved = now.instant
        let deletion = job.deletion
        // The runner watches the mark from now on.
        job.deletion = nil
        jobs[id] = job
        running += 1
        effects.saves.append(job.snapshot)
        return Launch(id: id, plan: plan, cancel: job.cancel, lock: lock, deletion: deletion)
    }

    /// Records that `id` found its model's lock held; false once it has waited `lockTimeout`
    /// (then it has failed with `training_locked`).
    private mutating func wait(_ id: String, holder: String?, at now: Moment, into effects: inout Effects) -> Bool {
        guard var job = jobs[id] else { return false }
        let since = job.lockWaitSince ?? now.instant
        job.lockWaitSince = since
        let waiting = "the training lock of model \"\(job.snapshot.model)\"" + (holder.map { ", held by \($0)" } ?? "")
        if job.snapshot.waitingFor != waiting {
            job.snapshot.waitingFor = waiting
            effects.waiting.append(job.snapshot)
        }
        jobs[id] = job
        guard now.instant - since < limits.lockTimeout else {
            fail(id, .trainingLocked(model: job.snapshot.model, holder: holder, waited: limits.lockTimeout), at: now, into: &effects)
            return false
        }
        return true
    }

    /// Whether a queued job still waits for a training lock; clears `polling` when none does.
    mutating func stillWaiting() -> Bool {
        let waiting = !draining && queue.contains { jobs[$0]?.lockWaitSince != nil }
        if !waiting { polling = false }
        return waiting
    }

    // MARK: - Ending

    /// Ends job `id`, which is not running, as failed with `failure`.
    private mutating func fail(_ id: String, _ failure: JobFailure, at now: Moment, into effects: inout Effects) {
        guard var job = jobs[id] else { return }
        job.plan = nil
        job.snapshot.status = .failed
        job.snapshot.waitingFor = nil
        job.snapshot.finishedAt = now.date
        job.snapshot.error = failure.record
        job.failure = failure
        job.deletion = nil
        jobs[id] = job
        effects.endedUnrun.append(.failed)
        effects.ended.append((job.snapshot, failure, waiters.removeValue(forKey: id) ?? []))
    }

    /// Fails every queued job whose model was deleted since it was submitted.
    mutating func failDeleted(at now: Moment) -> Effects {
        var effects = Effects()
        let deleted = queue.filter { jobs[$0]?.deletion?.isRaised == true }
        queue.removeAll { deleted.contains($0) }
        for id in deleted {
            fail(id, .store(.modelDeleted(name: jobs[id]?.snapshot.model ?? "")), at: now, into: &effects)
        }
        return effects
    }

    /// The daemon drains: queued jobs fail with `interrupted`, nothing new is queued or started.
    mutating func drain(at now: Moment) -> Effects {
        draining = true
        var effects = Effects()
        for id in queue { fail(id, .interrupted, at: now, into: &effects) }
        queue = []
        return effects
    }

    /// Cancels `id`: a queued job ends at once, a running one is flagged to stop at its next
    /// step. Returns the job as it is now (nil if unknown).
    mutating func cancel(_ id: String, at now: Moment, into effects: inout Effects) -> JobSnapshot? {
        guard var job = jobs[id] else { return nil }
        switch job.snapshot.status {
        case .queued:
            queue.removeAll { $0 == id }
            job.plan = nil
            job.snapshot.status = .cancelled
            job.snapshot.waitingFor = nil
            job.snapshot.stopReason = TrainingReport.StopReason.cancelled.rawValue
            job.snapshot.finishedAt = now.date
            jobs[id] = job
            effects.saves.append(job.snapshot)
            effects.endedUnrun.append(.cancelled)
            effects.ended.append((job.snapshot, nil, waiters.removeValue(forKey: id) ?? []))
        case .running:
            job.cancel.raised.store(true, ordering: .releasing)
        case .succeeded, .failed, .cancelled:
            break
        }
        return job.snapshot
    }

    /// Ends running job `id` with `outcome`, frees its slot, forgets the oldest records past
    /// `retain` and starts nothing (the scheduler starts the next jobs).
    mutating func finish(_ id: String, _ outcome: Outcome, at now: Moment) -> (job: Job?, effects: Effects) {
        running -= 1
        var effects = Effects()
        guard var job = jobs[id] else { return (nil, effects) }
        job.snapshot.finishedAt = now.date
        job.snapshot.etaSeconds = nil
        switch outcome {
        case .installed(let stored, let report, let metrics):
            job.snapshot.status = .succeeded
            job.snapshot.version = stored.version
            job.snapshot.stopReason = report.stopReason.rawValue
            job.snapshot.restoredEpoch = report.restoredEpoch
            job.snapshot.samplesPerSecond = finite(report.samplesPerSecond)
            job.snapshot.metrics = metrics
        case .cancelled(let report):
            job.snapshot.status = .cancelled
            job.snapshot.stopReason = TrainingReport.StopReason.cancelled.rawValue
            if let report { job.snapshot.samplesPerSecond = finite(report.samplesPerSecond) }
        case .failed(let failure):
            job.snapshot.status = .failed
            job.snapshot.error = failure.record
            job.failure = failure
        }
        jobs[id] = job
        effects.ended.append((job.snapshot, job.failure, waiters.removeValue(forKey: id) ?? []))
        effects.forgotten = forgetOld()
        return (job, effects)
    }

    /// Forgets the oldest finished jobs while more than `retain` are kept; returns their ids.
    private mutating func forgetOld() -> [String] {
        guard order.count > limits.retain else { return [] }
        let finished = order.filter { jobs[$0]?.snapshot.status.isFinished == true }
        let dropped = Array(finished.prefix(order.count - limits.retain))
        let drop = Set(dropped)
        order.removeAll { drop.contains($0) }
        for id in drop { jobs[id] = nil }
        return dropped
    }

    /// Forgets finished job `id` (`DELETE /jobs/{id}`); false if it was already gone.
    mutating func forget(_ id: String) -> Bool {
        guard jobs.removeValue(forKey: id) != nil else { return false }
        order.removeAll { $0 == id }
        return true
    }

    // MARK: - Progress

    /// Sets the training rows of running job `id` (known once the validation split is taken).
    mutating func setRows(_ id: String, _ rows: Int) {
        jobs[id]?.snapshot.rows = rows
    }

    /// Records epoch `point`, the `finished`-th of running job `id`; returns the snapshot and
    /// whether its record is due to be written (at most every `saveInterval`).
    mutating func record(
        _ point: JobSnapshot.Epoch, finished: Int, of id: String, saveInterval: Duration, at now: ContinuousClock.Instant
    ) -> (snapshot: JobSnapshot, save: Bool)? {
        guard var job = jobs[id] else { return nil }
        job.snapshot.epoch = finished
        job.history.append(point)
        job.snapshot.history = job.history.elements
        job.snapshot.samplesPerSecond = point.samplesPerSecond
        if let started = job.started {
            let remaining = Double(max(job.snapshot.epochs - finished, 0))
            job.snapshot.etaSeconds = (now - started).inSeconds / Double(finished) * remaining
        }
        let save = now - job.saved >= saveInterval
        if save { job.saved = now }
        jobs[id] = job
        return (job.snapshot, save)
    }

    // MARK: - Waiting

    /// Adds `waiter` for job `id`, unless it is unknown or has ended.
    mutating func addWaiter(_ waiter: Waiter, for id: String) -> WaitStart {
        guard let job = jobs[id] else { return .unknown }
        if job.snapshot.status.isFinished { return .ended(JobScheduler.Ended(snapshot: job.snapshot, failure: job.failure)) }
        waiters[id, default: []].append(waiter)
        return .waiting
    }
}
