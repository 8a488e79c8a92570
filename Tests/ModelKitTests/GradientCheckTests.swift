import Testing
@testable import ModelKit

/// Back-propagated gradients against central finite differences of the loss computed by the
/// inference path (`Model.evaluate`), so the two implementations check each other.
@Suite("Gradient checks")
struct GradientCheckTests {
    /// Step of the central difference and the agreement required (absolute + relative).
    static let step: Float = 1e-2
    static let absoluteTolerance: Float = 3e-3
    static let relativeTolerance: Float = 3e-2

    /// Reference loss: the model's own evaluation plus the penalties `regularization` adds.
    func referenceLoss(_ configuration: ModelConfiguration, _ values: [Float], _ data: Dataset, _ regularization: Regularization) throws -> Double {
        let model = try Model(configuration: configuration, normalizer: .none, parameters: values)
        var loss = try model.evaluate(data).loss
        for layer in model.layout.layers {
            for k in layer.weightOffset ..< layer.weightOffset + layer.weightCount {
                let w = Double(values[k])
                loss += Double(regularization.l2) / 2 * w * w + Double(regularization.l1) * abs(w)
            }
        }
        return loss
    }

    func check(
        _ configuration: ModelConfiguration, targets: Matrix, regularization: Regularization = Regularization(),
        seed: UInt64 = 7
    ) throws {
        let inputs = randomMatrix(rows: 5, columns: configuration.inputCount, seed: seed)
        let data = try Dataset(inputs: inputs, targets: targets)
        let model = Model(configuration: configuration, seed: seed)
        let trainer = try Trainer(model: model, configuration: TrainingConfiguration(batchSize: 8, regularization: regularization))
        let (loss, analytic) = trainer.gradient(inputs: inputs, targets: targets)
        let base = try referenceLoss(configuration, model.parameters, data, regularization)
        let penalty = base - (try model.evaluate(data).loss)
        #expect(abs(loss + penalty - base) <= 1e-4 * max(1, abs(base)), "batch loss \(loss) vs evaluation \(base)")
        var kinks = 0
        for index in 0 ..< model.parameterCount {
            var plus = model.parameters
            var minus = model.parameters
            plus[index] += Self.step
            minus[index] -= Self.step
            let up = try referenceLoss(configuration, plus, data, regularization)
            let down = try referenceLoss(configuration, minus, data, regularization)
            let numeric = Float((up - down) / Double(2 * Self.step))
            let tolerance = Self.absoluteTolerance + Self.relativeTolerance * abs(numeric)
            // A rectifier kink inside [w - h, w + h] makes the one-sided slopes disagree; the
            // central difference means nothing there, so such parameters are skipped (and
            // counted: a wrong gradient does not make the loss non-smooth).
            let forwardSlope = Float((up - base) / Double(Self.step))
            let backwardSlope = Float((base - down) / Double(Self.step))
            if abs(forwardSlope - backwardSlope) > 2 * tolerance {
                kinks += 1
                continue
            }
            #expect(abs(numeric - analytic[index]) <= tolerance,
                    "parameter \(index): numeric \(numeric), analytic \(analytic[index])")
        }
        #expect(kinks * 10 <= model.parameterCount, "\(kinks) of \(model.parameterCount) parameters sit on a kink")
    }

    static let regressionTargets = randomMatrix(rows: 5, columns: 2, seed: 99, scale: 2)

    @Test("every hidden activation (mse, identity output)", arguments: [Activation.relu, .leakyReLU, .sigmoid, .tanh])
    func hiddenActivations(_ activation: Activation) throws {
        let configuration = try ModelConfiguration(
            layerSizes: [3, 4, 3, 2], hiddenActivation: activation, outputActivation: .identity,
            loss: .meanSquaredError, leakyReLUSlope: 0.1)
        try check(configuration, targets: Self.regressionTargets)
    }

    @Test("regression losses on identity and sigmoid outputs",
          arguments: [Loss.meanSquaredError, .meanAbsoluteError, .huber(delta: 0.5)], [Activation.identity, .sigmoid])
    func regressionLosses(_ loss: Loss, _ output: Activation) throws {
        let configuration = try ModelConfiguration(layerSizes: [3, 4, 2], hiddenActivation: .tanh, outputActivation: output, loss: loss)
        let targets = output == .sigmoid ? randomMatrix(rows: 5, columns: 2, seed: 3, scale: 0.5) : Self.regressionTargets
        try check(configuration, targets: targets)
    }

    @Test("binary cross-entropy with sigmoid outputs")
    func binaryCrossEntropy() throws {
        let configuration = try ModelConfiguration(layerSizes: [3, 4, 2], hiddenActivation: .tanh, outputActivation: .sigmoid, loss: .binaryCrossEntropy)
        let targets = try Matrix([[1, 0], [0, 0], [1, 1], [0, 1], [1, 0]])
        try check(configuration, targets: targets)
    }

    @Test("softmax cross-entropy with softmax outputs")
    func softmaxCrossEntropy() throws {
        let configuration = try ModelConfiguration(layerSizes: [3, 5, 4, 3], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        try check(configuration, targets: oneHot([0, 2, 1, 1, 2], classCount: 3))
    }

    @Test("L1 and L2 penalties")
    func penalties() throws {
        let configuration = try ModelConfiguration(layerSizes: [3, 4, 2], hiddenActivation: .tanh, outputActivation: .identity, loss: .meanSquaredError)
        try check(configuration, targets: Self.regressionTargets, regularization: Regularization(l1: 0.01, l2: 0.1))
    }

    @Test("softmax cross-entropy stays finite for huge logits")
    func stableSoftmax() throws {
        let logits: [Float] = [1000, -1000, 0]
        let targets: [Float] = [0, 1, 0]
        var gradient = [Float](repeating: 0, count: 3)
        let loss = gradient.withUnsafeMutableBufferPointer { g in
            lossAndGradient(logits: logits, targets: targets, gradient: g.baseAddress!, rows: 1, outputs: 3,
                            loss: .softmaxCrossEntropy, outputActivation: .softmax)
        }
        #expect(loss == 2000)
        #expect(gradient == [1, -1, 0])
    }
}
