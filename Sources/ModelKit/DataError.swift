/// Why a matrix or dataset was rejected. Rows and columns are zero-based.
public enum DataError: Error, Equatable, Sendable {
    /// The data has no rows or no columns.
    case empty
    /// A row has a different number of columns from the first row.
    case raggedRow(row: Int, expectedColumns: Int, columns: Int)
    /// A flat value array does not fill the declared shape.
    case shapeMismatch(expectedRows: Int, expectedColumns: Int, valueCount: Int)
    /// An input value is NaN or infinite.
    case nonFiniteInput(row: Int, column: Int, value: Float)
    /// A target value is NaN or infinite.
    case nonFiniteTarget(row: Int, column: Int, value: Float)
    /// Inputs and targets have different numbers of rows.
    case rowCountMismatch(inputs: Int, targets: Int)
    /// The data has a different number of feature columns from the model.
    case featureCountMismatch(expected: Int, got: Int)
    /// The targets have a different number of columns from the model's outputs.
    case targetCountMismatch(expected: Int, got: Int)
    /// A class label is outside `0..<classCount`.
    case classLabelOutOfRange(row: Int, label: Int, classCount: Int)
    /// A target of a binary cross-entropy model is outside [0, 1].
    case targetOutsideUnitInterval(row: Int, column: Int, value: Float)
    /// A validation fraction is outside (0, 1) or leaves one side without rows.
    case invalidSplit(fraction: Double, rows: Int)
}
