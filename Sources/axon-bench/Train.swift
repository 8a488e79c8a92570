import ArgumentParser
import Foundation
import ModelKit

/// `axon-bench train`: trains the peers' benchmark network on their standardized CSV files and
/// prints one JSON line per run.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train on DIR/NAME_std_train.csv, evaluate on DIR/NAME_std_test.csv, print one JSON line per run.")

    /// The peers' benchmark settings per data set (`data.py`'s MODEL_DEFAULTS and TASK).
    static let defaults: [String: (arch: String, epochs: Int, classification: Bool)] = [
        "digits": ("64-128-64-10", 50, true),
        "synthetic": ("64-128-64-10", 3, true),
        "x2": ("1-16-16-1", 2000, false),
    ]

    @Option(help: "Directory holding the CSV files written by data.py --standardize.")
    var dataDir = "/tmp/peers-data"

    @Option(help: "Data set name: digits, synthetic or x2 (others need --arch and --task).")
    var dataset: String

    @Option(help: "Layer sizes, e.g. 64-128-64-10 (default per data set).")
    var arch: String?

    @Option(help: "Epochs (default per data set).")
    var epochs: Int?

    @Option(help: "classification or regression (default per data set).")
    var task: String?

    @Option(help: "Rows per mini-batch.")
    var batch = 32

    @Option(help: "Adam learning rate.")
    var learningRate: Float = 1e-3

    @Option(help: "Seed for initialization and shuffling.")
    var seed: UInt64 = 0

    @Option(help: "Weight initialization: pytorch (as torch_train.py's nn.Linear), he, xavier, or auto (by activation).")
    var initialization = "pytorch"

    @Option(help: "OpenBLAS threads (the peers are measured with 1).")
    var threads = 1

    @Option(help: "Data-parallel training threads (TrainingConfiguration.threads).")
    var trainThreads = 1

    @Option(name: .customLong("repeat"), help: "Train this many times (same seed) and report each run.")
    var repetitions = 1

    mutating func run() throws {
        let (archText, sizes, epochCount, isClassification) = try settings()
        let initializationRule: Initialization?
        if initialization == "auto" {
            initializationRule = nil
        } else if let rule = Initialization(rawValue: initialization) {
            initializationRule = rule
        } else {
            throw ValidationError("--initialization must be pytorch, he, xavier or auto")
        }
        BLAS.setThreadCount(threads)
        let (trainSet, testSet, configuration) = try data(sizes: sizes, isClassification: isClassification)
        let training = TrainingConfiguration(
            epochs: epochCount, batchSize: batch, shuffle: true, seed: seed, optimizer: .adam(learningRate: learningRate),
            threads: trainThreads == 1 ? nil : trainThreads)

        for repetition in 0 ..< repetitions {
            let trainer = try Trainer(
                model: Model(configuration: configuration, seed: seed, initialization: initializationRule), configuration: training)
            let cpuBefore = Self.processCPUSeconds()
            let report = try trainer.fit(trainSet)
            let cpuSeconds = Self.processCPUSeconds() - cpuBefore
            let evaluation = try trainer.model.evaluate(testSet)
            var row: [(String, String)] = [
                ("kind", json("train")), ("framework", json("axon")), ("dataset", json(dataset)),
                ("task", json(isClassification ? "classification" : "regression")), ("arch", json(archText)),
                ("epochs", "\(epochCount)"), ("batch", "\(batch)"), ("lr", "\(learningRate)"), ("threads", "\(threads)"), ("train_threads", "\(trainer.threads)"), ("initialization", json(initialization)),
                ("n_train", "\(trainSet.count)"), ("n_test", "\(testSet.count)"), ("rep", "\(repetition)"),
                ("train_wall_s", json(report.seconds)), ("train_cpu_s", json(cpuSeconds)),
                ("samples_per_s", json(Double(epochCount * trainSet.count) / report.seconds)),
                ("final_train_loss", json(report.history.last?.trainLoss ?? .nan)),
                ("test_loss", json(evaluation.loss)),
                ("weights_fnv1a", json(Self.fingerprint(trainer.model.parameters))),
            ]
            if let metrics = evaluation.classification {
                row += [("test_accuracy", json(metrics.accuracy)), ("test_macro_f1", json(metrics.macroF1))]
            }
            if let metrics = evaluation.regression {
                row += [("test_mse", json(metrics.meanSquaredError)), ("test_r2", json(metrics.r2))]
            }
            print("{" + row.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}")
        }
    }

    /// The architecture (as given, and its layer sizes), epochs and task: given, or the data
    /// set's defaults.
    func settings() throws -> (arch: String, sizes: [Int], epochs: Int, isClassification: Bool) {
        let known = Self.defaults[dataset]
        guard let archText = arch ?? known?.arch, let epochCount = epochs ?? known?.epochs else {
            throw ValidationError("unknown data set \(dataset): pass --arch and --epochs")
        }
        let isClassification: Bool
        switch task {
        case "classification": isClassification = true
        case "regression": isClassification = false
        case nil:
            guard let known else { throw ValidationError("unknown data set \(dataset): pass --task") }
            isClassification = known.classification
        case let other?: throw ValidationError("--task must be classification or regression, not \(other)")
        }
        let sizes = archText.split(separator: "-").compactMap { Int($0) }
        guard sizes.count >= 2, sizes.count == archText.split(separator: "-").count else {
            throw ValidationError("--arch must look like 64-128-64-10")
        }
        return (archText, sizes, epochCount, isClassification)
    }

    /// The training and test sets from the data directory, and the network for them.
    func data(sizes: [Int], isClassification: Bool) throws -> (train: Dataset, test: Dataset, configuration: ModelConfiguration) {
        let directory = URL(fileURLWithPath: dataDir)
        let train = try CSVTable(contentsOf: directory.appendingPathComponent("\(dataset)_std_train.csv"))
        let test = try CSVTable(contentsOf: directory.appendingPathComponent("\(dataset)_std_test.csv"))
        guard train.featureCount == sizes[0], test.featureCount == sizes[0] else {
            throw ValidationError("\(dataset): arch input \(sizes[0]) != features \(train.featureCount)")
        }
        if isClassification {
            let classCount = sizes[sizes.count - 1]
            return (
                try Dataset(inputs: train.features, classLabels: train.labels.map { Int($0) }, classCount: classCount),
                try Dataset(inputs: test.features, classLabels: test.labels.map { Int($0) }, classCount: classCount),
                try ModelConfiguration(layerSizes: sizes, outputActivation: .softmax, loss: .softmaxCrossEntropy))
        }
        return (
            try Dataset(inputs: train.features, targets: Matrix(rows: train.rowCount, columns: 1, values: train.labels)),
            try Dataset(inputs: test.features, targets: Matrix(rows: test.rowCount, columns: 1, values: test.labels)),
            try ModelConfiguration(layerSizes: sizes, outputActivation: .identity, loss: .meanSquaredError))
    }

    /// User and system CPU time of the whole process so far: unlike the wall time, hardly
    /// changed by other processes competing for the cores.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// FNV-1a over the weights' bit patterns: equal runs print equal fingerprints.
    static func fingerprint(_ values: [Float]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for value in values {
            hash = (hash ^ UInt64(value.bitPattern)) &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }

    private func json(_ text: String) -> String { "\"\(text)\"" }
    private func json(_ value: Double) -> String { value.isFinite ? "\(value)" : "null" }
}
