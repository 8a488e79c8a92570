#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ModelKit

/// One stored model version in memory: the network, its metadata and, for resumable training,
/// the optimizer state. Converts to and from the container `CheckpointFile`.
///
/// Layout (documented in docs/checkpoint-format.md, "Model mapping"): the metadata JSON holds
/// the configuration, normalizer kind, training configuration, metrics, creation time, parent
/// version, optimizer step and epoch; the tensors hold every number: `layers.<i>.weight`
/// (`[inputs, outputs]`), `layers.<i>.bias` (`[outputs]`), the normalizer statistics and the
/// optimizer moments `optimizer.m.*` / `optimizer.v.*` in the same per-layer split.
public struct ModelCheckpoint: Sendable, Equatable {
    /// The network.
    public var model: Model
    /// Training configuration, metrics, creation time, parent version, annotations.
    public var metadata: ModelMetadata
    /// The optimizer's state after the run, so training can continue exactly; nil if not kept.
    public var optimizerState: OptimizerState?

    /// The newest metadata schema this code writes and reads. Schema 2 adds `preprocessing`
    /// and is written only by models that have it, so every other model's file is exactly
    /// what schema 1 wrote.
    public static let schema = 2
    /// The schema of a model without preprocessing.
    public static let plainSchema = 1
    /// The `format` value every model checkpoint's metadata carries.
    public static let formatName = "axon.mlp"

    /// Wraps the parts of one version.
    public init(model: Model, metadata: ModelMetadata, optimizerState: OptimizerState? = nil) {
        self.model = model
        self.metadata = metadata
        self.optimizerState = optimizerState
    }

    /// Encodes the model as a container with canonical (sorted-key) metadata, so equal models
    /// produce identical files.
    public func checkpointFile() throws(ModelCheckpointError) -> CheckpointFile {
        let configuration = model.configuration
        if let state = optimizerState {
            try Self.validate(state, parameterCount: model.parameterCount)
        }
        let document = Document(
            format: Self.formatName,
            schema: metadata.preprocessing == nil ? Self.plainSchema : Self.schema,
            configuration: configuration,
            task: configuration.task,
            normalizer: model.normalizer.kind,
            targetNormalizer: model.targetStandardizer == nil ? nil : .standard,
            parameterCount: model.parameterCount,
            training: metadata.training,
            metrics: metadata.metrics,
            createdAtMilliseconds: metadata.createdAtMilliseconds,
            parentVersion: metadata.parentVersion,
            optimizer: optimizerState.map {
                OptimizerHeader(
                    kind: $0.kind, step: $0.step, epoch: $0.epoch,
                    firstMoment: !$0.firstMoment.isEmpty, secondMoment: !$0.secondMoment.isEmpty)
            },
            annotations: metadata.annotations.isEmpty ? nil : metadata.annotations,
            preprocessing: metadata.preprocessing)
        if let preprocessing = metadata.preprocessing, preprocessing.encodedWidth != configuration.inputCount {
            throw .inconsistentMetadata(
                field: "preprocessing", expected: "\(configuration.inputCount) encoded inputs", found: String(preprocessing.encodedWidth))
        }
        let bytes: Data
        do {
            bytes = try Self.encoder.encode(document)
        } catch {
            throw .unencodableMetadata(reason: "\(error)")
        }
        var tensors = Self.parameterTensors(prefix: "", values: model.parameters, layout: model.layout)
        tensors.append(contentsOf: Self.normalizerTensors(model.normalizer))
        if let targets = model.targetStandardizer {
            tensors.append(contentsOf: Self.normalizerTensors(.standard(targets), prefix: Self.targetNormalizerPrefix))
        }
        if let state = optimizerState {
            if !state.firstMoment.isEmpty {
                tensors += Self.parameterTensors(prefix: Self.firstMomentPrefix, values: state.firstMoment, layout: model.layout)
            }
            if !state.secondMoment.isEmpty {
                tensors += Self.parameterTensors(prefix: Self.secondMomentPrefix, values: state.secondMoment, layout: model.layout)
            }
        }
        return CheckpointFile(metadata: Array(bytes), tensors: tensors)
    }

    /// Rebuilds a model from a verified container, checking the metadata schema, every tensor
    /// name and shape, and every value the model needs to be finite.
    ///
    /// - Parameter includeOptimizerState: decode the optimizer moments too. Serving does not
    ///   need them, so the store skips them at start-up and reads them when training resumes.
    public init(file: CheckpointFile, includeOptimizerState: Bool = true) throws(ModelCheckpointError) {
        let document = try Self.readDocument(file.metadata)
        let configuration = document.configuration
        let layout = ParameterLayout(layerSizes: configuration.layerSizes)
        guard document.parameterCount == layout.count else {
            throw .inconsistentMetadata(
                field: "parameter_count", expected: String(layout.count), found: String(document.parameterCount))
        }

        var byName: [String: Tensor] = [:]
        byName.reserveCapacity(file.tensors.count)
        for tensor in file.tensors { byName[tensor.name] = tensor }
        var expected: Set<String> = []

        let parameters = try Self.readParameters(prefix: "", from: byName, layout: layout, expected: &expected)
        let normalizer = try Self.readNormalizer(
            document.normalizer, features: configuration.inputCount, from: byName, expected: &expected)
        let targetStandardizer = try Self.readTargetStandardizer(document, from: byName, expected: &expected)
        var state: OptimizerState?
        if let header = document.optimizer {
            state = try Self.readOptimizerState(header, layout: layout, from: byName, expected: &expected)
        }
        if let stray = file.tensors.first(where: { !expected.contains($0.name) }) {
            throw .unexpectedTensor(stray.name)
        }

        do {
            model = try Model(configuration: configuration, normalizer: normalizer, parameters: parameters, targetStandardizer: targetStandardizer)
        } catch {
            throw .invalidModel(error)
        }
        metadata = ModelMetadata(
            training: document.training,
            metrics: document.metrics,
            createdAt: ModelMetadata.date(milliseconds: document.createdAtMilliseconds),
            parentVersion: document.parentVersion,
            annotations: document.annotations ?? [:],
            preprocessing: document.preprocessing)
        optimizerState = includeOptimizerState ? state : nil
    }

    /// The metadata document, checked for its format, schema and the fields that must agree
    /// with the configuration (task, preprocessing width).
    static func readDocument(_ metadata: [UInt8]) throws(ModelCheckpointError) -> Document {
        let document: Document
        do {
            document = try Self.decoder.decode(Document.self, from: Data(metadata))
        } catch let error as DecodingError {
            throw .invalidMetadata(reason: Self.describe(error))
        } catch {
            throw .invalidMetadata(reason: "\(error)")
        }
        guard document.format == Self.formatName else {
            throw .inconsistentMetadata(field: "format", expected: Self.formatName, found: document.format)
        }
        guard document.schema == Self.plainSchema || document.schema == Self.schema else {
            throw .unsupportedSchema(found: document.schema, supported: Self.schema)
        }
        let configuration = document.configuration
        if let preprocessing = document.preprocessing {
            guard document.schema >= 2 else {
                throw .inconsistentMetadata(field: "schema", expected: "2 (the file has preprocessing)", found: String(document.schema))
            }
            guard preprocessing.encodedWidth == configuration.inputCount else {
                throw .inconsistentMetadata(
                    field: "preprocessing", expected: "\(configuration.inputCount) encoded inputs", found: String(preprocessing.encodedWidth))
            }
        }
        guard document.task == configuration.task else {
            throw .inconsistentMetadata(field: "task", expected: configuration.task.rawValue, found: document.task.rawValue)
        }
        return document
    }

    /// The regression targets' standardization, when the document says the model has one.
    static func readTargetStandardizer(
        _ document: Document, from tensors: [String: Tensor], expected: inout Set<String>
    ) throws(ModelCheckpointError) -> Standardizer? {
        guard let kind = document.targetNormalizer else { return nil }
        // Only standardization is written; anything else would not re-encode to the same bytes.
        guard kind == .standard else {
            throw .inconsistentMetadata(field: "target_normalizer", expected: Normalizer.Kind.standard.rawValue, found: kind.rawValue)
        }
        if case .standard(let read) = try Self.readNormalizer(
            kind, features: document.configuration.outputCount, from: tensors, expected: &expected, prefix: Self.targetNormalizerPrefix) {
            return read
        }
        return nil
    }

    /// The optimizer's step, epoch and the moments `header` says are stored. They are read
    /// (and checked) even when the caller does not keep them, so a file that serves is whole.
    static func readOptimizerState(
        _ header: OptimizerHeader, layout: ParameterLayout, from tensors: [String: Tensor], expected: inout Set<String>
    ) throws(ModelCheckpointError) -> OptimizerState {
        guard header.step >= 0, header.epoch >= 0 else {
            throw .invalidOptimizerState(reason: "negative step \(header.step) or epoch \(header.epoch)")
        }
        var first: [Float] = []
        var second: [Float] = []
        if header.firstMoment {
            first = try Self.readParameters(prefix: Self.firstMomentPrefix, from: tensors, layout: layout, expected: &expected)
        }
        if header.secondMoment {
            second = try Self.readParameters(prefix: Self.secondMomentPrefix, from: tensors, layout: layout, expected: &expected)
        }
        return OptimizerState(kind: header.kind, step: header.step, epoch: header.epoch, firstMoment: first, secondMoment: second)
    }

    /// Decodes only the model and metadata of `file`, skipping the optimizer moments.
    public static func servingModel(from file: CheckpointFile) throws(ModelCheckpointError) -> ModelCheckpoint {
        try ModelCheckpoint(file: file, includeOptimizerState: false)
    }

    /// Whether `file` carries optimizer state (read from the metadata only).
    public static func hasOptimizerState(_ file: CheckpointFile) -> Bool {
        file.tensors.contains { $0.name.hasPrefix(firstMomentPrefix) || $0.name.hasPrefix(secondMomentPrefix) }
    }

    // MARK: - Tensors

    /// The target standardizer's tensors are named like the input normalizer's, under this prefix.
    static let targetNormalizerPrefix = "target_"
    static let firstMomentPrefix = "optimizer.m."
    static let secondMomentPrefix = "optimizer.v."

    /// `<prefix>layers.<i>.weight` and `.bias` for each layer of `values` in `layout` order.
    static func parameterTensors(prefix: String, values: [Float], layout: ParameterLayout) -> [Tensor] {
        var tensors: [Tensor] = []
        tensors.reserveCapacity(layout.layers.count * 2)
        for (index, layer) in layout.layers.enumerated() {
            tensors.append(Tensor(
                name: "\(prefix)layers.\(index).weight", shape: [layer.inputs, layer.outputs],
                values: Array(values[layer.weightOffset ..< layer.weightOffset + layer.weightCount])))
            tensors.append(Tensor(
                name: "\(prefix)layers.\(index).bias", shape: [layer.outputs],
                values: Array(values[layer.biasOffset ..< layer.biasOffset + layer.outputs])))
        }
        return tensors
    }

    static func readParameters(
        prefix: String, from tensors: [String: Tensor], layout: ParameterLayout, expected: inout Set<String>
    ) throws(ModelCheckpointError) -> [Float] {
        var flat = [Float](repeating: 0, count: layout.count)
        for (index, layer) in layout.layers.enumerated() {
            let weight = try tensor("\(prefix)layers.\(index).weight", shape: [layer.inputs, layer.outputs], in: tensors, expected: &expected)
            let bias = try tensor("\(prefix)layers.\(index).bias", shape: [layer.outputs], in: tensors, expected: &expected)
            flat.replaceSubrange(layer.weightOffset ..< layer.weightOffset + layer.weightCount, with: weight.values)
            flat.replaceSubrange(layer.biasOffset ..< layer.biasOffset + layer.outputs, with: bias.values)
        }
        if !prefix.isEmpty, let index = flat.firstIndex(where: { !$0.isFinite }) {
            throw .nonFiniteValue(tensor: "\(prefix)*", index: index)
        }
        return flat
    }

    static func normalizerTensors(_ normalizer: Normalizer, prefix: String = "") -> [Tensor] {
        switch normalizer {
        case .none:
            return []
        case .standard(let standardizer):
            return [
                Tensor(name: prefix + "normalizer.mean", shape: [standardizer.mean.count], values: standardizer.mean),
                Tensor(name: prefix + "normalizer.std", shape: [standardizer.standardDeviation.count], values: standardizer.standardDeviation),
            ]
        case .minMax(let scaler):
            return [
                Tensor(name: prefix + "normalizer.min", shape: [scaler.minimum.count], values: scaler.minimum),
                Tensor(name: prefix + "normalizer.range", shape: [scaler.range.count], values: scaler.range),
            ]
        }
    }

    static func readNormalizer(
        _ kind: Normalizer.Kind, features: Int, from tensors: [String: Tensor], expected: inout Set<String>, prefix: String = ""
    ) throws(ModelCheckpointError) -> Normalizer {
        func statistics(_ first: String, _ second: String) throws(ModelCheckpointError) -> ([Float], [Float]) {
            let a = try tensor(first, shape: [features], in: tensors, expected: &expected)
            let b = try tensor(second, shape: [features], in: tensors, expected: &expected)
            for stored in [a, b] {
                if let index = stored.values.firstIndex(where: { !$0.isFinite }) {
                    throw .nonFiniteValue(tensor: stored.name, index: index)
                }
            }
            // The scalers replace a non-positive spread by 1; a stored one must already be
            // positive, or saving the rebuilt model would not give back the same file.
            if let index = b.values.firstIndex(where: { $0 <= 0 }) {
                throw .nonFiniteValue(tensor: b.name, index: index)
            }
            return (a.values, b.values)
        }
        do {
            switch kind {
            case .none:
                return .none
            case .standard:
                let (mean, deviation) = try statistics(prefix + "normalizer.mean", prefix + "normalizer.std")
                return .standard(try Standardizer(mean: mean, standardDeviation: deviation))
            case .minMax:
                let (minimum, range) = try statistics(prefix + "normalizer.min", prefix + "normalizer.range")
                return .minMax(try MinMaxScaler(minimum: minimum, range: range))
            }
        } catch let error as ModelError {
            throw .invalidModel(error)
        } catch let error as ModelCheckpointError {
            throw error
        } catch {
            throw .invalidMetadata(reason: "\(error)")
        }
    }

    static func tensor(
        _ name: String, shape: [Int], in tensors: [String: Tensor], expected: inout Set<String>
    ) throws(ModelCheckpointError) -> Tensor {
        guard let found = tensors[name] else { throw .missingTensor(name) }
        guard found.shape == shape else { throw .tensorShapeMismatch(tensor: name, expected: shape, found: found.shape) }
        expected.insert(name)
        return found
    }

    static func validate(_ state: OptimizerState, parameterCount: Int) throws(ModelCheckpointError) {
        guard state.step >= 0, state.epoch >= 0 else {
            throw .invalidOptimizerState(reason: "negative step \(state.step) or epoch \(state.epoch)")
        }
        for (name, moment) in [("first", state.firstMoment), ("second", state.secondMoment)] {
            guard moment.isEmpty || moment.count == parameterCount else {
                throw .invalidOptimizerState(
                    reason: "\(name) moment has \(moment.count) values, the model has \(parameterCount) parameters")
            }
        }
    }
}

extension Normalizer {
    /// Which kind of normalizer this is.
    public var kind: Kind {
        switch self {
        case .none: .none
        case .standard: .standard
        case .minMax: .minMax
        }
    }
}
