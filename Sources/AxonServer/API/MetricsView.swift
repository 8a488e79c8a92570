import Checkpoint
import ModelKit

/// Metrics as the API writes them: snake_case keys, and no NaN or Infinity anywhere (a value
/// that is not finite, such as r2 on constant targets, is left out).
struct MetricsView: Codable, Sendable, Equatable {
    var loss: Double?
    var trainLoss: Double?
    var validationLoss: Double?
    var epochs: Int?
    var stopReason: String?
    var samplesPerSecond: Double?
    var trainingSeconds: Double?
    var rows: Int?
    var accuracy: Double?
    var precision: [Double]?
    var recall: [Double]?
    var f1: [Double]?
    var macroPrecision: Double?
    var macroRecall: Double?
    var macroF1: Double?
    var confusionMatrix: [[Int]]?
    var classes: [String]?
    var mse: Double?
    var rmse: Double?
    var mae: Double?
    var r2: Double?

    enum CodingKeys: String, CodingKey {
        case loss, epochs, rows, accuracy, precision, recall, f1, classes, mse, rmse, mae, r2
        case trainLoss = "train_loss", validationLoss = "validation_loss", stopReason = "stop_reason"
        case samplesPerSecond = "samples_per_second", trainingSeconds = "training_seconds"
        case macroPrecision = "macro_precision", macroRecall = "macro_recall", macroF1 = "macro_f1"
        case confusionMatrix = "confusion_matrix"
    }

    /// The same figures without the ones that grow with the classes (per-class arrays, the
    /// confusion matrix and the class names).
    var withoutPerClassDetail: MetricsView {
        var view = self
        view.precision = nil
        view.recall = nil
        view.f1 = nil
        view.confusionMatrix = nil
        view.classes = nil
        return view
    }

    /// The stored figures of a training run.
    init(_ metrics: ModelMetrics, classes: [String]) {
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
    init(_ evaluation: Evaluation, rows: Int, classes: [String]) {
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
func finite(_ value: Double?) -> Double? {
    guard let value, value.isFinite else { return nil }
    return value
}
