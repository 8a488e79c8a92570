@testable import ModelKit

/// Deterministic pseudo-random matrices for tests.
func randomMatrix(rows: Int, columns: Int, seed: UInt64, scale: Float = 1) -> Matrix {
    var generator = RandomGenerator(seed: seed)
    var matrix = Matrix(rows: rows, columns: columns)
    for r in 0 ..< rows {
        for c in 0 ..< columns {
            matrix[r, c] = (2 * generator.nextUnitFloat() - 1) * scale
        }
    }
    return matrix
}

/// One-hot rows for the given class labels.
func oneHot(_ labels: [Int], classCount: Int) -> Matrix {
    var matrix = Matrix(rows: labels.count, columns: classCount)
    for (row, label) in labels.enumerated() { matrix[row, label] = 1 }
    return matrix
}

/// The flat parameters of a trainer, copied out.
func parameters(of trainer: Trainer) -> [Float] {
    trainer.model.parameters
}

/// Sets every gradient of `trainer` to `values`.
func setGradients(_ trainer: Trainer, _ values: [Float]) {
    precondition(values.count == trainer.parameterCount)
    values.withUnsafeBufferPointer { trainer.gradients.update(from: $0.baseAddress!, count: values.count) }
}
