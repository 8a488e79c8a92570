#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How a scan treats what it finds.
public struct ScanOptions: Sendable {
    /// Move files that fail verification to `quarantine/`.
    public var quarantineCorrupt: Bool
    /// Rewrite `CURRENT` when it names a version that is missing or corrupt.
    public var repairCurrentMarker: Bool
    /// Verify every retained version, not only the one that serves.
    public var verifyAllVersions: Bool
    /// Remove temporaries and trash at least this many seconds old; nil keeps them. A shared
    /// state directory may hold another writer's temporary, hence the age.
    public var removeLeftoversOlderThan: Int64?

    /// Creates options; the defaults suit a daemon starting up.
    public init(
        quarantineCorrupt: Bool = true,
        repairCurrentMarker: Bool = true,
        verifyAllVersions: Bool = false,
        removeLeftoversOlderThan: Int64? = 600
    ) {
        self.quarantineCorrupt = quarantineCorrupt
        self.repairCurrentMarker = repairCurrentMarker
        self.verifyAllVersions = verifyAllVersions
        self.removeLeftoversOlderThan = removeLeftoversOlderThan
    }

    /// Startup: repair what can be repaired.
    public static let startup = ScanOptions()
    /// Watch mode: other processes own the directory too, so only read and quarantine.
    public static let watch = ScanOptions(repairCurrentMarker: false, removeLeftoversOlderThan: nil)
}

/// A model as loaded from disk: the verified checkpoint of its serving version.
public struct LoadedModel: Sendable {
    /// The model.
    public var name: ModelName
    /// The version that serves.
    public var version: UInt64
    /// Every retained version after quarantine, ascending.
    public var versions: [UInt64]
    /// The verified contents of `version`.
    public var checkpoint: CheckpointFile
    /// Identity of the loaded file, so later rescans can skip it when unchanged.
    public var file: FileIdentity
}

/// Something a scan found wrong or repaired. None of these stops the scan.
public struct ScanProblem: Sendable, CustomStringConvertible {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// An entry under `models/` is not a valid model name.
        case invalidModelName(reason: String)
        /// An entry that is neither a model directory, a version file, `CURRENT`, nor a leftover.
        case unexpectedEntry
        /// Reading failed (permissions, I/O error); the file was left where it is.
        case unreadable(StorageError)
        /// A version file failed verification; `quarantinedTo` is its new path if it was moved.
        case corrupt(CheckpointError, quarantinedTo: String?)
        /// A corrupt file could not be moved to quarantine.
        case quarantineFailed(StorageError)
        /// `CURRENT` does not hold a version number.
        case invalidCurrentMarker(contents: String)
        /// The marked version could not be served; an older or newer one serves instead.
        case fellBack(from: UInt64, to: UInt64)
        /// Rewriting `CURRENT` after a fall-back failed.
        case repairFailed(StorageError)
        /// No version of the model could be loaded.
        case noLoadableVersion
        /// A stale temporary file or trash directory was removed.
        case removedLeftover
    }

    /// The model concerned, if any.
    public var model: String?
    /// The path concerned.
    public var path: String
    /// What happened.
    public var kind: Kind

    /// One line for the log.
    public var description: String {
        let subject = model.map { "model '\($0)' " } ?? ""
        switch kind {
        case .invalidModelName(let reason): return "\(path): ignored, invalid model name (\(reason))"
        case .unexpectedEntry: return "\(path): ignored, unexpected entry"
        case .unreadable(let error): return "\(subject)unreadable: \(error)"
        case .corrupt(let error, let destination):
            return "\(subject)\(path) is corrupt (\(error))" + (destination.map { ", quarantined to \($0)" } ?? "")
        case .quarantineFailed(let error): return "\(subject)\(path) could not be quarantined: \(error)"
        case .invalidCurrentMarker(let contents): return "\(subject)\(path) is not a version number: '\(contents)'"
        case .fellBack(let from, let to): return "\(subject)version \(from) cannot serve, serving version \(to)"
        case .repairFailed(let error): return "\(subject)CURRENT could not be repaired: \(error)"
        case .noLoadableVersion: return "\(subject)has no loadable version"
        case .removedLeftover: return "\(path): removed stale leftover"
        }
    }
}

/// What a watch rescan compares against: per model, the version that serves and its file.
public struct StateSnapshot: Sendable, Equatable {
    /// One model's serving file.
    public struct Entry: Sendable, Equatable {
        /// Serving version.
        public var version: UInt64
        /// Identity of its file.
        public var file: FileIdentity
    }

    /// Serving file per model.
    public var models: [ModelName: Entry]

    /// A snapshot of the given models.
    public init(models: [ModelName: Entry] = [:]) { self.models = models }
}

/// Everything a full scan loaded.
public struct StateScanResult: Sendable {
    /// Every model that has a loadable version, sorted by name.
    public var models: [LoadedModel]
    /// Everything found wrong or repaired.
    public var problems: [ScanProblem]
    /// The baseline for the next `rescan`.
    public var snapshot: StateSnapshot
}

/// One difference a rescan found.
public enum StateChange: Sendable {
    /// A model appeared.
    case added(LoadedModel)
    /// A model's serving version or file changed.
    case updated(LoadedModel, previousVersion: UInt64)
    /// A model's directory is gone.
    case removed(ModelName, lastVersion: UInt64)
}

/// The result of a watch rescan.
public struct StateUpdate: Sendable {
    /// Differences from the previous snapshot, sorted by model name.
    public var changes: [StateChange]
    /// Everything found wrong or repaired.
    public var problems: [ScanProblem]
    /// The baseline for the next `rescan`.
    public var snapshot: StateSnapshot
}

extension StateDirectory {
    /// Loads every model: for each, the serving version is verified; a corrupt file is
    /// quarantined and the next candidate (older versions first) serves instead.
    public func scan(options: ScanOptions = .startup) -> StateScanResult {
        var problems: [ScanProblem] = []
        var models: [LoadedModel] = []
        var snapshot = StateSnapshot()
        for name in modelDirectories(options: options, problems: &problems) {
            if case .loaded(let model) = resolve(name, previous: nil, options: options, problems: &problems) {
                models.append(model)
                snapshot.models[name] = .init(version: model.version, file: model.file)
            }
        }
        return StateScanResult(models: models, problems: problems, snapshot: snapshot)
    }

    /// Rescans and reports what changed since `previous`, decoding only files whose identity
    /// changed. Only committed `*.axon` files are ever read, never temporaries. A model whose
    /// files all turn out corrupt keeps its previous entry, so the caller keeps serving it.
    public func rescan(since previous: StateSnapshot, options: ScanOptions = .watch) -> StateUpdate {
        var problems: [ScanProblem] = []
        var changes: [StateChange] = []
        var snapshot = StateSnapshot()
        let names = modelDirectories(options: options, problems: &problems)
        for name in names {
            let before = previous.models[name]
            switch resolve(name, previous: before, options: options, problems: &problems) {
            case .unchanged(let entry):
                snapshot.models[name] = entry
            case .loaded(let model):
                snapshot.models[name] = .init(version: model.version, file: model.file)
                if let before {
                    changes.append(.updated(model, previousVersion: before.version))
                } else {
                    changes.append(.added(model))
                }
            case .unavailable:
                if let before { snapshot.models[name] = before }
            }
        }
        let present = Set(names)
        for (name, entry) in previous.models where !present.contains(name) {
            changes.append(.removed(name, lastVersion: entry.version))
        }
        changes.sort { Self.changeName($0) < Self.changeName($1) }
        return StateUpdate(changes: changes, problems: problems, snapshot: snapshot)
    }

    private static func changeName(_ change: StateChange) -> ModelName {
        switch change {
        case .added(let model), .updated(let model, _): return model.name
        case .removed(let name, _): return name
        }
    }

    private enum Resolution {
        case unchanged(StateSnapshot.Entry)
        case loaded(LoadedModel)
        case unavailable
    }

    /// Valid model directories under `models/`, reporting and optionally clearing the rest.
    private func modelDirectories(options: ScanOptions, problems: inout [ScanProblem]) -> [ModelName] {
        let entries: [String]
        do {
            entries = try FileSystem.list(modelsPath)
        } catch {
            if error.errno != ENOENT { problems.append(.init(path: modelsPath, kind: .unreadable(error))) }
            return []
        }
        var names: [ModelName] = []
        for entry in entries.sorted() {
            let entryPath = "\(modelsPath)/\(entry)"
            if entry.hasPrefix(Self.trashPrefix) || DurableFile.isTemporaryName(entry) {
                removeIfStale(entryPath, options: options, problems: &problems)
                continue
            }
            if let reason = ModelName.problem(with: entry) {
                problems.append(.init(path: entryPath, kind: .invalidModelName(reason: reason)))
                continue
            }
            do {
                guard let info = try FileSystem.status(entryPath) else { continue }
                guard FileSystem.kind(of: info) == .directory else {
                    problems.append(.init(path: entryPath, kind: .unexpectedEntry))
                    continue
                }
            } catch {
                problems.append(.init(model: entry, path: entryPath, kind: .unreadable(error)))
                continue
            }
            if let name = try? ModelName(entry) { names.append(name) }
        }
        return names
    }

    /// Finds the version of `name` that should serve and loads it, unless it is the file
    /// `previous` already describes.
    private func resolve(
        _ name: ModelName,
        previous: StateSnapshot.Entry?,
        options: ScanOptions,
        problems: inout [ScanProblem]
    ) -> Resolution {
        let directory = path(of: name)
        let entries: [String]
        do {
            entries = try FileSystem.list(directory)
        } catch {
            // Deleted between listing models/ and now: simply not there any more.
            if error.errno != ENOENT {
                problems.append(.init(model: name.rawValue, path: directory, kind: .unreadable(error)))
            }
            return .unavailable
        }
        var versions: [UInt64] = []
        for entry in entries {
            if let version = Self.version(fromFileName: entry) {
                versions.append(version)
            } else if DurableFile.isTemporaryName(entry) {
                removeIfStale("\(directory)/\(entry)", options: options, problems: &problems)
            } else if entry != Self.currentMarkerName {
                problems.append(.init(model: name.rawValue, path: "\(directory)/\(entry)", kind: .unexpectedEntry))
            }
        }
        versions.sort()

        var marker: UInt64?
        do {
            marker = try currentMarker(of: name)
        } catch {
            if case .invalidCurrentMarker(let markerPath, let contents) = error {
                problems.append(.init(model: name.rawValue, path: markerPath, kind: .invalidCurrentMarker(contents: contents)))
            } else {
                problems.append(.init(model: name.rawValue, path: directory, kind: .unreadable(error)))
            }
        }

        // The marked version first; then older ones, newest first; then versions written after
        // the marker (a crash between the version file and CURRENT), oldest first.
        var candidates: [UInt64]
        if let marker {
            candidates = versions.filter { $0 <= marker }.reversed() + versions.filter { $0 > marker }
        } else {
            candidates = versions.reversed()
        }

        var loaded: LoadedModel?
        for version in candidates {
            let filePath = path(of: name, version: version)
            let info: stat
            do {
                guard let found = try FileSystem.status(filePath) else {
                    versions.removeAll { $0 == version }
                    continue
                }
                info = found
            } catch {
                problems.append(.init(model: name.rawValue, path: filePath, kind: .unreadable(error)))
                continue
            }
            let identity = FileSystem.identity(of: info)
            if let previous, previous.version == version, previous.file == identity {
                return .unchanged(previous)
            }
            do {
                let checkpoint = try load(name, version: version)
                loaded = LoadedModel(name: name, version: version, versions: versions, checkpoint: checkpoint, file: identity)
                break
            } catch {
                handleLoadFailure(error, model: name, version: version, options: options, problems: &problems)
                if case .corrupt = error, options.quarantineCorrupt { versions.removeAll { $0 == version } }
            }
        }

        guard var model = loaded else {
            if !candidates.isEmpty || marker != nil {
                problems.append(.init(model: name.rawValue, path: directory, kind: .noLoadableVersion))
            }
            return .unavailable
        }
        if let marker, marker != model.version {
            problems.append(.init(model: name.rawValue, path: directory, kind: .fellBack(from: marker, to: model.version)))
            if options.repairCurrentMarker {
                do {
                    try writeCurrentMarker(model.version, of: name)
                } catch {
                    problems.append(.init(model: name.rawValue, path: directory, kind: .repairFailed(error)))
                }
            }
        }
        if options.verifyAllVersions {
            for version in model.versions where version != model.version {
                do {
                    _ = try load(name, version: version)
                } catch {
                    handleLoadFailure(error, model: name, version: version, options: options, problems: &problems)
                    if case .corrupt = error, options.quarantineCorrupt { model.versions.removeAll { $0 == version } }
                }
            }
        }
        return .loaded(model)
    }

    private func handleLoadFailure(
        _ error: StorageError,
        model: ModelName,
        version: UInt64,
        options: ScanOptions,
        problems: inout [ScanProblem]
    ) {
        let filePath = path(of: model, version: version)
        switch error {
        case .corrupt(_, let cause):
            var destination: String?
            if options.quarantineCorrupt {
                do {
                    destination = try quarantine(model, version: version, reason: cause.description)
                } catch {
                    problems.append(.init(model: model.rawValue, path: filePath, kind: .quarantineFailed(error)))
                }
            }
            problems.append(.init(model: model.rawValue, path: filePath, kind: .corrupt(cause, quarantinedTo: destination)))
        case .fileTooLarge(_, let size, let limit):
            // Too large to verify within the limits: treated like corruption, the data is unusable.
            let cause = CheckpointError.limitExceeded(field: .fileBytes, limit: limit, value: size)
            handleLoadFailure(.corrupt(path: filePath, cause), model: model, version: version, options: options, problems: &problems)
        case .versionNotFound:
            break  // removed by a pruning writer between listing and reading
        default:
            problems.append(.init(model: model.rawValue, path: filePath, kind: .unreadable(error)))
        }
    }

    private func removeIfStale(_ path: String, options: ScanOptions, problems: inout [ScanProblem]) {
        guard let age = options.removeLeftoversOlderThan else { return }
        do {
            guard let info = try FileSystem.status(path) else { return }
            guard FileSystem.now() - Int64(info.st_mtim.tv_sec) >= age else { return }
            try FileSystem.removeTree(path)
            problems.append(.init(path: path, kind: .removedLeftover))
        } catch {
            problems.append(.init(path: path, kind: .unreadable(error)))
        }
    }
}
