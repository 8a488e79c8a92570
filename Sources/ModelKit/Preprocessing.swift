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
///
/// Fitting is in `Preprocessing+Fitting.swift`, encoding in `Preprocessing+Encoding.swift`, the
/// checkpoint form in `Preprocessing+Codable.swift`.
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
}
