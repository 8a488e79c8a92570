/// Inputs and targets for training or evaluation, validated on construction.
///
/// Every value is finite and `inputs.rows == targets.rows > 0`. Classification targets are
/// stored one-hot (one column per class) so that the fused softmax cross-entropy gradient is a
/// plain subtraction; `init(inputs:classLabels:classCount:)` builds them from label indices.
public struct Dataset: Sendable, Equatable {
    /// One row per sample, one column per feature.
    public let inputs: Matrix
    /// One row per sample, one column per model output.
    public let targets: Matrix

    /// Number of samples.
    public var count: Int { inputs.rows }
    /// Number of input features.
    public var featureCount: Int { inputs.columns }

    /// Validates and wraps matrices of inputs and targets.
    public init(inputs: Matrix, targets: Matrix) throws(DataError) {
        guard inputs.rows > 0, inputs.columns > 0, targets.columns > 0 else { throw .empty }
        guard inputs.rows == targets.rows else {
            throw .rowCountMismatch(inputs: inputs.rows, targets: targets.rows)
        }
        try Self.checkFinite(inputs, nonFinite: DataError.nonFiniteInput)
        try Self.checkFinite(targets, nonFinite: DataError.nonFiniteTarget)
        self.inputs = inputs
        self.targets = targets
    }

    /// Validates nested rows of inputs and targets (ragged rows are rejected with their index).
    public init(inputs: [[Float]], targets: [[Float]]) throws(DataError) {
        try self.init(inputs: Matrix(inputs), targets: Matrix(targets))
    }

    /// Builds a classification dataset from class indices, one-hot encoding the targets.
    public init(inputs: Matrix, classLabels: [Int], classCount: Int) throws(DataError) {
        guard classCount > 0, !classLabels.isEmpty else { throw .empty }
        guard inputs.rows == classLabels.count else {
            throw .rowCountMismatch(inputs: inputs.rows, targets: classLabels.count)
        }
        var oneHot = Matrix(rows: classLabels.count, columns: classCount)
        for (row, label) in classLabels.enumerated() {
            guard label >= 0, label < classCount else {
                throw .classLabelOutOfRange(row: row, label: label, classCount: classCount)
            }
            oneHot[row, label] = 1
        }
        try self.init(inputs: inputs, targets: oneHot)
    }

    /// The class index of each row: the argmax of its one-hot (or probability) target row.
    public var classLabels: [Int] {
        targets.withUnsafeBufferPointer { values in
            (0 ..< targets.rows).map { row in
                argmax(values.baseAddress! + row * targets.columns, count: targets.columns)
            }
        }
    }

    /// A copy with the rows in a seeded random order.
    public func shuffled(seed: UInt64) -> Dataset {
        var generator = RandomGenerator(seed: seed)
        var order = Array(0 ..< count)
        generator.shuffle(&order)
        return rows(order)
    }

    /// Splits off the last `validationFraction` of a seeded shuffle as a validation set.
    ///
    /// Both sides must keep at least one row.
    public func split(validationFraction: Double, seed: UInt64) throws(DataError) -> (training: Dataset, validation: Dataset) {
        let order = try Self.splitOrder(count: count, validationFraction: validationFraction, seed: seed)
        return (rows(order.training), rows(order.validation))
    }

    /// The row indices `split(validationFraction:seed:)` puts on each side, so preprocessing
    /// can be fitted on exactly the training rows before the dataset exists.
    public static func splitOrder(
        count: Int, validationFraction: Double, seed: UInt64
    ) throws(DataError) -> (training: ArraySlice<Int>, validation: ArraySlice<Int>) {
        let validationCount = Int((Double(count) * validationFraction).rounded())
        guard validationFraction > 0, validationFraction < 1, validationCount >= 1, validationCount < count else {
            throw .invalidSplit(fraction: validationFraction, rows: count)
        }
        var generator = RandomGenerator(seed: seed)
        var order = Array(0 ..< count)
        generator.shuffle(&order)
        let trainingCount = count - validationCount
        return (order[..<trainingCount], order[trainingCount...])
    }

    /// The samples at `indices`, in that order. Indices must be in range.
    public func rows(_ indices: some Collection<Int>) -> Dataset {
        Dataset(unchecked: inputs.gatheringRows(indices), targets: targets.gatheringRows(indices))
    }

    /// Wraps matrices already known to be valid (subsets and transforms of a valid dataset).
    init(unchecked inputs: Matrix, targets: Matrix) {
        self.inputs = inputs
        self.targets = targets
    }

    private static func checkFinite(
        _ matrix: Matrix, nonFinite: (Int, Int, Float) -> DataError
    ) throws(DataError) {
        let columns = matrix.columns
        let firstBad: Int? = matrix.withUnsafeBufferPointer { values in
            values.firstIndex { !$0.isFinite }
        }
        if let index = firstBad {
            throw nonFinite(index / columns, index % columns, matrix.values[index])
        }
    }
}

/// Index of the largest of `count` floats at `values` (the first one on ties).
@inline(__always)
func argmax(_ values: UnsafePointer<Float>, count: Int) -> Int {
    var best = 0
    var bestValue = values[0]
    for index in 1 ..< max(count, 1) where values[index] > bestValue {
        best = index
        bestValue = values[index]
    }
    return best
}
