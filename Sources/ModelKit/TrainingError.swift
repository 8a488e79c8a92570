/// Why training could not start or continue.
public enum TrainingError: Error, Equatable, Sendable {
    /// A training or optimizer setting is out of range.
    case invalidHyperparameter(name: String, value: Double, allowed: String)
    /// Imported optimizer state does not fit this model or optimizer.
    case optimizerStateMismatch(reason: String)
    /// The loss became NaN or infinite (learning rate too high, or unscaled inputs).
    case diverged(epoch: Int, step: Int)
    /// The threads of a data-parallel step could not be started (`reason` is the system's).
    case threadsUnavailable(requested: Int, reason: String)
}
