/// Upper bounds the decoder enforces before allocating anything a file asks for.
public struct CheckpointLimits: Sendable, Equatable {
    /// Largest accepted file, in bytes.
    public var maxFileBytes: UInt64
    /// Largest accepted metadata section, in bytes.
    public var maxMetadataBytes: UInt64
    /// Most tensors one file may hold.
    public var maxTensors: UInt64
    /// Most Float32 elements summed over all tensors.
    public var maxElements: UInt64
    /// Most dimensions one tensor may have.
    public var maxRank: UInt64
    /// Longest tensor name, in UTF-8 bytes (also capped by the 16-bit field).
    public var maxNameBytes: UInt64

    /// Creates limits; the defaults fit MLPs of a few hundred million parameters.
    public init(
        maxFileBytes: UInt64 = 1 << 30,
        maxMetadataBytes: UInt64 = 1 << 20,
        maxTensors: UInt64 = 4096,
        maxElements: UInt64 = 1 << 28,
        maxRank: UInt64 = 8,
        maxNameBytes: UInt64 = 255
    ) {
        self.maxFileBytes = maxFileBytes
        self.maxMetadataBytes = maxMetadataBytes
        self.maxTensors = maxTensors
        self.maxElements = maxElements
        self.maxRank = maxRank
        self.maxNameBytes = min(maxNameBytes, UInt64(UInt16.max))
    }

    /// The limits used when none are given.
    public static let standard = CheckpointLimits()
}
