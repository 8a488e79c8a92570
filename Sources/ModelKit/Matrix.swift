/// A dense, row-major matrix of `Float`.
///
/// Element `(r, c)` lives at `values[r * columns + c]`, so one row is a contiguous run of
/// `columns` floats: the layout `cblas_sgemm` reads with `CblasRowMajor` and leading
/// dimension `columns`.
public struct Matrix: Sendable, Equatable, Codable {
    /// Number of rows.
    public let rows: Int
    /// Number of columns.
    public let columns: Int
    /// The elements, row after row (`rows * columns` of them).
    public private(set) var values: [Float]

    /// Creates a matrix with every element set to `value`.
    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        precondition(rows >= 0 && columns >= 0, "matrix dimensions must not be negative")
        self.rows = rows
        self.columns = columns
        self.values = [Float](repeating: value, count: rows * columns)
    }

    /// Wraps row-major `values`; a count that does not match the shape is a `DataError`.
    public init(rows: Int, columns: Int, values: [Float]) throws(DataError) {
        guard rows >= 0, columns >= 0, rows.multipliedReportingOverflow(by: columns) == (values.count, false) else {
            throw .shapeMismatch(expectedRows: rows, expectedColumns: columns, valueCount: values.count)
        }
        self.rows = rows
        self.columns = columns
        self.values = values
    }

    /// Builds a matrix from nested rows; ragged rows and an empty list are `DataError`s.
    ///
    /// Values are not checked for finiteness here: `Dataset` does that, because only it knows
    /// whether the matrix holds inputs or targets.
    public init(_ nestedRows: [[Float]]) throws(DataError) {
        guard let first = nestedRows.first, !first.isEmpty else { throw .empty }
        var flat = [Float]()
        flat.reserveCapacity(nestedRows.count * first.count)
        for (index, row) in nestedRows.enumerated() {
            guard row.count == first.count else {
                throw .raggedRow(row: index, expectedColumns: first.count, columns: row.count)
            }
            flat.append(contentsOf: row)
        }
        self.rows = nestedRows.count
        self.columns = first.count
        self.values = flat
    }

    /// The element at row `row`, column `column`.
    public subscript(row: Int, column: Int) -> Float {
        get {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "matrix index out of range")
            return values[row * columns + column]
        }
        set {
            precondition(row >= 0 && row < rows && column >= 0 && column < columns, "matrix index out of range")
            values[row * columns + column] = newValue
        }
    }

    /// A copy of one row.
    public func row(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < rows, "row index out of range")
        return Array(values[index * columns ..< (index + 1) * columns])
    }

    /// The rows as nested arrays (for JSON and tests; the training path never uses this).
    public var nestedRows: [[Float]] {
        (0 ..< rows).map(row)
    }

    /// A new matrix holding the rows at `indices`, in that order.
    public func gatheringRows(_ indices: some Collection<Int>) -> Matrix {
        var result = Matrix(rows: indices.count, columns: columns)
        values.withUnsafeBufferPointer { source in
            result.values.withUnsafeMutableBufferPointer { destination in
                for (offset, index) in indices.enumerated() {
                    precondition(index >= 0 && index < rows, "row index out of range")
                    for column in 0 ..< columns {
                        destination[offset * columns + column] = source[index * columns + column]
                    }
                }
            }
        }
        return result
    }

    /// Calls `body` with the elements as a read-only buffer.
    public func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Float>) throws(E) -> R) throws(E) -> R {
        try values.withUnsafeBufferPointer { (buffer) throws(E) -> R in try body(buffer) }
    }

    /// Calls `body` with the elements as a mutable buffer.
    public mutating func withUnsafeMutableBufferPointer<R, E: Error>(
        _ body: (inout UnsafeMutableBufferPointer<Float>) throws(E) -> R
    ) throws(E) -> R {
        try values.withUnsafeMutableBufferPointer { (buffer) throws(E) -> R in try body(&buffer) }
    }
}
