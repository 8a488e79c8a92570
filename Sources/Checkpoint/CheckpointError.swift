/// Why a checkpoint could not be encoded or decoded. Every case names one condition and carries
/// the numbers a person needs to see what is wrong with the file.
public enum CheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A size limit from `CheckpointLimits`.
    public enum Limit: String, Sendable, Equatable {
        /// `CheckpointLimits.maxFileBytes`.
        case fileBytes
        /// `CheckpointLimits.maxMetadataBytes`.
        case metadataBytes
        /// `CheckpointLimits.maxTensors`.
        case tensors
        /// `CheckpointLimits.maxElements`, per dimension and in total.
        case elements
        /// `CheckpointLimits.maxRank`.
        case rank
        /// `CheckpointLimits.maxNameBytes`.
        case nameBytes
    }

    /// The first bytes are not `AXONCKPT`; the file is not a checkpoint.
    case badMagic(found: [UInt8])
    /// The file was written by a format version this reader does not know.
    case unsupportedVersion(found: UInt16)
    /// The header declares a length this version does not use.
    case unsupportedHeaderLength(found: UInt16)
    /// Flag bits this version does not define are set.
    case unsupportedFlags(found: UInt32)
    /// The file ends before the length it declares (or before a complete header).
    case truncated(expected: UInt64, got: UInt64)
    /// The file is longer than the length its header declares.
    case trailingBytes(expected: UInt64, got: UInt64)
    /// The CRC-32C stored in the trailer does not match the bytes.
    case checksumMismatch(expected: UInt32, computed: UInt32)
    /// A size exceeds its configured limit.
    case limitExceeded(field: Limit, limit: UInt64, value: UInt64)
    /// A structural field holds a value other than the one the layout requires.
    case invalidLayout(field: String, expected: UInt64, found: UInt64)
    /// A reserved byte is not zero.
    case reservedNotZero(offset: UInt64)
    /// The metadata section is not valid UTF-8.
    case metadataNotUTF8
    /// Tensor-table entry `index` runs past the end of the table.
    case tensorTableOverrun(index: UInt64)
    /// Tensor `index` has an empty name or one that is not UTF-8.
    case invalidTensorName(index: UInt64)
    /// Two tensors share a name.
    case duplicateTensor(name: String)
    /// A tensor uses an element type other than Float32.
    case unsupportedDType(tensor: String, code: UInt8)
    /// A tensor's byte length does not equal its element count times four.
    case tensorLengthMismatch(tensor: String, expected: UInt64, found: UInt64)
    /// A tensor's data lies (partly) outside the payload or is misaligned.
    case tensorOutOfBounds(tensor: String, offset: UInt64, length: UInt64, payloadLength: UInt64)
    /// A tensor's data starts before the previous tensor's data ends.
    case tensorsOverlap(tensor: String, offset: UInt64, previousEnd: UInt64)
    /// The payload holds bytes that belong to no tensor.
    case unreferencedPayload(used: UInt64, payloadLength: UInt64)
    /// Encoding: a tensor's shape does not match the number of values given.
    case shapeMismatch(tensor: String, shape: [Int], values: Int)
    /// Encoding: a tensor has a negative dimension.
    case negativeDimension(tensor: String, shape: [Int])

    /// A one-line explanation for logs and API errors.
    public var description: String {
        switch self {
        case .badMagic(let found):
            return "not a checkpoint: magic bytes \(found.map { String($0, radix: 16) }) are not AXONCKPT"
        case .unsupportedVersion(let found):
            return "unsupported checkpoint format version \(found) (this reader knows 1)"
        case .unsupportedHeaderLength(let found):
            return "unsupported header length \(found) (format v1 uses \(CheckpointFormat.headerLength))"
        case .unsupportedFlags(let found):
            return "unsupported header flags 0x\(String(found, radix: 16))"
        case .truncated(let expected, let got):
            return "truncated checkpoint: expected \(expected) bytes, got \(got)"
        case .trailingBytes(let expected, let got):
            return "checkpoint has trailing bytes: header says \(expected) bytes, file has \(got)"
        case .checksumMismatch(let expected, let computed):
            return "checksum mismatch: stored CRC-32C 0x\(String(expected, radix: 16)), computed 0x\(String(computed, radix: 16))"
        case .limitExceeded(let field, let limit, let value):
            return "limit exceeded: \(field.rawValue) is \(value), limit \(limit)"
        case .invalidLayout(let field, let expected, let found):
            return "invalid layout: \(field) is \(found), expected \(expected)"
        case .reservedNotZero(let offset):
            return "reserved byte at offset \(offset) is not zero"
        case .metadataNotUTF8:
            return "metadata is not valid UTF-8"
        case .tensorTableOverrun(let index):
            return "tensor table entry \(index) runs past the end of the table"
        case .invalidTensorName(let index):
            return "tensor \(index) has an empty or non-UTF-8 name"
        case .duplicateTensor(let name):
            return "duplicate tensor name '\(name)'"
        case .unsupportedDType(let tensor, let code):
            return "tensor '\(tensor)' has unsupported dtype code \(code) (v1 knows 1 = float32)"
        case .tensorLengthMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has \(found) bytes, its shape needs \(expected)"
        case .tensorOutOfBounds(let tensor, let offset, let length, let payloadLength):
            return "tensor '\(tensor)' at offset \(offset) length \(length) is outside the \(payloadLength)-byte payload or misaligned"
        case .tensorsOverlap(let tensor, let offset, let previousEnd):
            return "tensor '\(tensor)' starts at \(offset), before the previous tensor ends at \(previousEnd)"
        case .unreferencedPayload(let used, let payloadLength):
            return "payload is \(payloadLength) bytes but tensors use only \(used)"
        case .shapeMismatch(let tensor, let shape, let values):
            return "tensor '\(tensor)' has shape \(shape) but \(values) values"
        case .negativeDimension(let tensor, let shape):
            return "tensor '\(tensor)' has a negative dimension in shape \(shape)"
        }
    }
}
