import AxonAPI
import AxonHTTP
import AxonStore
import AxonSupport
import Checkpoint
import Foundation
import Logging
import ModelKit
import Synchronization

/// Runs training jobs: at most `maxRunning` at once, each on a dedicated thread (long CPU work
/// must not occupy the cooperative pool or the HTTP threads), the rest queued in order.
///
/// A job's model keeps serving its previous version throughout: the new one is installed
/// (checkpointed, then swapped in by the store) only after training and evaluation finished.
/// Cancellation is a flag the trainer polls between steps.
///
/// Replicas sharing one state directory train a given model one at a time: a job holds the
/// model's `TrainingLock` from before its first step until its version is installed. The lock
/// is taken when the job would start: a job whose model another process (or another job here)
/// is training stays `queued` without taking a slot (`waiting_for` says who holds the lock),
/// lets the jobs behind it start, is retried every `lockPollSeconds` by one poller thread,
/// can be cancelled, and after `lockTimeout` fails with `training_locked` naming the model and
/// the holder.
///
/// Each job's record is kept on disk through a `JobJournal` once `restore(stateDirectory:)`
/// has opened it.
public final class JobScheduler: Sendable {
    private final class CancelFlag: Sendable {
        let raised = Atomic<Bool>(false)
    }

    private struct Job {
        var snapshot: JobSnapshot
        var plan: TrainingPlan?
        /// The loss curve, bounded; `snapshot.history` is its elements.
        var history: DecimatedHistory<JobSnapshot.Epoch>
        let cancel = CancelFlag()
        var started: ContinuousClock.Instant?
        /// When its record was last queued for writing (progress is written every
        /// `progressSaveInterval` at most, not every epoch).
        var saved = ContinuousClock.now
        /// When it first found its model's training lock taken.
        var lockWaitSince: ContinuousClock.Instant?
        /// Raised when its model is deleted while it is queued (handed to the training thread
        /// when it starts): the delete wins.
        var deletion: DeletionMark?
    }

    /// What one pass over the queue decided, under the state lock; acted on outside it.
    private struct Dispatch {
        var launch: [(id: String, plan: TrainingPlan, flag: CancelFlag, lock: TrainingLock, deletion: DeletionMark?)] = []
        var failed: [(JobSnapshot, [CheckedContinuation<JobSnapshot, Never>])] = []
        var startPoller = false
        /// Jobs that just began waiting for their model's training lock.
        var waiting: [JobSnapshot] = []
    }

    private struct State {
        var jobs: [String: Job] = [:]
        var order: [String] = []
        var queue: [String] = []
        var running = 0
        var waiters: [String: [CheckedContinuation<JobSnapshot, Never>]] = [:]
        var nextNumber = 1
        /// Set once the daemon drains: nothing new is queued or started.
        var draining = false
        /// Whether the lock poller thread runs.
        var polling = false
    }

    private let store: ModelStore
    private let maxRunning: Int
    private let maxQueued: Int
    /// Bytes the data and start models of all queued jobs may hold (`limits.max_queued_job_bytes`).
    private let maxQueuedBytes: Int
    private let logger: Logger
    private let lockTimeout: Duration
    /// Where job counts, epochs and outcomes are recorded; nil records nothing.
    private let metrics: TrainingMetrics?
    private let state = Mutex(State())
    /// Where job records persist (`<state>/jobs/`); empty until `restore()` opened it.
    private let journal = AtomicLazyReference<JobJournal>()
    /// Job records kept (`jobs.retain`): beyond it the oldest finished ones are forgotten,
    /// in memory and on disk.
    let retain: Int
    /// Loss-curve points kept per job (`jobs.history_points`), evenly decimated past that.
    let historyPoints: Int
    /// Seconds between the attempts of a job waiting for its model's training lock.
    static let lockPollSeconds = 0.05
    /// Called on the training thread between the end of training and the install, with the
    /// model's name: lets a test land a delete exactly there. Nil in production.
    let beforeInstall = Mutex<(@Sendable (String) -> Void)?>(nil)
    /// How often a running job's record (its loss curve so far) is written at most.
    static let progressSaveInterval = Duration.seconds(5)
    /// The jobs' Server-Sent Events.
    public let events: JobEvents

    /// A scheduler installing results into `store`, recording into `metrics` (nil records nothing).
    ///
    /// - Parameters:
    ///   - lockTimeout: how long a job waits for its model's training lock (held by another
    ///     replica training the same model) before it fails with `training_locked`.
    ///   - retain: job records kept (`jobs.retain`); the oldest finished ones go first.
    public init(
        store: ModelStore, maxRunning: Int, maxQueued: Int, lockTimeout: Duration = .seconds(600), retain: Int = 1_000,
        historyPoints: Int = 1_000, maxQueuedBytes: Int = ServerLimits().maxQueuedJobBytes, logger: Logger, metrics: AxonMetrics? = nil,
        events: JobEvents = JobEvents()
    ) {
        precondition(maxRunning >= 1, "at least one training job must be able to run")
        precondition(retain >= 1, "at least one job record must be kept")
        self.store = store
        self.maxRunning = maxRunning
        self.maxQueued = maxQueued
        self.retain = retain
        self.historyPoints = historyPoints
        self.maxQueuedBytes = maxQueuedBytes
        self.lockTimeout = lockTimeout
        self.logger = logger
        self.metrics = metrics?.training
        self.events = events
    }

    /// Publishes the queued and running counts. Called inside the state lock so that two
    /// transitions cannot publish their counts out of order.
    private func recordCounts(_ state: State) {
        metrics?.setJobs(queued: state.queue.count, running: state.running)
    }

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
        let sorted = restored.jobs.sorted { ($0.createdAt, Self.number($0.id)) < ($1.createdAt, Self.number($1.id)) }
        let forgotten = state.withLock { state -> [String] in
            var known = Set(state.order)
            var adopted: [String] = []
            for job in sorted where !known.contains(job.id) {
                known.insert(job.id)
                state.jobs[job.id] = Job(snapshot: job, plan: nil, history: DecimatedHistory(capacity: historyPoints))
                adopted.append(job.id)
            }
            // Restored jobs are older than any submitted here.
            state.order = adopted + state.order
            state.nextNumber = max(state.nextNumber, (sorted.map { Self.number($0.id) }.max() ?? 0) + 1)
            return Self.forgetOld(&state, retain: retain)
        }
        for id in forgotten { journal.remove(id) }
        journal.flush()
        if !restored.jobs.isEmpty || restored.skipped > 0 {
            logger.notice(
                "job records restored",
                metadata: ["jobs.restored": "\(restored.jobs.count)", "jobs.interrupted": "\(restored.interrupted)",
                           "jobs.skipped": "\(restored.skipped)", "jobs.forgotten": "\(forgotten.count)",
                           "jobs.seconds": "\(ConfigurationKey.seconds(ContinuousClock.now - start))"])
        }
        return restored.jobs.count
    }

    /// The daemon has begun to drain: jobs still queued will not run in this process, so they
    /// fail now with `interrupted` (their `?wait=true` callers get a 503 at once instead of
    /// being cut off at the drain deadline) and new submissions are refused with `draining`.
    /// Running jobs carry on; one that finishes within the drain is answered as usual.
    public func beginDrain() {
        let finished = state.withLock { state -> [(JobSnapshot, [CheckedContinuation<JobSnapshot, Never>])] in
            state.draining = true
            var finished: [(JobSnapshot, [CheckedContinuation<JobSnapshot, Never>])] = []
            for id in state.queue {
                guard var job = state.jobs[id] else { continue }
                job.plan = nil
                job.snapshot.status = .failed
                job.snapshot.waitingFor = nil
                job.snapshot.finishedAt = Date().iso8601
                job.snapshot.error = JobSnapshot.Failure(code: "interrupted", message: Self.drainMessage, status: .serviceUnavailable)
                state.jobs[id] = job
                metrics?.jobFinished(outcome: .failed, duration: .zero, samples: 0, earlyStopped: false)
                finished.append((job.snapshot, state.waiters.removeValue(forKey: id) ?? []))
            }
            state.queue = []
            recordCounts(state)
            return finished
        }
        if !finished.isEmpty {
            logger.notice("queued training jobs failed: the daemon is draining", metadata: ["jobs.count": "\(finished.count)"])
        }
        for (snapshot, waiters) in finished {
            journal.load()?.saveNow(snapshot)
            for waiter in waiters { waiter.resume(returning: snapshot) }
            events.publish(job: snapshot.id) { JobEvents.final(snapshot) }
        }
    }

    /// What a queued job's error says when the daemon drains before it started.
    static let drainMessage = "the daemon is shutting down and the job had not started; its training data was not kept, resubmit it"

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

    /// The sequence number in `job-<n>-<hex>` (0 for other ids).
    private static func number(_ id: String) -> Int {
        let parts = id.split(separator: "-")
        return parts.count >= 2 ? Int(parts[1]) ?? 0 : 0
    }

    /// Queues `plan`; throws 409 when `limits.max_queued_jobs` jobs already wait, and 404 when
    /// the model a continuing plan starts from was deleted meanwhile.
    func submit(_ plan: TrainingPlan) throws(APIError) -> JobSnapshot {
        let now = Date().iso8601
        // Taken before anything is queued: a delete from now on fails the job (deletes win).
        let deletion = store.deletionMark(for: plan.name)
        if plan.parentVersion != nil, store.current(plan.name) == nil {
            // Deleted between reading the model and this mark: there is nothing to continue.
            let error = StoreError.modelNotFound(name: plan.name)
            throw APIError(status: error.status, code: error.code, message: error.message)
        }
        let (snapshot, dispatch) = try state.withLock { (state) throws(APIError) -> (JobSnapshot, Dispatch) in
            guard !state.draining else { throw APIError.draining }
            guard state.queue.count < maxQueued else {
                throw APIError(
                    status: .conflict, code: "queue_full",
                    message: "\(state.queue.count) training jobs are queued, limits.max_queued_jobs is \(maxQueued); retry later")
            }
            // Queued jobs hold their data until they run: bounded in bytes as well as in count.
            let needed = plan.heldBytes
            guard needed <= maxQueuedBytes else {
                throw APIError.limitExceeded(
                    key: "limits.max_queued_job_bytes", limit: maxQueuedBytes, needed: needed, what: "this job's data and model", unit: .bytes)
            }
            let held = state.queue.reduce(0) { $0 + (state.jobs[$1]?.plan?.heldBytes ?? 0) }
            guard held <= maxQueuedBytes - needed else {
                throw APIError(
                    status: .conflict, code: "queue_full",
                    message: "queued training jobs hold \(LimitUnit.bytes.format(held)) and this one needs \(LimitUnit.bytes.format(needed)); "
                        + "limits.max_queued_job_bytes is \(LimitUnit.bytes.format(maxQueuedBytes)); retry later")
            }
            let id = "job-\(state.nextNumber)-\(String(UInt32.random(in: 0 ... .max), radix: 16))"
            state.nextNumber += 1
            var snapshot = JobSnapshot(
                id: id, model: plan.name, kind: plan.parentVersion == nil ? "train" : "continue", status: .queued,
                createdAt: now, epochs: plan.configuration.epochs, epoch: 0, rows: plan.dataset.count, history: [],
                parentVersion: plan.parentVersion)
            snapshot.settings = ResolvedSettings(model: plan.start, training: plan.configuration, rows: plan.dataset.count, why: plan.reasons)
            state.jobs[id] = Job(snapshot: snapshot, plan: plan, history: DecimatedHistory(capacity: historyPoints), deletion: deletion)
            state.order.append(id)
            state.queue.append(id)
            journal.load()?.save(snapshot)
            let dispatch = startable(&state)
            recordCounts(state)
            return (snapshot, dispatch)
        }
        events.publish(job: snapshot.id) { JobEvents.queued(snapshot) }
        act(dispatch)
        return snapshot
    }

    /// Starts queued jobs, in order, while slots are free: each takes its model's training
    /// lock first; one whose lock is taken stays queued (without a slot) and the next is tried.
    /// A job that waited `lockTimeout` for its lock fails with `training_locked`.
    private func startable(_ state: inout State) -> Dispatch {
        var dispatch = Dispatch()
        guard !state.draining else { return dispatch }
        var index = 0
        var blocked = false
        while state.running < maxRunning, index < state.queue.count {
            let id = state.queue[index]
            guard var job = state.jobs[id], let plan = job.plan else {
                state.queue.remove(at: index)
                continue
            }
            if job.deletion?.isRaised == true {
                state.queue.remove(at: index)
                dispatch.failed.append(failDeleted(id, &state))
                continue
            }
            let path = (try? ModelName(plan.name)).map { TrainingLock.path(stateDirectory: store.directory.root, model: $0) }
            let lock: TrainingLock?
            do {
                guard let path else { throw TrainingLockError.cannotOpen(path: plan.name, errno: EINVAL) }
                lock = try TrainingLock.tryAcquire(path: path)
            } catch {
                logger.error("training lock failed", metadata: ["job.id": "\(id)", "error": "\(error)"])
                state.queue.remove(at: index)
                dispatch.failed.append(fail(
                    id, &state, code: "training_lock_failed", message: "cannot take the model's training lock: \(error)",
                    status: .internalServerError))
                continue
            }
            guard let lock else {
                let now = ContinuousClock.now
                let holder = path.flatMap(TrainingLock.holder(path:))
                let since = job.lockWaitSince ?? now
                if job.lockWaitSince == nil {
                    job.lockWaitSince = now
                    logger.info(
                        "training job waits for the model's training lock",
                        metadata: ["job.id": "\(id)", "model.name": "\(plan.name)", "lock.holder": "\(holder ?? "unknown")"])
                }
                let waiting = "the training lock of model \"\(plan.name)\"" + (holder.map { ", held by \($0)" } ?? "")
                let changed = job.snapshot.waitingFor != waiting
                job.snapshot.waitingFor = waiting
                if changed { dispatch.waiting.append(job.snapshot) }
                state.jobs[id] = job
                if now - since >= lockTimeout {
                    logger.warning("training job gave up waiting for the model's training lock", metadata: ["job.id": "\(id)", "model.name": "\(plan.name)"])
                    state.queue.remove(at: index)
                    dispatch.failed.append(fail(
                        id, &state, code: "training_locked",
                        message: "model \"\(plan.name)\" is being trained by another job" + (holder.map { " (\($0))" } ?? "")
                            + "; waited \(ConfigurationKey.seconds(lockTimeout)) s for its training lock (jobs.lock_timeout_seconds); retry when that job has finished",
                        status: .conflict))
                    continue
                }
                blocked = true
                index += 1
                continue
            }
            state.queue.remove(at: index)
            job.plan = nil
            job.snapshot.status = .running
            job.snapshot.waitingFor = nil
            job.snapshot.startedAt = Date().iso8601
            job.started = ContinuousClock.now
            job.saved = ContinuousClock.now
            journal.load()?.save(job.snapshot)
            state.jobs[id] = job
            state.running += 1
            dispatch.launch.append((id, plan, job.cancel, lock, job.deletion))
            state.jobs[id]?.deletion = nil
        }
        if blocked, !state.polling {
            state.polling = true
            dispatch.startPoller = true
        }
        return dispatch
    }

    /// Ends queued job `id` as failed; returns it with its waiters, to be told outside the lock.
    private func fail(
        _ id: String, _ state: inout State, code: String, message: String, status: HTTPStatus
    ) -> (JobSnapshot, [CheckedContinuation<JobSnapshot, Never>]) {
        guard var job = state.jobs[id] else { preconditionFailure("queued job \(id) is not known") }
        job.plan = nil
        job.snapshot.status = .failed
        job.snapshot.waitingFor = nil
        job.snapshot.finishedAt = Date().iso8601
        job.snapshot.error = JobSnapshot.Failure(code: code, message: message, status: status)
        state.jobs[id] = job
        metrics?.jobFinished(outcome: .failed, duration: .zero, samples: 0, earlyStopped: false)
        return (job.snapshot, state.waiters.removeValue(forKey: id) ?? [])
    }

    /// Ends queued job `id` as failed with `model_deleted`.
    private func failDeleted(_ id: String, _ state: inout State) -> (JobSnapshot, [CheckedContinuation<JobSnapshot, Never>]) {
        let error = StoreError.modelDeleted(name: state.jobs[id]?.snapshot.model ?? "")
        state.jobs[id]?.deletion = nil
        return fail(id, &state, code: error.code, message: error.message, status: error.status)
    }

    /// Fails at once every queued job whose model was deleted since it was submitted (its
    /// `DeletionMark` is raised); a running one stops at its next step and fails the same way.
    /// Call after a delete; a queued job missed here fails when it would start.
    public func failJobsOfDeletedModels() {
        let dispatch = state.withLock { state -> Dispatch in
            var dispatch = Dispatch()
            let deleted = state.queue.filter { state.jobs[$0]?.deletion?.isRaised == true }
            guard !deleted.isEmpty else { return dispatch }
            state.queue.removeAll { deleted.contains($0) }
            for id in deleted { dispatch.failed.append(failDeleted(id, &state)) }
            recordCounts(state)
            return dispatch
        }
        act(dispatch)
    }

    /// Carries out what `startable` decided: failed jobs are recorded and their waiters told,
    /// started ones get their thread, and the lock poller starts if a job waits for a lock.
    private func act(_ dispatch: Dispatch) {
        for (snapshot, waiters) in dispatch.failed {
            journal.load()?.saveNow(snapshot)
            for waiter in waiters { waiter.resume(returning: snapshot) }
            events.publish(job: snapshot.id) { JobEvents.final(snapshot) }
        }
        for snapshot in dispatch.waiting {
            events.publish(job: snapshot.id) { JobEvents.waiting(snapshot) }
        }
        for start in dispatch.launch {
            // Before its thread exists, so no epoch can overtake it.
            if events.hasListeners, let snapshot = job(start.id) { events.publish(job: start.id) { JobEvents.started(snapshot) } }
            launch(start.id, start.plan, start.flag, start.lock, start.deletion)
        }
        if dispatch.startPoller {
            DedicatedThread.start("axon-train-locks") { [self] in self.pollLocks() }
        }
    }

    /// Retries the queue every `lockPollSeconds` while a queued job waits for a training lock
    /// (a lock held by another process announces nothing when it is released).
    private func pollLocks() {
        while true {
            Thread.sleep(forTimeInterval: Self.lockPollSeconds)
            let (dispatch, waiting) = state.withLock { state -> (Dispatch, Bool) in
                let dispatch = startable(&state)
                let waiting = !state.draining && state.queue.contains { state.jobs[$0]?.lockWaitSince != nil }
                if !waiting { state.polling = false }
                recordCounts(state)
                return (dispatch, waiting)
            }
            act(dispatch)
            if !waiting { return }
        }
    }

    private func launch(_ id: String, _ plan: TrainingPlan, _ flag: CancelFlag, _ lock: TrainingLock, _ deletion: DeletionMark?) {
        Task { [self] in
            let outcome = await self.train(id, plan, flag, lock, deletion)
            self.finish(id, outcome)
        }
    }

    /// The job `id`, or nil.
    public func job(_ id: String) -> JobSnapshot? {
        state.withLock { $0.jobs[id]?.snapshot }
    }

    /// The newest `limit` retained jobs (all by default), newest first.
    public func list(limit: Int = .max) -> [JobSnapshot] {
        state.withLock { state in state.order.reversed().prefix(limit).compactMap { state.jobs[$0]?.snapshot } }
    }

    /// Jobs not yet finished.
    public var activeCount: Int {
        state.withLock { state in state.jobs.values.filter { !$0.snapshot.status.isFinished }.count }
    }

    /// Cancels `id`: a queued job ends at once, a running one at its next step boundary.
    /// Returns the job as it is now, or nil if unknown.
    public func cancel(_ id: String) -> JobSnapshot? {
        let (snapshot, waiters) = state.withLock { state -> (JobSnapshot?, [CheckedContinuation<JobSnapshot, Never>]) in
            guard var job = state.jobs[id] else { return (nil, []) }
            switch job.snapshot.status {
            case .queued:
                state.queue.removeAll { $0 == id }
                job.plan = nil
                job.snapshot.status = .cancelled
                job.snapshot.waitingFor = nil
                job.snapshot.stopReason = TrainingReport.StopReason.cancelled.rawValue
                job.snapshot.finishedAt = Date().iso8601
                state.jobs[id] = job
                journal.load()?.save(job.snapshot)
                recordCounts(state)
                // It never ran: counted by outcome, with no wall time.
                metrics?.jobFinished(outcome: .cancelled, duration: .zero, samples: 0, earlyStopped: false)
                return (job.snapshot, state.waiters.removeValue(forKey: id) ?? [])
            case .running:
                job.cancel.raised.store(true, ordering: .releasing)
                return (job.snapshot, [])
            case .succeeded, .failed, .cancelled:
                return (job.snapshot, [])
            }
        }
        if let snapshot {
            for waiter in waiters { waiter.resume(returning: snapshot) }
            if snapshot.status.isFinished { events.publish(job: id) { JobEvents.final(snapshot) } }
        }
        return snapshot
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
        let forgotten = state.withLock { state -> Bool in
            guard state.jobs.removeValue(forKey: id) != nil else { return false }
            state.order.removeAll { $0 == id }
            return true
        }
        if forgotten, let journal = journal.load() {
            journal.remove(id)
            await journal.flushed()
        }
        return ended
    }

    /// Waits until `id` has finished and returns it (nil if unknown).
    public func wait(_ id: String) async -> JobSnapshot? {
        guard job(id) != nil else { return nil }
        return await withCheckedContinuation { (continuation: CheckedContinuation<JobSnapshot, Never>) in
            let finished = state.withLock { state -> JobSnapshot? in
                guard let job = state.jobs[id] else { return nil }
                if job.snapshot.status.isFinished { return job.snapshot }
                state.waiters[id, default: []].append(continuation)
                return nil
            }
            if let finished { continuation.resume(returning: finished) }
        }
    }

    // MARK: - Running a job (on its own thread)

    private enum Outcome {
        case installed(StoredModel, TrainingReport, MetricsView)
        case cancelled(TrainingReport?)
        /// `status` is what `?wait=true` answers with.
        case failed(code: String, message: String, status: HTTPStatus)
    }

    /// Trains with the model's training lock held, and releases it once the result is installed.
    /// A job whose model was deleted meanwhile (`deletion` raised) fails with `model_deleted`,
    /// whatever else stopped it, unless it was cancelled first.
    private func train(_ id: String, _ plan: TrainingPlan, _ flag: CancelFlag, _ lock: TrainingLock, _ deletion: DeletionMark?) async -> Outcome {
        defer { lock.unlock() }
        let outcome: Outcome
        do {
            outcome = try await trainAndInstall(id, plan, flag, deletion)
        } catch {
            outcome = failure(id, error)
        }
        switch outcome {
        case .installed: return outcome
        case .cancelled where flag.raised.load(ordering: .acquiring): return outcome
        case .cancelled, .failed:
            guard deletion?.isRaised == true else { return outcome }
            let error = StoreError.modelDeleted(name: plan.name)
            return .failed(code: error.code, message: error.message, status: error.status)
        }
    }

    /// What a training thread hands back for the store to install.
    private struct Fitted: Sendable {
        let model: Model
        let metadata: ModelMetadata
        let optimizer: OptimizerState
        let report: TrainingReport
        let view: MetricsView
    }

    /// The job's path: the store reads a parent's optimizer state, one training thread fits the
    /// model, and the store installs it; the task awaits each step, and no thread blocks on another.
    private func trainAndInstall(_ id: String, _ plan: TrainingPlan, _ flag: CancelFlag, _ deletion: DeletionMark?) async throws -> Outcome {
        var optimizerState: OptimizerState?
        if let parent = plan.parentVersion {
            optimizerState = try await store.optimizerState(name: plan.name, version: parent)
        }
        let parentState = optimizerState
        let result = await DedicatedThread.run("axon-train", stackSize: DedicatedThread.computeStackSize) { [self] in
            let result = Result { () throws -> Fitted? in try self.fit(id, plan, flag, deletion, parentState) }
            // The job's data set copies and the trainer's workspaces were freed into this
            // thread's malloc arena, which glibc keeps: without a trim, a daemon that trains and
            // cancels all day creeps up in RSS (the soak saw +19% in ten minutes) though nothing leaks.
            _ = glibcMallocTrim(0)
            return result
        }
        guard let fitted = try result.get() else { return .cancelled(nil) }
        if flag.raised.load(ordering: .acquiring) { return .cancelled(fitted.report) }
        let stored = try await store.install(
            name: plan.name, model: fitted.model, metadata: fitted.metadata, optimizerState: fitted.optimizer, mark: deletion)
        // A first job's model exists only now: its loss series appear with it (see TrainingMetrics).
        if let last = fitted.report.history.last {
            self.metrics?.recordLosses(model: plan.name, trainLoss: last.trainLoss, validationLoss: last.validationLoss)
        }
        return .installed(stored, fitted.report, fitted.view)
    }

    /// Fits the plan's model on the calling (training) thread; nil when it was cancelled.
    private func fit(
        _ id: String, _ plan: TrainingPlan, _ flag: CancelFlag, _ deletion: DeletionMark?, _ optimizerState: OptimizerState?
    ) throws -> Fitted? {
        let trainer = try Trainer(model: plan.start, configuration: plan.configuration, optimizerState: optimizerState)
        trainer.historyCapacity = historyPoints
        var training = plan.dataset
        var validation: Dataset?
        if plan.configuration.validationFraction > 0 {
            (training, validation) = try plan.dataset.split(validationFraction: plan.configuration.validationFraction, seed: plan.configuration.seed)
        }
        let trainingRows = training.count
        state.withLock { $0.jobs[id]?.snapshot.rows = trainingRows }
        let epochs = plan.configuration.epochs
        var done = 0
        let report = try trainer.fit(
            training, validation: validation,
            // A delete of the model stops the job as a cancel would (then `train` fails it).
            shouldCancel: { flag.raised.load(ordering: .acquiring) || deletion?.isRaised == true },
            progress: { [self] progress in
                done += 1
                let finished = done
                self.metrics?.epochCompleted(model: plan.name, trainLoss: progress.trainLoss, validationLoss: progress.validationLoss)
                let listened = events.hasListeners
                let point = JobSnapshot.Epoch(
                    epoch: progress.epoch, trainLoss: finite(progress.trainLoss), validationLoss: finite(progress.validationLoss),
                    samplesPerSecond: finite(progress.samplesPerSecond))
                let published = state.withLock { state -> JobSnapshot? in
                    guard var job = state.jobs[id] else { return nil }
                    job.snapshot.epoch = finished
                    job.history.append(point)
                    job.snapshot.history = job.history.elements
                    job.snapshot.samplesPerSecond = finite(progress.samplesPerSecond)
                    if let started = job.started {
                        let elapsed = ContinuousClock.now - started
                        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
                        job.snapshot.etaSeconds = seconds / Double(finished) * Double(max(epochs - finished, 0))
                    }
                    if ContinuousClock.now - job.saved >= Self.progressSaveInterval, let journal = journal.load() {
                        job.saved = ContinuousClock.now
                        journal.save(job.snapshot)
                    }
                    state.jobs[id] = job
                    return listened ? job.snapshot : nil
                }
                if let published {
                    events.publish(job: id) { JobEvents.epoch(published, point) }
                }
            })
        if report.stopReason == .cancelled { return nil }
        let model = trainer.model
        let evaluated = validation ?? training
        let evaluation = try model.evaluate(evaluated)
        let last = report.history.last
        let metrics = ModelMetrics(
            trainLoss: last?.trainLoss,
            validationLoss: validation == nil ? nil : report.restoredLoss ?? last?.validationLoss,
            epochs: (optimizerState?.epoch ?? 0) + report.epochsRun, stopReason: report.stopReason,
            samplesPerSecond: report.samplesPerSecond, trainingSeconds: report.seconds,
            evaluationLoss: evaluation.loss.isFinite ? evaluation.loss : nil,
            regression: evaluation.regression, classification: evaluation.classification)
        var annotations = ["job.id": id]
        for (field, reason) in plan.reasons { annotations[ResolvedSettings.annotationPrefix + field] = reason }
        let metadata = ModelMetadata(
            training: plan.configuration, metrics: metrics, parentVersion: plan.parentVersion, annotations: annotations,
            preprocessing: plan.preprocessing)
        var view = MetricsView(metrics, classes: model.configuration.classLabels)
        view.rows = evaluated.count
        beforeInstall.withLock { $0 }?(plan.name)
        return Fitted(model: model, metadata: metadata, optimizer: trainer.optimizerState, report: report, view: view)
    }

    private func failure(_ id: String, _ error: any Error) -> Outcome {
        if let error = error as? TrainingError {
            switch error {
            case .diverged(let epoch, let step):
                return .failed(
                    code: "diverged", message: "training diverged (loss not finite) in epoch \(epoch), step \(step); lower the learning rate or normalize the inputs",
                    status: .unprocessableContent)
            case .invalidHyperparameter(let name, let value, let allowed):
                return .failed(code: "invalid_hyperparameter", message: "\(name) is \(value); allowed: \(allowed)", status: .unprocessableContent)
            case .optimizerStateMismatch(let reason):
                return .failed(code: "optimizer_mismatch", message: "cannot continue training: \(reason)", status: .conflict)
            case .threadsUnavailable(let requested, let reason):
                logger.error("training threads unavailable", metadata: ["job.id": "\(id)", "threads": "\(requested)", "error": "\(reason)"])
                return .failed(
                    code: "threads_unavailable", message: "could not start \(requested) training threads: \(reason); lower training.threads",
                    status: .serviceUnavailable)
            }
        }
        if let error = error as? DataError {
            return .failed(code: "invalid_data", message: DataErrorText.describe(error, field: "inputs"), status: .unprocessableContent)
        }
        if let error = error as? any HTTPResponseError {
            logger.warning("training job failed", metadata: ["job.id": "\(id)", "error": "\(error)"])
            return .failed(code: error.code, message: error.message, status: error.status)
        }
        logger.error("training job failed", metadata: ["job.id": "\(id)", "error": "\(error)"])
        return .failed(code: "internal", message: "training failed with an internal error; see the server log", status: .internalServerError)
    }

    private func finish(_ id: String, _ outcome: Outcome) {
        let (snapshot, waiters, dispatch, forgotten) = state.withLock { state -> (JobSnapshot?, [CheckedContinuation<JobSnapshot, Never>], Dispatch, [String]) in
            state.running -= 1
            if var job = state.jobs[id] {
                job.snapshot.finishedAt = Date().iso8601
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
                case .failed(let code, let message, let status):
                    job.snapshot.status = .failed
                    job.snapshot.error = JobSnapshot.Failure(code: code, message: message, status: status)
                }
                state.jobs[id] = job
            }
            if let metrics, let job = state.jobs[id] { Self.record(job, outcome, into: metrics) }
            let forgotten = Self.forgetOld(&state, retain: retain)
            let dispatch = startable(&state)
            recordCounts(state)
            return (state.jobs[id]?.snapshot, state.waiters.removeValue(forKey: id) ?? [], dispatch, forgotten)
        }
        if let journal = journal.load() {
            for old in forgotten { journal.remove(old) }
            // Durable before anyone hears of the outcome: a `?wait=true` answer is never lost
            // to a restart.
            if let snapshot { journal.saveNow(snapshot) }
        }
        if let snapshot {
            logger.info(
                "training job finished",
                metadata: ["job.id": "\(id)", "model.name": "\(snapshot.model)", "job.status": "\(snapshot.status.rawValue)",
                           "model.version": "\(snapshot.version.map(String.init) ?? "-")"])
            for waiter in waiters { waiter.resume(returning: snapshot) }
            if case .installed(let stored, _, _) = outcome {
                events.publishModel(snapshot.model, change: "installed", version: stored.version)
            }
            events.publish(job: id) { JobEvents.final(snapshot) }
        }
        act(dispatch)
    }

    /// Records a job that ran: outcome, wall time since it started, epochs x training rows.
    private static func record(_ job: Job, _ outcome: Outcome, into metrics: TrainingMetrics) {
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

    /// Forgets the oldest finished jobs while more than `retain` are kept; returns their ids.
    private static func forgetOld(_ state: inout State, retain: Int) -> [String] {
        guard state.order.count > retain else { return [] }
        let finished = state.order.filter { state.jobs[$0]?.snapshot.status.isFinished == true }
        let dropped = Array(finished.prefix(state.order.count - retain))
        let drop = Set(dropped)
        state.order.removeAll { drop.contains($0) }
        for id in drop { state.jobs[id] = nil }
        return dropped
    }
}

/// glibc's `malloc_trim`: returns the free memory of every arena to the system. Declared here
/// because the Glibc module does not export malloc.h.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
