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

/// The contents of one checkpoint: an opaque metadata document and the tensors.
///
/// The container does not interpret the metadata. By convention it is a UTF-8 JSON object
/// (architecture, activations, loss, class labels, training configuration, final metrics,
/// creation time, parent version, step counts); the model mapping layer owns its schema.
public struct CheckpointFile: Sendable, Equatable {
    /// UTF-8 JSON bytes describing the model.
    public var metadata: [UInt8]
    /// The tensors, in the order they are stored.
    public var tensors: [Tensor]

    /// Creates a checkpoint from raw metadata bytes and tensors.
    public init(metadata: [UInt8], tensors: [Tensor]) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// The tensor called `name`, if present.
    public func tensor(named name: String) -> Tensor? {
        tensors.first { $0.name == name }
    }
}
