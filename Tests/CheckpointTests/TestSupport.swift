#if canImport(Glibc)
import Glibc
#endif
import Checkpoint
import TestKit
import Testing

/// Deterministic SplitMix64, so every randomized test replays exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A small realistic checkpoint: metadata JSON, two layers, normalizer statistics, Adam moments.
func sampleCheckpoint(seed: UInt64 = 7) -> CheckpointFile {
    var random = SeededGenerator(seed: seed)
    func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &random) } }
    let metadata = #"{"architecture":{"layers":[4,8,3]},"activations":["relu","softmax"],"loss":"cross_entropy","labels":["a","b","c"],"step":120}"#
    return CheckpointFile(
        metadata: Array(metadata.utf8),
        tensors: [
            Tensor(name: "layers.0.weight", shape: [8, 4], values: values(32)),
            Tensor(name: "layers.0.bias", shape: [8], values: values(8)),
            Tensor(name: "layers.1.weight", shape: [3, 8], values: values(24)),
            Tensor(name: "layers.1.bias", shape: [3], values: values(3)),
            Tensor(name: "normalizer.mean", shape: [4], values: values(4)),
            Tensor(name: "normalizer.std", shape: [4], values: values(4)),
            Tensor(name: "adam.m.layers.0.weight", shape: [8, 4], values: values(32)),
            Tensor(name: "adam.v.layers.0.weight", shape: [8, 4], values: values(32)),
        ])
}

/// Recomputes the CRC-32C trailer after a test patched some bytes, so the decoder's structural
/// checks (not the checksum) are what rejects the forgery.
func resealed(_ bytes: [UInt8]) -> [UInt8] {
    var copy = bytes
    let covered = copy.count - 4
    let crc = CRC32C.checksum(copy[0..<covered])
    for index in 0..<4 { copy[covered + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
    return copy
}

/// Writes `value` little-endian at `offset`.
func patch<T: FixedWidthInteger>(_ bytes: inout [UInt8], at offset: Int, _ value: T) {
    for index in 0..<MemoryLayout<T>.size {
        bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index))
    }
}

/// The error `body` throws, or nil.
func decodeError(_ bytes: [UInt8], limits: CheckpointLimits = .standard) -> CheckpointError? {
    do {
        _ = try CheckpointDecoder.decode(bytes, limits: limits)
        return nil
    } catch {
        return error
    }
}

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    guard fd >= 0 else { throw TestFailure("open \(path): errno \(errno)") }
    defer { close(fd) }
    let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    guard written == bytes.count else { throw TestFailure("short write to \(path)") }
}

func readFile(_ path: String) throws -> [UInt8] {
    try DurableFile.read(path, maxBytes: 1 << 30)
}

func listDirectory(_ path: String) -> [String] {
    guard let directory = opendir(path) else { return [] }
    defer { closedir(directory) }
    var names: [String] = []
    while let entry = readdir(directory) {
        let name = withUnsafePointer(to: &entry.pointee.d_name) {
            $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
        }
        if name != "." && name != ".." { names.append(name) }
    }
    return names.sorted()
}

/// `checkpoint-stress` with `arguments`, its stdout a pipe (`AXON_CHECKPOINT_STRESS` names
/// another binary).
func stressChild(_ arguments: [String]) throws -> Subprocess {
    try Subprocess(
        Subprocess.builtProduct("checkpoint-stress", override: "AXON_CHECKPOINT_STRESS"), arguments,
        mergingStandardError: false)
}
