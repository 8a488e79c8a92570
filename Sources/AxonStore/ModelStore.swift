import AxonSupport
import Checkpoint
import Foundation
import Logging
import ModelKit
import Synchronization

/// Owns every model: the versions on disk and the current version of each in memory.
///
/// Mutations (`install`, `rollback`, `delete`) run on the actor, one at a time, and each
/// persists durably first and only then swaps the in-memory version; if the disk refuses, the
/// error is thrown and logged and the previous version keeps serving. Reads of the current
/// version (`current`, `list`) are `nonisolated`: they take a short lock, never wait for the
/// actor, and return immutable snapshots that callers evaluate concurrently. The actor runs on
/// a private serial queue (`StoreExecutor`), so its disk I/O never holds a cooperative thread.
public actor ModelStore {
    /// The state directory (`--state-dir`) this store persists to.
    public nonisolated let directory: StateDirectory
    /// The most models `install` accepts (`limits.max_models`).
    public nonisolated let maxModels: Int
    /// Whether the state directory is only read (`read_only`): nothing is created, repaired,
    /// quarantined or removed there, and `install`, `rollback` and `delete` throw `readOnly`.
    public nonisolated let isReadOnly: Bool

    private let table = ServingTable()
    private let logger: Logger
    /// Where store events are recorded; nil records nothing (metrics off, or a test).
    private let metrics: (any StoreObserver)?
    /// Retained versions per model as last seen, summed into `axon_store_versions_on_disk`.
    private var versionCounts: [String: Int] = [:]
    private let executor = StoreExecutor()
    /// What the last scan or rescan saw on disk, the baseline of the next watch rescan.
    private var snapshot = StateSnapshot()
    /// Non-current versions read on demand (`model(name:version:)`), also readable without the
    /// actor (`retainedModel(name:version:)`).
    private let retained = RetainedVersions(capacity: ModelStore.versionCacheCapacity)
    /// Metadata of retained versions, for `versions(name:)`; versions never change once written.
    private var metadataCache: [VersionKey: ModelMetadata] = [:]
    /// Problems the previous watch rescan logged, so a lasting one is logged once, not on
    /// every rescan.
    private var watchProblems: Set<String> = []
    /// Whether `load()` has finished.
    public private(set) var isLoaded = false
    /// Models on disk this store does not serve because `limits.max_models` were already
    /// loaded (start-up loads them in name order; watch skips new ones). Read without the
    /// actor by `GET /models`.
    private let skippedNames = Mutex<Set<String>>([])
    /// The deletion marks of work in progress (see `deletionMark(for:)`), weakly: a mark lives
    /// as long as the job holding it.
    private let marks = Mutex<[WeakDeletionMark]>([])

    /// Non-current versions kept decoded in memory at most.
    static let versionCacheCapacity = 8
    /// Attempts at committing when another process takes the same version number meanwhile.
    static let commitAttempts = 3

    private struct VersionKey: Hashable {
        var name: String
        var version: UInt64
    }

    /// A store over the state directory at `stateDirectory`; nothing is read until `load()`.
    ///
    /// - Parameters:
    ///   - retainedVersions: versions kept per model (>= 1); older ones are pruned after each
    ///     install, never the current one.
    ///   - maxModels: how many models `install` accepts.
    ///   - limits: size limits applied to every checkpoint read or written.
    ///   - metrics: records models loaded, versions on disk, checkpoint writes and
    ///     quarantined files; nil records nothing.
    ///   - readOnly: serve the directory without ever writing to it (see `isReadOnly`).
    public init(
        stateDirectory: String, retainedVersions: Int = 5, maxModels: Int = 1_000,
        limits: CheckpointLimits = .standard, logger: Logger, metrics: (any StoreObserver)? = nil, readOnly: Bool = false
    ) {
        precondition(retainedVersions >= 1, "retainedVersions must be at least 1")
        precondition(maxModels >= 1, "maxModels must be at least 1")
        directory = StateDirectory(root: stateDirectory, limits: limits, retention: retainedVersions)
        self.maxModels = maxModels
        self.isReadOnly = readOnly
        self.logger = logger
        self.metrics = metrics
        // Per-model series exist only for models this table serves (see `ModelSeriesGate`).
        metrics?.attachModels { [table] name in table.current(name) != nil }
    }

    /// Mutations block in fsync; they run on the store's own queue, not the cooperative pool.
    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    // MARK: - Reads without an actor hop

    /// The current version of `name`, or nil if no such model serves. Never waits for the
    /// actor, training or disk I/O: safe to call on every request.
    public nonisolated func current(_ name: String) -> StoredModel? {
        table.current(name)
    }

    /// The current version of every model, sorted by name.
    public nonisolated func list() -> [StoredModel] {
        table.all().sorted { $0.name < $1.name }
    }

    /// How many models serve.
    public nonisolated var count: Int { table.count }

    /// Models on disk that do not serve because `limits.max_models` were already loaded,
    /// sorted by name. A slot freed by a delete goes to the first of them.
    public nonisolated var skipped: [String] { skippedNames.withLock { $0.sorted() } }

    /// Throws what `install(name:...)` would throw for the name and the model limit, without
    /// waiting for the actor: lets a caller refuse a training request before it trains.
    /// (An install can still fail later, e.g. if other models were installed meanwhile.)
    public nonisolated func checkInstallable(name: String) throws(StoreError) {
        _ = try Self.validate(name)
        if table.current(name) == nil, table.count >= maxModels { throw .tooManyModels(limit: maxModels) }
    }

    // MARK: - Start-up

    /// Loads every model from the state directory: verifies each serving file, quarantines
    /// corrupt ones and falls back to the previous good version. Mark the daemon ready only
    /// after this returns.
    @discardableResult
    public func load() -> LoadReport {
        let start = ContinuousClock.now
        var report = LoadReport()
        do {
            if !isReadOnly { try directory.prepare() }
        } catch {
            // Existing models may still load from a read-only directory; installs will fail
            // with their own error.
            logger.error("state directory cannot be prepared", metadata: ["state.error": "\(error)"])
            report.problems.append("state directory cannot be prepared: \(error)")
        }
        let result = directory.scan(options: isReadOnly ? .readOnly : .startup)
        for problem in result.problems {
            record(problem, in: &report)
        }
        // At most `maxModels` serve, the first in name order: every replica with the same
        // limit serves the same set, and the choice does not depend on file dates.
        let candidates = result.models.sorted { $0.name < $1.name }
        let first = Array(candidates.prefix(maxModels))
        let decoded = Self.decodeConcurrently(first)
        var models: [StoredModel] = []
        models.reserveCapacity(first.count)
        for (loaded, stored) in zip(first, decoded) {
            if let stored = stored ?? servable(loaded, report: &report) { models.append(stored) }
        }
        // Slots left by models that cannot serve go to the next ones.
        var rest = candidates.dropFirst(first.count)
        while models.count < maxModels, let next = rest.popFirst() {
            if let stored = servable(next, report: &report) { models.append(stored) }
        }
        report.skipped = rest.map(\.name.rawValue)
        skippedNames.withLock { $0 = Set(report.skipped) }
        table.replaceAll(models)
        versionCounts = Dictionary(result.models.map { ($0.name.rawValue, $0.versions.count) }, uniquingKeysWith: +)
        metrics?.filesQuarantined(report.quarantined)
        recordCounts()
        snapshot = result.snapshot
        retained.removeAll()
        metadataCache = [:]
        isLoaded = true
        report.models = models.count
        let elapsed = ContinuousClock.now - start
        report.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        logger.notice(
            "models loaded",
            metadata: [
                "store.models": "\(report.models)", "store.quarantined": "\(report.quarantined)",
                "store.fell_back": "\(report.fellBack)", "store.unavailable": "\(report.unavailable)",
                "store.seconds": "\(report.seconds)",
            ])
        if !report.skipped.isEmpty {
            logger.warning(
                "more models on disk than limits.max_models: the first in name order serve, the rest do not (see GET /models); delete models or raise the limit",
                metadata: [
                    "store.models": "\(models.count)", "limits.max_models": "\(maxModels)", "store.skipped": "\(report.skipped.count)",
                    "store.skipped_names": "\(report.skipped.prefix(10).joined(separator: ","))\(report.skipped.count > 10 ? ",..." : "")",
                ])
        }
        return report
    }

    // MARK: - Mutations

    /// Stores `model` as the next version of `name` and makes it current.
    ///
    /// The version is durable on disk (file and `CURRENT`) before it serves; readers switch
    /// from the old snapshot to the new one in one step. Older versions beyond the retention
    /// are pruned afterwards (a pruning failure is logged, not thrown).
    /// - Parameters:
    ///   - metadata: training configuration, metrics, creation time, parent version.
    ///   - optimizerState: stored so training can later continue exactly; nil stores none.
    /// - Returns: the new current version.
    @discardableResult
    ///   - mark: refuses the install with `modelDeleted` if `name` was deleted since the mark was
    ///     taken. Checked on the actor, where deletes run, so a delete just before the install wins.
    public func install(
        name: String, model: Model, metadata: ModelMetadata, optimizerState: OptimizerState? = nil, mark: DeletionMark? = nil
    ) throws(StoreError) -> StoredModel {
        let modelName = try Self.validate(name)
        guard !isReadOnly else { throw .readOnly(operation: "installing a version of model \"\(name)\"") }
        if let mark, mark.isRaised { throw .modelDeleted(name: name) }
        if table.current(name) == nil, table.count >= maxModels {
            throw .tooManyModels(limit: maxModels)
        }
        let file: CheckpointFile
        do {
            file = try ModelCheckpoint(model: model, metadata: metadata, optimizerState: optimizerState).checkpointFile()
        } catch {
            throw .modelNotStorable(name: name, reason: error.description)
        }
        let (version, written) = try commit(file, to: modelName)
        let stored = StoredModel(
            name: name, version: version, model: model, metadata: metadata, hasOptimizerState: optimizerState != nil)
        table.set(stored)
        // Once it serves: a first version's per-model gauge is created only for a model that exists.
        metrics?.checkpointWritten(model: name, bytes: fileSize(modelName, version: version), duration: written)
        metadataCache[VersionKey(name: name, version: version)] = metadata
        remember(modelName, version: version)
        logger.info("model installed", metadata: ["model.name": "\(name)", "model.version": "\(version)"])
        prune(modelName)
        countVersions(modelName)
        return stored
    }

    /// Makes retained `version` of `name` the current one again (rollback, or roll forward).
    /// The version is verified before `CURRENT` moves; a corrupt file is quarantined.
    @discardableResult
    public func rollback(name: String, to version: UInt64) throws(StoreError) -> StoredModel {
        let modelName = try Self.validate(name)
        guard !isReadOnly else { throw .readOnly(operation: "rolling back model \"\(name)\"") }
        guard let current = table.current(name) else { throw .modelNotFound(name: name) }
        let checkpoint = try read(modelName, version: version, includeOptimizerState: false)
        do {
            try directory.setCurrent(modelName, version: version)
        } catch {
            switch error {
            case .versionNotFound: throw .versionNotFound(name: name, version: version)
            case .modelNotFound: throw .modelNotFound(name: name)
            default:
                logger.error("rollback could not be saved", metadata: ["model.name": "\(name)", "store.error": "\(error)"])
                throw .writeFailed(name: name, error)
            }
        }
        let stored = makeStored(name, version: version, checkpoint: checkpoint)
        table.set(stored)
        remember(modelName, version: version)
        logger.info(
            "model rolled back",
            metadata: ["model.name": "\(name)", "model.version": "\(version)", "model.previous_version": "\(current.version)"])
        return stored
    }

    /// Deletes `name` with every version. Once the model's directory is renamed away (the
    /// first, atomic step) the model is gone, for this process and for any other reader.
    public func delete(name: String) throws(StoreError) {
        let modelName = try Self.validate(name)
        guard !isReadOnly else { throw .readOnly(operation: "deleting model \"\(name)\"") }
        let served = table.current(name) != nil
        do {
            try directory.delete(modelName)
        } catch .modelNotFound {
            // Deleted on disk by another process: finish the job in memory.
            guard served else { throw .modelNotFound(name: name) }
        } catch {
            // The rename is the commit point; a failure while removing the renamed tree
            // leaves only trash that the next start-up clears.
            if (try? directory.exists(modelName)) != false {
                logger.error("model could not be deleted", metadata: ["model.name": "\(name)", "store.error": "\(error)"])
                throw .writeFailed(name: name, error)
            }
            logger.warning("model deleted, its files remain as trash", metadata: ["model.name": "\(name)", "store.error": "\(error)"])
        }
        table.remove(name)
        // After the table: work that took its mark before this line is refused at install, and
        // work that took it after finds no model (see `deletionMark(for:)`).
        raiseMarks(name)
        snapshot.models[modelName] = nil
        forget(name)
        versionCounts[name] = nil
        skippedNames.withLock { _ = $0.remove(name) }
        metrics?.forget(model: name)
        logger.info("model deleted", metadata: ["model.name": "\(name)"])
        fillFromSkipped()
        recordCounts()
    }

    /// Serves skipped models, first in name order, while there is room under `maxModels`.
    /// One that cannot be read stays skipped (logged) and is tried again at the next chance.
    @discardableResult
    private func fillFromSkipped() -> [String] {
        var added: [String] = []
        for name in skipped where table.count < maxModels {
            do {
                let modelName = try Self.validate(name)
                guard let version = try? directory.currentVersion(of: modelName) else {
                    // Gone from disk meanwhile.
                    skippedNames.withLock { _ = $0.remove(name) }
                    continue
                }
                let stored = makeStored(name, version: version, checkpoint: try read(modelName, version: version, includeOptimizerState: false))
                table.set(stored)
                remember(modelName, version: version)
                skippedNames.withLock { _ = $0.remove(name) }
                added.append(name)
                logger.info("model now serves: below limits.max_models again", metadata: ["model.name": "\(name)", "model.version": "\(version)"])
            } catch {
                logger.warning("skipped model cannot be loaded", metadata: ["model.name": "\(name)", "store.error": "\(error)"])
            }
        }
        return added
    }

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

    private func raiseMarks(_ name: String) {
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

    // MARK: - Internals

    /// Commits `file` as the next version; returns it and how long the durable write took.
    private func commit(_ file: CheckpointFile, to modelName: ModelName) throws(StoreError) -> (UInt64, Duration) {
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
    private func read(_ modelName: ModelName, version: UInt64, includeOptimizerState: Bool) throws(StoreError) -> ModelCheckpoint {
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

    private static func isLimit(_ error: CheckpointError) -> Bool {
        if case .limitExceeded = error { return true }
        return false
    }

    private func makeStored(_ name: String, version: UInt64, checkpoint: ModelCheckpoint) -> StoredModel {
        StoredModel(
            name: name, version: version, model: checkpoint.model, metadata: checkpoint.metadata,
            hasOptimizerState: checkpoint.optimizerState != nil)
    }

    /// Decodes the serving version of every scanned model on all cores (JSON metadata and
    /// model validation dominate start-up); nil where a file does not hold a valid model, which
    /// `servable` then handles one by one.
    private static func decodeConcurrently(_ models: [LoadedModel]) -> [StoredModel?] {
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

    private func record(_ problem: ScanProblem, in report: inout LoadReport) {
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
    private func fileSize(_ modelName: ModelName, version: UInt64) -> Int {
        let attributes = try? FileManager.default.attributesOfItem(atPath: directory.path(of: modelName, version: version))
        return (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Re-reads how many versions of `modelName` are retained (after an install and its prune).
    private func countVersions(_ modelName: ModelName) {
        guard metrics != nil else { return }
        versionCounts[modelName.rawValue] = (try? directory.versions(of: modelName).count) ?? 0
        recordCounts()
    }

    /// Publishes the loaded-model and versions-on-disk gauges.
    private func recordCounts() {
        guard let metrics else { return }
        metrics.storeCounts(modelsLoaded: table.count, versionsOnDisk: versionCounts.values.reduce(0, +))
    }

    /// Records the file this process just made current, so watch rescans skip it.
    private func remember(_ modelName: ModelName, version: UInt64) {
        if let identity = try? directory.fileIdentity(of: modelName, version: version) {
            snapshot.models[modelName] = StateSnapshot.Entry(version: version, file: identity)
        }
    }

    private func prune(_ modelName: ModelName) {
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
    private func forget(_ name: String) {
        retained.removeAll(named: name)
        metadataCache = metadataCache.filter { $0.key.name != name }
    }

    // MARK: - Watch

    /// Rescans the state directory once and swaps in what other processes changed: new
    /// models and versions, rollbacks, deleted models. Reads only complete (renamed-in) files;
    /// a model whose new file does not verify keeps serving its previous version.
    @discardableResult
    public func refresh() -> RefreshReport {
        let update = directory.rescan(since: snapshot, options: isReadOnly ? .readOnly : .watch)
        var report = RefreshReport()
        report.problems = update.problems.count
        var ignored = LoadReport()
        var problems: Set<String> = []
        for problem in update.problems {
            problems.insert(problem.description)
            if !watchProblems.contains(problem.description) { record(problem, in: &ignored) }
        }
        watchProblems = problems
        metrics?.filesQuarantined(ignored.quarantined)
        for change in update.changes {
            switch change {
            case .added(let loaded), .updated(let loaded, _):
                let name = loaded.name.rawValue
                let isNew = table.current(name) == nil
                forget(name)
                versionCounts[name] = loaded.versions.count
                if isNew, table.count >= maxModels {
                    let first = skippedNames.withLock { $0.insert(name).inserted }
                    // Logged once per model, not on every rescan or new version.
                    if first {
                        logger.warning(
                            "model on disk does not serve: limits.max_models models already serve",
                            metadata: ["model.name": "\(name)", "limits.max_models": "\(maxModels)"])
                    }
                    continue
                }
                skippedNames.withLock { _ = $0.remove(name) }
                guard let stored = servable(loaded, report: &ignored) else { continue }
                table.set(stored)
                if isNew { report.added.append(name) } else { report.updated.append(name) }
                logger.info(
                    "model changed on disk, now serving",
                    metadata: ["model.name": "\(name)", "model.version": "\(stored.version)"])
            case .removed(let modelName, _):
                let name = modelName.rawValue
                table.remove(name)
                raiseMarks(name)
                forget(name)
                versionCounts[name] = nil
                skippedNames.withLock { _ = $0.remove(name) }
                metrics?.forget(model: name)
                report.removed.append(name)
                logger.info("model deleted on disk, no longer serving", metadata: ["model.name": "\(name)"])
            }
        }
        snapshot = update.snapshot
        // Room freed by models removed on disk goes to skipped ones.
        if table.count < maxModels, !skippedNames.withLock({ $0.isEmpty }) {
            report.added += fillFromSkipped()
        }
        if !update.changes.isEmpty || !report.added.isEmpty { recordCounts() }
        return report
    }

    /// Calls `refresh()` every `interval` until the task is cancelled.
    public func watch(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            refresh()
        }
    }
}

/// Raised when the model it names is deleted (see `ModelStore.deletionMark(for:)`).
public final class DeletionMark: Sendable {
    /// The model it watches.
    public let name: String
    private let raised = Atomic<Bool>(false)

    init(name: String) {
        self.name = name
    }

    /// Whether the model was deleted since the mark was taken.
    public var isRaised: Bool { raised.load(ordering: .acquiring) }

    func raise() {
        raised.store(true, ordering: .releasing)
    }
}

private struct WeakDeletionMark: Sendable {
    weak let mark: DeletionMark?
}
