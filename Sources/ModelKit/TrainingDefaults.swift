/// The settings a training request leaves out, chosen from the size of its data, each with the
/// reason it was chosen (so a user sees what they got, and why).
///
/// The budget is counted in optimizer steps, not epochs: a few hundred rows at batch 32 for a
/// fixed 100 epochs is a few hundred steps, far from converged, while the same epochs on a
/// large set cost far more than they need. Small sets train full batch with a larger learning
/// rate and stop on the training loss; mid-sized ones, which overfit soonest, hold out a
/// validation split and stop on it; large ones train on every row with a smaller rate and stop
/// on the training loss, as scikit-learn's defaults do.
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
    /// Constant for full batch; for mini-batches a cosine anneal to `annealFloor` of the rate
    /// over the epochs (see `annealed`).
    public var schedule: LearningRateSchedule
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
    /// Rows from which no split is held out again: with thousands of rows (and the l2 penalty)
    /// the training loss tracks the test loss closely, while a held-out tenth is data the model
    /// never sees. On `make_regression` (7,500 training rows) the split alone cost R² 0.0002.
    public static let largeRowThreshold = 1_000
    /// Training rows up to which a step sees every row (full batch).
    public static let fullBatchRows = 512
    /// Mini-batch size above `fullBatchRows`.
    public static let miniBatchSize = 128
    /// Optimizer steps a default run may take (at least `minimumEpochs` epochs).
    public static let stepBudget = 3_000
    /// Passes over the data a default run may take however few steps that is: scikit-learn's
    /// 200. The mini-batch anneal needs room: on `make_regression` 10k the best epoch is the last.
    public static let minimumEpochs = 200
    /// Steps without improvement that end a run (at least `minimumPatience` epochs).
    public static let patienceSteps = 100
    /// Epochs without improvement that end a run however many steps they hold.
    public static let minimumPatience = 10
    /// Where the mini-batch anneal ends, as a fraction of the base rate. A constant Adam step
    /// on noisy mini-batches hovers around the minimum: on `make_regression` 10k it stalled at
    /// R² 0.9958-0.9962 whatever the rate, l2, batch or patience; annealed from 0.003 to 1%
    /// it reaches 0.9963, and accuracy on `make_classification` 20k rises 0.958 -> 0.962.
    public static let annealFloor: Float = 0.01

    /// The default mini-batch schedule for a run of `epochs` epochs at `learningRate`.
    public static func annealed(epochs: Int, learningRate: Float) -> LearningRateSchedule {
        .cosine(epochs: max(1, epochs), minimum: learningRate * annealFloor)
    }

    /// Smallest improvement of the monitored cross-entropy that counts, in nats.
    public static let minDelta: Float = 1e-4
    /// The same for regression: 0, any improvement counts and the patience alone ends a run.
    /// The standardized loss falls toward 1 - R², so near a good fit (R² 0.996, a loss of
    /// 0.004) an absolute 1e-4 is 2.5% of it and stopped `make_regression` 10k at R² 0.9958.
    public static let regressionMinDelta: Float = 0

    /// Chooses the defaults for `rows` rows of `features` features and `outputs` outputs.
    /// `batchSize` and `validationFraction` are the request's own when it gave them: the
    /// epochs and the patience follow from what is really used.
    public static func choose(
        rows: Int, features: Int, outputs: Int, task: ModelConfiguration.Task = .classification, batchSize given: Int? = nil,
        validationFraction givenSplit: Double? = nil, maximumEpochRows: Int = .max
    ) -> TrainingDefaults {
        var reasons: [String: String] = [:]
        let width = hiddenWidth(features: features, outputs: outputs, reasons: &reasons)
        let split = givenSplit ?? validationSplit(rows: rows, reasons: &reasons)
        // A given split is validated later (a 400 outside 0..<1): clamped here, where it only
        // sizes the budget, so that no value a request sends can trap the conversion below.
        let budgetSplit = split.isFinite ? min(max(split, 0), 1) : 0
        let trainingRows = max(1, rows - Int((Double(rows) * budgetSplit).rounded()))
        let batch = given ?? batchSize(trainingRows: trainingRows, reasons: &reasons)
        let fullBatch = batch >= trainingRows
        let learningRate: Float = fullBatch ? 0.01 : 0.003
        reasons["learning_rate"] = fullBatch
            ? "Adam 0.01: full-batch steps are exact gradients and take a larger step"
            : "Adam 0.003, annealed (cosine) to \(learningRate * annealFloor) over the epochs: mini-batches of \(batch) are noisy, and a shrinking step settles into the minimum"

        let l2: Float = rows < validationRowThreshold ? 0.001 : (rows < largeRowThreshold ? 0.003 : 0.001)
        reasons["l2"] = rows >= validationRowThreshold && rows < largeRowThreshold
            ? "0.003: \(rows) rows, a small noisy set overfits soonest"
            : "0.001: a light penalty on the weights"

        let budget = epochBudget(rows: rows, trainingRows: trainingRows, batch: batch, maximumEpochRows: maximumEpochRows, reasons: &reasons)
        let stopping = earlyStopping(
            batchesPerEpoch: budget.batchesPerEpoch, monitorsValidation: split > 0, task: task, reasons: &reasons)
        return TrainingDefaults(
            hiddenWidth: width, validationFraction: split, batchSize: batch, learningRate: learningRate,
            schedule: fullBatch ? .constant : annealed(epochs: budget.epochs, learningRate: learningRate), l2: l2,
            steps: budget.steps, epochs: budget.epochs, earlyStopping: stopping, reasons: reasons)
    }

    /// The next power of two at least twice inputs + outputs, within 64...256.
    private static func hiddenWidth(features: Int, outputs: Int, reasons: inout [String: String]) -> Int {
        var width = 64
        while width < 2 * (features + outputs), width < 256 { width *= 2 }
        reasons["layers"] = "one hidden layer of \(width): the next power of two at least twice inputs + outputs (\(features) + \(outputs)), within 64...256"
        return width
    }

    /// The validation split by size: none for small and large sets, a fifth in between.
    private static func validationSplit(rows: Int, reasons: inout [String: String]) -> Double {
        if rows >= largeRowThreshold {
            reasons["validation_split"] = "0: \(rows) rows >= \(largeRowThreshold); every row trains and early stopping watches the training loss, which tracks the test loss at this size"
            return 0
        } else if rows >= validationRowThreshold {
            reasons["validation_split"] = "0.2: \(rows) rows in \(validationRowThreshold)...\(largeRowThreshold - 1), so a fifth is held out to stop on and evaluate"
            return 0.2
        }
        reasons["validation_split"] = "0: \(rows) rows < \(validationRowThreshold); every row trains and early stopping watches the training loss"
        return 0
    }

    /// Full batch up to `fullBatchRows` training rows, `miniBatchSize` above.
    private static func batchSize(trainingRows: Int, reasons: inout [String: String]) -> Int {
        if trainingRows <= fullBatchRows {
            reasons["batch_size"] = "\(trainingRows) (full batch): \(trainingRows) training rows <= \(fullBatchRows)"
            return trainingRows
        }
        reasons["batch_size"] = "\(miniBatchSize): \(trainingRows) training rows > \(fullBatchRows)"
        return miniBatchSize
    }

    /// The epochs (and steps) of the step budget at `batch` rows a step, cut to what
    /// `maximumEpochRows` allows.
    private static func epochBudget(
        rows: Int, trainingRows: Int, batch: Int, maximumEpochRows: Int, reasons: inout [String: String]
    ) -> (epochs: Int, steps: Int, batchesPerEpoch: Int) {
        // A given batch is validated later (a 400 for 0 or less): the budget is only computed
        // here, so it must not trap on what a request sent (a fuzzer found batch_size 0).
        let effectiveBatch = min(max(batch, 1), trainingRows)
        let batchesPerEpoch = (trainingRows + effectiveBatch - 1) / effectiveBatch
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
        return (epochs, steps, batchesPerEpoch)
    }

    /// Patience of about `patienceSteps` steps (at least `minimumPatience` epochs) on the
    /// validation or the training loss; the best epoch's weights are kept.
    private static func earlyStopping(
        batchesPerEpoch: Int, monitorsValidation: Bool, task: ModelConfiguration.Task, reasons: inout [String: String]
    ) -> EarlyStopping {
        let patience = max(minimumPatience, (patienceSteps + batchesPerEpoch - 1) / batchesPerEpoch)
        let monitored = monitorsValidation ? "validation loss" : "training loss"
        let delta = task == .regression ? regressionMinDelta : minDelta
        let deltaReason = task == .regression
            ? "min_delta 0 (any improvement counts: the standardized loss shrinks toward 1 - R², where a fixed step is coarse)"
            : "min_delta \(minDelta)"
        reasons["early_stopping"] = "patience \(patience) epochs (about \(patienceSteps) steps), \(deltaReason) on the \(monitored); the best epoch's weights are kept"
        return EarlyStopping(patience: patience, minDelta: delta, restoreBestWeights: true)
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
