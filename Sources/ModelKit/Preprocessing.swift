/// How a table's columns become the numbers a network reads, learned from the training rows
/// and stored with the model so that prediction applies exactly the same steps.
///
/// - A numeric column passes its numbers through; a missing cell becomes the column's
///   training median (`fill`).
/// - A text (categorical) column is one-hot encoded over the categories seen in the training
///   rows, in sorted order. A category never seen in training encodes as all zeros (the
///   "unknown" encoding, never an error). When training rows had missing cells, a missing cell
///   has its own last one-hot slot; otherwise it encodes as unknown.
/// - With `missingValues == .refuse` a missing cell is an error instead, at training and at
///   prediction.
///
/// Feature scaling (`Normalizer`) follows on the encoded row; one-hot slots are left as 0/1.
public struct Preprocessing: Sendable, Equatable {
    /// What to do with a missing cell.
    public enum MissingValues: String, Sendable, Equatable, Codable {
        /// Median for numbers, a missing category for text.
        case impute
        /// Refuse rows with missing cells.
        case refuse
    }

    /// One input column.
    public struct Column: Sendable, Equatable {
        /// How a column is encoded.
        public enum Kind: String, Sendable, Equatable, Codable {
            /// One input, the number itself.
            case numeric
            /// One-hot over the training categories.
            case categorical
        }

        /// The column's name, when the training data named its columns.
        public let name: String?
        /// Numeric or categorical.
        public let kind: Kind
        /// Numeric columns: the value a missing cell takes (the training median; 0 when
        /// every training cell was missing).
        public let fill: Float
        /// Categorical columns: the categories in one-hot order.
        public let categories: [String]
        /// Categorical columns: whether a missing cell has its own one-hot slot, after the
        /// categories (training rows had missing cells).
        public let missingCategory: Bool
        /// Missing cells in the training rows (what `fill` or the missing slot replaced).
        public let missingCount: Int
        /// Category -> one-hot slot.
        let slots: [String: Int]

        /// Creates a column, checking that categories are unique and `fill` finite.
        public init(
            name: String?, kind: Kind, fill: Float = 0, categories: [String] = [], missingCategory: Bool = false, missingCount: Int = 0
        ) throws(PreprocessingError) {
            guard fill.isFinite else { throw .invalid(reason: "column \(name ?? "?") fill is \(fill); it must be finite") }
            guard missingCount >= 0 else { throw .invalid(reason: "column \(name ?? "?") missing_count is negative") }
            if kind == .numeric, !categories.isEmpty || missingCategory {
                throw .invalid(reason: "numeric column \(name ?? "?") has categories")
            }
            var slots: [String: Int] = [:]
            slots.reserveCapacity(categories.count)
            for (slot, category) in categories.enumerated() {
                guard slots.updateValue(slot, forKey: category) == nil else {
                    throw .invalid(reason: "column \(name ?? "?") lists category \"\(category)\" twice")
                }
            }
            self.name = name
            self.kind = kind
            self.fill = kind == .numeric ? fill : 0
            self.categories = categories
            self.missingCategory = missingCategory
            self.missingCount = missingCount
            self.slots = slots
        }

        /// Inputs this column takes in the encoded row.
        public var width: Int { kind == .numeric ? 1 : categories.count + (missingCategory ? 1 : 0) }

        public static func == (lhs: Column, rhs: Column) -> Bool {
            lhs.name == rhs.name && lhs.kind == rhs.kind && lhs.fill.bitPattern == rhs.fill.bitPattern
                && lhs.categories == rhs.categories && lhs.missingCategory == rhs.missingCategory && lhs.missingCount == rhs.missingCount
        }
    }

    /// The columns in training order.
    public let columns: [Column]
    /// Missing-cell policy.
    public let missingValues: MissingValues
    /// Where each column starts in the encoded row.
    public let offsets: [Int]
    /// Inputs of the encoded row: the network's input width.
    public let encodedWidth: Int
    /// Column name -> position, when the columns are named.
    public let positions: [String: Int]
    /// Whether any column is categorical (the encoded row is wider than the table).
    public let hasCategoricalColumns: Bool

    /// Wraps columns; names must be all present and unique, or all absent.
    public init(columns: [Column], missingValues: MissingValues) throws(PreprocessingError) {
        guard !columns.isEmpty else { throw .invalid(reason: "no columns") }
        let named = columns.filter { $0.name != nil }.count
        guard named == 0 || named == columns.count else { throw .invalid(reason: "some columns are named and some are not") }
        var positions: [String: Int] = [:]
        for (k, column) in columns.enumerated() {
            if let name = column.name, positions.updateValue(k, forKey: name) != nil {
                throw .invalid(reason: "column name \"\(name)\" appears twice")
            }
        }
        var offsets: [Int] = []
        offsets.reserveCapacity(columns.count)
        var width = 0
        for column in columns {
            offsets.append(width)
            width += column.width
        }
        self.columns = columns
        self.missingValues = missingValues
        self.offsets = offsets
        self.encodedWidth = width
        self.positions = positions
        self.hasCategoricalColumns = columns.contains { $0.kind == .categorical }
    }

    /// Column names in training order, when the columns are named.
    public var names: [String]? { columns.first?.name == nil ? nil : columns.map { $0.name! } }
    /// Categories of every column together, missing slots included.
    public var categoryCount: Int { columns.reduce(0) { $0 + ($1.kind == .categorical ? $1.width : 0) } }

    /// `name` quoted, or `column k` for an unnamed column: how errors refer to a column.
    public func label(_ column: Int) -> String {
        columns[column].name.map { "\"\($0)\"" } ?? "column \(column)"
    }

    // MARK: - Fitting

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

    // MARK: - Encoding

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

/// Why a table could not be fitted or encoded. Rows are zero-based; columns are given as
/// `Preprocessing.label(_:)` spells them (`"color"` or `column 2`).
public enum PreprocessingError: Error, Equatable, Sendable {
    /// The categories of all text columns together exceed the limit.
    case tooManyCategories(column: String, needed: Int, limit: Int)
    /// A missing cell where the policy refuses them.
    case missingRefused(row: Int, column: String)
    /// Text that is not a number in a numeric column.
    case textInNumericColumn(row: Int, column: String, text: String)
    /// A table with a different number of columns from the model's.
    case columnCountMismatch(expected: Int, got: Int)
    /// Stored preprocessing that does not hold together.
    case invalid(reason: String)
}

// MARK: - Codable (checkpoint metadata)

extension Preprocessing.Column: Codable {
    enum CodingKeys: String, CodingKey {
        case name, kind, fill, categories
        case missingCategory = "missing_category", missingCount = "missing_count"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(Kind.self, forKey: .kind)
        do {
            try self.init(
                name: try container.decodeIfPresent(String.self, forKey: .name), kind: kind,
                fill: try container.decodeIfPresent(Float.self, forKey: .fill) ?? 0,
                categories: try container.decodeIfPresent([String].self, forKey: .categories) ?? [],
                missingCategory: try container.decodeIfPresent(Bool.self, forKey: .missingCategory) ?? false,
                missingCount: try container.decodeIfPresent(Int.self, forKey: .missingCount) ?? 0)
        } catch let error as PreprocessingError {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        switch kind {
        case .numeric:
            try container.encode(fill, forKey: .fill)
        case .categorical:
            try container.encode(categories, forKey: .categories)
            try container.encode(missingCategory, forKey: .missingCategory)
        }
        try container.encode(missingCount, forKey: .missingCount)
    }
}

extension Preprocessing: Codable {
    enum CodingKeys: String, CodingKey {
        case columns
        case missingValues = "missing_values"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                columns: try container.decode([Column].self, forKey: .columns),
                missingValues: try container.decode(MissingValues.self, forKey: .missingValues))
        } catch let error as PreprocessingError {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(columns, forKey: .columns)
        try container.encode(missingValues, forKey: .missingValues)
    }
}
