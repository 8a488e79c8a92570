import AxonAPI
import AxonStore
import AxonSupport
import Checkpoint
import Foundation
import Logging

extension JobJournal {
    /// What a start-up found: records adopted from daemons that are gone, and what was skipped.
    struct Restored {
        /// Every adopted record, unfinished ones already marked interrupted.
        var jobs: [JobSnapshot] = []
        /// Jobs that were queued or running when their daemon stopped.
        var interrupted = 0
        /// Files that could not be read or decoded (left in place, logged).
        var skipped = 0
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
}
