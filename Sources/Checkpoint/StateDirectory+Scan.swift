#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
        guard var versions = versionFiles(of: name, in: directory, options: options, problems: &problems) else {
            return .unavailable
        }
        let (marker, markerInvalid) = readMarker(of: name, in: directory, problems: &problems)
        let candidates = Self.candidates(versions, marker: marker)
        let found = loadFirst(
            of: name, candidates: candidates, versions: &versions, previous: previous, options: options, problems: &problems)
        guard case .loaded(var model) = found else {
            if case .unavailable = found, !candidates.isEmpty || marker != nil {
                problems.append(.init(model: name.rawValue, path: directory, kind: .noLoadableVersion))
            }
            return found
        }
        checkMarker(marker, invalid: markerInvalid, serving: model, in: directory, options: options, problems: &problems)
        if options.verifyAllVersions {
            verifyOtherVersions(of: &model, options: options, problems: &problems)
        }
        return .loaded(model)
    }

    /// The committed versions in `directory`, sorted; stale temporaries removed and other
    /// entries reported. nil when the directory cannot be listed.
    private func versionFiles(
        of name: ModelName, in directory: String, options: ScanOptions, problems: inout [ScanProblem]
    ) -> [UInt64]? {
        let entries: [String]
        do {
            entries = try FileSystem.list(directory)
        } catch {
            // Deleted between listing models/ and now: simply not there any more.
            if error.errno != ENOENT {
                problems.append(.init(model: name.rawValue, path: directory, kind: .unreadable(error)))
            }
            return nil
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
        return versions.sorted()
    }

    /// The version `CURRENT` names (nil if none or unreadable), and whether it held something
    /// that is not a version.
    private func readMarker(
        of name: ModelName, in directory: String, problems: inout [ScanProblem]
    ) -> (marker: UInt64?, invalid: Bool) {
        do {
            return (try currentMarker(of: name), false)
        } catch {
            if case .invalidCurrentMarker(let markerPath, let contents) = error {
                problems.append(.init(model: name.rawValue, path: markerPath, kind: .invalidCurrentMarker(contents: contents)))
                return (nil, true)
            }
            problems.append(.init(model: name.rawValue, path: directory, kind: .unreadable(error)))
            return (nil, false)
        }
    }

    /// The order versions are tried in: the marked version first; then older ones, newest
    /// first; then versions written after the marker (a crash between the version file and
    /// CURRENT), oldest first.
    private static func candidates(_ versions: [UInt64], marker: UInt64?) -> [UInt64] {
        guard let marker else { return versions.reversed() }
        return versions.filter { $0 <= marker }.reversed() + versions.filter { $0 > marker }
    }

    /// Loads the first of `candidates` that reads back: `.unchanged` if it is the very file
    /// `previous` describes, `.unavailable` if none does. Versions found gone (or quarantined)
    /// are dropped from `versions`.
    private func loadFirst(
        of name: ModelName, candidates: [UInt64], versions: inout [UInt64], previous: StateSnapshot.Entry?,
        options: ScanOptions, problems: inout [ScanProblem]
    ) -> Resolution {
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
                return .loaded(LoadedModel(name: name, version: version, versions: versions, checkpoint: checkpoint, file: identity))
            } catch {
                if handleLoadFailure(error, model: name, version: version, options: options, problems: &problems) {
                    versions.removeAll { $0 == version }
                }
            }
        }
        return .unavailable
    }

    /// Reports a fall-back from the marked version, and repairs `CURRENT` when it names a
    /// version that is gone or holds no version at all.
    private func checkMarker(
        _ marker: UInt64?, invalid markerInvalid: Bool, serving model: LoadedModel, in directory: String,
        options: ScanOptions, problems: inout [ScanProblem]
    ) {
        let name = model.name
        let markerWrong = marker.map { $0 != model.version } ?? false
        if let marker, markerWrong {
            problems.append(.init(model: name.rawValue, path: directory, kind: .fellBack(from: marker, to: model.version)))
        }
        // Rewrite only a marker whose version is gone (missing or quarantined): a version that
        // was merely unreadable this time (EIO, lowered limits) must serve again once it can.
        let markerGone = marker.map { !model.versions.contains($0) } ?? false
        if markerGone || markerInvalid {
            if options.repairCurrentMarker {
                do {
                    try writeCurrentMarker(model.version, of: name)
                } catch {
                    problems.append(.init(model: name.rawValue, path: directory, kind: .repairFailed(error)))
                }
            }
        }
    }

    /// Loads every retained version but the serving one, quarantining the corrupt ones.
    private func verifyOtherVersions(of model: inout LoadedModel, options: ScanOptions, problems: inout [ScanProblem]) {
        for version in model.versions where version != model.version {
            do {
                _ = try load(model.name, version: version)
            } catch {
                if handleLoadFailure(error, model: model.name, version: version, options: options, problems: &problems) {
                    model.versions.removeAll { $0 == version }
                }
            }
        }
    }

    /// Records why a version could not be loaded, quarantining it if it is corrupt.
    /// - Returns: whether the file is gone from the model directory (quarantined, or removed
    ///   by another writer meanwhile), so it no longer counts as retained.
    private func handleLoadFailure(
        _ error: StorageError,
        model: ModelName,
        version: UInt64,
        options: ScanOptions,
        problems: inout [ScanProblem]
    ) -> Bool {
        let filePath = path(of: model, version: version)
        switch error {
        case .corrupt(_, .limitExceeded), .fileTooLarge:
            // Possibly intact but beyond the configured limits (which may just have been
            // lowered): left in place for an operator, never quarantined.
            problems.append(.init(model: model.rawValue, path: filePath, kind: .unreadable(error)))
            return false
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
            return destination != nil
        case .versionNotFound:
            return true  // removed by a pruning writer between listing and reading
        default:
            problems.append(.init(model: model.rawValue, path: filePath, kind: .unreadable(error)))
            return false
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
