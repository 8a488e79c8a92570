/// Trains a network: owns a mutable copy of the parameters, their gradients, the optimizer
/// moments and every per-batch workspace, all allocated once in `init`.
///
/// A training step reads like a recipe (`step(rows:)`): gather the batch, forward, loss,
/// backward, regularize, update. Nothing in it allocates. The trainer is a plain class, not
/// `Sendable` and not an actor: create it where the training runs, poll a cancellation
/// closure between steps, and hand out immutable `Model` snapshots to other threads.
///
/// Warm start: `Trainer(model: snapshot, configuration: ..., optimizerState: saved)` continues
/// from existing weights and optimizer state; calling `fit` again continues as well.
///
/// With `configuration.threads` above 1 each step is data-parallel (`Trainer+Parallel.swift`):
/// the batch is split among a team of threads the trainer owns, and their gradients are summed
/// in a fixed order, so a seed still gives the same weights for the same thread count.
public final class Trainer {
    /// The settings of every `fit` call on this trainer.
    public let configuration: TrainingConfiguration
    /// Shape and objective of the network being trained.
    public let modelConfiguration: ModelConfiguration
    /// The input normalizer (fitted on the first training split when requested).
    public private(set) var normalizer: Normalizer
    /// The regression targets' standardization (fitted on the first training split when
    /// `normalizeTargets` asks for it; kept from the model when continuing).
    public private(set) var targetStandardizer: Standardizer?

    /// Epochs the report's history keeps at most (evenly spaced, the last always): see
    /// `DecimatedHistory`.
    public var historyCapacity = 1_000

    /// Largest `batchSize x widest layer` accepted: each per-layer workspace holds that many floats.
    public static let maximumWorkspace = 1 << 26

    /// Most threads one trainer runs (`TrainingConfiguration.threads`).
    public static let maximumThreads = 256

    /// Floating-point operations of a step below which another thread is not worth starting:
    /// a hand-off costs microseconds when the threads spin and tens of them when one has to be
    /// woken, about as long as a share of this size takes to compute (~15 µs at 70 GFLOP/s).
    public static let minimumFlopsPerThread = 1 << 20

    let layout: ParameterLayout
    let batchCapacity: Int
    let parameterCount: Int
    let parameters: UnsafeMutablePointer<Float>
    let gradients: UnsafeMutablePointer<Float>
    let firstMoment: UnsafeMutablePointer<Float>
    let secondMoment: UnsafeMutablePointer<Float>
    /// Weights of the best epoch so far, for early stopping's restore.
    let bestParameters: UnsafeMutablePointer<Float>?
    /// Per layer, `batchCapacity x outputs`: activations (logits for the last layer), the
    /// gradient with respect to the pre-activation, and with dropout the mask and the masked
    /// activations that feed the next layer.
    let activations: [UnsafeMutablePointer<Float>]
    let deltas: [UnsafeMutablePointer<Float>]
    let masks: [UnsafeMutablePointer<Float>]
    let dropped: [UnsafeMutablePointer<Float>]
    let inputBatch: UnsafeMutablePointer<Float>
    let targetBatch: UnsafeMutablePointer<Float>
    /// The threads of a data-parallel step (nil: every step runs on the calling thread).
    let team: WorkerTeam?
    /// Per worker, where it accumulates its share of the gradient: `gradients` for worker 0,
    /// a buffer of its own for each other.
    let workerGradients: [UnsafeMutablePointer<Float>]
    /// Per worker, the summed loss of its rows, and the squared norm of its parameter range.
    let workerLosses: UnsafeMutablePointer<Double>
    let workerSquares: UnsafeMutablePointer<Float>
    /// What the calling thread tells the workers of the current step.
    let parallelArguments: UnsafeMutablePointer<ParallelStepArguments>
    var generator: RandomGenerator
    var stepCount: Int
    var epochCount: Int
    var hasFirstMoment: Bool
    var hasSecondMoment: Bool

    /// Prepares training of `model`, optionally continuing from saved optimizer state.
    public convenience init(model: Model, configuration: TrainingConfiguration, optimizerState: OptimizerState? = nil) throws(TrainingError) {
        try self.init(model: model, configuration: configuration, optimizerState: optimizerState,
                      minimumFlopsPerThread: Self.minimumFlopsPerThread)
    }

    /// The trainer with another work threshold per thread (tests run the parallel step on
    /// networks small enough to train quickly in a debug build).
    init(
        model: Model, configuration: TrainingConfiguration, optimizerState: OptimizerState?, minimumFlopsPerThread: Int
    ) throws(TrainingError) {
        try Self.validate(configuration, for: model, optimizerState: optimizerState)
        let workers = model.configuration.trainingThreads(for: configuration, minimumFlopsPerThread: minimumFlopsPerThread)
        team = workers > 1 ? try WorkerTeam(workers: workers) : nil
        self.configuration = configuration
        self.modelConfiguration = model.configuration
        self.normalizer = model.normalizer
        self.targetStandardizer = model.targetStandardizer
        self.layout = model.layout
        self.parameterCount = model.parameterCount
        self.batchCapacity = configuration.batchSize

        let count = model.parameterCount
        let parameters = Self.zeroed(count)
        model.parameters.withUnsafeBufferPointer { parameters.update(from: $0.baseAddress!, count: count) }
        self.parameters = parameters
        gradients = Self.zeroed(count)
        firstMoment = Self.zeroed(count)
        secondMoment = Self.zeroed(count)
        bestParameters = configuration.earlyStopping?.restoreBestWeights == true ? Self.zeroed(count) : nil
        let batchCapacity = configuration.batchSize
        let widths = model.layout.layers.map { batchCapacity * $0.outputs }
        activations = widths.map(Self.zeroed)
        deltas = widths.map(Self.zeroed)
        let hiddenWidths = configuration.regularization.dropout > 0 ? widths.dropLast() : []
        masks = hiddenWidths.map(Self.zeroed)
        dropped = hiddenWidths.map(Self.zeroed)
        inputBatch = Self.zeroed(batchCapacity * model.configuration.inputCount)
        targetBatch = Self.zeroed(batchCapacity * model.configuration.outputCount)
        workerGradients = [gradients] + (1 ..< workers).map { _ in Self.zeroed(count) }
        workerLosses = .allocate(capacity: workers)
        workerLosses.initialize(repeating: 0, count: workers)
        workerSquares = .allocate(capacity: workers)
        workerSquares.initialize(repeating: 0, count: workers)
        parallelArguments = .allocate(capacity: 1)
        parallelArguments.initialize(to: ParallelStepArguments(rows: 0, rule: UpdateRule(kind: configuration.optimizer.kind, learningRate: 0)))

        stepCount = optimizerState?.step ?? 0
        epochCount = optimizerState?.epoch ?? 0
        hasFirstMoment = false
        hasSecondMoment = false
        // Mixing in the epoch keeps a warm start from replaying the first run's shuffles.
        generator = RandomGenerator(seed: configuration.seed &+ UInt64(optimizerState?.epoch ?? 0) &* 0x9E37_79B9_7F4A_7C15)
        if let optimizerState { restoreMoments(optimizerState) }
    }

    /// Refuses a configuration this model cannot train with: a workspace (batch x widest
    /// layer) over `maximumWorkspace`, or optimizer state that does not fit.
    private static func validate(
        _ configuration: TrainingConfiguration, for model: Model, optimizerState: OptimizerState?
    ) throws(TrainingError) {
        try configuration.validate()
        let workspace = configuration.batchSize.multipliedReportingOverflow(by: model.layout.maxWidth)
        guard !workspace.overflow, workspace.partialValue <= Self.maximumWorkspace else {
            throw .invalidHyperparameter(
                name: "batch_size", value: Double(configuration.batchSize),
                allowed: "batch_size x widest layer <= \(Self.maximumWorkspace)")
        }
        if let optimizerState {
            try optimizerState.validate(for: configuration.optimizer, parameterCount: model.parameterCount)
        }
    }

    /// `count` floats (at least one), zeroed.
    private static func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        let pointer = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        pointer.initialize(repeating: 0, count: max(count, 1))
        return pointer
    }

    /// Copies the saved optimizer moments in, so a warm start continues where it stopped.
    private func restoreMoments(_ state: OptimizerState) {
        if !state.firstMoment.isEmpty {
            state.firstMoment.withUnsafeBufferPointer { firstMoment.update(from: $0.baseAddress!, count: parameterCount) }
            hasFirstMoment = true
        }
        if !state.secondMoment.isEmpty {
            state.secondMoment.withUnsafeBufferPointer { secondMoment.update(from: $0.baseAddress!, count: parameterCount) }
            hasSecondMoment = true
        }
    }

    deinit {
        for pointer in [parameters, gradients, firstMoment, secondMoment, inputBatch, targetBatch]
            + activations + deltas + masks + dropped + workerGradients.dropFirst() {
            pointer.deallocate()
        }
        bestParameters?.deallocate()
        workerLosses.deallocate()
        workerSquares.deallocate()
        parallelArguments.deallocate()
    }

    /// Threads each step runs on (`ModelConfiguration.trainingThreads(for:)`).
    public var threads: Int { team?.count ?? 1 }

    /// An immutable snapshot of the current weights and normalizer, safe to share.
    public var model: Model {
        Model(unchecked: modelConfiguration, normalizer: normalizer,
              parameters: Array(UnsafeBufferPointer(start: parameters, count: parameterCount)),
              targetStandardizer: targetStandardizer)
    }

    /// The optimizer's state, for checkpoints and warm starts.
    public var optimizerState: OptimizerState {
        let optimizer = configuration.optimizer
        let first = optimizer.usesFirstMoment && (hasFirstMoment || stepCount > 0)
        let second = optimizer.usesSecondMoment && (hasSecondMoment || stepCount > 0)
        return OptimizerState(
            kind: optimizer.kind, step: stepCount, epoch: epochCount,
            firstMoment: first ? Array(UnsafeBufferPointer(start: firstMoment, count: parameterCount)) : [],
            secondMoment: second ? Array(UnsafeBufferPointer(start: secondMoment, count: parameterCount)) : [])
    }

    /// Trains for `configuration.epochs` epochs (fewer on early stop or cancellation).
    ///
    /// - Parameters:
    ///   - training: the training rows, in raw (unnormalized) units. With a target
    ///     standardizer the losses in the report are in standardized target units (an MSE of 1
    ///     is what predicting the mean scores); `Model.evaluate` reports the targets' own.
    ///   - validation: rows for the per-epoch validation loss; when nil and
    ///     `validationFraction > 0`, that fraction of `training` is split off with the seed.
    ///   - shouldCancel: polled between steps; returning true ends the loop with the weights of
    ///     the last completed step (the report says `.cancelled`).
    ///   - progress: called after every epoch.
    public func fit(
        _ training: Dataset, validation: Dataset? = nil,
        shouldCancel: () -> Bool = { false },
        progress: (EpochProgress) -> Void = { _ in }
    ) throws -> TrainingReport {
        try check(training)
        if let validation { try check(validation) }
        var trainingSet = training
        var validationSet = validation
        if validationSet == nil, configuration.validationFraction > 0 {
            (trainingSet, validationSet) = try training.split(validationFraction: configuration.validationFraction, seed: configuration.seed)
        }
        if normalizer == .none, configuration.normalization != .none, stepCount == 0 {
            normalizer = Normalizer.fit(configuration.normalization, on: trainingSet.inputs)
        }
        if targetStandardizer == nil, configuration.normalizeTargets == true, stepCount == 0,
           modelConfiguration.task == .regression, modelConfiguration.outputActivation == .identity {
            targetStandardizer = Standardizer(fittedOn: trainingSet.targets)
        }
        let targetScaling = targetStandardizer.map(Normalizer.standard) ?? .none
        let trainInputs = normalizer.transform(trainingSet.inputs)
        let validationInputs = validationSet.map { normalizer.transform($0.inputs) }
        return try runEpochs(
            inputs: trainInputs, targets: targetScaling.transform(trainingSet.targets),
            validationInputs: validationInputs, validationTargets: validationSet.map { targetScaling.transform($0.targets) },
            shouldCancel: shouldCancel, progress: progress)
    }

    /// Rejects data whose shape or values do not fit the model.
    func check(_ dataset: Dataset) throws(DataError) {
        guard dataset.featureCount == modelConfiguration.inputCount else {
            throw .featureCountMismatch(expected: modelConfiguration.inputCount, got: dataset.featureCount)
        }
        guard dataset.targets.columns == modelConfiguration.outputCount else {
            throw .targetCountMismatch(expected: modelConfiguration.outputCount, got: dataset.targets.columns)
        }
        if modelConfiguration.loss == .binaryCrossEntropy || modelConfiguration.loss == .softmaxCrossEntropy {
            let bad: Int? = dataset.targets.withUnsafeBufferPointer { $0.firstIndex { $0 < 0 || $0 > 1 } }
            if let index = bad {
                let columns = dataset.targets.columns
                throw .targetOutsideUnitInterval(row: index / columns, column: index % columns, value: dataset.targets.values[index])
            }
        }
    }
}
