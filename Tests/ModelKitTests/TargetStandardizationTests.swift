@testable import ModelKit
import Testing

/// Regression targets standardized for training: fitted on the training split, stored in the
/// model, mapped back on every prediction path, and metrics in the targets' own units.
@Suite("Target standardization")
struct TargetStandardizationTests {
    static func square() throws -> Dataset {
        try Dataset(inputs: Matrix((0 ..< 10).map { [Float($0)] }), targets: Matrix((0 ..< 10).map { [Float($0 * $0)] }))
    }

    static func configuration() throws -> ModelConfiguration {
        try ModelConfiguration(layerSizes: [1, 32, 1], outputActivation: .identity, loss: .meanSquaredError)
    }

    @Test("y = x² on standardized targets fits in the targets' units")
    func squareFits() throws {
        let training = TrainingConfiguration(
            epochs: 2000, batchSize: 10, seed: 0, optimizer: .adam(learningRate: 0.01), normalization: .standard, normalizeTargets: true)
        let trainer = try Trainer(model: Model(configuration: try Self.configuration(), seed: 0), configuration: training)
        let report = try trainer.fit(try Self.square())
        let model = trainer.model
        let standardizer = try #require(model.targetStandardizer)
        #expect(abs(standardizer.mean[0] - 28.5) < 1e-4)
        // The loss curve is in standardized units: predicting the mean scores 1.
        #expect((report.history.first?.trainLoss ?? 0) < 5)
        for x in 0 ..< 10 {
            let predicted = try model.predict(row: [Float(x)])[0]
            #expect(abs(predicted - Float(x * x)) < 3, "x = \(x): \(predicted)")
        }
        // One row and a batch agree, and evaluation reports the targets' units.
        let batch = try model.predict(rows: try Self.square().inputs)
        #expect(abs(batch[3, 0] - (try model.predict(row: [3])[0])) < 1e-3)
        let evaluation = try model.evaluate(try Self.square())
        let metrics = try #require(evaluation.regression)
        #expect(metrics.r2 > 0.99 && abs(evaluation.loss - metrics.meanSquaredError) < 1e-3 * max(1, metrics.meanSquaredError))
    }

    @Test("without normalizeTargets nothing changes, and a classifier never gets a standardizer")
    func offByDefaultInModelKit() throws {
        let trainer = try Trainer(
            model: Model(configuration: try Self.configuration(), seed: 0),
            configuration: TrainingConfiguration(epochs: 2, batchSize: 10, normalization: .standard))
        _ = try trainer.fit(try Self.square())
        #expect(trainer.model.targetStandardizer == nil)
        let classifier = try ModelConfiguration(layerSizes: [1, 4, 2], outputActivation: .softmax, loss: .softmaxCrossEntropy)
        #expect(throws: ModelError.targetStandardizerNeedsRegression) {
            try Model(configuration: classifier, normalizer: .none, parameters: [Float](repeating: 0, count: classifier.parameterCount),
                      targetStandardizer: try Standardizer(mean: [0, 0], standardDeviation: [1, 1]))
        }
        let regression = try Self.configuration()
        #expect(throws: ModelError.targetStandardizerOutputMismatch(expected: 1, got: 2)) {
            try Model(configuration: regression, normalizer: .none, parameters: [Float](repeating: 0, count: regression.parameterCount),
                      targetStandardizer: try Standardizer(mean: [0, 0], standardDeviation: [1, 1]))
        }
    }

    @Test("continuing training keeps the standardizer of the first run")
    func warmStartKeepsTheStandardizer() throws {
        let training = TrainingConfiguration(epochs: 50, batchSize: 10, seed: 0, optimizer: .adam(learningRate: 0.01), normalizeTargets: true)
        let first = try Trainer(model: Model(configuration: try Self.configuration(), seed: 0), configuration: training)
        _ = try first.fit(try Self.square())
        let kept = try #require(first.model.targetStandardizer)
        let shifted = try Dataset(inputs: Matrix([[1], [2]]), targets: Matrix([[1000], [2000]]))
        let second = try Trainer(model: first.model, configuration: training, optimizerState: first.optimizerState)
        _ = try second.fit(shifted)
        #expect(second.model.targetStandardizer == kept)
    }
}
