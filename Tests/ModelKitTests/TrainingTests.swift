import Testing
@testable import ModelKit

@Suite("Training")
struct TrainingTests {
    static func xor() throws -> Dataset {
        try Dataset(inputs: [[0, 0], [0, 1], [1, 0], [1, 1]], targets: [[0], [1], [1], [0]])
    }

    static func squares() throws -> Dataset {
        try Dataset(inputs: (0 ..< 10).map { [Float($0)] }, targets: (0 ..< 10).map { [Float($0 * $0)] })
    }

    @Test("XOR converges (2-8-1, tanh, sigmoid + binary cross-entropy)")
    func xorConverges() throws {
        let configuration = try ModelConfiguration(layerSizes: [2, 8, 1], hiddenActivation: .tanh, outputActivation: .sigmoid, loss: .binaryCrossEntropy)
        let trainer = try Trainer(
            model: Model(configuration: configuration, seed: 1),
            configuration: TrainingConfiguration(epochs: 500, batchSize: 4, seed: 1, optimizer: .adam(learningRate: 0.05)))
        let report = try trainer.fit(Self.xor())
        #expect(report.stopReason == .completed && report.history.count == 500)
        let evaluation = try trainer.model.evaluate(Self.xor())
        #expect(evaluation.loss < 0.05)
        #expect(evaluation.classification?.accuracy == 1)
        #expect(try trainer.model.predictClasses(rows: Self.xor().inputs) == [0, 1, 1, 0])
    }

    @Test("XOR converges with softmax outputs and sgd + Nesterov momentum")
    func xorSoftmax() throws {
        let configuration = try ModelConfiguration(layerSizes: [2, 8, 2], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        let data = try Dataset(inputs: Self.xor().inputs, classLabels: [0, 1, 1, 0], classCount: 2)
        let trainer = try Trainer(
            model: Model(configuration: configuration, seed: 3),
            configuration: TrainingConfiguration(epochs: 400, batchSize: 2, seed: 3, optimizer: .sgd(learningRate: 0.1, momentum: 0.9, nesterov: true)))
        _ = try trainer.fit(data)
        #expect(try trainer.model.evaluate(data).classification?.accuracy == 1)
    }

    @Test("y = x^2 for x = 0..9 reaches R^2 >= 0.99 with 1-16-16-1")
    func squaresConverge() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 16, 16, 1], hiddenActivation: .relu, outputActivation: .identity, loss: .meanSquaredError)
        let trainer = try Trainer(
            model: Model(configuration: configuration, seed: 0),
            configuration: TrainingConfiguration(epochs: 2000, batchSize: 32, seed: 0, optimizer: .adam(learningRate: 0.01), normalization: .standard))
        _ = try trainer.fit(Self.squares())
        let evaluation = try trainer.model.evaluate(Self.squares())
        let r2 = try #require(evaluation.regression?.r2)
        #expect(r2 >= 0.99)
        // The normalizer travels with the model: raw x goes in, x^2 comes out.
        let seven = try trainer.model.predict(row: [7])[0]
        #expect(abs(seven - 49) < 5)
    }

    @Test("the same seed gives bit-identical weights; another seed does not")
    func determinism() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 8, 8, 1], hiddenActivation: .tanh, outputActivation: .identity, loss: .huber(delta: 1))
        let settings = TrainingConfiguration(
            epochs: 30, batchSize: 3, seed: 42, optimizer: .adamW(learningRate: 0.01),
            regularization: Regularization(l1: 1e-4, l2: 1e-3, dropout: 0.2, gradientClipNorm: 5),
            validationFraction: 0.2, normalization: .minMax)
        func run(seed: UInt64) throws -> [Float] {
            var settings = settings
            settings.seed = seed
            let trainer = try Trainer(model: Model(configuration: configuration, seed: seed), configuration: settings)
            _ = try trainer.fit(Self.squares())
            return trainer.model.parameters
        }
        let first = try run(seed: 42)
        #expect(try run(seed: 42) == first)
        #expect(try run(seed: 43) != first)
        #expect(Model(configuration: configuration, seed: 9).parameters == Model(configuration: configuration, seed: 9).parameters)
    }

    @Test("early stopping stops, and restores the best epoch's weights")
    func earlyStopping() throws {
        // Validation targets are the negation of the training targets: the better the fit,
        // the worse the validation loss, so the best epoch is an early one.
        let configuration = try ModelConfiguration(layerSizes: [1, 8, 1], hiddenActivation: .tanh, outputActivation: .identity, loss: .meanSquaredError)
        let inputs = try Matrix((0 ..< 8).map { [Float($0) / 8] })
        let training = try Dataset(inputs: inputs, targets: Matrix((0 ..< 8).map { [Float($0) / 4] }))
        let validation = try Dataset(inputs: inputs, targets: Matrix((0 ..< 8).map { [-Float($0) / 4] }))
        let trainer = try Trainer(
            model: Model(configuration: configuration, seed: 2),
            configuration: TrainingConfiguration(
                epochs: 200, batchSize: 8, optimizer: .adam(learningRate: 0.05),
                earlyStopping: EarlyStopping(patience: 3, minDelta: 0, restoreBestWeights: true)))
        let report = try trainer.fit(training, validation: validation)
        #expect(report.stopReason == .earlyStopped)
        #expect(report.history.count < 200)
        let losses = report.history.compactMap(\.validationLoss)
        let best = try #require(losses.indices.min { losses[$0] < losses[$1] })
        #expect(report.restoredEpoch == best)
        #expect(report.history.count == best + 1 + 3)
        let restored = try trainer.model.evaluate(validation).loss
        #expect(abs(restored - losses[best]) <= 1e-6 * max(1, losses[best]))
        #expect(restored < losses[losses.count - 1])
    }

    @Test("warm start continues exactly where training stopped")
    func warmStart() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 6, 1], hiddenActivation: .sigmoid, outputActivation: .identity, loss: .meanSquaredError)
        let settings = TrainingConfiguration(epochs: 10, batchSize: 4, shuffle: false, optimizer: .adam(learningRate: 0.01),
                                             schedule: .step(every: 3, factor: 0.5), normalization: .standard)
        let initial = Model(configuration: configuration, seed: 5)
        let straight = try Trainer(model: initial, configuration: settings)
        _ = try straight.fit(Self.squares())

        var half = settings
        half.epochs = 5
        let first = try Trainer(model: initial, configuration: half)
        _ = try first.fit(Self.squares())
        let saved = first.optimizerState
        #expect(saved.step == 15 && saved.epoch == 5 && saved.firstMoment.count == initial.parameterCount)
        let resumed = try Trainer(model: first.model, configuration: half, optimizerState: saved)
        let report = try resumed.fit(Self.squares())
        #expect(report.history.map(\.epoch) == [5, 6, 7, 8, 9])
        #expect(resumed.model.parameters == straight.model.parameters)
        #expect(resumed.optimizerState == straight.optimizerState)
        #expect(resumed.model.normalizer == straight.model.normalizer)
    }

    @Test("incremental training on new data starts from the existing weights")
    func incremental() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 8, 1], hiddenActivation: .tanh, outputActivation: .identity, loss: .meanSquaredError)
        let settings = TrainingConfiguration(epochs: 200, batchSize: 8, optimizer: .adam(learningRate: 0.02), normalization: .standard)
        let trainer = try Trainer(model: Model(configuration: configuration, seed: 1), configuration: settings)
        let low = try Dataset(inputs: (0 ..< 5).map { [Float($0)] }, targets: (0 ..< 5).map { [Float($0) / 5] })
        _ = try trainer.fit(low)
        let fitted = trainer.model
        let lossBefore = try fitted.evaluate(low).loss
        var more = settings
        more.epochs = 1
        let next = try Trainer(model: fitted, configuration: more, optimizerState: trainer.optimizerState)
        let high = try Dataset(inputs: (5 ..< 8).map { [Float($0)] }, targets: (5 ..< 8).map { [Float($0) / 5] })
        _ = try next.fit(high)
        // One small epoch moves the weights a little, from where they were, not from scratch.
        #expect(next.model.parameters != fitted.parameters)
        #expect(next.model.normalizer == fitted.normalizer)
        #expect(try next.model.evaluate(low).loss < lossBefore + 0.05)
        #expect(next.optimizerState.epoch == 201)
    }

    @Test("optimizer state that does not fit is rejected")
    func badOptimizerState() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 2, 1], outputActivation: .identity, loss: .meanSquaredError)
        let model = Model(configuration: configuration, seed: 1)
        let wrongLength = OptimizerState(kind: .adam, step: 3, epoch: 1, firstMoment: [0, 0], secondMoment: [0, 0])
        #expect(throws: TrainingError.optimizerStateMismatch(reason: "first moment has 2 values, model has 7 parameters")) {
            try Trainer(model: model, configuration: TrainingConfiguration(), optimizerState: wrongLength)
        }
        let wrongKind = OptimizerState(kind: .sgd, step: 0, epoch: 0, firstMoment: [], secondMoment: [])
        #expect(throws: TrainingError.optimizerStateMismatch(reason: "state of sgd cannot continue adam")) {
            try Trainer(model: model, configuration: TrainingConfiguration(), optimizerState: wrongKind)
        }
        let missing = OptimizerState(kind: .adam, step: 3, epoch: 1, firstMoment: [], secondMoment: [])
        #expect(throws: TrainingError.optimizerStateMismatch(reason: "first moment missing after 3 steps")) {
            try Trainer(model: model, configuration: TrainingConfiguration(), optimizerState: missing)
        }
    }

    @Test("a loss that blows up is reported, not trained on")
    func divergence() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 4, 1], outputActivation: .identity, loss: .meanSquaredError)
        let trainer = try Trainer(
            model: Model(configuration: configuration, seed: 1),
            configuration: TrainingConfiguration(epochs: 50, batchSize: 10, shuffle: false, optimizer: .sgd(learningRate: 1e6)))
        #expect {
            try trainer.fit(Self.squares())
        } throws: { error in
            guard case TrainingError.diverged(epoch: let epoch, step: _) = error else { return false }
            return epoch < 50
        }
    }

    @Test("cancellation is checked between steps")
    func cancellation() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 4, 1], outputActivation: .identity, loss: .meanSquaredError)
        let trainer = try Trainer(model: Model(configuration: configuration, seed: 1), configuration: TrainingConfiguration(epochs: 100, batchSize: 2))
        var checks = 0
        let report = try trainer.fit(Self.squares(), shouldCancel: {
            checks += 1
            return checks > 12
        })
        #expect(report.stopReason == .cancelled)
        #expect(trainer.optimizerState.step == 12)
        #expect(report.history.count == 2)
    }

    @Test("progress reports every epoch with losses and throughput")
    func progress() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 4, 1], outputActivation: .identity, loss: .meanSquaredError)
        let trainer = try Trainer(
            model: Model(configuration: configuration, seed: 1),
            configuration: TrainingConfiguration(epochs: 4, schedule: .exponential(factor: 0.5), validationFraction: 0.3))
        var seen = [EpochProgress]()
        let report = try trainer.fit(Self.squares(), progress: { seen.append($0) })
        #expect(seen == report.history)
        #expect(seen.map(\.epoch) == [0, 1, 2, 3])
        #expect(seen.map(\.learningRate) == [1e-3, 5e-4, 2.5e-4, 1.25e-4])
        #expect(seen.allSatisfy { $0.validationLoss != nil && $0.trainLoss.isFinite && $0.samplesPerSecond > 0 })
    }

    @Test("the normalizer is fitted on the training split only")
    func normalizerFittedOnTrainingSplit() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 4, 1], outputActivation: .identity, loss: .meanSquaredError)
        let settings = TrainingConfiguration(epochs: 1, seed: 8, validationFraction: 0.3, normalization: .standard)
        let trainer = try Trainer(model: Model(configuration: configuration, seed: 1), configuration: settings)
        let data = try Self.squares()
        _ = try trainer.fit(data)
        let (training, _) = try data.split(validationFraction: 0.3, seed: 8)
        #expect(trainer.model.normalizer == .standard(Standardizer(fittedOn: training.inputs)))
        #expect(trainer.model.normalizer != .standard(Standardizer(fittedOn: data.inputs)))
    }

    @Test("dropout is used in training only")
    func dropoutOnlyInTraining() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 16, 1], outputActivation: .identity, loss: .meanSquaredError)
        let model = Model(configuration: configuration, seed: 1)
        let trainer = try Trainer(model: model, configuration: TrainingConfiguration(regularization: Regularization(dropout: 0.5)))
        let inputs = try Matrix([[0.5], [1.5]])
        let targets = try Matrix([[1], [2]])
        let first = trainer.gradient(inputs: inputs, targets: targets)
        let second = trainer.gradient(inputs: inputs, targets: targets)
        #expect(first.gradient != second.gradient, "new masks each step")
        #expect(try trainer.model.predict(rows: inputs) == model.predict(rows: inputs), "no dropout at inference")
    }
}
