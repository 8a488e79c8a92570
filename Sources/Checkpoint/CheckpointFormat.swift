/// Constants of checkpoint format v1; docs/checkpoint-format.md describes every byte.
public enum CheckpointFormat {
    /// The eight bytes every checkpoint starts with: ASCII `AXONCKPT`.
    public static let magic: [UInt8] = Array("AXONCKPT".utf8)
    /// The only format version this reader understands.
    public static let version: UInt16 = 1
    /// Size of the fixed header; everything after byte 56 is reserved and must be zero.
    public static let headerLength = 128
    /// Size of the CRC-32C trailer that closes the file.
    public static let trailerLength = 4
    /// The metadata section starts right after the header.
    public static let metadataOffset = headerLength
    /// Tensor-table entries and the table itself are aligned to this many bytes.
    public static let tableAlignment = 8
    /// The payload starts on this boundary so that tensor data could be mapped and read in place.
    public static let payloadAlignment = 64
    /// Fixed part of one tensor-table entry, before its dimensions and name.
    public static let tableEntryFixedLength = 24
    /// The only element type of v1.
    public static let dtypeFloat32: UInt8 = 1
    /// File-name suffix of a committed checkpoint.
    public static let fileExtension = "axon"

    /// Header field offsets, in bytes from the start of the file.
    enum Offset {
        static let magic = 0
        static let version = 8
        static let headerLength = 10
        static let flags = 12
        static let fileLength = 16
        static let metadataLength = 24
        static let tensorCount = 28
        static let tableOffset = 32
        static let payloadOffset = 40
        static let payloadLength = 48
        static let reserved = 56
    }

    /// Rounds `value` up to a multiple of `alignment` (a power of two), or nil on overflow.
    static func align(_ value: UInt64, to alignment: Int) -> UInt64? {
        let mask = UInt64(alignment - 1)
        let (sum, overflow) = value.addingReportingOverflow(mask)
        return overflow ? nil : sum & ~mask
    }

    /// Length of one table entry for a tensor of `rank` dimensions and an `nameLength`-byte name,
    /// padded to the table alignment. Inputs are bounded by the limits, so this cannot overflow.
    static func tableEntryLength(rank: Int, nameLength: Int) -> Int {
        let raw = tableEntryFixedLength + 8 * rank + nameLength
        return (raw + tableAlignment - 1) & ~(tableAlignment - 1)
    }
}

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
