import Checkpoint
import Testing

@Suite("Checkpoint format v1")
struct CodecTests {
    /// The whole file for metadata `{"a":1}` and tensor w = [1, -2], computed independently
    /// (Python struct + bitwise CRC-32C) from docs/checkpoint-format.md.
    static let golden: [UInt8] = hex(
        "41584f4e434b50540100800000000000cc000000000000000700000001000000"
            + "8800000000000000c00000000000000008000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000000"
            + "7b2261223a317d00010001010000000000000000000000000800000000000000"
            + "0200000000000000770000000000000000000000000000000000000000000000"
            + "0000803f000000c0a14ea696")

    static func hex(_ text: String) -> [UInt8] {
        let digits = Array(text.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { index in
            UInt8(String(decoding: digits[index...index + 1], as: UTF8.self), radix: 16)!
        }
    }

    static let goldenFile = CheckpointFile(
        metadata: Array(#"{"a":1}"#.utf8), tensors: [Tensor(name: "w", shape: [2], values: [1, -2])])

    @Test("encoder output matches the documented bytes exactly")
    func goldenBytes() throws {
        let bytes = try CheckpointEncoder.encode(Self.goldenFile)
        #expect(bytes.count == 204)
        #expect(Array(bytes[0..<128]) == Array(Self.golden[0..<128]), "header")
        #expect(bytes == Self.golden)
        #expect(try CheckpointDecoder.decode(Self.golden) == Self.goldenFile)
    }

    @Test("round trip is byte-exact, including NaN payloads, infinities, -0, scalars and empty tensors")
    func roundTrip() throws {
        var file = sampleCheckpoint()
        file.tensors.append(Tensor(
            name: "special", shape: [6],
            values: [.nan, -.infinity, .infinity, -0.0, .leastNonzeroMagnitude, Float(bitPattern: 0x7FC0_1234)]))
        file.tensors.append(Tensor(name: "step", shape: [], values: [120]))
        file.tensors.append(Tensor(name: "empty", shape: [0, 5], values: []))
        file.tensors.append(Tensor(name: "ünïcode.名前", shape: [1], values: [3]))
        let bytes = try CheckpointEncoder.encode(file)
        let decoded = try CheckpointDecoder.decode(bytes)
        #expect(decoded.metadata == file.metadata)
        #expect(decoded.tensors.map(\.name) == file.tensors.map(\.name))
        #expect(decoded.tensors.map(\.shape) == file.tensors.map(\.shape))
        #expect(decoded.tensors.map { $0.values.map(\.bitPattern) } == file.tensors.map { $0.values.map(\.bitPattern) })
        #expect(try CheckpointEncoder.encode(decoded) == bytes)
    }

    @Test("an empty checkpoint round-trips")
    func emptyCheckpoint() throws {
        let empty = CheckpointFile(metadata: [], tensors: [])
        let bytes = try CheckpointEncoder.encode(empty)
        #expect(bytes.count == 128 + 4)
        #expect(try CheckpointDecoder.decode(bytes) == empty)
    }

    @Test("Codable metadata helpers encode sorted keys and decode back")
    func codableMetadata() throws {
        struct Metadata: Codable, Equatable { var loss: String; var epochs: Int; var labels: [String] }
        let metadata = Metadata(loss: "mse", epochs: 3, labels: ["x"])
        let file = try CheckpointFile(encoding: metadata, tensors: [])
        #expect(String(decoding: file.metadata, as: UTF8.self) == #"{"epochs":3,"labels":["x"],"loss":"mse"}"#)
        let decoded = try CheckpointDecoder.decode(CheckpointEncoder.encode(file))
        #expect(try decoded.decodeMetadata(as: Metadata.self) == metadata)
    }

    @Test("every proper prefix is rejected as truncated, never a crash")
    func truncationAtEveryPrefix() throws {
        let bytes = try CheckpointEncoder.encode(sampleCheckpoint())
        for length in 0..<bytes.count {
            let error = decodeError(Array(bytes[0..<length]))
            let expected = UInt64(length < 128 ? 128 : bytes.count)
            #expect(error == .truncated(expected: expected, got: UInt64(length)), "prefix \(length)")
        }
    }

    @Test("trailing bytes after the declared length are rejected")
    func trailingBytes() throws {
        let bytes = try CheckpointEncoder.encode(sampleCheckpoint())
        #expect(decodeError(bytes + [0]) == .trailingBytes(expected: UInt64(bytes.count), got: UInt64(bytes.count + 1)))
    }

    /// Bytes 0-24 identify the file and its length and are checked before the checksum; every
    /// flip there has its own named error. Every other header flip is a checksum mismatch.
    @Test("every bit flip in the header gives a named error")
    func headerBitFlips() throws {
        let bytes = try CheckpointEncoder.encode(sampleCheckpoint())
        for bit in 0..<(128 * 8) {
            var damaged = bytes
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            let error = try #require(decodeError(damaged), "bit \(bit)")
            switch bit / 8 {
            case 0..<8: #expect(error == .badMagic(found: Array(damaged[0..<8])))
            case 8..<10: #expect(error == .unsupportedVersion(found: UInt16(damaged[8]) | UInt16(damaged[9]) << 8))
            case 10..<12: #expect(error == .unsupportedHeaderLength(found: UInt16(damaged[10]) | UInt16(damaged[11]) << 8))
            case 12..<16: if case .unsupportedFlags = error {} else { Issue.record("bit \(bit): \(error)") }
            case 16..<24:
                switch error {
                case .limitExceeded(field: .fileBytes, _, _), .truncated, .trailingBytes: break
                default: Issue.record("bit \(bit): \(error)")
                }
            default:
                if case .checksumMismatch = error {} else { Issue.record("bit \(bit): \(error)") }
            }
        }
    }

    @Test("sampled bit flips in metadata, table, payload and trailer give checksum mismatches")
    func payloadBitFlips() throws {
        let bytes = try CheckpointEncoder.encode(sampleCheckpoint())
        var random = SeededGenerator(seed: 2024)
        var bits = (0..<400).map { _ in Int.random(in: (128 * 8)..<(bytes.count * 8), using: &random) }
        bits += ((bytes.count - 4) * 8..<bytes.count * 8).map { $0 }  // every trailer bit
        for bit in bits {
            var damaged = bytes
            damaged[bit / 8] ^= 1 << UInt8(bit % 8)
            let error = decodeError(damaged)
            if case .checksumMismatch = error {} else { Issue.record("bit \(bit): \(String(describing: error))") }
        }
    }

    @Test("random garbage and junk with a valid magic never crash")
    func garbage() {
        var random = SeededGenerator(seed: 99)
        for length in [0, 1, 7, 8, 64, 127, 128, 129, 200, 1000] {
            for _ in 0..<20 {
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
                #expect(decodeError(bytes) != nil)
                if length >= 8 {
                    bytes.replaceSubrange(0..<8, with: CheckpointFormat.magic)
                    #expect(decodeError(bytes) != nil)
                    #expect(decodeError(resealed(bytes)) != nil)
                }
            }
        }
    }
}

/// Forged files whose checksum is valid, so the structural checks must catch them.
@Suite("Checkpoint decoder limits and structure")
struct DecoderLimitTests {
    /// Layout of the golden file: the table entry of `w` starts at 136, its dimension at 160.
    let golden = CodecTests.golden

    @Test("a shape claiming 2^60 elements is rejected before any allocation")
    func hugeShape() throws {
        let file = CheckpointFile(metadata: [], tensors: [Tensor(name: "w", shape: [1, 1], values: [1])])
        var bytes = try CheckpointEncoder.encode(file)
        // metadata is empty: table at 128, dims at 128+24 and 128+32.
        patch(&bytes, at: 152, UInt64(1) << 30)
        patch(&bytes, at: 160, UInt64(1) << 30)
        let error = decodeError(resealed(bytes))
        #expect(error == .limitExceeded(field: .elements, limit: 1 << 28, value: 1 << 30))

        patch(&bytes, at: 152, UInt64.max)
        patch(&bytes, at: 160, UInt64.max)
        let unlimited = CheckpointLimits(maxElements: .max)
        #expect(decodeError(resealed(bytes), limits: unlimited) == .limitExceeded(field: .elements, limit: .max, value: .max))
    }

    @Test("header counts beyond the limits are refused")
    func headerLimits() throws {
        var bytes = golden
        patch(&bytes, at: 16, UInt64(1) << 60)
        #expect(decodeError(bytes) == .limitExceeded(field: .fileBytes, limit: 1 << 30, value: 1 << 60))

        bytes = golden
        patch(&bytes, at: 24, UInt32.max)
        #expect(decodeError(resealed(bytes)) == .limitExceeded(field: .metadataBytes, limit: 1 << 20, value: UInt64(UInt32.max)))

        bytes = golden
        patch(&bytes, at: 28, UInt32(1) << 31)
        #expect(decodeError(resealed(bytes)) == .limitExceeded(field: .tensors, limit: 4096, value: 1 << 31))

        #expect(decodeError(golden, limits: CheckpointLimits(maxFileBytes: 100)) == .limitExceeded(field: .fileBytes, limit: 100, value: 204))
        #expect(decodeError(golden, limits: CheckpointLimits(maxMetadataBytes: 6)) == .limitExceeded(field: .metadataBytes, limit: 6, value: 7))
        #expect(decodeError(golden, limits: CheckpointLimits(maxTensors: 0)) == .limitExceeded(field: .tensors, limit: 0, value: 1))
        #expect(decodeError(golden, limits: CheckpointLimits(maxElements: 1)) == .limitExceeded(field: .elements, limit: 1, value: 2))
        #expect(decodeError(golden, limits: CheckpointLimits(maxRank: 0)) == .limitExceeded(field: .rank, limit: 0, value: 1))
    }

    @Test("structural forgeries get their own named errors")
    func structuralErrors() throws {
        var bytes = golden
        patch(&bytes, at: 12, UInt32(1))
        #expect(decodeError(bytes) == .unsupportedFlags(found: 1))

        bytes = golden
        patch(&bytes, at: 8, UInt16(2))
        #expect(decodeError(bytes) == .unsupportedVersion(found: 2))

        bytes = golden
        bytes[100] = 1
        #expect(decodeError(resealed(bytes)) == .reservedNotZero(offset: 100))

        bytes = golden
        bytes[138] = 2  // dtype
        #expect(decodeError(resealed(bytes)) == .unsupportedDType(tensor: "w", code: 2))

        bytes = golden
        patch(&bytes, at: 152, UInt64(12))  // byte length
        #expect(decodeError(resealed(bytes)) == .tensorLengthMismatch(tensor: "w", expected: 8, found: 12))

        bytes = golden
        patch(&bytes, at: 144, UInt64(4))  // data offset
        #expect(decodeError(resealed(bytes)) == .tensorOutOfBounds(tensor: "w", offset: 4, length: 8, payloadLength: 8))

        bytes = golden
        patch(&bytes, at: 144, UInt64.max - 3)
        #expect(decodeError(resealed(bytes)) == .tensorOutOfBounds(tensor: "w", offset: .max - 3, length: 8, payloadLength: 8))

        bytes = golden
        bytes[136] = 0  // name length 0
        #expect(decodeError(resealed(bytes)) == .invalidTensorName(index: 0))

        bytes = golden
        bytes[168] = 0xFF  // name byte not UTF-8
        #expect(decodeError(resealed(bytes)) == .invalidTensorName(index: 0))

        bytes = golden
        patch(&bytes, at: 136, UInt16(200))  // name runs past the table
        #expect(decodeError(resealed(bytes)) == .tensorTableOverrun(index: 0))

        bytes = golden
        bytes[128] = 0xC3  // metadata `{` replaced by a lone UTF-8 lead byte
        #expect(decodeError(resealed(bytes)) == .metadataNotUTF8)

        bytes = golden
        patch(&bytes, at: 32, UInt64(144))
        #expect(decodeError(resealed(bytes)) == .invalidLayout(field: "tableOffset", expected: 136, found: 144))

        bytes = golden
        patch(&bytes, at: 48, UInt64(4))
        #expect(decodeError(resealed(bytes)) == .invalidLayout(field: "payloadLength", expected: 8, found: 4))

        bytes = golden
        patch(&bytes, at: 40, UInt64(500))
        #expect(decodeError(resealed(bytes)) == .invalidLayout(field: "payloadOffset", expected: 204, found: 500))
    }

    @Test("duplicate names and overlapping tensors are refused")
    func duplicatesAndOverlap() throws {
        let file = CheckpointFile(metadata: [], tensors: [
            Tensor(name: "a", shape: [1], values: [1]), Tensor(name: "b", shape: [1], values: [2]),
        ])
        let bytes = try CheckpointEncoder.encode(file)
        // Entries are 40 bytes each from 128; the second name byte sits at 168 + 32.
        var duplicate = bytes
        duplicate[200] = UInt8(ascii: "a")
        #expect(decodeError(resealed(duplicate)) == .duplicateTensor(name: "a"))

        var overlap = bytes
        patch(&overlap, at: 168 + 8, UInt64(0))
        #expect(decodeError(resealed(overlap)) == .tensorsOverlap(tensor: "b", offset: 0, previousEnd: 4))
    }

    @Test("the encoder refuses what the decoder would refuse")
    func encoderValidation() {
        func encodeError(_ file: CheckpointFile, limits: CheckpointLimits = .standard) -> CheckpointError? {
            do {
                _ = try CheckpointEncoder.encode(file, limits: limits)
                return nil
            } catch {
                return error
            }
        }
        let w = Tensor(name: "w", shape: [2], values: [1, 2])
        #expect(encodeError(CheckpointFile(metadata: [], tensors: [Tensor(name: "w", shape: [3], values: [1, 2])]))
            == .shapeMismatch(tensor: "w", shape: [3], values: 2))
        #expect(encodeError(CheckpointFile(metadata: [], tensors: [w, w])) == .duplicateTensor(name: "w"))
        #expect(encodeError(CheckpointFile(metadata: [], tensors: [Tensor(name: "", shape: [], values: [1])]))
            == .invalidTensorName(index: 0))
        #expect(encodeError(CheckpointFile(metadata: [], tensors: [Tensor(name: "n", shape: [-1, -2], values: [1, 2])]))
            == .negativeDimension(tensor: "n", shape: [-1, -2]))
        #expect(encodeError(CheckpointFile(metadata: [0xFF], tensors: [])) == .metadataNotUTF8)
        #expect(encodeError(CheckpointFile(metadata: [UInt8](repeating: 32, count: 10), tensors: []),
            limits: CheckpointLimits(maxMetadataBytes: 9)) == .limitExceeded(field: .metadataBytes, limit: 9, value: 10))
        #expect(encodeError(CheckpointFile(metadata: [], tensors: [Tensor(name: String(repeating: "x", count: 256), shape: [], values: [1])]))
            == .limitExceeded(field: .nameBytes, limit: 255, value: 256))
        #expect(encodeError(CheckpointFile(metadata: [], tensors: [Tensor(name: "r", shape: [1, 1, 1, 1, 1, 1, 1, 1, 1], values: [1])]))
            == .limitExceeded(field: .rank, limit: 8, value: 9))
    }
}
