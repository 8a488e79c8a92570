extension Preprocessing {
    /// Learns the encoding of `table` from the rows `trainingRows` (all rows when nil): medians,
    /// categories and whether missing cells occur. With `.refuse`, a missing cell in any row is
    /// an error. Categories are counted as they are found, against `maxCategories` for all
    /// columns together, before any encoded row exists.
    public static func fit(
        _ table: Table, trainingRows: [Int]?, missingValues: MissingValues, maxCategories: Int
    ) throws(PreprocessingError) -> Preprocessing {
        var columns: [Column] = []
        columns.reserveCapacity(table.columns.count)
        var categoriesSoFar = 0
        for (k, data) in table.columns.enumerated() {
            let name = table.names?[k]
            let label = name.map { "\"\($0)\"" } ?? "column \(k)"
            switch data {
            case .numeric(let values):
                if missingValues == .refuse, let row = values.firstIndex(where: \.isNaN) {
                    throw .missingRefused(row: row, column: label)
                }
                var present: [Float] = []
                present.reserveCapacity(trainingRows?.count ?? values.count)
                if let trainingRows {
                    for row in trainingRows where !values[row].isNaN { present.append(values[row]) }
                } else {
                    for value in values where !value.isNaN { present.append(value) }
                }
                let missing = (trainingRows?.count ?? values.count) - present.count
                columns.append(try Column(name: name, kind: .numeric, fill: median(&present), missingCount: missing))
            case .text(let values):
                if missingValues == .refuse, let row = values.firstIndex(where: { $0 == nil }) {
                    throw .missingRefused(row: row, column: label)
                }
                var seen = Set<String>()
                var missing = 0
                func visit(_ value: String?) throws(PreprocessingError) {
                    guard let value else {
                        missing += 1
                        return
                    }
                    if seen.insert(value).inserted, categoriesSoFar + seen.count > maxCategories {
                        throw .tooManyCategories(column: label, needed: categoriesSoFar + seen.count, limit: maxCategories)
                    }
                }
                if let trainingRows {
                    for row in trainingRows { try visit(values[row]) }
                } else {
                    for value in values { try visit(value) }
                }
                let hasMissingSlot = missing > 0
                if hasMissingSlot, categoriesSoFar + seen.count + 1 > maxCategories {
                    throw .tooManyCategories(column: label, needed: categoriesSoFar + seen.count + 1, limit: maxCategories)
                }
                let column = try Column(
                    name: name, kind: .categorical, categories: seen.sorted(), missingCategory: hasMissingSlot, missingCount: missing)
                categoriesSoFar += column.width
                columns.append(column)
            }
        }
        return try Preprocessing(columns: columns, missingValues: missingValues)
    }

    /// The preprocessing of an all-numeric matrix with named columns: the numbers pass
    /// through, and each column's training median is kept for missing cells at prediction.
    public static func numeric(
        names: [String], inputs: Matrix, trainingRows: [Int]?, missingValues: MissingValues
    ) throws(PreprocessingError) -> Preprocessing {
        precondition(names.count == inputs.columns, "one name per column")
        var scratch = [Float](repeating: 0, count: trainingRows?.count ?? inputs.rows)
        var columns: [Column] = []
        columns.reserveCapacity(names.count)
        inputs.withUnsafeBufferPointer { values in
            for (k, name) in names.enumerated() {
                if let trainingRows {
                    for (n, row) in trainingRows.enumerated() { scratch[n] = values[row * inputs.columns + k] }
                } else {
                    for row in 0 ..< inputs.rows { scratch[row] = values[row * inputs.columns + k] }
                }
                // Finite by construction (the parser refused anything else), so init cannot throw.
                columns.append(try! Column(name: name, kind: .numeric, fill: median(&scratch)))
            }
        }
        return try Preprocessing(columns: columns, missingValues: missingValues)
    }

    /// The median of `values` (the mean of the two middle values for an even count; 0 for
    /// none), by quickselect: linear on average, and `values` is reordered.
    static func median(_ values: inout [Float]) -> Float {
        let count = values.count
        guard count > 0 else { return 0 }
        return values.withUnsafeMutableBufferPointer { buffer in
            let upper = select(buffer, count / 2)
            guard count % 2 == 0 else { return upper }
            // After selecting k, everything before k is <= it: the lower middle is their maximum.
            var lower = buffer[0]
            for index in 1 ..< count / 2 where buffer[index] > lower { lower = buffer[index] }
            return Float((Double(lower) + Double(upper)) / 2)
        }
    }

    /// Reorders `buffer` so that position `k` holds the k-th smallest value, with no larger
    /// value before it, and returns that value (Hoare partitioning, median-of-three pivots).
    private static func select(_ buffer: UnsafeMutableBufferPointer<Float>, _ k: Int) -> Float {
        var low = 0
        var high = buffer.count - 1
        while high > low {
            let middle = low + (high - low) / 2
            // Median of three as the pivot keeps sorted and reversed columns linear.
            if buffer[middle] < buffer[low] { buffer.swapAt(middle, low) }
            if buffer[high] < buffer[low] { buffer.swapAt(high, low) }
            if buffer[high] < buffer[middle] { buffer.swapAt(high, middle) }
            let pivot = buffer[middle]
            var i = low
            var j = high
            while i <= j {
                while buffer[i] < pivot { i += 1 }
                while buffer[j] > pivot { j -= 1 }
                if i <= j {
                    buffer.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                break
            }
        }
        return buffer[k]
    }
}
