import Testing
@testable import ModelKit

@Suite("Metrics")
struct MetricsTests {
    @Test("classification metrics against a hand-computed confusion matrix")
    func classification() {
        // true:      0 0 0 1 1 2 2 2
        // predicted: 0 1 0 1 2 2 2 0
        let metrics = ClassificationMetrics(predicted: [0, 1, 0, 1, 2, 2, 2, 0], expected: [0, 0, 0, 1, 1, 2, 2, 2], classCount: 3)
        #expect(metrics.confusion == [[2, 1, 0], [0, 1, 1], [1, 0, 2]])
        #expect(metrics.accuracy == 5.0 / 8.0)
        #expect(metrics.precision == [2.0 / 3.0, 1.0 / 2.0, 2.0 / 3.0])
        #expect(metrics.recall == [2.0 / 3.0, 1.0 / 2.0, 2.0 / 3.0])
        #expect(metrics.f1 == [4.0 / 6.0, 2.0 / 4.0, 4.0 / 6.0])
        #expect(abs(metrics.macroF1 - (4.0 / 6.0 + 0.5 + 4.0 / 6.0) / 3) < 1e-12)
    }

    @Test("a class never predicted scores zero, like zero_division=0")
    func zeroDivision() {
        let metrics = ClassificationMetrics(predicted: [0, 0, 0], expected: [0, 1, 0], classCount: 3)
        #expect(metrics.confusion == [[2, 0, 0], [1, 0, 0], [0, 0, 0]])
        #expect(metrics.precision == [2.0 / 3.0, 0, 0])
        #expect(metrics.recall == [1, 0, 0])
        #expect(metrics.f1 == [0.8, 0, 0])
        #expect(abs(metrics.macroPrecision - 2.0 / 9.0) < 1e-12)
        #expect(abs(metrics.macroRecall - 1.0 / 3.0) < 1e-12)
    }

    @Test("regression metrics against hand-computed values")
    func regression() throws {
        let metrics = RegressionMetrics(predicted: try Matrix([[1], [2], [5]]), expected: try Matrix([[1], [3], [3]]))
        // errors 0, -1, 2; mean of targets 7/3, SS_tot = 16/9 + 4/9 + 4/9 = 24/9
        #expect(abs(metrics.meanSquaredError - 5.0 / 3.0) < 1e-12)
        #expect(abs(metrics.rootMeanSquaredError - (5.0 / 3.0).squareRoot()) < 1e-12)
        #expect(abs(metrics.meanAbsoluteError - 1) < 1e-12)
        #expect(abs(metrics.r2 - (1 - 5.0 / (24.0 / 9.0))) < 1e-12)
        #expect(RegressionMetrics(predicted: try Matrix([[1], [2]]), expected: try Matrix([[2], [2]])).r2.isNaN)
    }

    @Test("evaluation of a softmax model reports loss and class metrics")
    func evaluation() throws {
        // A 2-2 identity-weight softmax model predicts the larger input.
        let configuration = try ModelConfiguration(layerSizes: [2, 2], activations: [.softmax], loss: .softmaxCrossEntropy)
        let model = try Model(configuration: configuration, normalizer: .none, parameters: [1, 0, 0, 1, 0, 0])
        let data = try Dataset(inputs: Matrix([[2, 0], [0, 2], [1, 0]]), classLabels: [0, 1, 1], classCount: 2)
        let evaluation = try model.evaluate(data)
        let expectedLoss = (2 * Double(logf1p(expf(-2))) + Double(logf1p(expf(1)))) / 3
        #expect(abs(evaluation.loss - expectedLoss) < 1e-6)
        #expect(evaluation.classification?.confusion == [[1, 0], [1, 1]])
        #expect(evaluation.regression == nil)
    }
}

private func expf(_ x: Float) -> Float { ModelKit.exponential(x) }
private func logf1p(_ x: Float) -> Float { ModelKit.logarithm1p(x) }
