/// Why a model could not be built or rebuilt from stored parts.
public enum ModelError: Error, Equatable, Sendable {
    /// A network needs an input size and at least one layer.
    case tooFewLayers(layerSizes: [Int])
    /// A layer size is zero, negative, or above `ModelConfiguration.maximumLayerSize`.
    case invalidLayerSize(layer: Int, size: Int)
    /// The network has more dense layers than `ModelConfiguration.maximumLayerCount`.
    case tooManyLayers(count: Int, maximum: Int)
    /// The network would have more parameters than `ModelConfiguration.maximumParameterCount`.
    case tooManyParameters(count: Int, maximum: Int)
    /// The activation list does not have one entry per dense layer.
    case activationCountMismatch(expected: Int, got: Int)
    /// A hidden layer uses an output-only activation (identity, softmax).
    case invalidHiddenActivation(layer: Int, activation: Activation)
    /// The output layer uses a hidden-only activation (relu, leakyReLU, tanh).
    case invalidOutputActivation(Activation)
    /// The loss cannot be paired with the output activation.
    case incompatibleLoss(loss: Loss, outputActivation: Activation)
    /// Softmax needs at least two outputs.
    case softmaxNeedsTwoOutputs(outputs: Int)
    /// A loss or activation parameter is out of range (e.g. huber delta, leaky slope).
    case invalidParameter(name: String, value: Float)
    /// Class labels were given but their count does not match the outputs.
    case classLabelCountMismatch(expected: Int, got: Int)
    /// A stored weight or bias array has the wrong length.
    case parameterCountMismatch(layer: Int, part: String, expected: Int, got: Int)
    /// The flat parameter array has the wrong length.
    case flatParameterCountMismatch(expected: Int, got: Int)
    /// A stored parameter is NaN or infinite.
    case nonFiniteParameter(index: Int)
    /// The normalizer was fitted on a different number of features than the model takes.
    case normalizerFeatureMismatch(expected: Int, got: Int)
    /// The two statistic arrays of a normalizer differ in length or are empty.
    case normalizerShapeMismatch(firstCount: Int, secondCount: Int)
    /// Target standardization was given for a classifier or a model whose outputs are not
    /// identity: only raw regression outputs can be mapped back to the targets' units.
    case targetStandardizerNeedsRegression
    /// The target standardizer has a different number of statistics than the model has outputs.
    case targetStandardizerOutputMismatch(expected: Int, got: Int)
}
