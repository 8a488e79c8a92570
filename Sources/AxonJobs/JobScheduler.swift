import AxonAPI
import AxonStore
import Checkpoint
import AxonSupport
import Foundation
import Logging
import ModelKit
import Synchronization

/// Runs training jobs: at most `maxRunning` at once, each on a dedicated thread (long CPU work
/// must not occupy the cooperative pool or the HTTP threads), the rest queued in order.
///
/// The state and its transitions are a `JobQueue`; this class holds it under a lock and carries
/// out what each transition returns: records written through the `JobJournal`, waiters
/// answered, the `JobObserver` and `JobMetrics` told, jobs launched on a `JobRunner`.
///
/// A job's model keeps serving its previous version throughout: the new one is installed
/// (checkpointed, then swapped in by the store) only after training and evaluation finished.
/// Cancellation is a flag the trainer polls between steps.
///
/// Replicas sharing one state directory train a given model one at a time: a job holds the
/// model's `TrainingLock` from before its first step until its version is installed. The locks
/// are tried outside the state lock (they are files), one pass at a time: a job whose model
/// another process (or another job here) is training stays `queued` without taking a slot
/// (`waiting_for` says who holds the lock), lets the jobs behind it start, is retried every
/// `lockPollSeconds`, can be cancelled, and after `lockTimeout` fails with `training_locked`.
public final class JobScheduler: Sendable {
    /// How a job ended, and why when it failed here (a record restored from disk has no `failure`).
    public struct Ended: Sendable {
        /// The job's record.
        public let snapshot: JobSnapshot
        /// Why it failed; nil unless it failed in this process.
        public let failure: JobFailure?
    }

    private let store: ModelStore
    private let logger: Logger
    private let metrics: (any JobMetrics)?
    private let observer: (any JobObserver)?
    private let runner: JobRunner
    /// `Locked` (a pthread mutex), not `Mutex`: ThreadSanitizer cannot see `Mutex`'s futex and
    /// reports every access to the queue as a race.
    private let state: Locked<JobQueue>
    /// Serializes the passes that try training locks and start jobs, so two passes never race
    /// for one job's lock; the state lock is not held while the lock files are tried.
    private let starting = Locked(())
    /// Where job records persist (`<state>/jobs/`); empty until `restore()` opened it.
    private let journal = AtomicLazyReference<JobJournal>()
    /// Job records kept (`jobs.retain`): beyond it the oldest finished ones are forgotten,
    /// in memory and on disk.
    public let retain: Int
    /// Seconds between the attempts of a job waiting for its model's training lock.
    static let lockPollSeconds = 0.05
    /// How often a running job's record (its loss curve so far) is written at most.
    static let progressSaveInterval = Duration.seconds(5)
    /// What a queued job's error says when the daemon drains before it started.
    public static let drainMessage = JobFailure.interrupted.message

    /// Sets what is called on the training thread between the end of training and the install,
    /// with the model's name: lets a test land a delete exactly there. Nil in production.
    public func beforeInstall(_ hook: (@Sendable (String) -> Void)?) {
        runner.beforeInstall.withLock { $0 = hook }
    }

    /// A scheduler installing results into `store`.
    ///
    /// - Parameters:
    ///   - lockTimeout: how long a job waits for its model's training lock (held by another
    ///     replica training the same model) before it fails with `training_locked`.
    ///   - retain: job records kept (`jobs.retain`); the oldest finished ones go first.
    ///   - historyPoints: loss-curve points kept per job (`jobs.history_points`).
    ///   - maxQueuedBytes: bytes the data and models of all queued jobs may hold.
    ///   - metrics: where counts and losses are recorded (nil records nothing).
    ///   - observer: who hears of every change (the event streams; nil tells nobody).
    public init(
        store: ModelStore, maxRunning: Int, maxQueued: Int, lockTimeout: Duration = .seconds(600), retain: Int = 1_000,
        historyPoints: Int = 1_000, maxQueuedBytes: Int = 2 << 30, logger: Logger, metrics: (any JobMetrics)? = nil,
        observer: (any JobObserver)? = nil
    ) {
        precondition(maxRunning >= 1, "at least one training job must be able to run")
        precondition(retain >= 1, "at least one job record must be kept")
        self.store = store
        self.retain = retain
        self.logger = logger
        self.metrics = metrics
        self.observer = observer
        self.runner = JobRunner(store: store, historyPoints: historyPoints, metrics: metrics, logger: logger)
        state = Locked(JobQueue(limits: JobQueue.Limits(
            maxRunning: maxRunning, maxQueued: maxQueued, maxQueuedBytes: maxQueuedBytes, retain: retain,
            historyPoints: historyPoints, lockTimeout: lockTimeout)))
    }

    // MARK: - Records on disk

    /// Opens `<stateDirectory>/jobs/` and lists again the jobs of daemons that are gone (this
    /// one's previous run among them): finished ones as they ended, queued or running ones as
    /// failed with `interrupted`. From now on every job's record is written there. A state
    /// directory that cannot be written leaves jobs in memory only (logged), as before.
    /// Call once, before serving; later calls do nothing.
    /// - Returns: how many jobs were restored.
    @discardableResult
    public func restore(stateDirectory: String) -> Int {
        guard journal.load() == nil else { return 0 }
        let start = ContinuousClock.now
        let opened: JobJournal
        do {
            opened = try JobJournal.open(stateDirectory: stateDirectory, logger: logger)
        } catch {
            logger.error("job records cannot be kept; jobs live in memory only", metadata: ["state.dir": "\(stateDirectory)", "error": "\(error)"])
            return 0
        }
        let journal = self.journal.storeIfNil(opened)
        guard journal === opened else { return 0 }
        let restored = journal.restore()
        // Submission order: by time (ISO 8601 in UTC sorts as text), then by number, which
        // orders jobs submitted within one second by one daemon.
        let sorted = restored.jobs.sorted {
            ($0.createdAt, JobQueue.number($0.id)) < ($1.createdAt, JobQueue.number($1.id))
        }
        let forgotten = state.withLock { $0.adopt(sorted, at: .now) }
        for id in forgotten { journal.remove(id) }
        journal.flush()
        if !restored.jobs.isEmpty || restored.skipped > 0 {
            logger.notice(
                "job records restored",
                metadata: ["jobs.restored": "\(restored.jobs.count)", "jobs.interrupted": "\(restored.interrupted)",
                           "jobs.skipped": "\(restored.skipped)", "jobs.forgotten": "\(forgotten.count)",
                           "jobs.seconds": "\((ContinuousClock.now - start).inSeconds)"])
        }
        return restored.jobs.count
    }

    /// Returns once the records of every job submitted so far are on disk (at once when no
    /// directory is open): a 202 is answered only for a job a restart will list.
    public func persisted() async {
        await journal.load()?.flushed()
    }

    /// Writes what is pending and releases the job directory for the next daemon, which will
    /// list jobs still running here as interrupted. Called at shutdown.
    public func close() {
        journal.load()?.close()
    }

    // MARK: - Transitions

    /// Runs `transition` under the state lock, queues its records for writing and publishes
    /// the counts there (so two transitions cannot write or publish out of order), then
    /// carries out the rest outside it.
    @discardableResult
    private func transition<T, E: Error>(_ transition: (inout JobQueue) throws(E) -> (T, JobQueue.Effects)) throws(E) -> T {
        let (value, effects) = try state.withLock { (queue) throws(E) -> (T, JobQueue.Effects) in
            let (value, effects) = try transition(&queue)
            if let journal = journal.load() {
                for snapshot in effects.saves { journal.save(snapshot) }
            }
            metrics?.setJobs(queued: queue.queue.count, running: queue.running)
            return (value, effects)
        }
        carryOut(effects)
        return value
    }

    /// Carries out what a transition decided, outside the state lock.
    private func carryOut(_ effects: JobQueue.Effects) {
        for lock in effects.unusedLocks { lock.unlock() }
        for ending in effects.endedUnrun {
            metrics?.jobFinished(outcome: ending, duration: .zero, samples: 0, earlyStopped: false)
        }
        if let journal = journal.load() {
            for id in effects.forgotten { journal.remove(id) }
            // Durable before anyone hears of the outcome: a `?wait=true` answer is never lost
            // to a restart.
            for ended in effects.ended { journal.saveNow(ended.snapshot) }
        }
        for ended in effects.ended {
            let result = Ended(snapshot: ended.snapshot, failure: ended.failure)
            for waiter in ended.waiters { waiter.resume(returning: result) }
            observer?.finished(ended.snapshot)
        }
        for snapshot in effects.waiting {
            logger.info(
                "training job waits for the model's training lock",
                metadata: ["job.id": "\(snapshot.id)", "model.name": "\(snapshot.model)", "lock.holder": "\(snapshot.waitingFor ?? "")"])
            observer?.waiting(snapshot)
        }
        for launch in effects.launch {
            // Before its thread exists, so no epoch can overtake it.
            if observer?.isListening == true, let snapshot = job(launch.id) { observer?.started(snapshot) }
            Task { [self] in
                let outcome = await runner.run(launch, progress: progress(of: launch))
                finish(launch.id, outcome)
            }
        }
        if effects.startPolling {
            Task { [self] in await pollLocks() }
        }
    }

    /// Starts queued jobs, in order, while slots are free: tries their models' training locks
    /// (files: outside the state lock), then lets the queue decide.
    private func startQueued() {
        starting.withLock { _ in
            // No early return on no candidates: a queued job whose model was deleted is not
            // one, and `start` is what fails it.
            let (candidates, idle) = state.withLock { ($0.candidates(), $0.queue.isEmpty) }
            guard !idle else { return }
            var attempts: [String: JobQueue.LockAttempt] = [:]
            var free = state.withLock { $0.freeSlots }
            for candidate in candidates where free > 0 {
                let attempt = tryLock(candidate.model)
                attempts[candidate.id] = attempt
                if case .acquired = attempt { free -= 1 }
            }
            transition { queue in ((), queue.start(attempts, at: .now)) }
        }
    }

    private func tryLock(_ model: String) -> JobQueue.LockAttempt {
        do {
            let name = try ModelName(model)
            let path = TrainingLock.path(stateDirectory: store.directory.root, model: name)
            guard let lock = try TrainingLock.tryAcquire(path: path) else { return .held(holder: TrainingLock.holder(path: path)) }
            return .acquired(lock)
        } catch {
            logger.error("training lock failed", metadata: ["model.name": "\(model)", "error": "\(error)"])
            return .failed(reason: "\(error)")
        }
    }

    /// Retries the queue every `lockPollSeconds` while a queued job waits for a training lock
    /// (a lock held by another process announces nothing when it is released).
    private func pollLocks() async {
        while true {
            try? await Task.sleep(for: .milliseconds(Int(Self.lockPollSeconds * 1000)))
            startQueued()
            if !state.withLock({ $0.stillWaiting() }) { return }
        }
    }

    // MARK: - Submitting and ending

    /// Queues `plan`; throws when the queue is full (`limits.max_queued_jobs`,
    /// `limits.max_queued_job_bytes`), the daemon drains, or the model a continuing plan starts
    /// from was deleted meanwhile.
    public func submit(_ plan: TrainingPlan) throws(JobRefusal) -> JobSnapshot {
        // Taken before anything is queued: a delete from now on fails the job (deletes win).
        let deletion = store.deletionMark(for: plan.name)
        if plan.parentVersion != nil, store.current(plan.name) == nil {
            // Deleted between reading the model and this mark: there is nothing to continue.
            throw .modelGone(.modelNotFound(name: plan.name))
        }
        let snapshot = try transition { (queue) throws(JobRefusal) in
            let snapshot = try queue.submit(plan, deletion: deletion, at: .now)
            var effects = JobQueue.Effects()
            effects.saves.append(snapshot)
            return (snapshot, effects)
        }
        observer?.queued(snapshot)
        startQueued()
        return snapshot
    }

    /// The daemon has begun to drain: jobs still queued will not run in this process, so they
    /// fail now with `interrupted` (their `?wait=true` callers get a 503 at once instead of
    /// being cut off at the drain deadline) and new submissions are refused with `draining`.
    /// Running jobs carry on; one that finishes within the drain is answered as usual.
    public func beginDrain() {
        let failed = transition { queue in
            let effects = queue.drain(at: .now)
            return (effects.ended.count, effects)
        }
        if failed > 0 {
            logger.notice("queued training jobs failed: the daemon is draining", metadata: ["jobs.count": "\(failed)"])
        }
    }

    /// Fails at once every queued job whose model was deleted since it was submitted (its
    /// `DeletionMark` is raised); a running one stops at its next step and fails the same way.
    /// Call after a delete; a queued job missed here fails when it would start.
    public func failJobsOfDeletedModels() {
        transition { queue in ((), queue.failDeleted(at: .now)) }
    }

    /// What the runner reports while `launch` trains: the rows, then each epoch.
    private func progress(of launch: JobQueue.Launch) -> JobRunner.Progress {
        let id = launch.id
        return JobRunner.Progress(
            rows: { [self] rows in state.withLock { $0.setRows(id, rows) } },
            epoch: { [self] finished, figures in
                let point = JobSnapshot.Epoch(
                    epoch: figures.epoch, trainLoss: finite(figures.trainLoss), validationLoss: finite(figures.validationLoss),
                    samplesPerSecond: finite(figures.samplesPerSecond))
                let recorded = state.withLock { queue -> JobSnapshot? in
                    guard let (snapshot, save) = queue.record(point, finished: finished, of: id, saveInterval: Self.progressSaveInterval, at: .now)
                    else { return nil }
                    if save { journal.load()?.save(snapshot) }
                    return snapshot
                }
                if let recorded, observer?.isListening == true { observer?.epoch(recorded, point) }
            })
    }

    private func finish(_ id: String, _ outcome: JobQueue.Outcome) {
        // The model's change is announced before the job's end, so whoever hears that the job
        // succeeded can already find its version.
        if case .installed(let stored, _, _) = outcome { observer?.installed(model: stored.name, version: stored.version) }
        // Counted before the waiters resume, so whoever hears of the end sees it in /metrics.
        let job = transition { queue in
            let finished = queue.finish(id, outcome, at: .now)
            if let job = finished.job { record(job, outcome) }
            return finished
        }
        if let job {
            let snapshot = job.snapshot
            logger.info(
                "training job finished",
                metadata: ["job.id": "\(id)", "model.name": "\(snapshot.model)", "job.status": "\(snapshot.status.rawValue)",
                           "model.version": "\(snapshot.version.map(String.init) ?? "-")"])
        }
        startQueued()
    }

    /// Records a job that ran: outcome, wall time since it started, epochs x training rows.
    private func record(_ job: JobQueue.Job, _ outcome: JobQueue.Outcome) {
        guard let metrics else { return }
        let duration = job.started.map { ContinuousClock.now - $0 } ?? .zero
        let samples = job.snapshot.epoch * job.snapshot.rows
        switch outcome {
        case .installed(_, let report, _):
            metrics.jobFinished(outcome: .succeeded, duration: duration, samples: samples, earlyStopped: report.stopReason == .earlyStopped)
        case .cancelled:
            metrics.jobFinished(outcome: .cancelled, duration: duration, samples: samples, earlyStopped: false)
        case .failed:
            metrics.jobFinished(outcome: .failed, duration: duration, samples: samples, earlyStopped: false)
        }
    }

    // MARK: - Reading, cancelling, waiting

    /// The job `id`, or nil.
    public func job(_ id: String) -> JobSnapshot? {
        state.withLock { $0.jobs[id]?.snapshot }
    }

    /// The newest `limit` retained jobs (all by default), newest first.
    public func list(limit: Int = .max) -> [JobSnapshot] {
        state.withLock { queue in queue.order.reversed().prefix(limit).compactMap { queue.jobs[$0]?.snapshot } }
    }

    /// Jobs not yet finished.
    public var activeCount: Int {
        state.withLock { queue in queue.jobs.values.filter { !$0.snapshot.status.isFinished }.count }
    }

    /// Cancels `id`: a queued job ends at once, a running one at its next step boundary.
    /// Returns the job as it is now, or nil if unknown.
    @discardableResult
    public func cancel(_ id: String) -> JobSnapshot? {
        transition { queue in
            var effects = JobQueue.Effects()
            return (queue.cancel(id, at: .now, into: &effects), effects)
        }
    }

    /// Removes job `id` (`DELETE /jobs/{id}`): an unfinished job is cancelled first and this
    /// waits until it has stopped (a running one stops at its next step; nothing is installed
    /// after it is gone), then its record is forgotten in memory and on disk, durably, so
    /// `GET /jobs/{id}` answers 404 from then on, across restarts too.
    /// Returns the job as it ended, or nil if unknown (or removed meanwhile by another call).
    public func remove(_ id: String) async -> JobSnapshot? {
        guard let current = cancel(id) else { return nil }
        let ended: JobSnapshot
        if current.status.isFinished {
            ended = current
        } else {
            guard let stopped = await wait(id) else { return nil }
            ended = stopped
        }
        let forgotten = state.withLock { $0.forget(id) }
        if forgotten, let journal = journal.load() {
            journal.remove(id)
            await journal.flushed()
        }
        return ended
    }

    /// Waits until `id` has finished and returns it (nil if unknown).
    public func wait(_ id: String) async -> JobSnapshot? {
        await ended(id)?.snapshot
    }

    /// Waits until `id` has finished and returns how it ended (nil if unknown).
    public func ended(_ id: String) async -> Ended? {
        guard job(id) != nil else { return nil }
        return await withCheckedContinuation { (continuation: JobQueue.Waiter) in
            let start = state.withLock { $0.addWaiter(continuation, for: id) }
            switch start {
            // Forgotten since (`DELETE /jobs/{id}` from another request).
            case .unknown: continuation.resume(returning: nil)
            case .ended(let ended): continuation.resume(returning: ended)
            case .waiting: break
            }
        }
    }
}
