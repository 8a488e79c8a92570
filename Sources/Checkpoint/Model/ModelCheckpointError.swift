import ModelKit

/// Why a model could not be turned into a checkpoint, or a verified checkpoint back into a
/// model. The container was intact in the second case (its CRC matched): these errors mean
/// the contents do not describe a valid model, e.g. a file from an unknown writer.
public enum ModelCheckpointError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The metadata JSON could not be decoded; `reason` names the field.
    case invalidMetadata(reason: String)
    /// The metadata could not be encoded (e.g. a value JSON cannot hold).
    case unencodableMetadata(reason: String)
    /// The metadata declares a schema this reader does not know.
    case unsupportedSchema(found: Int, supported: Int)
    /// A metadata field disagrees with what the rest of the file implies.
    case inconsistentMetadata(field: String, expected: String, found: String)
    /// A tensor the model needs is absent.
    case missingTensor(String)
    /// The file holds a tensor that belongs to no part of the model.
    case unexpectedTensor(String)
    /// A tensor has the wrong shape for the model's architecture.
    case tensorShapeMismatch(tensor: String, expected: [Int], found: [Int])
    /// A tensor holds NaN or an infinity where only finite values make sense.
    case nonFiniteValue(tensor: String, index: Int)
    /// The stored parts do not rebuild a valid model.
    case invalidModel(ModelError)
    /// The optimizer state does not fit the model.
    case invalidOptimizerState(reason: String)

    /// A one-line explanation for logs.
    public var description: String {
        switch self {
        case .invalidMetadata(let reason): return "invalid model metadata: \(reason)"
        case .unencodableMetadata(let reason): return "model metadata cannot be encoded: \(reason)"
        case .unsupportedSchema(let found, let supported):
            return "unsupported model metadata schema \(found) (this reader knows \(supported))"
        case .inconsistentMetadata(let field, let expected, let found):
            return "metadata field \(field) is \(found), the model implies \(expected)"
        case .missingTensor(let name): return "tensor '\(name)' is missing"
        case .unexpectedTensor(let name): return "unexpected tensor '\(name)'"
        case .tensorShapeMismatch(let tensor, let expected, let found):
            return "tensor '\(tensor)' has shape \(found), the model needs \(expected)"
        case .nonFiniteValue(let tensor, let index): return "tensor '\(tensor)' value \(index) is not finite"
        case .invalidModel(let error): return "stored parts do not form a valid model: \(error)"
        case .invalidOptimizerState(let reason): return "invalid optimizer state: \(reason)"
        }
    }
}
