import AxonAPI
import AxonStore
import AxonSupport
import Checkpoint
import Dispatch
import Foundation
import Logging

/// Keeps job records on disk so `GET /jobs` survives a restart: one small JSON file per job,
/// written durably (temp file, fsync, rename, directory fsync) with Checkpoint's `DurableFile`.
///
///     <state>/jobs/<owner>/owner.lock      flock held for the life of the daemon that owns it
///     <state>/jobs/<owner>/<job-id>.json   {"format": 1, "job": {...GET /jobs/{id}...}, "history": {...}}
///
/// Replicas share the state directory, so each daemon writes into a directory of its own and
/// holds an exclusive `flock` on its `owner.lock` (the kernel drops it when the process dies).
/// At start-up a daemon adopts the directories whose lock it can take, those of daemons that
/// are gone (its own previous run among them): their records move into its directory, and a
/// job that was queued or running there is marked `failed` with `interrupted`, because its
/// training data lived only in the dead process. Directories of live replicas are left alone.
///
/// Writes go through one serial queue and are coalesced per job (only the newest record of a
/// job is written), so a training thread never waits for fsync except for the final record,
/// which `saveNow` makes durable before anyone is told the job finished. A failed write is
/// logged and the daemon carries on with the record in memory: job history is a convenience,
/// never a reason to fail training.
///
/// The record file's shape is in `JobJournal+Record.swift`, start-up adoption in
/// `JobJournal+Adoption.swift`.
final class JobJournal: Sendable {
    private enum Pending: Sendable {
        case write(JobSnapshot)
        case remove
    }

    private struct State {
        var pending: [String: Pending] = [:]
        var order: [String] = []
        var draining = false
        var closed = false
        var failedWrites = 0
    }

    /// `<state>/jobs`.
    let root: String
    /// This daemon's directory under `root`.
    let directory: String
    private let lock: TrainingLock
    let logger: Logger
    private let queue = DispatchQueue(label: "axon.job-journal")
    /// `Locked`, not `Mutex`: ThreadSanitizer cannot see `Mutex`'s futex.
    private let state = Locked(State())

    /// Version of the record file layout.
    static let format = 1
    /// Largest record file read back (a job's loss curve is about 100 bytes per epoch).
    static let maxRecordBytes: UInt64 = 64 << 20
    /// Name of the lock file inside an owner directory.
    static let lockName = "owner.lock"
    /// Prefix of an owner directory still being set up (invisible to adoption).
    static let newPrefix = ".new-"

    private init(root: String, directory: String, lock: TrainingLock, logger: Logger) {
        self.root = root
        self.directory = directory
        self.lock = lock
        self.logger = logger
    }

    /// Creates this daemon's directory under `<stateDirectory>/jobs` and takes its lock. The
    /// directory is prepared under a hidden name and renamed into place with the lock held, so
    /// no other daemon can adopt it between its creation and its lock.
    static func open(stateDirectory: String, logger: Logger) throws -> JobJournal {
        let root = "\(stateDirectory)/jobs"
        try DurableFile.createDirectory(stateDirectory)
        try DurableFile.createDirectory(root)
        let name = ownerName()
        let staging = "\(root)/\(newPrefix)\(name)"
        try DurableFile.createDirectory(staging)
        guard let lock = try TrainingLock.tryAcquire(path: "\(staging)/\(lockName)") else {
            throw TrainingLockError.timedOut(path: "\(staging)/\(lockName)", holder: nil)
        }
        let directory = "\(root)/\(name)"
        guard rename(staging, directory) == 0 else { throw StorageError.systemCall(.rename, path: directory, errno: errno) }
        try DurableFile.syncDirectory(root)
        return JobJournal(root: root, directory: directory, lock: lock, logger: logger)
    }

    /// `<host>-<pid>-<random>`: unique among the replicas sharing the directory, and readable.
    private static func ownerName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let raw = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let safe = String(raw.unicodeScalars.prefix(64).map { scalar -> Character in
            let allowed = CharacterSet.alphanumerics.contains(scalar) && scalar.isASCII || scalar == "-" || scalar == "_"
            return allowed ? Character(scalar) : "_"
        })
        return "\(safe.isEmpty ? "host" : safe)-\(getpid())-\(String(UInt32.random(in: 0 ... .max), radix: 16))"
    }

    // MARK: - Writing

    /// Queues `snapshot` to be written; a newer record of the same job replaces a queued one.
    func save(_ snapshot: JobSnapshot) {
        enqueue(snapshot.id, .write(snapshot))
    }

    /// Writes `snapshot` and everything queued before it, and returns once it is durable.
    /// Blocks: for job threads, not the cooperative pool.
    func saveNow(_ snapshot: JobSnapshot) {
        enqueue(snapshot.id, .write(snapshot))
        queue.sync { drain() }
    }

    /// Queues the removal of a job's record (retention, `DELETE /jobs/{id}`).
    func remove(_ id: String) {
        enqueue(id, .remove)
    }

    /// Writes everything queued; returns once it is durable.
    func flush() {
        queue.sync { drain() }
    }

    /// Like `flush()`, but suspends instead of blocking: the writes run on the journal's queue,
    /// not on the caller's (cooperative) thread.
    func flushed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.drain()
                continuation.resume()
            }
        }
    }

    /// Stops writing and releases the directory's lock, so the next daemon adopts the records
    /// (jobs still running are then marked interrupted). Called at shutdown.
    func close() {
        flush()
        state.withLock { $0.closed = true }
        lock.unlock()
    }

    /// Writes that failed since start-up.
    var failedWrites: Int { state.withLock { $0.failedWrites } }

    private func enqueue(_ id: String, _ change: Pending) {
        let schedule = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if state.pending.updateValue(change, forKey: id) == nil { state.order.append(id) }
            guard !state.draining else { return false }
            state.draining = true
            return true
        }
        if schedule { queue.async { self.drain() } }
    }

    /// Runs on `queue`: takes what is pending and writes it, until nothing is left.
    private func drain() {
        while true {
            let batch = state.withLock { state -> [(String, Pending)] in
                let batch = state.order.compactMap { id in state.pending[id].map { (id, $0) } }
                state.pending = [:]
                state.order = []
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            for (id, change) in batch {
                do {
                    switch change {
                    case .write(let snapshot): try write(snapshot)
                    case .remove:
                        if unlink(path(of: id)) != 0 {
                            guard errno == ENOENT else { throw StorageError.systemCall(.unlink, path: path(of: id), errno: errno) }
                        } else {
                            // A deleted job must stay deleted after a crash, not come back with its record.
                            try DurableFile.syncDirectory(directory)
                        }
                    }
                } catch {
                    let first = state.withLock { state -> Bool in
                        state.failedWrites += 1
                        return state.failedWrites == 1
                    }
                    // Once at warning level: a full or read-only disk would otherwise log per epoch.
                    logger.log(
                        level: first ? .warning : .debug, "job record could not be written; the job is kept in memory only",
                        metadata: ["job.id": "\(id)", "error": "\(error)"])
                }
            }
        }
    }

    func path(of id: String) -> String { "\(directory)/\(id).json" }

    /// Writes the record, never larger than a restart reads back (`maxRecordBytes`): the loss
    /// curve is bounded by `jobs.history_points`, but the evaluation's confusion matrix grows
    /// with the classes, so a record that would still be too large is written without its
    /// per-class metrics (logged) rather than becoming a file the next start skips.
    func write(_ snapshot: JobSnapshot) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = try encoder.encode(RecordFile(format: Self.format, job: snapshot))
        if UInt64(bytes.count) > Self.maxRecordBytes {
            var trimmed = snapshot
            trimmed.metrics = trimmed.metrics?.withoutPerClassDetail
            bytes = try encoder.encode(RecordFile(format: Self.format, job: trimmed))
            if UInt64(bytes.count) > Self.maxRecordBytes {
                trimmed.metrics = nil
                trimmed.history = trimmed.history.suffix(1)
                bytes = try encoder.encode(RecordFile(format: Self.format, job: trimmed))
            }
            logger.warning(
                "job record too large to keep whole; its per-class metrics (or loss curve) are left out on disk",
                metadata: ["job.id": "\(snapshot.id)", "jobs.record_bytes_limit": "\(Self.maxRecordBytes)"])
        }
        try DurableFile.write(Array(bytes), to: path(of: snapshot.id))
    }
}
