import Testing

@testable import ModelKit

@Suite("bounded history and cost estimates")
struct CostAndHistoryTests {
    @Test("a history keeps at most its capacity plus the latest, evenly spaced from the first epoch")
    func decimation() {
        var history = DecimatedHistory<Int>(capacity: 8)
        for epoch in 0 ..< 1_000 { history.append(epoch) }
        let kept = history.elements
        #expect(kept.count <= 9 && kept.count >= 5)
        #expect(kept.first == 0 && kept.last == 999)
        let spaced = kept.dropLast()
        let gaps = Set(zip(spaced, spaced.dropFirst()).map { $1 - $0 })
        #expect(gaps.count == 1, "kept epochs \(kept) are not evenly spaced")
        #expect(history.appended == 1_000)
    }

    @Test("below its capacity a history keeps every point once")
    func shortRunKeepsAll() {
        var history = DecimatedHistory<Int>(capacity: 100)
        for epoch in 0 ..< 37 { history.append(epoch) }
        #expect(history.elements == Array(0 ..< 37))
    }

    @Test("a trainer reserves nothing per epoch and reports every epoch it ran")
    func trainerHistoryIsBounded() throws {
        let configuration = try ModelConfiguration(layerSizes: [1, 2, 1], hiddenActivation: .relu, outputActivation: .identity, loss: .meanSquaredError)
        let training = TrainingConfiguration(epochs: 5_000, batchSize: 4, earlyStopping: nil)
        let trainer = try Trainer(model: Model(configuration: configuration, seed: 1), configuration: training)
        trainer.historyCapacity = 50
        let data = try Dataset(inputs: [[0], [1], [2], [3]], targets: [[0], [1], [4], [9]])
        let report = try trainer.fit(data)
        #expect(report.epochsRun == 5_000)
        #expect(report.history.count <= 51)
        #expect(report.history.last?.epoch == 4_999)
    }

    @Test("prediction cost counts every row through every layer")
    func predictionCost() throws {
        let configuration = try ModelConfiguration(layerSizes: [64, 128, 10], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        let cost = configuration.predictionCost(rows: 1_000)
        #expect(cost.flops == 1_000 * 2 * (64 * 128 + 128 * 10))
        #expect(cost.bytes == 4 * (1_000 * 64 + 1_000 * 10 + 2 * 512 * 128))
    }

    @Test("training cost grows with the classes (one-hot) and with every hidden layer's workspace")
    func trainingCost() throws {
        let small = try ModelConfiguration(layerSizes: [4, 8, 2], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        let wide = try ModelConfiguration(layerSizes: [4, 8, 65_536], hiddenActivation: .relu, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        let training = TrainingConfiguration(epochs: 10, batchSize: 32)
        #expect(wide.trainingCost(rows: 100, training: training).bytes > 100 * 65_536 * 4 + 65_536 * 65_536 * 8)
        #expect(small.trainingCost(rows: 100, training: training).bytes < 1 << 20)
        let deep = try ModelConfiguration(layerSizes: [4] + Array(repeating: 1_024, count: 100) + [1], hiddenActivation: .relu, outputActivation: .identity, loss: .meanSquaredError)
        var dropout = TrainingConfiguration(epochs: 1, batchSize: 4_096)
        dropout.regularization.dropout = 0.5
        // Activations, deltas, masks and masked copies of 100 layers of 4096 x 1024 floats.
        let withDropout = deep.trainingCost(rows: 4_096, training: dropout).bytes
        #expect(withDropout > 4 * 100 * 4_096 * 1_024 * 4)
        dropout.regularization.dropout = 0
        // Dropout adds exactly the masks and masked copies of every hidden layer.
        #expect(withDropout - deep.trainingCost(rows: 4_096, training: dropout).bytes == 2 * 4_096 * 100 * 1_024 * 4)
    }

    @Test("sizes a client chose saturate instead of overflowing")
    func saturation() throws {
        let configuration = try ModelConfiguration(layerSizes: [1 << 10, 1 << 10, 1 << 10], hiddenActivation: .relu, outputActivation: .identity, loss: .meanSquaredError)
        let cost = configuration.trainingCost(rows: Int.max / 2, training: TrainingConfiguration(epochs: Int(Int32.max)))
        #expect(cost.bytes == .max && cost.flops == .max)
    }
}
