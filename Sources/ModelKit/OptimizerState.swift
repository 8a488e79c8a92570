/// The optimizer's memory between steps, exported so training can resume exactly.
///
/// The moment arrays use the model's flat parameter layout (`ParameterLayout`). A checkpoint
/// stores this value next to the model; `Trainer(model:configuration:optimizerState:)` takes it
/// back and continues as if training had never stopped.
public struct OptimizerState: Sendable, Equatable, Codable {
    /// The update rule that produced this state.
    public var kind: OptimizerConfiguration.Kind
    /// Update steps taken so far (drives Adam's bias correction).
    public var step: Int
    /// Epochs completed so far (drives the learning-rate schedule).
    public var epoch: Int
    /// Adam's first moment or sgd's velocity; empty when the rule keeps none.
    public var firstMoment: [Float]
    /// Adam's second moment; empty when the rule keeps none.
    public var secondMoment: [Float]

    /// Wraps stored state; `Trainer` checks it against the model and optimizer.
    public init(kind: OptimizerConfiguration.Kind, step: Int, epoch: Int, firstMoment: [Float], secondMoment: [Float]) {
        self.kind = kind
        self.step = step
        self.epoch = epoch
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
    }

    /// Throws when this state cannot continue `optimizer` on a model of `parameterCount` values.
    ///
    /// Adam and AdamW share their moments, so either may continue the other; sgd may not.
    public func validate(for optimizer: OptimizerConfiguration, parameterCount: Int) throws(TrainingError) {
        let sameFamily = (kind == .sgd) == (optimizer.kind == .sgd)
        guard sameFamily else {
            throw .optimizerStateMismatch(reason: "state of \(kind.rawValue) cannot continue \(optimizer.kind.rawValue)")
        }
        guard step >= 0, epoch >= 0 else {
            throw .optimizerStateMismatch(reason: "negative step \(step) or epoch \(epoch)")
        }
        for (name, moment, used) in [("first", firstMoment, optimizer.usesFirstMoment), ("second", secondMoment, optimizer.usesSecondMoment)] {
            guard moment.isEmpty || moment.count == parameterCount else {
                throw .optimizerStateMismatch(reason: "\(name) moment has \(moment.count) values, model has \(parameterCount) parameters")
            }
            guard !used || !moment.isEmpty || step == 0 else {
                throw .optimizerStateMismatch(reason: "\(name) moment missing after \(step) steps")
            }
            if let index = moment.firstIndex(where: { !$0.isFinite }) {
                throw .optimizerStateMismatch(reason: "\(name) moment value \(index) is not finite")
            }
        }
    }
}
