/// The settings a training request leaves out, chosen from the size of its data, each with the
/// reason it was chosen (so a user sees what they got, and why).
///
/// The budget is counted in optimizer steps, not epochs: a few hundred rows at batch 32 for a
/// fixed 100 epochs is a few hundred steps, far from converged, while the same epochs on a
/// large set cost far more than they need. Small sets train full batch with a larger learning
/// rate and stop on the training loss; larger ones hold out a validation split and stop on it.
/// The thresholds and values were chosen on `Benchmarks/defaults` (nine scikit-learn data sets).
/// Everything here is a pure function of its arguments, so defaults are deterministic.
public struct TrainingDefaults: Sendable, Equatable {
    /// Width of the one hidden layer.
    public var hiddenWidth: Int
    /// Fraction of the rows held out to monitor early stopping (0: the training loss is used).
    public var validationFraction: Double
    /// Rows per optimizer step.
    public var batchSize: Int
    /// Adam's step size.
    public var learningRate: Float
    /// L2 penalty on the weights: more on small sets, where a network overfits soonest.
    public var l2: Float
    /// The step budget the epochs are derived from.
    public var steps: Int
    /// Passes over the training rows: `steps` divided by the batches per epoch.
    public var epochs: Int
    /// When to stop before the budget: the monitored loss has stopped improving.
    public var earlyStopping: EarlyStopping
    /// Why each value was chosen, keyed by the request field it stands for.
    public var reasons: [String: String]

    /// Rows from which a validation split (0.2) is held out by default; below it every row
    /// trains and early stopping watches the training loss.
    public static let validationRowThreshold = 200
    /// Rows from which the split is 0.1: a tenth is enough to stop on.
    public static let largeRowThreshold = 1_000
    /// Training rows up to which a step sees every row (full batch).
    public static let fullBatchRows = 512
    /// Mini-batch size above `fullBatchRows`.
    public static let miniBatchSize = 128
    /// Optimizer steps a default run may take (at least `minimumEpochs` epochs).
    public static let stepBudget = 3_000
    /// Passes over the data a default run may take however few steps that is.
    public static let minimumEpochs = 100
    /// Steps without improvement that end a run (at least `minimumPatience` epochs).
    public static let patienceSteps = 100
    /// Epochs without improvement that end a run however many steps they hold.
    public static let minimumPatience = 10
    /// Smallest improvement of the monitored loss that counts (standardized units for
    /// regression, nats for classification).
    public static let minDelta: Float = 1e-4

    /// Chooses the defaults for `rows` rows of `features` features and `outputs` outputs.
    /// `batchSize` and `validationFraction` are the request's own when it gave them: the
    /// epochs and the patience follow from what is really used.
    public static func choose(
        rows: Int, features: Int, outputs: Int, batchSize given: Int? = nil, validationFraction givenSplit: Double? = nil,
        maximumEpochRows: Int = .max
    ) -> TrainingDefaults {
        var reasons: [String: String] = [:]
        var width = 64
        while width < 2 * (features + outputs), width < 256 { width *= 2 }
        reasons["layers"] = "one hidden layer of \(width): the next power of two at least twice inputs + outputs (\(features) + \(outputs)), within 64...256"

        let split: Double
        if let givenSplit {
            split = givenSplit
        } else if rows >= largeRowThreshold {
            split = 0.1
            reasons["validation_split"] = "0.1: \(rows) rows >= \(largeRowThreshold), so a tenth is held out to stop on and evaluate"
        } else if rows >= validationRowThreshold {
            split = 0.2
            reasons["validation_split"] = "0.2: \(rows) rows in \(validationRowThreshold)...\(largeRowThreshold - 1), so a fifth is held out to stop on and evaluate"
        } else {
            split = 0
            reasons["validation_split"] = "0: \(rows) rows < \(validationRowThreshold); every row trains and early stopping watches the training loss"
        }
        let trainingRows = max(1, rows - Int((Double(rows) * split).rounded()))

        let batch: Int
        if let given {
            batch = given
        } else if trainingRows <= fullBatchRows {
            batch = trainingRows
            reasons["batch_size"] = "\(trainingRows) (full batch): \(trainingRows) training rows <= \(fullBatchRows)"
        } else {
            batch = miniBatchSize
            reasons["batch_size"] = "\(miniBatchSize): \(trainingRows) training rows > \(fullBatchRows)"
        }
        let fullBatch = batch >= trainingRows
        let learningRate: Float = fullBatch ? 0.01 : 0.003
        reasons["learning_rate"] = fullBatch
            ? "Adam 0.01: full-batch steps are exact gradients and take a larger step"
            : "Adam 0.003: mini-batches of \(batch) are noisy, a smaller step"

        let l2: Float = rows < validationRowThreshold ? 0.001 : (rows < largeRowThreshold ? 0.003 : 0.001)
        reasons["l2"] = rows >= validationRowThreshold && rows < largeRowThreshold
            ? "0.003: \(rows) rows, a small noisy set overfits soonest"
            : "0.001: a light penalty on the weights"

        let batchesPerEpoch = (trainingRows + batch - 1) / batch
        var epochs = max(minimumEpochs, (stepBudget + batchesPerEpoch - 1) / batchesPerEpoch)
        var steps = epochs * batchesPerEpoch
        var budget = "\(steps) optimizer steps (\(stepBudget), at least \(minimumEpochs) epochs): \(epochs) epochs of \(batchesPerEpoch) batch\(batchesPerEpoch == 1 ? "" : "es")"
        let rowLimit = maximumEpochRows / max(rows, 1)
        if epochs > rowLimit {
            epochs = max(1, rowLimit)
            steps = epochs * batchesPerEpoch
            budget += ", cut to \(epochs) epochs by limits.max_epoch_rows_per_job"
        }
        reasons["epochs"] = budget + "; early stopping usually ends sooner"

        let patience = max(minimumPatience, (patienceSteps + batchesPerEpoch - 1) / batchesPerEpoch)
        let monitored = split > 0 ? "validation loss" : "training loss"
        reasons["early_stopping"] = "patience \(patience) epochs (about \(patienceSteps) steps), min_delta \(minDelta) on the \(monitored); the best epoch's weights are kept"
        return TrainingDefaults(
            hiddenWidth: width, validationFraction: split, batchSize: batch, learningRate: learningRate, l2: l2, steps: steps,
            epochs: epochs, earlyStopping: EarlyStopping(patience: patience, minDelta: minDelta, restoreBestWeights: true),
            reasons: reasons)
    }
}

extension ModelConfiguration.Task {
    /// Distinct values above which integer targets are read as regression values.
    public static let maximumInferredClasses = 32

    /// The task numeric targets imply, and why: classification when they are non-negative
    /// integers below `maximumInferredClasses` with at least two distinct values that repeat
    /// (no more distinct values than half the rows), else regression. So 150 rows of 0, 1, 2
    /// are classes, and y = x² for x = 0...5 (six distinct values in six rows) is regression.
    public static func inferred(fromNumbers values: [Float]) -> (task: Self, reason: String) {
        var distinct = Set<Float>()
        for value in values {
            guard value >= 0, value.rounded() == value, value < Float(maximumInferredClasses) else {
                return (.regression, "the targets are numbers and not all integers in 0...\(maximumInferredClasses - 1) (\(value) is not)")
            }
            distinct.insert(value)
        }
        if distinct.count < 2 {
            return (.regression, "the targets are one repeated number")
        }
        if distinct.count * 2 > values.count {
            return (.regression, "the targets are \(distinct.count) distinct integers in \(values.count) rows: too few repeats to be classes")
        }
        return (.classification, "the targets are integers with \(distinct.count) distinct values repeating over \(values.count) rows: class indices")
    }
}
