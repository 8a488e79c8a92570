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
