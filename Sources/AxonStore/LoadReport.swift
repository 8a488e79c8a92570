/// What `ModelStore.load()` found at start-up.
public struct LoadReport: Sendable {
    /// Models now serving.
    public var models: Int = 0
    /// Version files moved to `quarantine/` because they failed verification.
    public var quarantined: Int = 0
    /// Models serving another version than `CURRENT` named (the marked one was corrupt,
    /// missing or not a valid model).
    public var fellBack: Int = 0
    /// Models with no version that could serve.
    public var unavailable: Int = 0
    /// Models on disk that do not serve because `limits.max_models` were loaded first (in
    /// name order), sorted by name.
    public var skipped: [String] = []
    /// One log line per problem found or repaired (also logged as they happen).
    public var problems: [String] = []
    /// Wall time of the load in seconds.
    public var seconds: Double = 0

    /// An empty report.
    public init() {}
}

/// What one watch rescan changed in the serving table.
public struct RefreshReport: Sendable, Equatable {
    /// Models that appeared (written by another process).
    public var added: [String] = []
    /// Models whose serving version changed (new version or rollback elsewhere).
    public var updated: [String] = []
    /// Models whose directory disappeared, now no longer served.
    public var removed: [String] = []
    /// Problems found (also logged).
    public var problems: Int = 0

    /// An empty report.
    public init() {}

    /// Whether nothing changed.
    public var isEmpty: Bool { added.isEmpty && updated.isEmpty && removed.isEmpty }
}
