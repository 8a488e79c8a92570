// libFuzzer entry for the checkpoint decoder, against the package's Checkpoint module. Built by
// `make fuzz` with the request-decoder harness (this package, `--sanitize=fuzzer,address`, its
// own scratch path), so the normal build never sees the sanitizer flags. libFuzzer supplies
// `main`. With AXON_FUZZ_SEEDS=<directory> it writes the seed corpus there and exits instead.
import Checkpoint
import Foundation

/// Limits small enough that the fuzzer spends its time on structure, not on huge allocations.
let fuzzLimits = CheckpointLimits(
    maxFileBytes: 1 << 20, maxMetadataBytes: 1 << 16, maxTensors: 256, maxElements: 1 << 18)

/// Decodes `input`; an accepted input must re-encode to the very same bytes, because v1 has
/// exactly one encoding of every checkpoint.
func checkRoundTrip(_ input: UnsafeRawBufferPointer) {
    guard let file = try? CheckpointDecoder.decode(input, limits: fuzzLimits) else { return }
    do {
        let again = try CheckpointEncoder.encode(file, limits: fuzzLimits)
        precondition(again.elementsEqual(input), "decoded checkpoint re-encodes to different bytes")
    } catch {
        preconditionFailure("decoded checkpoint does not re-encode: \(error)")
    }
}

/// Every input is decoded twice: as given, and with its CRC-32C trailer recomputed. Random
/// mutations almost never carry a valid checksum, so without the second pass the fuzzer would
/// stop at `checksumMismatch` and never reach the metadata and tensor-table parser.
@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    checkRoundTrip(input)
    if size >= CheckpointFormat.headerLength + CheckpointFormat.trailerLength {
        var resealed = Array(input)
        let covered = size - CheckpointFormat.trailerLength
        let crc = resealed.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<covered])) }
        for index in 0..<4 { resealed[covered + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        resealed.withUnsafeBytes { checkRoundTrip($0) }
    }
    return 0
}

/// Called by libFuzzer before anything else: with AXON_FUZZ_SEEDS set, writes the seed corpus
/// and exits (a second binary built without the sanitizers would compile Checkpoint again).
@_cdecl("LLVMFuzzerInitialize")
public func checkpointFuzzInitialize(
    _ argc: UnsafeMutablePointer<Int32>?, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> Int32 {
    guard let output = ProcessInfo.processInfo.environment["AXON_FUZZ_SEEDS"] else { return 0 }
    exit(writeSeeds(to: output) ? 0 : 1)
}

// MARK: - Seeds

/// Writes the seed corpus: valid checkpoints of every shape the format allows, plus a truncated
/// and a bit-flipped copy of each, so the fuzzer starts from deep inside the decoder.
func writeSeeds(to output: String) -> Bool {
    func values(_ count: Int, _ seed: Int) -> [Float] { (0..<count).map { Float(($0 * 7 + seed) % 13) - 6 } }

    let metadata = Array(#"{"architecture":{"layers":[4,8,3]},"activations":["relu","softmax"],"loss":"cross_entropy","labels":["a","b","c"],"created":"2026-01-01T00:00:00Z","parent":2,"step":120}"#.utf8)
    let files: [(String, CheckpointFile)] = [
        ("empty", CheckpointFile(metadata: [], tensors: [])),
        ("metadata-only", CheckpointFile(metadata: metadata, tensors: [])),
        ("golden", CheckpointFile(metadata: Array(#"{"a":1}"#.utf8), tensors: [Tensor(name: "w", shape: [2], values: [1, -2])])),
        ("scalar-and-empty", CheckpointFile(metadata: [], tensors: [
            Tensor(name: "step", shape: [], values: [42]), Tensor(name: "none", shape: [0, 3], values: []),
        ])),
        ("mlp", CheckpointFile(metadata: metadata, tensors: [
            Tensor(name: "layers.0.weight", shape: [8, 4], values: values(32, 1)),
            Tensor(name: "layers.0.bias", shape: [8], values: values(8, 2)),
            Tensor(name: "layers.1.weight", shape: [3, 8], values: values(24, 3)),
            Tensor(name: "layers.1.bias", shape: [3], values: values(3, 4)),
            Tensor(name: "normalizer.mean", shape: [4], values: values(4, 5)),
            Tensor(name: "normalizer.std", shape: [4], values: values(4, 6)),
            Tensor(name: "adam.m.layers.0.weight", shape: [8, 4], values: values(32, 7)),
        ])),
        ("rank-8", CheckpointFile(metadata: [], tensors: [
            Tensor(name: "cube", shape: [1, 2, 1, 2, 1, 2, 1, 2], values: values(16, 8)),
        ])),
    ]

    func save(_ name: String, _ bytes: [UInt8]) throws {
        let path = "\(output)/\(name)"
        do {
            try DurableFile.write(bytes, to: path)
        } catch {
            print("cannot write \(path): \(error)")
            throw error
        }
    }

    for (name, file) in files {
        do {
            let bytes = try CheckpointEncoder.encode(file)
            try save("\(name).axon", bytes)
            try save("\(name)-truncated.bin", Array(bytes.dropLast(5)))
            var flipped = bytes
            flipped[bytes.count / 2] ^= 0x40
            try save("\(name)-flipped.bin", flipped)
        } catch let error as CheckpointError {
            print("cannot encode \(name): \(error)")
            return false
        } catch {
            return false
        }
    }
    print("wrote \(files.count * 3) seeds to \(output)")
    return true
}
