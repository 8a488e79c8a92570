import CModelKit
import Testing
@testable import ModelKit

/// Data-parallel training (`TrainingConfiguration.threads`): determinism for a thread count,
/// agreement with one thread, and the refusal of counts out of range.
@Suite("Parallel training", .serialized)
struct ParallelTrainingTests {
    init() {
        // As axond does: each worker calls OpenBLAS, which must not hand the products to a
        // thread team of its own (the workers would queue for it).
        BLAS.setThreadCount(1)
    }

    /// 3 classes of 8 features labelled by a fixed random linear teacher.
    static func teacherData(rows: Int, seed: UInt64) throws -> Dataset {
        let inputs = randomMatrix(rows: rows, columns: 8, seed: seed)
        let teacher = randomMatrix(rows: 8, columns: 3, seed: 99)
        let labels = (0 ..< rows).map { row in
            (0 ..< 3).max { a, b in
                (0 ..< 8).reduce(Float(0)) { $0 + inputs[row, $1] * teacher[$1, a] }
                    < (0 ..< 8).reduce(Float(0)) { $0 + inputs[row, $1] * teacher[$1, b] }
            }!
        }
        return try Dataset(inputs: inputs, classLabels: labels, classCount: 3)
    }

    /// Small, to train quickly in a debug build: the tests lift `Trainer.minimumFlopsPerThread`,
    /// which would keep it on one thread.
    static let classifier = try! ModelConfiguration(
        layerSizes: [8, 32, 16, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
    /// Wide enough that a batch of 10 rows is worth 3 threads under the real threshold.
    static let wideClassifier = try! ModelConfiguration(
        layerSizes: [8, 256, 256, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)

    /// A trainer that splits every batch among `settings.threads`, however small the network.
    func trainer(_ model: Model, _ settings: TrainingConfiguration) throws -> Trainer {
        try Trainer(model: model, configuration: settings, optimizerState: nil, minimumFlopsPerThread: 0)
    }

    func train(_ settings: TrainingConfiguration, data: Dataset, configuration: ModelConfiguration = classifier) throws -> (Trainer, TrainingReport) {
        let trainer = try trainer(Model(configuration: configuration, seed: settings.seed), settings)
        let report = try trainer.fit(data)
        return (trainer, report)
    }

    @Test("the same seed and thread count give bit-identical weights", arguments: [2, 3])
    func determinism(threads: Int) throws {
        let data = try Self.teacherData(rows: 203, seed: 1)
        // Every part of a step: dropout masks, penalties, clipping, decoupled decay, a split.
        let settings = TrainingConfiguration(
            epochs: 8, batchSize: 10, seed: 42, optimizer: .adamW(learningRate: 0.01),
            regularization: Regularization(l1: 1e-4, l2: 1e-3, dropout: 0.2, gradientClipNorm: 0.5),
            validationFraction: 0.2, normalization: .standard, threads: threads)
        let (first, _) = try train(settings, data: data)
        #expect(first.threads == threads)
        let (second, _) = try train(settings, data: data)
        #expect(second.model.parameters == first.model.parameters)
        #expect(second.optimizerState == first.optimizerState)
        var otherSeed = settings
        otherSeed.seed = 43
        #expect(try train(otherSeed, data: data).0.model.parameters != first.model.parameters)
    }

    @Test("one step on several threads moves the weights as one thread does, up to rounding",
          arguments: [(rows: 10, threads: 3), (rows: 2, threads: 4), (rows: 1, threads: 2)])
    func oneStepMatches(rows: Int, threads: Int) throws {
        let data = try Self.teacherData(rows: rows, seed: 5)
        var settings = TrainingConfiguration(
            epochs: 1, batchSize: 16, shuffle: false, seed: 3, optimizer: .sgd(learningRate: 0.5, momentum: 0.9),
            regularization: Regularization(l1: 1e-3, l2: 1e-2, gradientClipNorm: 0.3))
        let start = Model(configuration: Self.classifier, seed: 3)
        let (serial, serialReport) = try train(settings, data: data)
        settings.threads = threads
        let (parallel, parallelReport) = try train(settings, data: data)
        #expect(parallel.threads == min(threads, 16))
        var largest: Float = 0
        var moved: Float = 0
        for (k, value) in parallel.model.parameters.enumerated() {
            largest = max(largest, abs(value - serial.model.parameters[k]))
            moved = max(moved, abs(serial.model.parameters[k] - start.parameters[k]))
        }
        #expect(moved > 1e-3, "the step must move the weights for the comparison to mean anything")
        #expect(largest <= 1e-5, "largest difference \(largest)")
        let serialLoss = try #require(serialReport.history.first?.trainLoss)
        let parallelLoss = try #require(parallelReport.history.first?.trainLoss)
        #expect(abs(serialLoss - parallelLoss) <= 1e-5 * max(1, serialLoss))
    }

    @Test("two and three threads reach the loss one thread reaches", arguments: [2, 3])
    func equivalentLoss(threads: Int) throws {
        let data = try Self.teacherData(rows: 600, seed: 7)
        var settings = TrainingConfiguration(epochs: 40, batchSize: 32, seed: 11, optimizer: .adam(learningRate: 0.01))
        let (serial, _) = try train(settings, data: data)
        settings.threads = threads
        let (parallel, _) = try train(settings, data: data)
        let serialEvaluation = try serial.model.evaluate(data)
        let parallelEvaluation = try parallel.model.evaluate(data)
        // The untrained network scores about log(3) = 1.1; both must have learned the teacher.
        #expect(serialEvaluation.loss < 0.15)
        #expect(abs(parallelEvaluation.loss - serialEvaluation.loss) <= 0.05, "\(parallelEvaluation.loss) vs \(serialEvaluation.loss)")
        #expect(try #require(parallelEvaluation.classification?.accuracy) >= 0.95)
    }

    @Test("the validation loss on several threads is the one-thread loss, up to rounding")
    func validationLoss() throws {
        let data = try Self.teacherData(rows: 77, seed: 4)
        let model = Model(configuration: Self.classifier, seed: 6)
        let serial = try trainer(model, TrainingConfiguration(batchSize: 16))
        let parallel = try trainer(model, TrainingConfiguration(batchSize: 16, threads: 3))
        #expect(parallel.threads == 3)
        let expected = serial.meanLoss(inputs: data.inputs, targets: data.targets)
        let got = parallel.meanLoss(inputs: data.inputs, targets: data.targets)
        #expect(expected > 0.1)
        #expect(abs(got - expected) <= 1e-6 * expected, "\(got) vs \(expected)")
    }

    @Test("regression with mean squared error agrees too")
    func regression() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 16, 16, 1], hiddenActivation: .tanh, outputActivation: .identity, loss: .meanSquaredError)
        let data = try Dataset(inputs: (0 ..< 40).map { [Float($0) / 40] }, targets: (0 ..< 40).map { [Float($0 * $0) / 1600] })
        var settings = TrainingConfiguration(epochs: 1, batchSize: 40, shuffle: false, seed: 2, optimizer: .sgd(learningRate: 0.1))
        let (serial, _) = try train(settings, data: data, configuration: configuration)
        settings.threads = 4
        let (parallel, _) = try train(settings, data: data, configuration: configuration)
        #expect(parallel.threads == 4)
        let largest = zip(serial.model.parameters, parallel.model.parameters).map { abs($0 - $1) }.max() ?? 0
        #expect(largest <= 1e-6, "largest difference \(largest)")
        #expect(serial.model.parameters != Model(configuration: configuration, seed: 2).parameters)
    }

    @Test("thread counts out of range are refused, naming the setting", arguments: [0, -1, Trainer.maximumThreads + 1])
    func invalidThreads(threads: Int) throws {
        let settings = TrainingConfiguration(threads: threads)
        #expect(throws: TrainingError.invalidHyperparameter(name: "threads", value: Double(threads), allowed: "1...\(Trainer.maximumThreads)")) {
            try settings.validate()
        }
        #expect(throws: TrainingError.self) {
            try Trainer(model: Model(configuration: Self.classifier, seed: 0), configuration: settings)
        }
    }

    @Test("no more threads than rows in a batch, nor than the step's work is worth")
    func cappedByBatchAndWork() throws {
        let wide = try ModelConfiguration(layerSizes: [8, 1024, 1024, 3], outputActivation: .softmax, loss: .softmaxCrossEntropy)
        #expect(wide.trainingThreads(for: TrainingConfiguration(batchSize: 2, threads: 8)) == 2)
        #expect(wide.trainingThreads(for: TrainingConfiguration(batchSize: 2)) == 1)
        // 1-16-16-1 at batch 32: 55 kFLOP a step, far less than one thread's worth.
        let tiny = try ModelConfiguration(layerSizes: [1, 16, 16, 1], outputActivation: .identity, loss: .meanSquaredError)
        #expect(tiny.trainingThreads(for: TrainingConfiguration(batchSize: 32, threads: 4)) == 1)
        #expect(try Trainer(model: Model(configuration: tiny, seed: 0), configuration: TrainingConfiguration(threads: 4)).threads == 1)
        // 8-256-256-3 at batch 10: 3 x 10 x 137,216 FLOP a step, worth three threads.
        #expect(Self.wideClassifier.trainingThreads(for: TrainingConfiguration(batchSize: 10, threads: 8)) == 3)
        #expect(Self.wideClassifier.trainingThreads(for: TrainingConfiguration(batchSize: 10, threads: 2)) == 2)
        // Lifted, as in the other tests: only the batch bounds the count.
        #expect(try trainer(Model(configuration: Self.classifier, seed: 0), TrainingConfiguration(batchSize: 2, threads: 8)).threads == 2)
    }

    @Test("the cost model counts each extra worker's gradient buffer")
    func cost() throws {
        let one = Self.wideClassifier.trainingCost(rows: 100, training: TrainingConfiguration(batchSize: 32))
        let four = Self.wideClassifier.trainingCost(rows: 100, training: TrainingConfiguration(batchSize: 32, threads: 4))
        #expect(four.bytes - one.bytes == 3 * Self.wideClassifier.parameterCount * MemoryLayout<Float>.size)
        #expect(four.flops == one.flops)
    }

    @Test("shares cover the range in order, without overlap, on aligned boundaries")
    func shares() throws {
        for workers in 1 ... 5 {
            let team = try WorkerTeam(workers: workers)
            for total in [0, 1, 7, 16, 100, 1_001] {
                var next = 0
                for worker in 0 ..< workers {
                    let share = team.share(of: total, worker: worker, alignment: 16)
                    #expect(share.lowerBound == next)
                    #expect(share.lowerBound % 16 == 0 || share.isEmpty)
                    next = share.upperBound
                }
                #expect(next == total)
            }
        }
    }

    @Test("every worker runs every task, and barriers order their writes")
    func teamRunsAndBarriers() throws {
        let workers = 3
        let team = try WorkerTeam(workers: workers)
        // [0]: the team; [1...]: one slot per worker, then one sum slot per worker.
        final class Board {
            let team: WorkerTeam
            let slots: UnsafeMutablePointer<Int>
            init(team: WorkerTeam, count: Int) {
                self.team = team
                slots = .allocate(capacity: count)
                slots.initialize(repeating: 0, count: count)
            }
            deinit { slots.deallocate() }
        }
        let board = Board(team: team, count: 2 * workers)
        for round in 1 ... 500 {
            team.run({ context, worker in
                let board = Unmanaged<Board>.fromOpaque(context!).takeUnretainedValue()
                board.slots[worker] += 1
                board.team.barrier()
                // After the barrier every worker sees every increment of this round.
                var sum = 0
                for other in 0 ..< board.team.count { sum += board.slots[other] }
                board.slots[board.team.count + worker] = sum
            }, context: Unmanaged.passUnretained(board).toOpaque())
            for worker in 0 ..< workers {
                #expect(board.slots[worker] == round)
                #expect(board.slots[workers + worker] == workers * round)
            }
        }
    }
}
