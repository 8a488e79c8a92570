#if canImport(Glibc)
import Glibc
#endif
import AxonServer
import Checkpoint
import Foundation
import ModelKit
import TestKit

enum StoreFixtures {
    /// A 4 -> 8 -> 3 softmax classifier with random weights drawn from `seed`.
    static func model(seed: UInt64, labels: [String] = ["a", "b", "c"]) throws -> Model {
        let configuration = try ModelConfiguration(
            layerSizes: [4, 8, 3], hiddenActivation: .relu, outputActivation: .softmax,
            loss: .softmaxCrossEntropy, classLabels: labels)
        return Model(configuration: configuration, seed: seed)
    }

    /// Deterministic rows in [-2, 2).
    static func rows(_ count: Int, columns: Int = 4, seed: UInt64 = 11) throws -> Matrix {
        var generator = RandomGenerator(seed: seed)
        let values = (0..<count * columns).map { _ in 4 * generator.nextUnitFloat() - 2 }
        return try Matrix(rows: count, columns: columns, values: values)
    }

    /// A classifier trained for a few epochs (standard normalizer, Adam), with its optimizer
    /// state and training configuration.
    static func trained(seed: UInt64 = 3, epochs: Int = 3) throws -> (Model, OptimizerState, TrainingConfiguration) {
        let inputs = try rows(96, seed: seed)
        let labels = (0..<inputs.rows).map { row in
            let sum = (0..<4).reduce(Float(0)) { $0 + inputs[row, $1] }
            return sum < -0.5 ? 0 : (sum < 0.5 ? 1 : 2)
        }
        let dataset = try Dataset(inputs: inputs, classLabels: labels, classCount: 3)
        let configuration = TrainingConfiguration(
            epochs: epochs, batchSize: 16, seed: seed, optimizer: .adam(learningRate: 0.01), normalization: .standard)
        let trainer = try Trainer(model: try model(seed: seed), configuration: configuration)
        _ = try trainer.fit(dataset)
        return (trainer.model, trainer.optimizerState, configuration)
    }

    /// Metadata with every field set.
    static func metadata(parent: UInt64? = nil, training: TrainingConfiguration? = nil) -> ModelMetadata {
        ModelMetadata(
            training: training ?? TrainingConfiguration(epochs: 3, batchSize: 16, seed: 3),
            metrics: ModelMetrics(trainLoss: 0.5, validationLoss: 0.625, epochs: 3, stopReason: .completed),
            createdAt: Date(timeIntervalSince1970: 1_790_000_000.123),
            parentVersion: parent,
            annotations: ["job": "test"])
    }

    /// The bit patterns of `model`'s predictions on `rows`.
    static func predictionBits(_ model: Model, _ rows: Matrix) throws -> [UInt32] {
        let output = try model.predict(rows: rows)
        return (0..<output.rows).flatMap { row in (0..<output.columns).map { output[row, $0].bitPattern } }
    }
}

/// Runs the `checkpoint-stress` helper (built next to the test binary, or
/// `AXON_CHECKPOINT_STRESS`) to completion as a second process and returns its output.
func runCheckpointStress(_ arguments: [String]) throws -> String {
    var executable = ProcessInfo.processInfo.environment["AXON_CHECKPOINT_STRESS"]
    if executable == nil {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        // Walk up from the binary (it may sit inside an .xctest bundle) to the build directory.
        for _ in 0..<4 where executable == nil {
            directory = directory.deletingLastPathComponent()
            let candidate = directory.appendingPathComponent("checkpoint-stress").path
            if FileManager.default.isExecutableFile(atPath: candidate) { executable = candidate }
        }
    }
    guard let executable else {
        throw TestFailure("checkpoint-stress not found near the test binary; run `swift build` or set AXON_CHECKPOINT_STRESS")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let text = String(decoding: data, as: UTF8.self)
    guard process.terminationStatus == 0 else {
        throw TestFailure("checkpoint-stress \(arguments) exited \(process.terminationStatus): \(text)")
    }
    return text
}
