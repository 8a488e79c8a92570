#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ModelKit

extension ModelCheckpoint {
    /// The metadata JSON, schema 1. Keys are snake_case; optional fields are omitted when nil.
    struct Document: Codable {
        var format: String
        var schema: Int
        var configuration: ModelConfiguration
        var task: ModelConfiguration.Task
        var normalizer: Normalizer.Kind
        /// `standard` when the model maps its outputs back from standardized targets; absent
        /// otherwise (and in every file written before it existed).
        var targetNormalizer: Normalizer.Kind?
        var parameterCount: Int
        var training: TrainingConfiguration?
        var metrics: ModelMetrics?
        var createdAtMilliseconds: Int64
        var parentVersion: UInt64?
        var optimizer: OptimizerHeader?
        var annotations: [String: String]?
        var preprocessing: Preprocessing?

        enum CodingKeys: String, CodingKey {
            case format, schema, configuration, task, normalizer, training, metrics, optimizer, annotations, preprocessing
            case parameterCount = "parameter_count", targetNormalizer = "target_normalizer"
            case createdAtMilliseconds = "created_at_ms"
            case parentVersion = "parent_version"
        }
    }

    /// Which optimizer produced the stored moments and how far it got.
    struct OptimizerHeader: Codable {
        var kind: OptimizerConfiguration.Kind
        var step: Int
        var epoch: Int
        var firstMoment: Bool
        var secondMoment: Bool

        enum CodingKeys: String, CodingKey {
            case kind, step, epoch
            case firstMoment = "first_moment"
            case secondMoment = "second_moment"
        }
    }

    // Metrics can legitimately be NaN (an R² on constant targets), which plain JSON cannot hold.
    private static let nonFiniteNames = (positive: "Infinity", negative: "-Infinity", nan: "NaN")

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFiniteNames.positive, negativeInfinity: nonFiniteNames.negative, nan: nonFiniteNames.nan)
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFiniteNames.positive, negativeInfinity: nonFiniteNames.negative, nan: nonFiniteNames.nan)
        return decoder
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.isEmpty ? "$" : "$" + text
        }
        switch error {
        case .keyNotFound(let key, let context): return "missing field \(path(context)).\(key.stringValue)"
        case .typeMismatch(let type, let context): return "field \(path(context)) must be \(type)"
        case .valueNotFound(let type, let context): return "field \(path(context)) must be a \(type), not null"
        case .dataCorrupted(let context): return "\(path(context)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
