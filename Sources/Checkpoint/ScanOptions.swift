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
    /// A read-only state directory (a KServe model mount): report problems, change nothing.
    public static let readOnly = ScanOptions(
        quarantineCorrupt: false, repairCurrentMarker: false, removeLeftoversOlderThan: nil)
}
