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

    let table = ServingTable()
    let logger: Logger
    /// Where store events are recorded; nil records nothing (metrics off, or a test).
    let metrics: (any StoreObserver)?
    /// Retained versions per model as last seen, summed into `axon_store_versions_on_disk`.
    var versionCounts: [String: Int] = [:]
    let executor = StoreExecutor()
    /// What the last scan or rescan saw on disk, the baseline of the next watch rescan.
    var snapshot = StateSnapshot()
    /// Non-current versions read on demand (`model(name:version:)`), also readable without the
    /// actor (`retainedModel(name:version:)`).
    let retained = RetainedVersions(capacity: ModelStore.versionCacheCapacity)
    /// Metadata of retained versions, for `versions(name:)`; versions never change once written.
    var metadataCache: [VersionKey: ModelMetadata] = [:]
    /// Problems the previous watch rescan logged, so a lasting one is logged once, not on
    /// every rescan.
    var watchProblems: Set<String> = []
    /// Whether `load()` has finished.
    public private(set) var isLoaded = false
    /// Models on disk this store does not serve because `limits.max_models` were already
    /// loaded (start-up loads them in name order; watch skips new ones). Read without the
    /// actor by `GET /models`.
    let skippedNames = Mutex<Set<String>>([])
    /// The deletion marks of work in progress (see `deletionMark(for:)`), weakly: a mark lives
    /// as long as the job holding it.
    let marks = Mutex<[WeakDeletionMark]>([])

    /// Non-current versions kept decoded in memory at most.
    static let versionCacheCapacity = 8
    /// Attempts at committing when another process takes the same version number meanwhile.
    static let commitAttempts = 3

    struct VersionKey: Hashable {
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
    func fillFromSkipped() -> [String] {
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

struct WeakDeletionMark: Sendable {
    weak let mark: DeletionMark?
}
