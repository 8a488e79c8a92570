/// What identifies one version of a file on disk: a replaced or rewritten file changes at least
/// one of these, so watch mode can skip decoding files it has already loaded.
public struct FileIdentity: Hashable, Sendable {
    /// Device number.
    public var device: UInt64
    /// Inode number.
    public var inode: UInt64
    /// Size in bytes.
    public var size: UInt64
    /// Modification time, seconds since the epoch.
    public var modifiedSeconds: Int64
    /// Modification time, nanoseconds within the second.
    public var modifiedNanoseconds: Int64

    /// Identifies a file from its `stat`.
    public init(device: UInt64, inode: UInt64, size: UInt64, modifiedSeconds: Int64, modifiedNanoseconds: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
    }
}
