import ArgumentParser
import Checkpoint
import Foundation

/// `axon-bench checkpoint`: the start-up load benchmark. A state directory of N small models
/// (a few hundred Float32 each, realistic metadata) is scanned, read, checksummed and decoded,
/// as the daemon does before it reports readiness. Run with `make bench-checkpoint`
/// (BENCH_MODELS, BENCH_RUNS).
///
/// The page cache is warm (the files were just written, and dropping caches would disturb
/// other processes on a shared machine), so this measures the CPU and syscall cost of loading.
struct CheckpointLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "checkpoint",
        abstract: "Load a state directory of small models, and encode/decode one 16 MiB checkpoint; print medians.")

    @Option(help: "Models in the state directory.")
    var models = 1000

    @Option(help: "Loads (and large-checkpoint rounds) to take the median of.")
    var runs = 7

    /// What the ModelKit mapping will store; here it only gives the metadata a realistic size.
    struct BenchMetadata: Codable {
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

    mutating func run() throws {
        var template = Array("/tmp/axon-checkpoint-bench-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            print("mkdtemp failed")
            throw ExitCode.failure
        }
        let root = String(cString: created)
        defer { _ = system("rm -rf '\(root)'") }
        let state = StateDirectory(root: root)
        var generator = SystemRandomNumberGenerator()
        try build(state, generator: &generator)
        try measureLoads(state)
        try measureLargeCheckpoint(generator: &generator)
    }

    /// Writes `models` models through the real durable commit path. A 4-16-3 classifier:
    /// weights, biases, normalizer statistics and Adam moments, 455 floats.
    func build(_ state: StateDirectory, generator: inout SystemRandomNumberGenerator) throws {
        func values(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
        let start = Self.seconds()
        var fileBytes = 0
        do {
            for index in 0..<models {
                let metadata = BenchMetadata(
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
                _ = try state.commit(file, to: name)
                if index == 0 { fileBytes = try CheckpointEncoder.encode(file).count }
            }
        } catch {
            print("building the state directory failed: \(error)")
            throw ExitCode.failure
        }
        print("built \(models) models (\(fileBytes) bytes each, durable commits) in \(Self.format3(Self.seconds() - start)) s")
    }

    /// Loading = scan + read + CRC-32C + decode; "with metadata" adds the JSON decode the model
    /// mapping will do for every model.
    func measureLoads(_ state: StateDirectory) throws {
        var plain: [Double] = []
        var withMetadata: [Double] = []
        for _ in 0..<runs {
            var start = Self.seconds()
            let scan = state.scan(options: .watch)
            plain.append(Self.seconds() - start)
            guard scan.models.count == models, scan.problems.isEmpty else {
                print("scan found \(scan.models.count) models and \(scan.problems.count) problems")
                throw ExitCode.failure
            }

            start = Self.seconds()
            let again = state.scan(options: .watch)
            var steps = 0
            let decoder = JSONDecoder()
            for model in again.models {
                do {
                    steps += try decoder.decode(BenchMetadata.self, from: Data(model.checkpoint.metadata)).step
                } catch {
                    print("metadata of \(model.name) failed to decode: \(error)")
                    throw ExitCode.failure
                }
            }
            withMetadata.append(Self.seconds() - start)
            precondition(steps == 1200 * models)
        }
        print("load \(models) models, scan+read+verify+decode: median \(Self.milliseconds(plain)) ms "
            + "(min \(Self.format3(plain.min()! * 1000)), max \(Self.format3(plain.max()! * 1000)), \(runs) runs)")
        print("load \(models) models, plus JSON metadata decode:  median \(Self.milliseconds(withMetadata)) ms "
            + "(min \(Self.format3(withMetadata.min()! * 1000)), max \(Self.format3(withMetadata.max()! * 1000)), \(runs) runs)")
        let budget = Self.median(withMetadata) < 1.0 ? "within" : "OVER"
        print("\(budget) the 1 s budget for \(models) models")
    }

    /// One large checkpoint (4M floats, 16 MiB): the decode hot path is CRC-32C plus one copy per
    /// tensor, so it should run at memory-copy-like speed, not at per-element speed.
    func measureLargeCheckpoint(generator: inout SystemRandomNumberGenerator) throws {
        let large = CheckpointFile(metadata: Array("{}".utf8), tensors: [
            Tensor(name: "layers.0.weight", shape: [2048, 2048], values: (0..<2048 * 2048).map { _ in Float.random(in: -1...1, using: &generator) }),
        ])
        do {
            let bytes = try CheckpointEncoder.encode(large)
            var encodeTimes: [Double] = []
            var decodeTimes: [Double] = []
            var crcTimes: [Double] = []
            for _ in 0..<runs {
                var start = Self.seconds()
                let encoded = try CheckpointEncoder.encode(large)
                encodeTimes.append(Self.seconds() - start)
                precondition(encoded.count == bytes.count)
                start = Self.seconds()
                let decoded = try CheckpointDecoder.decode(bytes)
                decodeTimes.append(Self.seconds() - start)
                precondition(decoded.tensors[0].values.count == 2048 * 2048)
                start = Self.seconds()
                let crc = bytes.withUnsafeBytes { CRC32C.checksum($0) }
                crcTimes.append(Self.seconds() - start)
                precondition(crc != 1)
            }
            let megabytes = Double(bytes.count) / 1_048_576
            for (label, times) in [("encode", encodeTimes), ("decode", decodeTimes), ("CRC-32C", crcTimes)] {
                print("\(label) 16 MiB checkpoint: median \(Self.milliseconds(times)) ms (\(Int(megabytes / Self.median(times))) MiB/s)")
            }
        } catch {
            print("large checkpoint failed: \(error)")
            throw ExitCode.failure
        }
    }

    static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// The median of `values` (seconds) in milliseconds, three decimals.
    static func milliseconds(_ values: [Double]) -> String { format3(median(values) * 1000) }

    static func format3(_ value: Double) -> String {
        let scaled = Int((value * 1000).rounded())
        let fraction = String(scaled % 1000)
        return "\(scaled / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)"
    }
}
