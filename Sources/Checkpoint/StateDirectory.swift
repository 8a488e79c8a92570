#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The on-disk layout of Axon's state and the synchronous operations on it.
///
///     <root>/models/<name>/00000001.axon   one complete checkpoint per version
///     <root>/models/<name>/CURRENT         the serving version, "<decimal>\n"
///     <root>/models/.trash-<name>-<hex>/   a model being deleted
///     <root>/quarantine/<name>-<version>-<seconds>-<hex>.axon and .reason
///
/// Version files are named with the decimal version zero-padded to at least eight digits, so a
/// plain directory listing sorts by version. Every mutation is durable (temp file, fsync,
/// rename or link, directory fsync). The value holds only configuration, so copies may be used
/// from any thread; the file system is the only shared state, and concurrent committers of the
/// same model cannot overwrite each other's versions (the loser gets `versionExists`).
public struct StateDirectory: Sendable {
    /// Root of the state directory (`--state-dir`).
    public let root: String
    /// Limits applied to every checkpoint read or written.
    public var limits: CheckpointLimits
    /// How many versions per model `prune` keeps by default.
    public var retention: Int

    /// Name of the current-version marker inside a model directory.
    public static let currentMarkerName = "CURRENT"
    /// Prefix of a model directory that is being deleted.
    public static let trashPrefix = ".trash-"
    /// Minimum number of digits in a version file name.
    public static let versionDigits = 8

    /// Describes the state directory at `root`; nothing is touched until an operation runs.
    public init(root: String, limits: CheckpointLimits = .standard, retention: Int = 5) {
        precondition(retention >= 1, "retention must keep at least one version")
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        self.limits = limits
        self.retention = retention
    }

    /// `<root>/models`.
    public var modelsPath: String { "\(root)/models" }
    /// `<root>/quarantine`.
    public var quarantinePath: String { "\(root)/quarantine" }

    /// Directory holding every version of `model`.
    public func path(of model: ModelName) -> String { "\(modelsPath)/\(model.rawValue)" }

    /// File of one version of `model`.
    public func path(of model: ModelName, version: UInt64) -> String {
        "\(path(of: model))/\(Self.fileName(version: version))"
    }

    /// `<version>.axon`, zero-padded to `versionDigits`.
    public static func fileName(version: UInt64) -> String {
        let digits = String(version)
        let padding = String(repeating: "0", count: max(0, versionDigits - digits.count))
        return "\(padding)\(digits).\(CheckpointFormat.fileExtension)"
    }

    /// The version a file name stands for, or nil if it is not exactly `fileName(version:)` of
    /// some version >= 1 (temporaries, stray files and non-canonical spellings are ignored).
    public static func version(fromFileName name: String) -> UInt64? {
        let suffix = ".\(CheckpointFormat.fileExtension)"
        guard name.hasSuffix(suffix) else { return nil }
        let stem = name.dropLast(suffix.count)
        guard stem.count >= versionDigits, stem.count <= 20, stem.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let version = UInt64(stem), version >= 1, fileName(version: version) == name
        else { return nil }
        return version
    }

    /// Creates `models/` and `quarantine/` (and the root) if missing.
    public func prepare() throws(StorageError) {
        try DurableFile.createDirectory(root)
        try DurableFile.createDirectory(modelsPath)
        try DurableFile.createDirectory(quarantinePath)
    }

    /// Every valid model name with a directory under `models/`, sorted.
    public func modelNames() throws(StorageError) -> [ModelName] {
        var names: [ModelName] = []
        for entry in try FileSystem.list(modelsPath) {
            guard ModelName.problem(with: entry) == nil, let model = try? ModelName(entry),
                let info = try FileSystem.status("\(modelsPath)/\(entry)"),
                FileSystem.kind(of: info) == .directory
            else { continue }
            names.append(model)
        }
        return names.sorted()
    }

    /// Whether `model` has a directory.
    public func exists(_ model: ModelName) throws(StorageError) -> Bool {
        guard let info = try FileSystem.status(path(of: model)) else { return false }
        return FileSystem.kind(of: info) == .directory
    }

    /// Versions of `model` that have a committed file, ascending.
    public func versions(of model: ModelName) throws(StorageError) -> [UInt64] {
        let directory = path(of: model)
        do {
            return try FileSystem.list(directory).compactMap(Self.version(fromFileName:)).sorted()
        } catch let error where error.errno == ENOENT {
            throw .modelNotFound(model.rawValue)
        }
    }

    /// The version recorded in `CURRENT`, or nil if there is no marker.
    public func currentMarker(of model: ModelName) throws(StorageError) -> UInt64? {
        let markerPath = "\(path(of: model))/\(Self.currentMarkerName)"
        let bytes: [UInt8]
        do {
            bytes = try DurableFile.read(markerPath, maxBytes: 64)
        } catch let error where error.errno == ENOENT {
            return nil
        } catch let .fileTooLarge(path, _, _) {
            throw .invalidCurrentMarker(path: path, contents: "<more than 64 bytes>")
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let trimmed = text.hasSuffix("\n") ? String(text.dropLast()) : text
        guard let version = UInt64(trimmed), version >= 1 else {
            throw .invalidCurrentMarker(path: markerPath, contents: text)
        }
        return version
    }

    /// The serving version: the `CURRENT` marker if it names a retained version, otherwise the
    /// highest retained version; nil if the model has none.
    public func currentVersion(of model: ModelName) throws(StorageError) -> UInt64? {
        let retained = try versions(of: model)
        if let marker = try? currentMarker(of: model), retained.contains(marker) { return marker }
        return retained.last
    }

    /// Encodes `checkpoint`, stores it as the next version of `model` and makes it current.
    ///
    /// The version file is durable before `CURRENT` moves, so a crash between the two leaves the
    /// previous version serving and the new file merely retained. Old versions are not pruned
    /// here; call `prune` afterwards so that a pruning failure cannot mask a successful commit.
    /// - Returns: the new version number.
    @discardableResult
    public func commit(_ checkpoint: CheckpointFile, to model: ModelName) throws(StorageError) -> UInt64 {
        let bytes: [UInt8]
        do {
            bytes = try CheckpointEncoder.encode(checkpoint, limits: limits)
        } catch {
            throw .invalidCheckpoint(error)
        }
        do {
            try DurableFile.createDirectory(path(of: model))
        } catch let error where error.errno == ENOENT {
            try prepare()
            try DurableFile.createDirectory(path(of: model))
        }
        let retained = try versions(of: model)
        let marker = try? currentMarker(of: model)
        let version = max(retained.last ?? 0, marker ?? 0) + 1
        do {
            try DurableFile.write(bytes, to: path(of: model, version: version), replacing: false)
        } catch let error where error.errno == EEXIST {
            throw .versionExists(model: model.rawValue, version: version)
        }
        try writeCurrentMarker(version, of: model)
        return version
    }

    /// Reads and verifies one version of `model`.
    public func load(_ model: ModelName, version: UInt64) throws(StorageError) -> CheckpointFile {
        let filePath = path(of: model, version: version)
        let bytes: [UInt8]
        do {
            bytes = try DurableFile.read(filePath, maxBytes: limits.maxFileBytes)
        } catch let error where error.errno == ENOENT {
            throw .versionNotFound(model: model.rawValue, version: version)
        }
        do {
            return try CheckpointDecoder.decode(bytes, limits: limits)
        } catch {
            throw .corrupt(path: filePath, error)
        }
    }

    /// Makes `version` (which must be retained and intact) the serving version: rollback, or
    /// roll forward again.
    public func setCurrent(_ model: ModelName, version: UInt64) throws(StorageError) {
        guard try exists(model) else { throw .modelNotFound(model.rawValue) }
        _ = try load(model, version: version)
        try writeCurrentMarker(version, of: model)
    }

    /// Deletes all but the newest `keep` versions of `model`, never the current one.
    /// - Returns: the removed versions.
    @discardableResult
    public func prune(_ model: ModelName, keep: Int? = nil) throws(StorageError) -> [UInt64] {
        let keep = keep ?? retention
        precondition(keep >= 1, "prune must keep at least one version")
        let retained = try versions(of: model)
        guard retained.count > keep else { return [] }
        let current = try currentVersion(of: model)
        let removable = retained.dropLast(keep).filter { $0 != current }
        for version in removable {
            try FileSystem.remove(path(of: model, version: version))
        }
        if !removable.isEmpty { try DurableFile.syncDirectory(path(of: model)) }
        return Array(removable)
    }

    /// Moves one version file of `model` into `quarantine/` with a `.reason` file beside it.
    /// - Returns: the quarantined file's new path.
    @discardableResult
    public func quarantine(_ model: ModelName, version: UInt64, reason: String) throws(StorageError) -> String {
        try DurableFile.createDirectory(quarantinePath)
        let suffix = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let stem = "\(model.rawValue)-\(Self.fileName(version: version).dropLast(5))-\(FileSystem.now())-\(suffix)"
        let destination = "\(quarantinePath)/\(stem).\(CheckpointFormat.fileExtension)"
        do {
            try FileSystem.move(path(of: model, version: version), to: destination)
        } catch let error where error.errno == ENOENT {
            throw .versionNotFound(model: model.rawValue, version: version)
        }
        try DurableFile.syncDirectory(path(of: model))
        let note = "model: \(model.rawValue)\nversion: \(version)\nreason: \(reason)\n"
        try DurableFile.write(Array(note.utf8), to: "\(quarantinePath)/\(stem).reason")
        return destination
    }

    /// Deletes `model` with every version: the directory is first renamed to a hidden trash
    /// name (one atomic, durable step after which the model is gone for every reader), then
    /// removed. A crash mid-removal leaves only trash, which the startup scan clears.
    public func delete(_ model: ModelName) throws(StorageError) {
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let trash = "\(modelsPath)/\(Self.trashPrefix)\(model.rawValue)-\(suffix)"
        do {
            try FileSystem.move(path(of: model), to: trash)
        } catch let error where error.errno == ENOENT {
            throw .modelNotFound(model.rawValue)
        }
        try DurableFile.syncDirectory(modelsPath)
        try FileSystem.removeTree(trash)
        try DurableFile.syncDirectory(modelsPath)
    }

    func writeCurrentMarker(_ version: UInt64, of model: ModelName) throws(StorageError) {
        try DurableFile.write(Array("\(version)\n".utf8), to: "\(path(of: model))/\(Self.currentMarkerName)")
    }
}
