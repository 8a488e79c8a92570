import AxonSupport
import Checkpoint
import Foundation
import Logging
import ModelKit
import Synchronization

/// Commits, reads, verification and bookkeeping of the files under the state directory.
extension ModelStore {
    // MARK: - Internals

    /// Commits `file` as the next version; returns it and how long the durable write took.
    func commit(_ file: CheckpointFile, to modelName: ModelName) throws(StoreError) -> (UInt64, Duration) {
        let name = modelName.rawValue
        var attempt = 1
        while true {
            do {
                let start = ContinuousClock.now
                let version = try directory.commit(file, to: modelName)
                return (version, ContinuousClock.now - start)
            } catch {
                switch error {
                case .versionExists(_, let version):
                    // Another process sharing the directory took that number; take the next.
                    guard attempt < Self.commitAttempts else { throw .versionConflict(name: name, version: version) }
                    attempt += 1
                case .invalidCheckpoint(let cause):
                    throw .modelNotStorable(name: name, reason: cause.description)
                default:
                    metrics?.checkpointFailed()
                    logger.error(
                        "model could not be saved; the previous version keeps serving",
                        metadata: ["model.name": "\(name)", "store.error": "\(error)"])
                    throw .writeFailed(name: name, error)
                }
            }
        }
    }

    /// Reads and verifies one version; a corrupt file goes to quarantine.
    func read(_ modelName: ModelName, version: UInt64, includeOptimizerState: Bool) throws(StoreError) -> ModelCheckpoint {
        let name = modelName.rawValue
        let file: CheckpointFile
        do {
            file = try directory.load(modelName, version: version)
        } catch {
            switch error {
            case .versionNotFound: throw .versionNotFound(name: name, version: version)
            case .corrupt(_, let cause) where !Self.isLimit(cause) && !isReadOnly:
                var reason = cause.description
                do {
                    let destination = try directory.quarantine(modelName, version: version, reason: reason)
                    metrics?.filesQuarantined(1)
                    reason += ", quarantined to \(destination)"
                } catch {
                    reason += ", quarantine failed: \(error)"
                }
                logger.error(
                    "corrupt version", metadata: ["model.name": "\(name)", "model.version": "\(version)", "store.error": "\(reason)"])
                throw .versionUnreadable(name: name, version: version, reason: reason)
            default:
                logger.error(
                    "version unreadable", metadata: ["model.name": "\(name)", "model.version": "\(version)", "store.error": "\(error)"])
                throw .versionUnreadable(name: name, version: version, reason: error.description)
            }
        }
        do {
            return try ModelCheckpoint(file: file, includeOptimizerState: includeOptimizerState)
        } catch {
            logger.error(
                "version is not a valid model",
                metadata: ["model.name": "\(name)", "model.version": "\(version)", "store.error": "\(error)"])
            throw .versionUnreadable(name: name, version: version, reason: error.description)
        }
    }

    static func isLimit(_ error: CheckpointError) -> Bool {
        if case .limitExceeded = error { return true }
        return false
    }

    func makeStored(_ name: String, version: UInt64, checkpoint: ModelCheckpoint) -> StoredModel {
        StoredModel(
            name: name, version: version, model: checkpoint.model, metadata: checkpoint.metadata,
            hasOptimizerState: checkpoint.optimizerState != nil)
    }

    /// Decodes the serving version of every scanned model on all cores (JSON metadata and
    /// model validation dominate start-up); nil where a file does not hold a valid model, which
    /// `servable` then handles one by one.
    static func decodeConcurrently(_ models: [LoadedModel]) -> [StoredModel?] {
        models.concurrentMap(minimumPerWorker: 64) { loaded in
            guard let checkpoint = try? ModelCheckpoint.servingModel(from: loaded.checkpoint) else { return nil }
            return StoredModel(
                name: loaded.name.rawValue, version: loaded.version, model: checkpoint.model, metadata: checkpoint.metadata,
                hasOptimizerState: ModelCheckpoint.hasOptimizerState(loaded.checkpoint))
        }
    }

    /// The model a scan loaded, or, if its file does not hold a valid model (intact but from
    /// an unknown writer), the newest other retained version that does.
    func servable(_ loaded: LoadedModel, report: inout LoadReport) -> StoredModel? {
        let name = loaded.name.rawValue
        do {
            let checkpoint = try ModelCheckpoint.servingModel(from: loaded.checkpoint)
            return StoredModel(
                name: name, version: loaded.version, model: checkpoint.model, metadata: checkpoint.metadata,
                hasOptimizerState: ModelCheckpoint.hasOptimizerState(loaded.checkpoint))
        } catch {
            let line = "model '\(name)' version \(loaded.version) is not a valid model: \(error)"
            logger.error("version is not a valid model", metadata: ["model.name": "\(name)", "model.version": "\(loaded.version)", "store.error": "\(error)"])
            report.problems.append(line)
        }
        let others = loaded.versions.filter { $0 < loaded.version }.reversed() + loaded.versions.filter { $0 > loaded.version }
        for version in others {
            guard let checkpoint = try? read(loaded.name, version: version, includeOptimizerState: false) else { continue }
            logger.warning(
                "serving an older version", metadata: ["model.name": "\(name)", "model.version": "\(version)"])
            report.fellBack += 1
            return makeStored(name, version: version, checkpoint: checkpoint)
        }
        report.unavailable += 1
        return nil
    }

    func record(_ problem: ScanProblem, in report: inout LoadReport) {
        report.problems.append(problem.description)
        switch problem.kind {
        case .corrupt(_, let destination):
            if destination != nil { report.quarantined += 1 }
            logger.error("\(problem)")
        case .fellBack:
            report.fellBack += 1
            logger.warning("\(problem)")
        case .noLoadableVersion:
            report.unavailable += 1
            logger.error("\(problem)")
        case .removedLeftover:
            logger.info("\(problem)")
        default:
            logger.warning("\(problem)")
        }
    }

    /// The size of a committed version file, for `axon_store_checkpoint_written_bytes_total`
    /// (`StateDirectory.commit` encodes internally and does not report it); 0 if unreadable.
    func fileSize(_ modelName: ModelName, version: UInt64) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory.path(of: modelName, version: version))
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Re-reads how many versions of `modelName` are retained (after an install and its prune).
    func countVersions(_ modelName: ModelName) {
        guard metrics != nil else { return }
        versionCounts[modelName.rawValue] = (try? directory.versions(of: modelName).count) ?? 0
        recordCounts()
    }

    /// Publishes the loaded-model and versions-on-disk gauges.
    func recordCounts() {
        guard let metrics else { return }
        metrics.storeCounts(modelsLoaded: table.count, versionsOnDisk: versionCounts.values.reduce(0, +))
    }

    /// Records the file this process just made current, so watch rescans skip it.
    func remember(_ modelName: ModelName, version: UInt64) {
        if let identity = try? directory.fileIdentity(of: modelName, version: version) {
            snapshot.models[modelName] = StateSnapshot.Entry(version: version, file: identity)
        }
    }

    func prune(_ modelName: ModelName) {
        do {
            let removed = try directory.prune(modelName)
            for version in removed {
                let key = VersionKey(name: modelName.rawValue, version: version)
                metadataCache[key] = nil
                retained.remove(modelName.rawValue, version: version)
            }
        } catch {
            logger.warning("old versions could not be pruned", metadata: ["model.name": "\(modelName)", "store.error": "\(error)"])
        }
    }

    /// Drops every cached version of `name` (deleted, or changed by another process, which
    /// may reuse version numbers after a delete).
    func forget(_ name: String) {
        retained.removeAll(named: name)
        metadataCache = metadataCache.filter { $0.key.name != name }
    }
}
