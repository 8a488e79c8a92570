import AxonAPI
import Checkpoint
import ModelKit

// Metrics views (AxonAPI) from ModelKit's figures, leaving out every value that is not finite.
// Here because a job's record carries one; the routes build them too.

extension MetricsView {
    /// The stored figures of a training run.
    public init(_ metrics: ModelMetrics, classes: [String]) {
        self.init()
        loss = finite(metrics.evaluationLoss)
        trainLoss = finite(metrics.trainLoss)
        validationLoss = finite(metrics.validationLoss)
        epochs = metrics.epochs
        stopReason = metrics.stopReason?.rawValue
        samplesPerSecond = finite(metrics.samplesPerSecond)
        trainingSeconds = finite(metrics.trainingSeconds)
        add(classification: metrics.classification, regression: metrics.regression, classes: classes)
    }

    /// An evaluation on `rows` labelled rows.
    public init(_ evaluation: Evaluation, rows: Int, classes: [String]) {
        self.init()
        loss = finite(evaluation.loss)
        self.rows = rows
        add(classification: evaluation.classification, regression: evaluation.regression, classes: classes)
    }

    private mutating func add(classification: ClassificationMetrics?, regression: RegressionMetrics?, classes: [String]) {
        if let c = classification {
            accuracy = finite(c.accuracy)
            precision = c.precision.map { $0.isFinite ? $0 : 0 }
            recall = c.recall.map { $0.isFinite ? $0 : 0 }
            f1 = c.f1.map { $0.isFinite ? $0 : 0 }
            macroPrecision = finite(c.macroPrecision)
            macroRecall = finite(c.macroRecall)
            macroF1 = finite(c.macroF1)
            confusionMatrix = c.confusion
            self.classes = classes.isEmpty ? (0 ..< c.confusion.count).map(String.init) : classes
        }
        if let r = regression {
            mse = finite(r.meanSquaredError)
            rmse = finite(r.rootMeanSquaredError)
            mae = finite(r.meanAbsoluteError)
            r2 = finite(r.r2)
        }
    }
}

/// The value when finite, else nil (left out of the JSON).
public func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
