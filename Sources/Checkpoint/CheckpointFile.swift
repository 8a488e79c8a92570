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
