extension Preprocessing {
    /// Writes `cell` of `column` into `row`, the encoded row (`encodedWidth` values, zeroed
    /// beforehand). `rowIndex` only names the row in an error.
    @inline(__always)
    public func encode(_ cell: TableBuilder.Cell, column: Int, rowIndex: Int, into row: UnsafeMutableBufferPointer<Float>) throws(PreprocessingError) {
        let spec = columns[column]
        let base = offsets[column]
        switch spec.kind {
        case .numeric:
            switch cell {
            case .number(let value): row[base] = value
            case .missing:
                guard missingValues == .impute else { throw .missingRefused(row: rowIndex, column: label(column)) }
                row[base] = spec.fill
            case .text(let text):
                // CSV-trained columns read numbers from text; accept the same spelling here.
                if text.isEmpty {
                    try encode(.missing, column: column, rowIndex: rowIndex, into: row)
                } else if let value = Float(text), value.isFinite {
                    row[base] = value
                } else {
                    throw .textInNumericColumn(row: rowIndex, column: label(column), text: text)
                }
            }
        case .categorical:
            let category: String
            switch cell {
            case .number(let value): category = Table.text(for: value)
            case .text(let text):
                if text.isEmpty {
                    try encode(.missing, column: column, rowIndex: rowIndex, into: row)
                    return
                }
                if let value = Float(text), value.isFinite { category = Table.text(for: value) } else { category = text }
            case .missing:
                guard missingValues == .impute else { throw .missingRefused(row: rowIndex, column: label(column)) }
                if spec.missingCategory { row[base + spec.categories.count] = 1 }
                return
            }
            // An unseen category leaves every slot at zero.
            if let slot = spec.slots[category] { row[base + slot] = 1 }
        }
    }

    /// Encodes every row of `table`, whose columns are in training order, into a matrix of
    /// `encodedWidth` columns.
    public func encode(_ table: Table) throws(PreprocessingError) -> Matrix {
        guard table.columns.count == columns.count else {
            throw .columnCountMismatch(expected: columns.count, got: table.columns.count)
        }
        var matrix = Matrix(rows: table.rows, columns: encodedWidth)
        let width = encodedWidth
        let rows = table.rows
        try matrix.withUnsafeMutableBufferPointer { (values) throws(PreprocessingError) in
            for (k, data) in table.columns.enumerated() {
                for row in 0 ..< rows {
                    let cell: TableBuilder.Cell
                    switch data {
                    case .numeric(let numbers): cell = numbers[row].isNaN ? .missing : .number(numbers[row])
                    case .text(let texts): cell = texts[row].map(TableBuilder.Cell.text) ?? .missing
                    }
                    let slice = UnsafeMutableBufferPointer(rebasing: values[row * width ..< (row + 1) * width])
                    try encode(cell, column: k, rowIndex: row, into: slice)
                }
            }
        }
        return matrix
    }

    /// A normalizer of `kind` fitted on encoded rows, with the one-hot slots left as they are
    /// (mean 0 and deviation 1, or minimum 0 and range 1), so a category reads as 0 or 1.
    public func normalizer(_ kind: Normalizer.Kind, fittedOn encoded: Matrix) -> Normalizer {
        let fitted = Normalizer.fit(kind, on: encoded)
        var oneHot: [Int] = []
        for (k, column) in columns.enumerated() where column.kind == .categorical {
            oneHot.append(contentsOf: offsets[k] ..< offsets[k] + column.width)
        }
        switch fitted {
        case .none:
            return .none
        case .standard(let standardizer):
            var mean = standardizer.mean
            var deviation = standardizer.standardDeviation
            for slot in oneHot {
                mean[slot] = 0
                deviation[slot] = 1
            }
            return (try? Standardizer(mean: mean, standardDeviation: deviation)).map(Normalizer.standard) ?? fitted
        case .minMax(let scaler):
            var minimum = scaler.minimum
            var range = scaler.range
            for slot in oneHot {
                minimum[slot] = 0
                range[slot] = 1
            }
            return (try? MinMaxScaler(minimum: minimum, range: range)).map(Normalizer.minMax) ?? fitted
        }
    }
}
