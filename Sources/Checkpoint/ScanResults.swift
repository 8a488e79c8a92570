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

/// What a watch rescan compares against: per model, the version that serves and its file.
public struct StateSnapshot: Sendable, Equatable {
    /// One model's serving file.
    public struct Entry: Sendable, Equatable {
        /// Serving version.
        public var version: UInt64
        /// Identity of its file.
        public var file: FileIdentity

        /// An entry for `version`, served from the file with identity `file`.
        public init(version: UInt64, file: FileIdentity) {
            self.version = version
            self.file = file
        }
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
