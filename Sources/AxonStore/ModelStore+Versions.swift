import AxonSupport
import Checkpoint
import Foundation
import Logging
import ModelKit
import Synchronization

/// Retained versions, deletion marks and names.
extension ModelStore {
    // MARK: - Versions

    /// Every retained version of `name`, ascending, with its metadata.
    public func versions(name: String) throws(StoreError) -> [ModelVersionInfo] {
        let modelName = try Self.validate(name)
        guard let current = table.current(name) else { throw .modelNotFound(name: name) }
        let retained: [UInt64]
        do {
            retained = try directory.versions(of: modelName)
        } catch .modelNotFound {
            throw .modelNotFound(name: name)
        } catch {
            logger.error("versions cannot be listed", metadata: ["model.name": "\(name)", "store.error": "\(error)"])
            throw .storageFailed(name: name, error)
        }
        var listed = retained
        if !listed.contains(current.version) { listed = (listed + [current.version]).sorted() }
        return listed.map { version in
            let key = VersionKey(name: name, version: version)
            var metadata = version == current.version ? current.metadata : metadataCache[key]
            if metadata == nil {
                do {
                    metadata = try read(modelName, version: version, includeOptimizerState: false).metadata
                    metadataCache[key] = metadata
                } catch {
                    logger.warning(
                        "version metadata unreadable",
                        metadata: ["model.name": "\(name)", "model.version": "\(version)", "store.error": "\(error)"])
                }
            }
            return ModelVersionInfo(version: version, isCurrent: version == current.version, metadata: metadata)
        }
    }

    /// Version `version` of `name`: the current snapshot if it is current, otherwise read from
    /// disk (verified) and kept in a small cache.
    public func model(name: String, version: UInt64) throws(StoreError) -> StoredModel {
        let modelName = try Self.validate(name)
        guard let current = table.current(name) else { throw .modelNotFound(name: name) }
        if current.version == version { return current }
        if let cached = retained.model(name, version: version) { return cached }
        let checkpoint = try read(modelName, version: version, includeOptimizerState: false)
        let stored = makeStored(name, version: version, checkpoint: checkpoint)
        retained.insert(stored)
        return stored
    }

    /// Version `version` of `name` if it is current or already in memory, without an actor hop
    /// and without disk I/O; nil when only `model(name:version:)` can read it. For callers on
    /// threads that must not wait (the inference routes on a libmicrohttpd thread).
    public nonisolated func retainedModel(name: String, version: UInt64) -> StoredModel? {
        guard let current = table.current(name) else { return nil }
        return current.version == version ? current : retained.model(name, version: version)
    }

    /// The optimizer state stored with `version` of `name` (nil if none was stored), read
    /// from disk: what `Trainer(model:configuration:optimizerState:)` needs to continue.
    public func optimizerState(name: String, version: UInt64) throws(StoreError) -> OptimizerState? {
        let modelName = try Self.validate(name)
        guard table.current(name) != nil else { throw .modelNotFound(name: name) }
        return try read(modelName, version: version, includeOptimizerState: true).optimizerState
    }

    // MARK: - Deletes win

    /// A mark that a delete of `name` raises from now on, here or (seen by a watch rescan) in
    /// another process; `install(..., mark:)` refuses a raised mark. A training job takes one
    /// when it is submitted, so a delete that lands while it is queued or training, or between
    /// its last step and its install, wins: the job fails and nothing is re-created.
    ///
    /// Take the mark before checking that the model exists: a delete raises marks after it
    /// removed the model from the table, so a caller that took its mark and then still finds the
    /// model is covered from that moment on.
    public nonisolated func deletionMark(for name: String) -> DeletionMark {
        let mark = DeletionMark(name: name)
        marks.withLock { marks in
            marks.removeAll { $0.mark == nil }
            marks.append(WeakDeletionMark(mark: mark))
        }
        return mark
    }

    func raiseMarks(_ name: String) {
        marks.withLock { marks in
            marks.removeAll { $0.mark == nil }
            for entry in marks where entry.mark?.name == name { entry.mark?.raise() }
        }
    }

    // MARK: - Names

    /// Validates a model name against the naming rule.
    public static func validate(_ name: String) throws(StoreError) -> ModelName {
        if let reason = ModelName.problem(with: name) { throw .invalidModelName(name: name, reason: reason) }
        do {
            return try ModelName(name)
        } catch {
            throw .invalidModelName(name: name, reason: error.description)
        }
    }
}
