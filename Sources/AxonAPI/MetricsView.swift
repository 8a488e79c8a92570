/// Metrics as the API writes them: snake_case keys, and no NaN or Infinity anywhere (a value
/// that is not finite, such as r2 on constant targets, is left out).
public struct MetricsView: Codable, Sendable, Equatable {
    /// Loss on the rows the figures are computed on (validation split, or the training rows).
    public var loss: Double?
    /// Mean training loss of the last epoch.
    public var trainLoss: Double?
    /// Validation loss of the last epoch, when there is a validation split.
    public var validationLoss: Double?
    /// Epochs trained.
    public var epochs: Int?
    /// Why training stopped: `completed`, `early_stopped` or `cancelled`.
    public var stopReason: String?
    /// Training throughput in rows per second.
    public var samplesPerSecond: Double?
    /// Wall-clock seconds of training.
    public var trainingSeconds: Double?
    /// Rows an evaluation was computed on.
    public var rows: Int?
    /// Fraction of rows whose class is right (classifiers).
    public var accuracy: Double?
    /// Per-class precision, in class order.
    public var precision: [Double]?
    /// Per-class recall, in class order.
    public var recall: [Double]?
    /// Per-class F1, in class order.
    public var f1: [Double]?
    /// Unweighted mean of the per-class precision.
    public var macroPrecision: Double?
    /// Unweighted mean of the per-class recall.
    public var macroRecall: Double?
    /// Unweighted mean of the per-class F1.
    public var macroF1: Double?
    /// Counts, row = true class, column = predicted class.
    public var confusionMatrix: [[Int]]?
    /// Class names, in output order.
    public var classes: [String]?
    /// Mean squared error (regressors, in target units).
    public var mse: Double?
    /// Root mean squared error.
    public var rmse: Double?
    /// Mean absolute error.
    public var mae: Double?
    /// Coefficient of determination (left out on constant targets).
    public var r2: Double?

    enum CodingKeys: String, CodingKey {
        case loss, epochs, rows, accuracy, precision, recall, f1, classes, mse, rmse, mae, r2
        case trainLoss = "train_loss", validationLoss = "validation_loss", stopReason = "stop_reason"
        case samplesPerSecond = "samples_per_second", trainingSeconds = "training_seconds"
        case macroPrecision = "macro_precision", macroRecall = "macro_recall", macroF1 = "macro_f1"
        case confusionMatrix = "confusion_matrix"
    }

    /// The same figures without the ones that grow with the classes (per-class arrays, the
    /// confusion matrix and the class names).
    public var withoutPerClassDetail: MetricsView {
        var view = self
        view.precision = nil
        view.recall = nil
        view.f1 = nil
        view.confusionMatrix = nil
        view.classes = nil
        return view
    }

    /// No figures; the server fills in those its source has.
    public init() {}
}
