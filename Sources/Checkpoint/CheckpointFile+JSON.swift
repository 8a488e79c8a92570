#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension CheckpointFile {
    /// Creates a checkpoint whose metadata is `metadata` encoded as JSON with sorted keys, so
    /// equal metadata always produces identical bytes.
    public init<Metadata: Encodable>(encoding metadata: Metadata, tensors: [Tensor]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        self.init(metadata: Array(try encoder.encode(metadata)), tensors: tensors)
    }

    /// Decodes the metadata JSON as `type`.
    public func decodeMetadata<Metadata: Decodable>(as type: Metadata.Type) throws -> Metadata {
        try JSONDecoder().decode(type, from: Data(metadata))
    }
}
