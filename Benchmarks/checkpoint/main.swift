// Startup load benchmark: a state directory of N small models (a few hundred Float32 each,
// realistic metadata) is scanned, read, checksummed and decoded, as the daemon does before it
// reports readiness. Run with `make bench-checkpoint` (BENCH_MODELS, BENCH_RUNS).
//
// The page cache is warm (the files were just written, and dropping caches would disturb
// other processes on a shared machine), so this measures the CPU and syscall cost of loading.
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the ModelKit mapping will store; here it only gives the metadata a realistic size.
struct ModelMetadata: Codable {
    struct Layer: Codable { var inputs: Int; var outputs: Int; var activation: String }
    struct Training: Codable {
        var optimizer: String; var learningRate: Double; var batchSize: Int; var epochs: Int; var seed: UInt64
    }
    var architecture: [Layer]
    var loss: String
    var labels: [String]
    var training: Training
    var metrics: [String: Double]
    var createdAt: String
    var parentVersion: UInt64?
    var step: Int
}

func seconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

let arguments = CommandLine.arguments
let modelCount = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
let runs = arguments.count > 2 ? Int(arguments[2]) ?? 7 : 7

var template = Array("/tmp/axon-checkpoint-bench-XXXXXX".utf8CString)
guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
    print("mkdtemp failed")
    exit(1)
}
let root = String(cString: created)
let state = StateDirectory(root: root)

// A 4-16-3 classifier: weights, biases, normalizer statistics and Adam moments, 455 floats.
var generator = SystemRandomNumberGenerator()
func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
let build = seconds()
var fileBytes = 0
do {
    for index in 0..<modelCount {
        let metadata = ModelMetadata(
            architecture: [
                .init(inputs: 4, outputs: 16, activation: "relu"), .init(inputs: 16, outputs: 3, activation: "softmax"),
            ],
            loss: "cross_entropy", labels: ["setosa", "versicolor", "virginica"],
            training: .init(optimizer: "adam", learningRate: 0.001, batchSize: 32, epochs: 200, seed: UInt64(index)),
            metrics: ["accuracy": 0.973, "loss": 0.081, "val_accuracy": 0.96],
            createdAt: "2026-11-29T10:00:00Z", parentVersion: nil, step: 1200)
        let file = try CheckpointFile(encoding: metadata, tensors: [
            Tensor(name: "layers.0.weight", shape: [16, 4], values: values(64)),
            Tensor(name: "layers.0.bias", shape: [16], values: values(16)),
            Tensor(name: "layers.1.weight", shape: [3, 16], values: values(48)),
            Tensor(name: "layers.1.bias", shape: [3], values: values(3)),
            Tensor(name: "normalizer.mean", shape: [4], values: values(4)),
            Tensor(name: "normalizer.std", shape: [4], values: values(4)),
            Tensor(name: "adam.m.layers.0.weight", shape: [16, 4], values: values(64)),
            Tensor(name: "adam.v.layers.0.weight", shape: [16, 4], values: values(64)),
            Tensor(name: "adam.m.layers.0.bias", shape: [16], values: values(16)),
            Tensor(name: "adam.v.layers.0.bias", shape: [16], values: values(16)),
            Tensor(name: "adam.m.layers.1.weight", shape: [3, 16], values: values(48)),
            Tensor(name: "adam.v.layers.1.weight", shape: [3, 16], values: values(48)),
            Tensor(name: "adam.m.layers.1.bias", shape: [3], values: values(3)),
            Tensor(name: "adam.v.layers.1.bias", shape: [3], values: values(3)),
        ])
        let name = try ModelName("model-\(index)")
        try state.commit(file, to: name)
        if index == 0 { fileBytes = try CheckpointEncoder.encode(file).count }
    }
} catch {
    print("building the state directory failed: \(error)")
    exit(1)
}
print("built \(modelCount) models (\(fileBytes) bytes each, durable commits) in \(String(format3(seconds() - build))) s")

func format3(_ value: Double) -> String {
    let scaled = Int((value * 1000).rounded())
    let fraction = String(scaled % 1000)
    return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
}

// Loading = scan + read + CRC-32C + decode; "with metadata" adds the JSON decode the model
// mapping will do for every model.
var plain: [Double] = []
var withMetadata: [Double] = []
for _ in 0..<runs {
    var start = seconds()
    let scan = state.scan(options: .watch)
    plain.append(seconds() - start)
    guard scan.models.count == modelCount, scan.problems.isEmpty else {
        print("scan found \(scan.models.count) models and \(scan.problems.count) problems")
        exit(1)
    }

    start = seconds()
    let again = state.scan(options: .watch)
    var steps = 0
    let decoder = JSONDecoder()
    for model in again.models {
        do {
            steps += try decoder.decode(ModelMetadata.self, from: Data(model.checkpoint.metadata)).step
        } catch {
            print("metadata of \(model.name) failed to decode: \(error)")
            exit(1)
        }
    }
    withMetadata.append(seconds() - start)
    precondition(steps == 1200 * modelCount)
}

print("load \(modelCount) models, scan+read+verify+decode: median \(format3(median(plain) * 1000)) ms "
    + "(min \(format3(plain.min()! * 1000)), max \(format3(plain.max()! * 1000)), \(runs) runs)")
print("load \(modelCount) models, plus JSON metadata decode:  median \(format3(median(withMetadata) * 1000)) ms "
    + "(min \(format3(withMetadata.min()! * 1000)), max \(format3(withMetadata.max()! * 1000)), \(runs) runs)")
let budget = median(withMetadata) < 1.0 ? "within" : "OVER"
print("\(budget) the 1 s budget for \(modelCount) models")
// One large checkpoint (4M floats, 16 MiB): the decode hot path is CRC-32C plus one copy per
// tensor, so it should run at memory-copy-like speed, not at per-element speed.
let large = CheckpointFile(metadata: Array("{}".utf8), tensors: [
    Tensor(name: "layers.0.weight", shape: [2048, 2048], values: values(2048 * 2048)),
])
do {
    let bytes = try CheckpointEncoder.encode(large)
    var encodeTimes: [Double] = []
    var decodeTimes: [Double] = []
    var crcTimes: [Double] = []
    for _ in 0..<runs {
        var start = seconds()
        let encoded = try CheckpointEncoder.encode(large)
        encodeTimes.append(seconds() - start)
        precondition(encoded.count == bytes.count)
        start = seconds()
        let decoded = try CheckpointDecoder.decode(bytes)
        decodeTimes.append(seconds() - start)
        precondition(decoded.tensors[0].values.count == 2048 * 2048)
        start = seconds()
        let crc = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        crcTimes.append(seconds() - start)
        precondition(crc != 1)
    }
    let megabytes = Double(bytes.count) / 1_048_576
    for (label, times) in [("encode", encodeTimes), ("decode", decodeTimes), ("CRC-32C", crcTimes)] {
        print("\(label) 16 MiB checkpoint: median \(format3(median(times) * 1000)) ms (\(Int(megabytes / median(times))) MiB/s)")
    }
} catch {
    print("large checkpoint failed: \(error)")
    exit(1)
}
_ = system("rm -rf '\(root)'")
