import Testing
@testable import ModelKit

/// Every kind of bad data is rejected with its own named error, pointing at the row and column.
@Suite("Data validation")
struct DataValidationTests {
    @Test("empty data")
    func empty() {
        #expect(throws: DataError.empty) { try Matrix([]) }
        #expect(throws: DataError.empty) { try Matrix([[]]) }
        #expect(throws: DataError.empty) {
            try Dataset(inputs: Matrix(rows: 0, columns: 3), targets: Matrix(rows: 0, columns: 1))
        }
        #expect(throws: DataError.empty) { try Dataset(inputs: Matrix(rows: 0, columns: 2), classLabels: [], classCount: 2) }
    }

    @Test("ragged rows name the row")
    func ragged() {
        #expect(throws: DataError.raggedRow(row: 2, expectedColumns: 2, columns: 3)) {
            try Dataset(inputs: [[1, 2], [3, 4], [5, 6, 7]], targets: [[1], [2], [3]])
        }
        #expect(throws: DataError.raggedRow(row: 1, expectedColumns: 1, columns: 0)) {
            try Dataset(inputs: [[1], [2]], targets: [[1], []])
        }
    }

    @Test("flat values that do not fill the shape")
    func shape() {
        #expect(throws: DataError.shapeMismatch(expectedRows: 2, expectedColumns: 2, valueCount: 3)) {
            try Matrix(rows: 2, columns: 2, values: [1, 2, 3])
        }
    }

    @Test("NaN and infinity in inputs and targets name row and column",
          arguments: [Float.nan, .infinity, -.infinity])
    func nonFinite(_ bad: Float) {
        #expect {
            try Dataset(inputs: [[1, 2], [3, bad]], targets: [[1], [2]])
        } throws: { error in
            guard case DataError.nonFiniteInput(row: 1, column: 1, let value) = error else { return false }
            return value.isNaN == bad.isNaN && (bad.isNaN || value == bad)
        }
        #expect {
            try Dataset(inputs: [[1, 2], [3, 4], [5, 6]], targets: [[1, 0], [2, 0], [0, bad]])
        } throws: { error in
            guard case DataError.nonFiniteTarget(row: 2, column: 1, _) = error else { return false }
            return true
        }
    }

    @Test("inputs and targets with different row counts")
    func rowCounts() {
        #expect(throws: DataError.rowCountMismatch(inputs: 2, targets: 1)) {
            try Dataset(inputs: [[1], [2]], targets: [[1]])
        }
        #expect(throws: DataError.rowCountMismatch(inputs: 2, targets: 3)) {
            try Dataset(inputs: Matrix([[1], [2]]), classLabels: [0, 1, 1], classCount: 2)
        }
    }

    @Test("class labels out of range")
    func classLabels() {
        #expect(throws: DataError.classLabelOutOfRange(row: 1, label: 3, classCount: 3)) {
            try Dataset(inputs: Matrix([[1], [2]]), classLabels: [0, 3], classCount: 3)
        }
        #expect(throws: DataError.classLabelOutOfRange(row: 0, label: -1, classCount: 3)) {
            try Dataset(inputs: Matrix([[1], [2]]), classLabels: [-1, 0], classCount: 3)
        }
    }

    @Test("data that does not fit the model")
    func modelShape() throws {
        let configuration = try ModelConfiguration(layerSizes: [2, 3, 1], outputActivation: .sigmoid, loss: .binaryCrossEntropy)
        let trainer = try Trainer(model: Model(configuration: configuration, seed: 1), configuration: TrainingConfiguration(epochs: 1))
        #expect(throws: DataError.featureCountMismatch(expected: 2, got: 3)) {
            try trainer.fit(Dataset(inputs: [[1, 2, 3]], targets: [[1]]))
        }
        #expect(throws: DataError.targetCountMismatch(expected: 1, got: 2)) {
            try trainer.fit(Dataset(inputs: [[1, 2]], targets: [[1, 0]]))
        }
        #expect(throws: DataError.targetOutsideUnitInterval(row: 1, column: 0, value: 2)) {
            try trainer.fit(Dataset(inputs: [[1, 2], [3, 4]], targets: [[1], [2]]))
        }
        #expect(throws: DataError.featureCountMismatch(expected: 2, got: 1)) {
            try trainer.model.predict(row: [1])
        }
        #expect(throws: DataError.nonFiniteInput(row: 0, column: 1, value: .infinity)) {
            try trainer.model.predict(row: [1, .infinity])
        }
        #expect(throws: DataError.featureCountMismatch(expected: 2, got: 3)) {
            try trainer.model.predict(rows: Matrix(rows: 2, columns: 3))
        }
    }

    @Test("validation splits that leave a side empty", arguments: [0.0, 1.0, 0.01, -0.5])
    func split(_ fraction: Double) throws {
        let data = try Dataset(inputs: [[1], [2], [3], [4]], targets: [[1], [2], [3], [4]])
        #expect(throws: DataError.invalidSplit(fraction: fraction, rows: 4)) {
            try data.split(validationFraction: fraction, seed: 1)
        }
    }

    @Test("a seeded split is a deterministic partition")
    func splitPartition() throws {
        let inputs = try Matrix((0 ..< 20).map { [Float($0)] })
        let data = try Dataset(inputs: inputs, targets: inputs)
        let (training, validation) = try data.split(validationFraction: 0.25, seed: 5)
        #expect(training.count == 15 && validation.count == 5)
        let all = (training.inputs.values + validation.inputs.values).sorted()
        #expect(all == inputs.values)
        let again = try data.split(validationFraction: 0.25, seed: 5)
        #expect(again.validation == validation)
        #expect(try data.split(validationFraction: 0.25, seed: 6).validation != validation)
        #expect(data.shuffled(seed: 3) == data.shuffled(seed: 3))
        #expect(data.shuffled(seed: 3).inputs.values.sorted() == inputs.values)
    }

    @Test("model configurations are validated")
    func configurations() {
        #expect(throws: ModelError.tooFewLayers(layerSizes: [3])) {
            try ModelConfiguration(layerSizes: [3], activations: [], loss: .meanSquaredError)
        }
        #expect(throws: ModelError.invalidLayerSize(layer: 1, size: 0)) {
            try ModelConfiguration(layerSizes: [3, 0, 1], outputActivation: .identity, loss: .meanSquaredError)
        }
        #expect(throws: ModelError.invalidLayerSize(layer: 0, size: (1 << 20) + 1)) {
            try ModelConfiguration(layerSizes: [(1 << 20) + 1, 1], outputActivation: .identity, loss: .meanSquaredError)
        }
        #expect(throws: ModelError.tooManyParameters(count: (1 << 40) + (1 << 20), maximum: 1 << 28)) {
            try ModelConfiguration(layerSizes: [1 << 20, 1 << 20], outputActivation: .identity, loss: .meanSquaredError)
        }
        #expect(throws: ModelError.tooManyLayers(count: 2000, maximum: 1024)) {
            try ModelConfiguration(layerSizes: Array(repeating: 2, count: 2001), outputActivation: .identity, loss: .meanSquaredError)
        }
        #expect(throws: ModelError.activationCountMismatch(expected: 2, got: 1)) {
            try ModelConfiguration(layerSizes: [3, 4, 1], activations: [.identity], loss: .meanSquaredError)
        }
        #expect(throws: ModelError.invalidHiddenActivation(layer: 0, activation: .softmax)) {
            try ModelConfiguration(layerSizes: [3, 4, 2], activations: [.softmax, .softmax], loss: .softmaxCrossEntropy)
        }
        #expect(throws: ModelError.invalidOutputActivation(.relu)) {
            try ModelConfiguration(layerSizes: [3, 1], activations: [.relu], loss: .meanSquaredError)
        }
        #expect(throws: ModelError.incompatibleLoss(loss: .softmaxCrossEntropy, outputActivation: .sigmoid)) {
            try ModelConfiguration(layerSizes: [3, 2], activations: [.sigmoid], loss: .softmaxCrossEntropy)
        }
        #expect(throws: ModelError.softmaxNeedsTwoOutputs(outputs: 1)) {
            try ModelConfiguration(layerSizes: [3, 1], activations: [.softmax], loss: .softmaxCrossEntropy)
        }
        #expect(throws: ModelError.invalidParameter(name: "huber.delta", value: 0)) {
            try ModelConfiguration(layerSizes: [3, 1], activations: [.identity], loss: .huber(delta: 0))
        }
        #expect(throws: ModelError.classLabelCountMismatch(expected: 3, got: 2)) {
            try ModelConfiguration(layerSizes: [3, 3], activations: [.softmax], loss: .softmaxCrossEntropy, classLabels: ["a", "b"])
        }
    }

    @Test("rebuilding a model checks every stored part")
    func rebuild() throws {
        let configuration = try ModelConfiguration(layerSizes: [2, 3, 1], outputActivation: .identity, loss: .meanSquaredError)
        let model = Model(configuration: configuration, seed: 4)
        #expect(model.parameterCount == 2 * 3 + 3 + 3 * 1 + 1)
        #expect(configuration.parameterCount == 13)
        let rebuilt = try Model(configuration: configuration, normalizer: .none, layers: model.layers)
        #expect(rebuilt.parameters == model.parameters)
        #expect(throws: ModelError.flatParameterCountMismatch(expected: 13, got: 12)) {
            try Model(configuration: configuration, normalizer: .none, parameters: Array(model.parameters.dropLast()))
        }
        var layers = model.layers
        layers[1].biases = [1, 2]
        #expect(throws: ModelError.parameterCountMismatch(layer: 1, part: "biases", expected: 1, got: 2)) {
            try Model(configuration: configuration, normalizer: .none, layers: layers)
        }
        layers = model.layers
        layers[0].weights.removeLast()
        #expect(throws: ModelError.parameterCountMismatch(layer: 0, part: "weights", expected: 6, got: 5)) {
            try Model(configuration: configuration, normalizer: .none, layers: layers)
        }
        var values = model.parameters
        values[4] = .nan
        #expect(throws: ModelError.nonFiniteParameter(index: 4)) {
            try Model(configuration: configuration, normalizer: .none, parameters: values)
        }
        let standardizer = try Standardizer(mean: [0, 0, 0], standardDeviation: [1, 1, 1])
        #expect(throws: ModelError.normalizerFeatureMismatch(expected: 2, got: 3)) {
            try Model(configuration: configuration, normalizer: .standard(standardizer), parameters: model.parameters)
        }
        #expect(throws: ModelError.normalizerShapeMismatch(firstCount: 2, secondCount: 1)) {
            try MinMaxScaler(minimum: [0, 0], range: [1])
        }
    }
}
