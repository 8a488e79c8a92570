import Foundation
import Testing
@testable import ModelKit

@Suite("Prediction")
struct PredictionTests {
    static func model(seed: UInt64 = 11) throws -> Model {
        let configuration = try ModelConfiguration(
            layerSizes: [5, 9, 7, 3], activations: [.leakyReLU, .tanh, .softmax], loss: .softmaxCrossEntropy,
            classLabels: ["a", "b", "c"])
        let standardizer = try Standardizer(mean: [1, 2, 3, 4, 5], standardDeviation: [2, 2, 1, 0.5, 1])
        return try Model(configuration: configuration, seed: seed).replacingNormalizer(.standard(standardizer))
    }

    @Test("one-row prediction matches batch prediction")
    func rowMatchesBatch() throws {
        let model = try Self.model()
        let inputs = randomMatrix(rows: 40, columns: 5, seed: 3, scale: 4)
        let batch = try model.predict(rows: inputs)
        for r in 0 ..< inputs.rows {
            let single = try model.predict(row: inputs.row(r))
            for (a, b) in zip(single, batch.row(r)) { #expect(abs(a - b) < 1e-5) }
            #expect(abs(single.reduce(0, +) - 1) < 1e-5, "softmax rows sum to one")
        }
    }

    @Test("the normalizer is applied on predict")
    func normalizerApplied() throws {
        let model = try Self.model()
        let plain = try Model(configuration: model.configuration, normalizer: .none, parameters: model.parameters)
        let raw: [Float] = [3, 4, 3, 4.5, 5]
        let normalized: [Float] = [1, 1, 0, 1, 0]
        #expect(try model.predict(row: raw) == plain.predict(row: normalized))
    }

    @Test("batch prediction crosses chunk boundaries")
    func largeBatch() throws {
        let model = try Self.model()
        let rows = Model.predictionChunkRows * 2 + 17
        let inputs = randomMatrix(rows: rows, columns: 5, seed: 5)
        let batch = try model.predict(rows: inputs)
        #expect(batch.rows == rows)
        let last = try model.predict(row: inputs.row(rows - 1))
        for (a, b) in zip(last, batch.row(rows - 1)) { #expect(abs(a - b) < 1e-5) }
    }

    @Test("many threads predict concurrently on one snapshot")
    func concurrentPrediction() async throws {
        let model = try Self.model()
        let inputs = randomMatrix(rows: 64, columns: 5, seed: 9)
        let expected = try model.predict(rows: inputs)
        let results = try await withThrowingTaskGroup(of: Bool.self) { group in
            for task in 0 ..< 16 {
                group.addTask {
                    var agree = true
                    for round in 0 ..< 50 {
                        let r = (task * 7 + round) % inputs.rows
                        var output = [Float](repeating: 0, count: 3)
                        try inputs.row(r).withUnsafeBufferPointer { (row) throws(DataError) in
                            try output.withUnsafeMutableBufferPointer { (destination) throws(DataError) in
                                try model.predict(row: row, into: destination)
                            }
                        }
                        agree = agree && zip(output, expected.row(r)).allSatisfy { abs($0 - $1) < 1e-5 }
                        let again = try model.predict(rows: inputs)
                        agree = agree && again == expected
                    }
                    return agree
                }
            }
            var all = [Bool]()
            for try await result in group { all.append(result) }
            return all
        }
        #expect(results.count == 16 && results.allSatisfy { $0 })
    }

    @Test("configuration and normalizers round-trip through Codable, and decoding re-validates")
    func codable() throws {
        let model = try Self.model()
        let encoder = JSONEncoder()
        let decoded = try JSONDecoder().decode(ModelConfiguration.self, from: encoder.encode(model.configuration))
        #expect(decoded == model.configuration)
        let normalizer = try JSONDecoder().decode(Normalizer.self, from: encoder.encode(model.normalizer))
        #expect(normalizer == model.normalizer)
        let state = OptimizerState(kind: .adamW, step: 2, epoch: 1, firstMoment: [1, 2], secondMoment: [3, 4])
        #expect(try JSONDecoder().decode(OptimizerState.self, from: encoder.encode(state)) == state)
        let broken = #"{"layerSizes":[3,0],"activations":["identity"],"loss":{"meanSquaredError":{}},"leakyReLUSlope":0.01,"classLabels":[]}"#
        #expect(throws: ModelError.invalidLayerSize(layer: 1, size: 0)) {
            try JSONDecoder().decode(ModelConfiguration.self, from: Data(broken.utf8))
        }
    }

    @Test("normalizers: z-score and min-max, constant columns are safe")
    func normalizers() throws {
        let inputs = try Matrix([[1, 5, 0], [3, 5, 10], [5, 5, 5]])
        let standardizer = Standardizer(fittedOn: inputs)
        #expect(standardizer.mean == [3, 5, 5])
        #expect(abs(standardizer.standardDeviation[0] - (8.0 / 3.0 as Float).squareRoot()) < 1e-6)
        #expect(standardizer.standardDeviation[1] == 1)
        let standardized = Normalizer.standard(standardizer).transform(inputs)
        #expect(standardized[0, 1] == 0 && standardized[2, 1] == 0)
        #expect(abs(standardized[2, 0] - 2 / (8.0 / 3.0 as Float).squareRoot()) < 1e-5)
        let scaler = MinMaxScaler(fittedOn: inputs)
        #expect(scaler.minimum == [1, 5, 0] && scaler.range == [4, 1, 10])
        let scaled = Normalizer.minMax(scaler).transform(inputs)
        #expect(scaled.values == [0, 0, 0, 0.5, 0, 1, 1, 0, 0.5])
    }
}
