/// One named Float32 array with its shape: a weight matrix, a bias, normalizer statistics or an
/// optimizer moment.
public struct Tensor: Sendable, Equatable {
    /// Unique name inside its checkpoint, e.g. `layers.0.weight` or `adam.m.layers.0.weight`.
    public var name: String
    /// Dimensions, outermost first; the empty shape is a scalar holding one value.
    public var shape: [Int]
    /// Elements in row-major order; `values.count` equals the product of `shape`.
    public var values: [Float]

    /// Creates a tensor; the encoder checks that the shape matches the values.
    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}
