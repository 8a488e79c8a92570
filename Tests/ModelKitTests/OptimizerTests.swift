import Testing
@testable import ModelKit

/// Update rules against values worked out by hand on a two-parameter model (w = 1, b = 0.5).
@Suite("Optimizers")
struct OptimizerTests {
    static let tolerance: Float = 1e-5
    static let firstGradient: [Float] = [0.2, -0.4]
    static let secondGradient: [Float] = [0.1, 0.3]

    func trainer(_ optimizer: OptimizerConfiguration) throws -> Trainer {
        let configuration = try ModelConfiguration(layerSizes: [1, 1], activations: [.identity], loss: .meanSquaredError)
        let model = try Model(configuration: configuration, normalizer: .none, parameters: [1, 0.5])
        return try Trainer(model: model, configuration: TrainingConfiguration(optimizer: optimizer))
    }

    func steps(_ optimizer: OptimizerConfiguration, gradients: [[Float]], learningRate: Float = 0.1) throws -> [Float] {
        let trainer = try trainer(optimizer)
        for gradient in gradients {
            setGradients(trainer, gradient)
            trainer.update(learningRate: learningRate)
        }
        return parameters(of: trainer)
    }

    func expectClose(_ got: [Float], _ expected: [Float]) {
        #expect(got.count == expected.count)
        for (a, b) in zip(got, expected) {
            #expect(abs(a - b) <= Self.tolerance, "got \(got), expected \(expected)")
        }
    }

    @Test("sgd: p -= lr * g")
    func sgd() throws {
        expectClose(try steps(.sgd(learningRate: 0.1), gradients: [Self.firstGradient]), [0.98, 0.54])
    }

    @Test("sgd with momentum: v = 0.9 v + g, p -= lr * v")
    func momentum() throws {
        // Step 1: v = g -> p = (0.98, 0.54). Step 2: v = 1.9 g -> p -= 0.19 g.
        expectClose(try steps(.sgd(learningRate: 0.1, momentum: 0.9), gradients: [Self.firstGradient, Self.firstGradient]),
                    [0.942, 0.616])
    }

    @Test("sgd with Nesterov momentum: p -= lr * (g + 0.9 v)")
    func nesterov() throws {
        // Step 1: v = g, p -= 0.1 * 1.9 g. Step 2: v = 1.9 g, p -= 0.1 * 2.71 g.
        expectClose(try steps(.sgd(learningRate: 0.1, momentum: 0.9, nesterov: true),
                              gradients: [Self.firstGradient, Self.firstGradient]),
                    [0.9078, 0.6844])
    }

    @Test("adam: two steps with bias correction")
    func adam() throws {
        // Step 1 moves each parameter by lr against the gradient's sign (m^ = g, v^ = g^2).
        expectClose(try steps(.adam(learningRate: 0.1), gradients: [Self.firstGradient]), [0.9, 0.6])
        // Step 2: m = (0.028, -0.006), v = (4.996e-5, 2.4984e-4), corrected by 0.19 and 0.001999.
        expectClose(try steps(.adam(learningRate: 0.1), gradients: [Self.firstGradient, Self.secondGradient]),
                    [0.806782, 0.608932])
    }

    @Test("adamw: decoupled decay before the adam step")
    func adamW() throws {
        // p = p * (1 - 0.1 * 0.1) - 0.1 * sign(g)
        expectClose(try steps(.adamW(learningRate: 0.1, weightDecay: 0.1), gradients: [Self.firstGradient]), [0.89, 0.595])
    }

    @Test("the update clears the gradients for the next accumulation")
    func clearsGradients() throws {
        for optimizer in [OptimizerConfiguration.sgd(), .sgd(momentum: 0.5), .adam(), .adamW()] {
            let trainer = try trainer(optimizer)
            setGradients(trainer, Self.firstGradient)
            trainer.update(learningRate: 0.1)
            #expect(Array(UnsafeBufferPointer(start: trainer.gradients, count: 2)) == [0, 0])
        }
    }

    @Test("gradient clipping rescales to the maximum norm")
    func clipping() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 1], activations: [.identity], loss: .meanSquaredError)
        let model = try Model(configuration: configuration, normalizer: .none, parameters: [1, 0.5])
        let trainer = try Trainer(model: model, configuration: TrainingConfiguration(regularization: Regularization(gradientClipNorm: 1)))
        setGradients(trainer, [3, 4])
        trainer.regularizeGradients()
        #expect(Array(UnsafeBufferPointer(start: trainer.gradients, count: 2)) == [0.6, 0.8])
        setGradients(trainer, [0.3, 0.4])
        trainer.regularizeGradients()
        #expect(Array(UnsafeBufferPointer(start: trainer.gradients, count: 2)) == [0.3, 0.4])
    }

    @Test("L1 and L2 add to weight gradients only")
    func penalties() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 1], activations: [.identity], loss: .meanSquaredError)
        let model = try Model(configuration: configuration, normalizer: .none, parameters: [-2, 0.5])
        let trainer = try Trainer(model: model, configuration: TrainingConfiguration(regularization: Regularization(l1: 0.5, l2: 0.1)))
        setGradients(trainer, [1, 1])
        trainer.regularizeGradients()
        // weight: 1 + 0.1 * -2 + 0.5 * -1 = 0.3; bias untouched.
        let got = Array(UnsafeBufferPointer(start: trainer.gradients, count: 2))
        #expect(abs(got[0] - 0.3) < 1e-6)
        #expect(got[1] == 1)
    }

    @Test("learning-rate schedules")
    func schedules() {
        #expect(LearningRateSchedule.constant.learningRate(base: 0.1, epoch: 7) == 0.1)
        #expect(abs(LearningRateSchedule.step(every: 2, factor: 0.5).learningRate(base: 0.1, epoch: 5) - 0.025) < 1e-7)
        #expect(abs(LearningRateSchedule.exponential(factor: 0.9).learningRate(base: 1, epoch: 2) - 0.81) < 1e-6)
        let cosine = LearningRateSchedule.cosine(epochs: 10, minimum: 0.01)
        #expect(cosine.learningRate(base: 0.1, epoch: 0) == 0.1)
        #expect(abs(cosine.learningRate(base: 0.1, epoch: 5) - 0.055) < 1e-6)
        #expect(abs(cosine.learningRate(base: 0.1, epoch: 10) - 0.01) < 1e-7)
        #expect(abs(cosine.learningRate(base: 0.1, epoch: 20) - 0.01) < 1e-7)
    }

    @Test("invalid hyperparameters are named")
    func invalidHyperparameters() throws {
        let cases: [(TrainingConfiguration, String)] = [
            (TrainingConfiguration(epochs: 0), "epochs"),
            (TrainingConfiguration(batchSize: 0), "batch_size"),
            (TrainingConfiguration(optimizer: .sgd(learningRate: 0)), "optimizer.learning_rate"),
            (TrainingConfiguration(optimizer: .adam(learningRate: .nan)), "optimizer.learning_rate"),
            (TrainingConfiguration(optimizer: .sgd(momentum: 1)), "optimizer.momentum"),
            (TrainingConfiguration(optimizer: .sgd(momentum: 0, nesterov: true)), "optimizer.nesterov"),
            (TrainingConfiguration(optimizer: .adam(beta1: 1)), "optimizer.beta1"),
            (TrainingConfiguration(optimizer: .adam(beta2: -0.1)), "optimizer.beta2"),
            (TrainingConfiguration(optimizer: .adam(epsilon: 0)), "optimizer.epsilon"),
            (TrainingConfiguration(optimizer: .adamW(weightDecay: -1)), "optimizer.weight_decay"),
            (TrainingConfiguration(schedule: .step(every: 0, factor: 0.5)), "schedule.every"),
            (TrainingConfiguration(schedule: .exponential(factor: 1.5)), "schedule.factor"),
            (TrainingConfiguration(schedule: .cosine(epochs: 0, minimum: 0)), "schedule.epochs"),
            (TrainingConfiguration(regularization: Regularization(l1: -1)), "regularization.l1"),
            (TrainingConfiguration(regularization: Regularization(l2: .infinity)), "regularization.l2"),
            (TrainingConfiguration(regularization: Regularization(dropout: 1)), "regularization.dropout"),
            (TrainingConfiguration(regularization: Regularization(gradientClipNorm: 0)), "regularization.gradient_clip_norm"),
            (TrainingConfiguration(earlyStopping: EarlyStopping(patience: 0)), "early_stopping.patience"),
            (TrainingConfiguration(earlyStopping: EarlyStopping(minDelta: -1)), "early_stopping.min_delta"),
            (TrainingConfiguration(validationFraction: 1), "validation_fraction"),
        ]
        for (configuration, name) in cases {
            #expect {
                try configuration.validate()
            } throws: { error in
                guard case TrainingError.invalidHyperparameter(let got, _, _) = error else { return false }
                return got == name
            }
        }
        #expect(throws: Never.self) { try TrainingConfiguration().validate() }
        let wide = try ModelConfiguration(layerSizes: [1 << 16, 1], outputActivation: .identity, loss: .meanSquaredError)
        #expect(throws: TrainingError.invalidHyperparameter(name: "batch_size", value: 4096, allowed: "batch_size x widest layer <= 67108864")) {
            try Trainer(model: Model(configuration: wide, seed: 1), configuration: TrainingConfiguration(batchSize: 4096))
        }
    }
}
