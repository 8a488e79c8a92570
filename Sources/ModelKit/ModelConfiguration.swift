/// Everything that defines a network's shape and objective, without its numbers.
///
/// Together with a `Normalizer` and the flat parameters, this is enough to rebuild a model
/// exactly (see `Model.init(configuration:normalizer:parameters:)`); it is `Codable` so a
/// checkpoint can store it as metadata.
public struct ModelConfiguration: Sendable, Equatable, Codable {
    /// Input width followed by the width of every dense layer, e.g. `[64, 128, 64, 10]`.
    public let layerSizes: [Int]
    /// One activation per dense layer (`layerSizes.count - 1`), the last for the output.
    public let activations: [Activation]
    /// The training objective.
    public let loss: Loss
    /// Negative-side slope of `leakyReLU`.
    public let leakyReLUSlope: Float
    /// Names of the classes, in output order (empty for regression or when unnamed).
    public let classLabels: [String]

    /// The kind of problem the model solves, derived from the loss.
    public enum Task: String, Sendable, Equatable, Codable {
        /// Continuous targets.
        case regression
        /// Class targets (softmax or sigmoid outputs).
        case classification
    }

    /// Validates and creates a configuration with explicit per-layer activations.
    public init(
        layerSizes: [Int], activations: [Activation], loss: Loss,
        leakyReLUSlope: Float = 0.01, classLabels: [String] = []
    ) throws(ModelError) {
        guard layerSizes.count >= 2 else { throw .tooFewLayers(layerSizes: layerSizes) }
        for (layer, size) in layerSizes.enumerated() where size <= 0 || size > Self.maximumLayerSize {
            throw .invalidLayerSize(layer: layer, size: size)
        }
        // Checked before anything is allocated: sizes come from requests and checkpoints. With
        // at most 1024 layers of at most 2^20 units the sum cannot overflow.
        guard layerSizes.count <= Self.maximumLayerCount + 1 else {
            throw .tooManyLayers(count: layerSizes.count - 1, maximum: Self.maximumLayerCount)
        }
        var count = 0
        for index in 0 ..< layerSizes.count - 1 {
            count += layerSizes[index] * layerSizes[index + 1] + layerSizes[index + 1]
        }
        guard count <= Self.maximumParameterCount else {
            throw .tooManyParameters(count: count, maximum: Self.maximumParameterCount)
        }
        guard activations.count == layerSizes.count - 1 else {
            throw .activationCountMismatch(expected: layerSizes.count - 1, got: activations.count)
        }
        for (layer, activation) in activations.dropLast().enumerated() where !Activation.hidden.contains(activation) {
            throw .invalidHiddenActivation(layer: layer, activation: activation)
        }
        let output = activations[activations.count - 1]
        guard Activation.output.contains(output) else { throw .invalidOutputActivation(output) }
        guard loss.compatibleOutputs.contains(output) else {
            throw .incompatibleLoss(loss: loss, outputActivation: output)
        }
        let outputs = layerSizes[layerSizes.count - 1]
        if output == .softmax, outputs < 2 { throw .softmaxNeedsTwoOutputs(outputs: outputs) }
        if case .huber(let delta) = loss, !(delta > 0 && delta.isFinite) {
            throw .invalidParameter(name: "huber.delta", value: delta)
        }
        guard leakyReLUSlope >= 0, leakyReLUSlope < 1 else {
            throw .invalidParameter(name: "leakyReLUSlope", value: leakyReLUSlope)
        }
        guard classLabels.isEmpty || classLabels.count == outputs || (outputs == 1 && classLabels.count == 2) else {
            throw .classLabelCountMismatch(expected: outputs == 1 ? 2 : outputs, got: classLabels.count)
        }
        self.layerSizes = layerSizes
        self.activations = activations
        self.loss = loss
        self.leakyReLUSlope = leakyReLUSlope
        self.classLabels = classLabels
    }

    /// Creates a configuration with one activation for every hidden layer.
    public init(
        layerSizes: [Int], hiddenActivation: Activation = .relu, outputActivation: Activation,
        loss: Loss, leakyReLUSlope: Float = 0.01, classLabels: [String] = []
    ) throws(ModelError) {
        try self.init(
            layerSizes: layerSizes,
            activations: Array(repeating: hiddenActivation, count: max(layerSizes.count - 2, 0)) + [outputActivation],
            loss: loss, leakyReLUSlope: leakyReLUSlope, classLabels: classLabels)
    }

    /// Decoding re-validates, so a corrupted checkpoint cannot produce an invalid model.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(
            layerSizes: container.decode([Int].self, forKey: .layerSizes),
            activations: container.decode([Activation].self, forKey: .activations),
            loss: container.decode(Loss.self, forKey: .loss),
            leakyReLUSlope: container.decode(Float.self, forKey: .leakyReLUSlope),
            classLabels: container.decode([String].self, forKey: .classLabels))
    }

    /// Largest accepted number of dense layers.
    public static let maximumLayerCount = 1024
    /// Largest accepted layer width.
    public static let maximumLayerSize = 1 << 20
    /// Largest accepted parameter count (256 Mi floats, 1 GiB): a bound against requests or
    /// corrupted checkpoints that would otherwise allocate without limit.
    public static let maximumParameterCount = 1 << 28

    /// Number of input features.
    public var inputCount: Int { layerSizes[0] }
    /// Number of outputs.
    public var outputCount: Int { layerSizes[layerSizes.count - 1] }
    /// Number of dense layers (hidden layers plus the output layer).
    public var layerCount: Int { layerSizes.count - 1 }
    /// Activation of the output layer.
    public var outputActivation: Activation { activations[activations.count - 1] }
    /// Regression or classification.
    public var task: Task { loss.isClassification ? .classification : .regression }
    /// Total number of weights and biases.
    public var parameterCount: Int { ParameterLayout(layerSizes: layerSizes).count }
}
