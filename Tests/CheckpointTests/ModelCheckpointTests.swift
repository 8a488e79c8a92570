import Checkpoint
import Foundation
import ModelKit
import Testing
import TestKit

/// The ModelKit <-> checkpoint mapping: everything needed to rebuild and resume a model
/// survives a save and load exactly, and files that do not describe a valid model are refused
/// with named errors.
@Suite("Model checkpoints")
struct ModelCheckpointTests {
    // MARK: fixtures

    static func rows(_ count: Int, columns: Int, seed: UInt64) throws -> Matrix {
        var generator = RandomGenerator(seed: seed)
        return try Matrix(rows: count, columns: columns, values: (0..<count * columns).map { _ in 4 * generator.nextUnitFloat() - 2 })
    }

    static func classifierData(seed: UInt64) throws -> Dataset {
        let inputs = try rows(120, columns: 5, seed: seed)
        let labels = (0..<inputs.rows).map { row -> Int in
            let score = inputs[row, 0] - inputs[row, 2] + 0.5 * inputs[row, 4]
            return score < -0.6 ? 0 : (score < 0.6 ? 1 : 2)
        }
        return try Dataset(inputs: inputs, classLabels: labels, classCount: 3)
    }

    static func classifierConfiguration() throws -> ModelConfiguration {
        try ModelConfiguration(
            layerSizes: [5, 12, 7, 3], activations: [.tanh, .leakyReLU, .softmax], loss: .softmaxCrossEntropy,
            leakyReLUSlope: 0.05, classLabels: ["low", "mid", "high"])
    }

    static func training(_ optimizer: OptimizerConfiguration = .adam(learningRate: 0.01), normalization: Normalizer.Kind = .standard) -> TrainingConfiguration {
        TrainingConfiguration(
            epochs: 2, batchSize: 16, seed: 5, optimizer: optimizer, schedule: .step(every: 1, factor: 0.9),
            regularization: Regularization(l2: 0.001, dropout: 0.1), earlyStopping: EarlyStopping(patience: 3, minDelta: 0.0001),
            validationFraction: 0.25, normalization: normalization)
    }

    static func metadata(_ training: TrainingConfiguration) -> ModelMetadata {
        ModelMetadata(
            training: training,
            metrics: ModelMetrics(
                trainLoss: 0.41, validationLoss: 0.47, epochs: 2, stopReason: .completed, samplesPerSecond: 12_345.5,
                trainingSeconds: 0.25, evaluationLoss: 0.47,
                regression: RegressionMetrics(predicted: try! Matrix([[1], [2]]), expected: try! Matrix([[1], [2]])),
                classification: ClassificationMetrics(predicted: [0, 1, 2, 2], expected: [0, 1, 1, 2], classCount: 3)),
            createdAt: Date(timeIntervalSince1970: 1_795_000_123.4567),
            parentVersion: 41,
            annotations: ["job": "j-1", "target": "label"])
    }

    /// A trained classifier with its optimizer state.
    static func trained(_ optimizer: OptimizerConfiguration = .adam(learningRate: 0.01), normalization: Normalizer.Kind = .standard) throws -> ModelCheckpoint {
        let configuration = training(optimizer, normalization: normalization)
        let trainer = try Trainer(model: Model(configuration: try classifierConfiguration(), seed: 9), configuration: configuration)
        _ = try trainer.fit(try classifierData(seed: 1))
        return ModelCheckpoint(model: trainer.model, metadata: metadata(configuration), optimizerState: trainer.optimizerState)
    }

    static func bits(_ matrix: Matrix) -> [UInt32] {
        (0..<matrix.rows).flatMap { row in (0..<matrix.columns).map { matrix[row, $0].bitPattern } }
    }

    static func roundTrip(_ checkpoint: ModelCheckpoint) throws -> (bytes: [UInt8], decoded: ModelCheckpoint) {
        let bytes = try CheckpointEncoder.encode(try checkpoint.checkpointFile())
        let decoded = try ModelCheckpoint(file: try CheckpointDecoder.decode(bytes))
        return (bytes, decoded)
    }

    static func modelError(_ file: CheckpointFile) -> ModelCheckpointError? {
        do {
            _ = try ModelCheckpoint(file: file)
            return nil
        } catch {
            return error
        }
    }

    // MARK: round trips

    @Test("save, load and save again gives identical bytes and an equal model")
    func byteExactRoundTrip() throws {
        let original = try Self.trained()
        let (bytes, decoded) = try Self.roundTrip(original)
        #expect(decoded == original)
        #expect(try CheckpointEncoder.encode(try decoded.checkpointFile()) == bytes)
        // Same input, same bytes: the metadata is canonical.
        #expect(try CheckpointEncoder.encode(try original.checkpointFile()) == bytes)
    }

    @Test("predictions after a save and load are bit-identical", arguments: [Normalizer.Kind.standard, .minMax, .none])
    func predictionsBitIdentical(normalization: Normalizer.Kind) throws {
        let original = try Self.trained(normalization: normalization)
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let name = try ModelName("m")
        let version = try state.commit(try original.checkpointFile(), to: name)
        let loaded = try ModelCheckpoint(file: try state.load(name, version: version))
        let inputs = try Self.rows(64, columns: 5, seed: 77)
        #expect(Self.bits(try loaded.model.predict(rows: inputs)) == Self.bits(try original.model.predict(rows: inputs)))
        #expect(loaded.model.normalizer == original.model.normalizer)
        for row in 0..<4 {
            let single = (0..<5).map { inputs[row, $0] }
            #expect(try loaded.model.predict(row: single).map(\.bitPattern) == original.model.predict(row: single).map(\.bitPattern))
        }
    }

    @Test("training resumed from a loaded checkpoint continues exactly", arguments: [
        OptimizerConfiguration.adam(learningRate: 0.01), .adamW(learningRate: 0.01), .sgd(learningRate: 0.05, momentum: 0.9, nesterov: true),
        .sgd(learningRate: 0.05),
    ])
    func warmStartContinuesExactly(optimizer: OptimizerConfiguration) throws {
        let original = try Self.trained(optimizer)
        let (_, loaded) = try Self.roundTrip(original)
        let state = try #require(loaded.optimizerState)
        #expect(state == original.optimizerState)
        let more = try Self.classifierData(seed: 2)
        let configuration = Self.training(optimizer)
        let fromMemory = try Trainer(model: original.model, configuration: configuration, optimizerState: original.optimizerState)
        let fromDisk = try Trainer(model: loaded.model, configuration: configuration, optimizerState: state)
        let reportMemory = try fromMemory.fit(more)
        let reportDisk = try fromDisk.fit(more)
        #expect(fromDisk.model.parameters.map(\.bitPattern) == fromMemory.model.parameters.map(\.bitPattern))
        #expect(fromDisk.optimizerState == fromMemory.optimizerState)
        #expect(reportDisk.history.map(\.trainLoss) == reportMemory.history.map(\.trainLoss))
        #expect(fromDisk.optimizerState.step > state.step)
    }

    @Test("a regression model without optimizer state or optional metadata round-trips")
    func minimalRegression() throws {
        let configuration = try ModelConfiguration(layerSizes: [3, 1], activations: [.identity], loss: .huber(delta: 1.5))
        let original = ModelCheckpoint(model: Model(configuration: configuration, seed: 4), metadata: ModelMetadata(createdAt: Date(timeIntervalSince1970: 0)))
        let (bytes, decoded) = try Self.roundTrip(original)
        #expect(decoded == original)
        #expect(decoded.optimizerState == nil)
        #expect(decoded.metadata.training == nil && decoded.metadata.parentVersion == nil && decoded.metadata.annotations.isEmpty)
        #expect(try CheckpointEncoder.encode(try decoded.checkpointFile()) == bytes)
        let file = try original.checkpointFile()
        #expect(file.tensors.map(\.name) == ["layers.0.weight", "layers.0.bias"])
        #expect(file.tensors[0].shape == [3, 1])
        #expect(!ModelCheckpoint.hasOptimizerState(file))
    }

    @Test("tensor names, shapes and metadata keys follow the documented layout")
    func documentedLayout() throws {
        let file = try Self.trained().checkpointFile()
        let names = file.tensors.map(\.name)
        #expect(names.prefix(8) == [
            "layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias", "layers.2.weight", "layers.2.bias",
            "normalizer.mean", "normalizer.std",
        ])
        #expect(names.contains("optimizer.m.layers.2.bias") && names.contains("optimizer.v.layers.0.weight"))
        #expect(file.tensor(named: "layers.1.weight")?.shape == [12, 7])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(file.metadata)) as? [String: Any])
        #expect(json["format"] as? String == "axon.mlp")
        #expect(json["schema"] as? Int == 1)
        #expect(json["task"] as? String == "classification")
        #expect(json["normalizer"] as? String == "standard")
        #expect(json["created_at_ms"] as? Int == 1_795_000_123_456)
        #expect(json["parent_version"] as? Int == 41)
        #expect(json["parameter_count"] as? Int == 5 * 12 + 12 + 12 * 7 + 7 + 7 * 3 + 3)
        #expect((json["optimizer"] as? [String: Any])?["kind"] as? String == "adam")
    }

    @Test("non-finite metrics survive as named strings")
    func nonFiniteMetrics() throws {
        var checkpoint = try Self.trained()
        checkpoint.metadata.metrics = ModelMetrics(trainLoss: .nan, validationLoss: .infinity, evaluationLoss: -.infinity)
        let (_, decoded) = try Self.roundTrip(checkpoint)
        let metrics = try #require(decoded.metadata.metrics)
        #expect(metrics.trainLoss?.isNaN == true)
        #expect(metrics.validationLoss == .infinity)
        #expect(metrics.evaluationLoss == -.infinity)
    }

    // MARK: validation

    @Test("a missing, extra or misshapen tensor is a named error")
    func tensorValidation() throws {
        let file = try Self.trained().checkpointFile()
        var missing = file
        missing.tensors.removeAll { $0.name == "layers.1.bias" }
        #expect(Self.modelError(missing) == .missingTensor("layers.1.bias"))

        var extra = file
        extra.tensors.append(Tensor(name: "layers.9.weight", shape: [1], values: [0]))
        #expect(Self.modelError(extra) == .unexpectedTensor("layers.9.weight"))

        var transposed = file
        let index = try #require(transposed.tensors.firstIndex { $0.name == "layers.0.weight" })
        transposed.tensors[index].shape = [12, 5]
        #expect(Self.modelError(transposed) == .tensorShapeMismatch(tensor: "layers.0.weight", expected: [5, 12], found: [12, 5]))

        var noMoment = file
        noMoment.tensors.removeAll { $0.name == "optimizer.v.layers.0.bias" }
        #expect(Self.modelError(noMoment) == .missingTensor("optimizer.v.layers.0.bias"))
    }

    @Test("non-finite weights, statistics or moments are refused")
    func nonFiniteValues() throws {
        let file = try Self.trained().checkpointFile()
        func poisoned(_ name: String, _ value: Float) throws -> CheckpointFile {
            var copy = file
            let index = try #require(copy.tensors.firstIndex { $0.name == name })
            copy.tensors[index].values[1] = value
            return copy
        }
        #expect(Self.modelError(try poisoned("layers.0.bias", .nan)) == .invalidModel(.nonFiniteParameter(index: 61)))
        #expect(Self.modelError(try poisoned("normalizer.mean", .infinity)) == .nonFiniteValue(tensor: "normalizer.mean", index: 1))
        #expect(Self.modelError(try poisoned("normalizer.std", 0)) == .nonFiniteValue(tensor: "normalizer.std", index: 1))
        #expect(Self.modelError(try poisoned("optimizer.m.layers.0.weight", .nan)) == .nonFiniteValue(tensor: "optimizer.m.*", index: 1))
    }

    @Test("metadata that is not a model description is a named error")
    func metadataValidation() throws {
        let file = try Self.trained().checkpointFile()
        func replacing(_ transform: (inout [String: Any]) -> Void) throws -> CheckpointFile {
            var json = try #require(try JSONSerialization.jsonObject(with: Data(file.metadata)) as? [String: Any])
            transform(&json)
            var copy = file
            copy.metadata = Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
            return copy
        }
        var notJSON = file
        notJSON.metadata = Array(#"{"a":1}"#.utf8)
        guard case .invalidMetadata(let reason)? = Self.modelError(notJSON) else {
            Issue.record("expected invalidMetadata")
            return
        }
        #expect(reason.contains("configuration") || reason.contains("format"))
        #expect(Self.modelError(try replacing { $0["schema"] = 3 }) == .unsupportedSchema(found: 3, supported: 2))
        #expect(Self.modelError(try replacing { $0["format"] = "other" }) == .inconsistentMetadata(field: "format", expected: "axon.mlp", found: "other"))
        #expect(Self.modelError(try replacing { $0["task"] = "regression" }) == .inconsistentMetadata(field: "task", expected: "classification", found: "regression"))
        #expect(Self.modelError(try replacing { $0["parameter_count"] = 7 }) == .inconsistentMetadata(field: "parameter_count", expected: "187", found: "7"))
        // ModelConfiguration re-validates on decode: an activation count that does not fit.
        let broken = try replacing {
            var configuration = $0["configuration"] as! [String: Any]
            configuration["activations"] = ["relu", "softmax"]
            $0["configuration"] = configuration
        }
        guard case .invalidMetadata? = Self.modelError(broken) else {
            Issue.record("expected invalidMetadata for an invalid configuration")
            return
        }
    }

    @Test("optimizer state that does not fit the model cannot be saved")
    func optimizerStateMustFit() throws {
        var checkpoint = try Self.trained()
        checkpoint.optimizerState?.firstMoment.removeLast()
        #expect(throws: ModelCheckpointError.invalidOptimizerState(reason: "first moment has 186 values, the model has 187 parameters")) {
            _ = try checkpoint.checkpointFile()
        }
    }

    @Test("serving decode skips the optimizer state")
    func servingDecodeSkipsOptimizer() throws {
        let original = try Self.trained()
        let file = try original.checkpointFile()
        #expect(ModelCheckpoint.hasOptimizerState(file))
        let serving = try ModelCheckpoint.servingModel(from: file)
        #expect(serving.optimizerState == nil)
        #expect(serving.model == original.model)
        #expect(serving.metadata == original.metadata)
    }
}

/// A regression model trained on standardized targets keeps its standardizer through a save
/// and load, byte for byte and prediction for prediction; files that claim an impossible one
/// are refused by name.
@Suite("Target standardizer in checkpoints")
struct TargetStandardizerCheckpointTests {
    static func trained() throws -> ModelCheckpoint {
        let configuration = try ModelConfiguration(layerSizes: [1, 8, 1], outputActivation: .identity, loss: .meanSquaredError)
        let training = TrainingConfiguration(epochs: 5, batchSize: 10, seed: 1, normalization: .standard, normalizeTargets: true)
        let trainer = try Trainer(model: Model(configuration: configuration, seed: 2), configuration: training)
        let data = try Dataset(inputs: Matrix((0 ..< 10).map { [Float($0)] }), targets: Matrix((0 ..< 10).map { [Float($0 * $0)] }))
        _ = try trainer.fit(data)
        return ModelCheckpoint(model: trainer.model, metadata: ModelMetadata(training: training), optimizerState: trainer.optimizerState)
    }

    @Test func roundTripsExactly() throws {
        let checkpoint = try Self.trained()
        #expect(checkpoint.model.targetStandardizer != nil)
        let bytes = try CheckpointEncoder.encode(checkpoint.checkpointFile())
        let file = try CheckpointDecoder.decode(bytes)
        #expect(file.tensors.map(\.name).contains("target_normalizer.mean"))
        #expect(String(decoding: file.metadata, as: UTF8.self).contains(#""target_normalizer":"standard""#))
        let decoded = try ModelCheckpoint(file: file)
        #expect(decoded.model == checkpoint.model)
        #expect(try CheckpointEncoder.encode(decoded.checkpointFile()) == bytes)
        #expect(try decoded.model.predict(row: [7]).map(\.bitPattern) == checkpoint.model.predict(row: [7]).map(\.bitPattern))
    }

    @Test func refusesWhatItNeverWrites() throws {
        let file = try Self.trained().checkpointFile()
        let text = String(decoding: file.metadata, as: UTF8.self)
        let minMax = CheckpointFile(
            metadata: Array(text.replacingOccurrences(of: #""target_normalizer":"standard""#, with: #""target_normalizer":"min_max""#).utf8),
            tensors: file.tensors)
        #expect(throws: ModelCheckpointError.self) { try ModelCheckpoint(file: minMax) }
        let missing = CheckpointFile(metadata: file.metadata, tensors: file.tensors.filter { $0.name != "target_normalizer.std" })
        #expect(throws: ModelCheckpointError.missingTensor("target_normalizer.std")) { try ModelCheckpoint(file: missing) }
        let stray = CheckpointFile(
            metadata: Array(text.replacingOccurrences(of: #""target_normalizer":"standard","#, with: "").utf8), tensors: file.tensors)
        #expect(throws: ModelCheckpointError.unexpectedTensor("target_normalizer.mean")) { try ModelCheckpoint(file: stray) }
    }
}
