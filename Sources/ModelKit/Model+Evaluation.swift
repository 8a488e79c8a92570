/// A model's quality on a labelled data set.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss under the model's own loss function.
    public var loss: Double
    /// Regression metrics (regression models only).
    public var regression: RegressionMetrics?
    /// Classification metrics (softmax models, and sigmoid models with one output).
    public var classification: ClassificationMetrics?
}

extension Model {
    /// Evaluates the model on `dataset` (raw inputs and targets; the model's normalizer is
    /// applied). Loss and metrics are in the targets' own units, also for a model trained on
    /// standardized targets.
    public func evaluate(_ dataset: Dataset) throws(DataError) -> Evaluation {
        guard dataset.featureCount == configuration.inputCount else {
            throw .featureCountMismatch(expected: configuration.inputCount, got: dataset.featureCount)
        }
        guard dataset.targets.columns == configuration.outputCount else {
            throw .targetCountMismatch(expected: configuration.outputCount, got: dataset.targets.columns)
        }
        let rows = dataset.count
        var outputs = Matrix(rows: rows, columns: configuration.outputCount)
        let chunk = min(rows, Self.predictionChunkRows)
        let width = layout.maxWidth
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 2 * chunk * width)
        defer { scratch.deallocate() }
        var lossSum: Double = 0
        let outputCount = configuration.outputCount
        let output = configuration.outputActivation
        dataset.inputs.withUnsafeBufferPointer { source in
            dataset.targets.withUnsafeBufferPointer { targets in
                outputs.withUnsafeMutableBufferPointer { destination in
                    var start = 0
                    while start < rows {
                        let count = min(chunk, rows - start)
                        let logits = destination.baseAddress! + start * outputCount
                        forward(source.baseAddress! + start * dataset.featureCount, rows: count, into: logits,
                                scratch: scratch, scratchStride: chunk * width, activateOutput: false)
                        lossSum += lossAndGradient(
                            logits: logits, targets: targets.baseAddress! + start * outputCount, gradient: nil,
                            rows: count, outputs: outputCount, loss: configuration.loss, outputActivation: output)
                        for r in 0 ..< count {
                            activateInPlace(logits + r * outputCount, count: outputCount, activation: output, slope: 0)
                        }
                        start += count
                    }
                }
            }
        }
        var evaluation = Evaluation(loss: lossSum / Double(rows), regression: nil, classification: nil)
        switch configuration.task {
        case .regression:
            evaluation.regression = RegressionMetrics(predicted: outputs, expected: dataset.targets)
        case .classification where output == .softmax || outputCount == 1:
            let classCount = max(outputCount, 2)
            let expected = outputCount == 1 ? Self.classes(of: dataset.targets) : dataset.classLabels
            evaluation.classification = ClassificationMetrics(
                predicted: Self.classes(of: outputs), expected: expected, classCount: classCount)
        case .classification:
            // Multi-label sigmoid outputs have no single predicted class per row.
            break
        }
        return evaluation
    }
}
