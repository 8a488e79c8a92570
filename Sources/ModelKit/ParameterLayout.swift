/// Where each layer's weights and biases live in a model's flat parameter buffer.
///
/// Layer `l` maps `inputs = layerSizes[l]` to `outputs = layerSizes[l + 1]`. Its weights are
/// an `inputs x outputs` row-major block (`W[i][o]` at `weightOffset + i * outputs + o`),
/// immediately followed by `outputs` biases; layers follow each other. Gradients and
/// optimizer moments use the same layout, so one offset addresses all of them.
public struct ParameterLayout: Sendable, Equatable {
    /// The position and shape of one dense layer's parameters.
    public struct Layer: Sendable, Equatable {
        /// Width of the layer's input.
        public let inputs: Int
        /// Width of the layer's output.
        public let outputs: Int
        /// Offset of `W[0][0]` in the flat buffer.
        public let weightOffset: Int
        /// Offset of the first bias in the flat buffer.
        public let biasOffset: Int
        /// Number of weights (`inputs * outputs`).
        public var weightCount: Int { inputs * outputs }
    }

    /// The layers in forward order.
    public let layers: [Layer]
    /// Total number of parameters.
    public let count: Int
    /// The widest layer input or output, which sizes per-row scratch space.
    public let maxWidth: Int

    /// Computes the layout for the given sizes (input width first).
    public init(layerSizes: [Int]) {
        var layers = [Layer]()
        var offset = 0
        for index in 0 ..< max(layerSizes.count - 1, 0) {
            let inputs = layerSizes[index]
            let outputs = layerSizes[index + 1]
            layers.append(Layer(inputs: inputs, outputs: outputs, weightOffset: offset, biasOffset: offset + inputs * outputs))
            offset += inputs * outputs + outputs
        }
        self.layers = layers
        self.count = offset
        self.maxWidth = layerSizes.max() ?? 0
    }
}
