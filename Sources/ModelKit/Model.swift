/// An immutable, `Sendable` network: configuration, input normalizer, parameters and, for a
/// regression model trained on standardized targets, the map back to the targets' units.
///
/// This is the inference model. Any number of threads may call its `predict` methods at
/// once, outside any actor: they only read the parameters and use scratch space of their own.
/// Training works on a separate mutable copy inside `Trainer`, which hands out new snapshots.
public struct Model: Sendable, Equatable {
    /// Shape and objective.
    public let configuration: ModelConfiguration
    /// Scaling applied to every input row before the first layer.
    public let normalizer: Normalizer
    /// All weights and biases in `layout` order.
    public let parameters: [Float]
    /// Where each layer's weights and biases sit in `parameters`.
    public let layout: ParameterLayout
    /// The standardization of the regression targets the network was trained on (nil: the
    /// network's outputs are already in the targets' units). Every prediction maps the outputs
    /// back with `output * standardDeviation + mean`.
    public let targetStandardizer: Standardizer?
    /// The normalizer as a per-column affine map (empty when there is none).
    let inputScale: [Float]
    let inputShift: [Float]
    /// `targetStandardizer` as the affine map applied to the outputs (empty when there is none).
    let outputScale: [Float]
    let outputShift: [Float]

    /// Creates a freshly initialized network with zero biases and weights drawn from `seed`:
    /// by default He or Xavier uniform by each layer's activation (`Activation.initialization`),
    /// or `initialization` for every layer when given.
    public init(configuration: ModelConfiguration, seed: UInt64, initialization: Initialization? = nil) {
        let layout = ParameterLayout(layerSizes: configuration.layerSizes)
        var generator = RandomGenerator(seed: seed)
        var values = [Float](repeating: 0, count: layout.count)
        for (index, layer) in layout.layers.enumerated() {
            let rule = initialization ?? configuration.activations[index].initialization
            let limit = rule.limit(fanIn: layer.inputs, fanOut: layer.outputs)
            for k in 0 ..< layer.weightCount {
                values[layer.weightOffset + k] = (2 * generator.nextUnitFloat() - 1) * limit
            }
        }
        self.init(unchecked: configuration, normalizer: .none, parameters: values)
    }

    /// Rebuilds a model from stored parts, checking every length and value. A
    /// `targetStandardizer` needs a regression model with identity outputs, one statistic per
    /// output.
    public init(
        configuration: ModelConfiguration, normalizer: Normalizer, parameters: [Float], targetStandardizer: Standardizer? = nil
    ) throws(ModelError) {
        let expected = configuration.parameterCount
        guard parameters.count == expected else {
            throw .flatParameterCountMismatch(expected: expected, got: parameters.count)
        }
        if let index = parameters.firstIndex(where: { !$0.isFinite }) { throw .nonFiniteParameter(index: index) }
        if let features = normalizer.featureCount, features != configuration.inputCount {
            throw .normalizerFeatureMismatch(expected: configuration.inputCount, got: features)
        }
        if let targetStandardizer {
            guard configuration.task == .regression, configuration.outputActivation == .identity else {
                throw .targetStandardizerNeedsRegression
            }
            guard targetStandardizer.mean.count == configuration.outputCount else {
                throw .targetStandardizerOutputMismatch(expected: configuration.outputCount, got: targetStandardizer.mean.count)
            }
        }
        self.init(unchecked: configuration, normalizer: normalizer, parameters: parameters, targetStandardizer: targetStandardizer)
    }

    /// Rebuilds a model from per-layer weight and bias arrays (layout documented on
    /// `ParameterLayout`), checking every length and value.
    public init(configuration: ModelConfiguration, normalizer: Normalizer, layers: [LayerParameters]) throws(ModelError) {
        let layout = ParameterLayout(layerSizes: configuration.layerSizes)
        guard layers.count == layout.layers.count else {
            throw .parameterCountMismatch(layer: min(layers.count, layout.layers.count), part: "layers",
                                          expected: layout.layers.count, got: layers.count)
        }
        var flat = [Float]()
        flat.reserveCapacity(layout.count)
        for (index, (shape, stored)) in zip(layout.layers, layers).enumerated() {
            guard stored.weights.count == shape.weightCount else {
                throw .parameterCountMismatch(layer: index, part: "weights", expected: shape.weightCount, got: stored.weights.count)
            }
            guard stored.biases.count == shape.outputs else {
                throw .parameterCountMismatch(layer: index, part: "biases", expected: shape.outputs, got: stored.biases.count)
            }
            flat.append(contentsOf: stored.weights)
            flat.append(contentsOf: stored.biases)
        }
        try self.init(configuration: configuration, normalizer: normalizer, parameters: flat)
    }

    init(unchecked configuration: ModelConfiguration, normalizer: Normalizer, parameters: [Float], targetStandardizer: Standardizer? = nil) {
        self.configuration = configuration
        self.normalizer = normalizer
        self.parameters = parameters
        self.targetStandardizer = targetStandardizer
        self.layout = ParameterLayout(layerSizes: configuration.layerSizes)
        let affine = normalizer.affine
        self.inputScale = affine?.scale ?? []
        self.inputShift = affine?.shift ?? []
        self.outputScale = targetStandardizer?.standardDeviation ?? []
        self.outputShift = targetStandardizer?.mean ?? []
    }

    /// Total number of weights and biases.
    public var parameterCount: Int { layout.count }

    /// Each layer's weights (`inputs x outputs`, row-major) and biases, in forward order.
    public var layers: [LayerParameters] {
        layout.layers.map { layer in
            LayerParameters(
                weights: Array(parameters[layer.weightOffset ..< layer.weightOffset + layer.weightCount]),
                biases: Array(parameters[layer.biasOffset ..< layer.biasOffset + layer.outputs]))
        }
    }

    /// A copy with another normalizer (e.g. one fitted on the training split).
    public func replacingNormalizer(_ normalizer: Normalizer) throws(ModelError) -> Model {
        try Model(configuration: configuration, normalizer: normalizer, parameters: parameters, targetStandardizer: targetStandardizer)
    }
}

/// One dense layer's parameters: `weights[i * outputs + o]` connects input `i` to output `o`.
public struct LayerParameters: Sendable, Equatable, Codable {
    /// `inputs x outputs` weights, row-major.
    public var weights: [Float]
    /// One bias per output.
    public var biases: [Float]

    /// Wraps weight and bias arrays; `Model` checks their lengths.
    public init(weights: [Float], biases: [Float]) {
        self.weights = weights
        self.biases = biases
    }
}
