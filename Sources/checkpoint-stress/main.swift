// checkpoint-stress: the second process for CheckpointTests. Crash-safety and watch tests need a
// writer that can be SIGKILLed or resource-limited without taking the test runner with it.
//
//   checkpoint-stress loop <root> <models> <floats> <seed>
//       commits forever, round-robin over models m0..m<models-1>, printing
//       "<model> <version> <seq>" after each commit is durable
//   checkpoint-stress commit <root> <model> <seq> <floats>
//       commits once and prints "<model> <version> <seq>"
//   checkpoint-stress commit-limited <root> <model> <seq> <floats> <max-file-bytes>
//       like commit, under RLIMIT_FSIZE with SIGXFSZ ignored so write fails with EFBIG
//   checkpoint-stress commit-model <root> <model> <seed>
//       commits `sampleModel(seed:)` as a real ModelKit checkpoint (the ModelStore watch test)
//   checkpoint-stress generate-models <root> <count>
//       commits <count> small trained-shape models bench-00000... (the store load benchmark)
//
// Exit status: 0 success, 2 usage, 3 storage error (description and errno on stdout).
#if canImport(Glibc)
import Glibc
#endif
import Checkpoint
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ModelKit
import StressFixture

/// Writes one line straight to fd 1: the parent must see it even if SIGKILL follows at once.
func report(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(1, $0.baseAddress!, $0.count) }
}

func fail(_ error: StorageError) -> Never {
    report("error \(error) errno=\(error.errno ?? 0)")
    exit(3)
}

/// Runs `work`, exiting 3 on an error: a storage error with its errno, any other (a model that
/// could not be built) with its description.
func exitOnError(_ work: () throws -> Void) {
    do {
        try work()
    } catch let error as StorageError {
        fail(error)
    } catch {
        report("error \(error)")
        exit(3)
    }
}

func usage() -> Never {
    report("usage: checkpoint-stress loop|commit|commit-limited ...")
    exit(2)
}

func commitOnce(_ state: StateDirectory, model: String, seq: UInt64, floats: Int) {
    do {
        let name = try ModelName(model)
        let version = try state.commit(stressCheckpoint(model: model, seq: seq, floats: floats), to: name)
        report("\(model) \(version) \(seq)")
    } catch {
        fail(error)
    }
}

/// A 4-8-3 softmax classifier drawn from `seed`; AxonServerTests rebuilds the same one to check
/// that a watching store serves exactly what this process wrote.
func sampleModel(seed: UInt64) -> ModelCheckpoint {
    // Constant, valid arguments: this cannot throw.
    let configuration = try! ModelConfiguration(
        layerSizes: [4, 8, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy,
        classLabels: ["a", "b", "c"])
    return ModelCheckpoint(
        model: Model(configuration: configuration, seed: seed),
        metadata: ModelMetadata(createdAt: Date(timeIntervalSince1970: 1_790_000_000), annotations: ["seed": "\(seed)"]))
}

/// A 4-16-3 classifier with standardization statistics and Adam moments, like a small model
/// after training (3.9 KB on disk).
func benchModel(index: Int) throws -> ModelCheckpoint {
    let configuration = try ModelConfiguration(
        layerSizes: [4, 16, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy,
        classLabels: ["setosa", "versicolor", "virginica"])
    let seed = UInt64(index + 1)
    var generator = RandomGenerator(seed: seed ^ 0x5EED)
    let normalizer = Normalizer.standard(
        try Standardizer(mean: (0..<4).map { _ in generator.nextUnitFloat() * 5 }, standardDeviation: (0..<4).map { _ in 0.5 + generator.nextUnitFloat() }))
    let model = try Model(configuration: configuration, seed: seed).replacingNormalizer(normalizer)
    let moments = (0..<model.parameterCount).map { _ in generator.nextUnitFloat() * 1e-3 }
    let training = TrainingConfiguration(epochs: 50, batchSize: 16, seed: seed, optimizer: .adam(), normalization: .standard)
    return ModelCheckpoint(
        model: model,
        metadata: ModelMetadata(
            training: training,
            metrics: ModelMetrics(trainLoss: 0.1, validationLoss: 0.12, epochs: 50, stopReason: .completed, evaluationLoss: 0.12),
            createdAt: Date(timeIntervalSince1970: 1_790_000_000 + Double(index))),
        optimizerState: OptimizerState(kind: .adam, step: 500, epoch: 50, firstMoment: moments, secondMoment: moments.map { $0 * $0 }))
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else { usage() }
switch arguments[1] {
case "loop":
    guard arguments.count == 6, let models = Int(arguments[3]), let floats = Int(arguments[4]),
        var seq = UInt64(arguments[5]), models > 0
    else { usage() }
    let state = StateDirectory(root: arguments[2], retention: 3)
    while true {
        // Continuing the round-robin from `seq` makes every restart write to a different model.
        let model = "m\(seq % UInt64(models))"
        commitOnce(state, model: model, seq: seq, floats: floats)
        do {
            _ = try state.prune(ModelName(model))
        } catch {
            fail(error)
        }
        seq += 1
    }
case "commit":
    guard arguments.count == 6, let seq = UInt64(arguments[4]), let floats = Int(arguments[5]) else { usage() }
    commitOnce(StateDirectory(root: arguments[2]), model: arguments[3], seq: seq, floats: floats)
case "commit-limited":
    guard arguments.count == 7, let seq = UInt64(arguments[4]), let floats = Int(arguments[5]),
        let limit = UInt64(arguments[6])
    else { usage() }
    // Without SIG_IGN the kernel kills the process with SIGXFSZ instead of failing the write.
    signal(SIGXFSZ, SIG_IGN)
    var rlim = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
    guard setrlimit(Int32(RLIMIT_FSIZE.rawValue), &rlim) == 0 else {
        report("error setrlimit errno=\(errno)")
        exit(3)
    }
    commitOnce(StateDirectory(root: arguments[2]), model: arguments[3], seq: seq, floats: floats)
case "commit-model":
    guard arguments.count == 5, let seed = UInt64(arguments[4]) else { usage() }
    exitOnError {
        let version = try StateDirectory(root: arguments[2]).commit(try sampleModel(seed: seed).checkpointFile(), to: ModelName(arguments[3]))
        report("\(arguments[3]) \(version) \(seed)")
    }
case "generate-models":
    guard arguments.count == 4, let count = Int(arguments[3]), count >= 0 else { usage() }
    let state = StateDirectory(root: arguments[2])
    exitOnError {
        try state.prepare()
        for index in 0..<count {
            let name = try ModelName("bench-\(String(index + 100_000).dropFirst())")
            try state.commit(try benchModel(index: index).checkpointFile(), to: name)
        }
        report("generated \(count)")
    }
default:
    usage()
}
