import AxonAPI
import AxonStore
import AxonSupport
import Checkpoint
import Dispatch
import Foundation
import Logging
import Synchronization

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
    private let logger: Logger
    private let queue = DispatchQueue(label: "axon.job-journal")
    private let state = Mutex(State())

    /// Version of the record file layout.
    static let format = 1
    /// Largest record file read back (a job's loss curve is about 100 bytes per epoch).
    static let maxRecordBytes: UInt64 = 64 << 20
    /// Name of the lock file inside an owner directory.
    static let lockName = "owner.lock"
    /// Prefix of an owner directory still being set up (invisible to adoption).
    static let newPrefix = ".new-"

    /// The on-disk shape of one record.
    /// The on-disk shape of one record: the job as `GET /jobs/{id}` answers it, except that the
    /// loss curve is stored as columns of comma-separated numbers rather than one object per
    /// epoch. Decoding dominates a restart, and generic `Codable` decoding of a thousand
    /// records of 100 epoch objects each costs about a second; text columns parse several
    /// times faster.
    struct RecordFile: Codable {
        var format: Int
        var job: JobSnapshot
        var history: HistoryColumns

        init(format: Int, job: JobSnapshot) {
            self.format = format
            var job = job
            history = HistoryColumns(job.history)
            job.history = []
            self.job = job
        }

        /// The job with its loss curve put back together; nil if a column does not parse.
        var snapshot: JobSnapshot? {
            guard let epochs = history.epochs else { return nil }
            var job = self.job
            job.history = epochs
            return job
        }
    }

    /// A loss curve as columns: `"0,1,2"`, `"0.69,0.41,"` (an empty field is a missing value).
    /// `Double.description` is the shortest text that reads back to the same bits.
    struct HistoryColumns: Codable {
        var epoch: String
        var trainLoss: String
        var validationLoss: String
        var samplesPerSecond: String

        enum CodingKeys: String, CodingKey {
            case epoch, trainLoss = "train_loss", validationLoss = "validation_loss", samplesPerSecond = "samples_per_second"
        }

        init(_ history: [JobSnapshot.Epoch]) {
            func column(_ values: [Double?]) -> String { values.map { $0.map { "\($0)" } ?? "" }.joined(separator: ",") }
            epoch = history.map { String($0.epoch) }.joined(separator: ",")
            trainLoss = column(history.map(\.trainLoss))
            validationLoss = column(history.map(\.validationLoss))
            samplesPerSecond = column(history.map(\.samplesPerSecond))
        }

        /// The epochs, or nil if a column holds a field that is not a number or the columns
        /// differ in length.
        var epochs: [JobSnapshot.Epoch]? {
            // No epochs is the empty string; one epoch without a value is one empty field.
            guard !epoch.isEmpty else {
                return trainLoss.isEmpty && validationLoss.isEmpty && samplesPerSecond.isEmpty ? [] : nil
            }
            func fields(_ text: String) -> [Substring] { text.split(separator: ",", omittingEmptySubsequences: false) }
            func numbers(_ text: String) -> [Double?]? {
                var values: [Double?] = []
                for field in fields(text) {
                    if field.isEmpty {
                        values.append(nil)
                    } else {
                        guard let value = Double(field), value.isFinite else { return nil }
                        values.append(value)
                    }
                }
                return values
            }
            var indices: [Int] = []
            for field in fields(epoch) {
                guard let value = Int(field) else { return nil }
                indices.append(value)
            }
            guard let train = numbers(trainLoss), let validation = numbers(validationLoss), let speed = numbers(samplesPerSecond),
                train.count == indices.count, validation.count == indices.count, speed.count == indices.count
            else { return nil }
            return indices.indices.map { k in
                JobSnapshot.Epoch(epoch: indices[k], trainLoss: train[k], validationLoss: validation[k], samplesPerSecond: speed[k])
            }
        }
    }

    /// What a start-up found: records adopted from daemons that are gone, and what was skipped.
    struct Restored {
        /// Every adopted record, unfinished ones already marked interrupted.
        var jobs: [JobSnapshot] = []
        /// Jobs that were queued or running when their daemon stopped.
        var interrupted = 0
        /// Files that could not be read or decoded (left in place, logged).
        var skipped = 0
    }

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

    // MARK: - Start-up

    /// Adopts the directories of daemons that are gone: their records move here (unfinished
    /// ones marked `interrupted`), then their directory is removed. Corrupt records are
    /// skipped with a warning and stay where they are.
    func restore() -> Restored {
        var restored = Restored()
        let entries: [String]
        do {
            entries = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
        } catch {
            logger.warning("job records cannot be listed", metadata: ["jobs.directory": "\(root)", "error": "\(error)"])
            return restored
        }
        let own = (directory as NSString).lastPathComponent
        for entry in entries where entry.hasPrefix(Self.newPrefix) {
            removeAbandonedStaging("\(root)/\(entry)")
        }
        for entry in entries where entry != own && !entry.hasPrefix(".") {
            let other = "\(root)/\(entry)"
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: other, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            // Held: a live replica's records, not ours to touch.
            guard let held = try? TrainingLock.tryAcquire(path: "\(other)/\(Self.lockName)") else { continue }
            adopt(other, into: &restored)
            held.unlock()
            removeIfEmpty(other)
        }
        return restored
    }

    /// How old a staging directory must be before it counts as abandoned (a daemon that died
    /// between creating it and renaming it into place); a younger one may be a daemon starting.
    static let stagingAbandonedSeconds: TimeInterval = 60

    /// Removes a staging directory left by a daemon that died while setting it up: it holds no
    /// records, only its lock file.
    private func removeAbandonedStaging(_ path: String) {
        guard let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date,
            Date().timeIntervalSince(modified) >= Self.stagingAbandonedSeconds,
            let held = try? TrainingLock.tryAcquire(path: "\(path)/\(Self.lockName)")
        else { return }
        defer { held.unlock() }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        guard entries.allSatisfy({ $0 == Self.lockName }) else { return }
        unlink("\(path)/\(Self.lockName)")
        if rmdir(path) == 0 { try? DurableFile.syncDirectory(root) }
    }

    /// Moves the records of `other` here. A finished record is renamed (atomic, no rewrite):
    /// a restart adopting a thousand records costs renames and two directory syncs, not a
    /// thousand fsyncs. An unfinished one is rewritten as interrupted, durably, first.
    private func adopt(_ other: String, into restored: inout Restored) {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: other)) ?? [])
            .filter { $0.hasSuffix(".json") && !DurableFile.isTemporaryName($0) }.sorted()
        let paths = files.map { "\(other)/\($0)" }
        var renamed = false
        for (path, decoded) in zip(paths, readConcurrently(paths)) {
            guard var job = decoded else {
                restored.skipped += 1
                continue
            }
            do {
                if job.status.isFinished {
                    guard rename(path, self.path(of: job.id)) == 0 else {
                        throw StorageError.systemCall(.rename, path: self.path(of: job.id), errno: errno)
                    }
                    renamed = true
                } else {
                    job.status = .failed
                    job.finishedAt = Date().iso8601
                    job.etaSeconds = nil
                    job.waitingFor = nil
                    job.error = JobSnapshot.Failure(code: "interrupted", message: Self.interruptedMessage)
                    try write(job)
                    unlink(path)
                    restored.interrupted += 1
                }
                restored.jobs.append(job)
            } catch {
                logger.warning(
                    "job record cannot be adopted; it stays in place",
                    metadata: ["job.id": "\(job.id)", "jobs.file": "\(path)", "error": "\(error)"])
            }
        }
        // The renames are durable once both directories are synced; until then a crash leaves
        // each record in one of the two, and the next start adopts both directories.
        if renamed { try? DurableFile.syncDirectory(directory) }
        try? DurableFile.syncDirectory(other)
    }

    /// What an interrupted job's error says.
    static let interruptedMessage = "the daemon stopped before the job finished; its training data was not kept, resubmit it"

    /// Reads and decodes `paths` on all cores: JSON decoding of the loss curves dominates a
    /// restart (a thousand records of 100 epochs are 8 MB of JSON). nil where a file is skipped.
    private func readConcurrently(_ paths: [String]) -> [JobSnapshot?] {
        paths.concurrentMap(minimumPerWorker: 16) { read($0) }
    }

    private func read(_ path: String) -> JobSnapshot? {
        do {
            let bytes = try DurableFile.read(path, maxBytes: Self.maxRecordBytes)
            let record = try JSONDecoder().decode(RecordFile.self, from: Data(bytes))
            guard record.format == Self.format else {
                logger.warning("job record of an unknown format skipped", metadata: ["jobs.file": "\(path)", "jobs.format": "\(record.format)"])
                return nil
            }
            guard let job = record.snapshot else {
                logger.warning("corrupt job record skipped: its loss curve does not parse", metadata: ["jobs.file": "\(path)"])
                return nil
            }
            // The id names the file it is written to: it must be that file's name, and a plain one.
            let id = job.id
            guard (path as NSString).lastPathComponent == "\(id).json", Self.isPlainName(id) else {
                logger.warning("job record whose id does not match its file skipped", metadata: ["jobs.file": "\(path)", "job.id": "\(id)"])
                return nil
            }
            return job
        } catch {
            logger.warning("corrupt job record skipped", metadata: ["jobs.file": "\(path)", "error": "\(error)"])
            return nil
        }
    }

    /// Whether `id` is safe as a file name: 1-128 characters of `[A-Za-z0-9_-]`, as ids are made.
    static func isPlainName(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128
            && id.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte == 0x2d || byte == 0x5f
            }
    }

    /// Removes an adopted directory once only its lock file (and nothing unreadable) is left.
    private func removeIfEmpty(_ other: String) {
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: other)) ?? []).filter { $0 != Self.lockName }
        for name in left where DurableFile.isTemporaryName(name) { unlink("\(other)/\(name)") }
        guard left.allSatisfy(DurableFile.isTemporaryName) else { return }
        unlink("\(other)/\(Self.lockName)")
        if rmdir(other) == 0 { try? DurableFile.syncDirectory(root) }
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

    private func path(of id: String) -> String { "\(directory)/\(id).json" }

    /// Writes the record, never larger than a restart reads back (`maxRecordBytes`): the loss
    /// curve is bounded by `jobs.history_points`, but the evaluation's confusion matrix grows
    /// with the classes, so a record that would still be too large is written without its
    /// per-class metrics (logged) rather than becoming a file the next start skips.
    private func write(_ snapshot: JobSnapshot) throws {
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
