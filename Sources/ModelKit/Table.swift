/// A table as a client sent it, before preprocessing: named (or positional) columns whose
/// cells are numbers, text or missing. Column-major, so each column's kind is decided once.
///
/// Numbers that appear in a text column are kept as their shortest spelling (`Table.text(for:)`),
/// so `1`, `1.0` and `"1"` are one category whether they came from CSV or JSON.
public struct Table: Sendable, Equatable {
    /// One input column.
    public enum Column: Sendable, Equatable {
        /// Only numbers and missing cells; NaN marks a missing cell.
        case numeric([Float])
        /// At least one text cell; nil marks a missing cell.
        case text([String?])

        /// Number of cells.
        public var count: Int {
            switch self {
            case .numeric(let values): values.count
            case .text(let values): values.count
            }
        }
    }

    /// Column names (a CSV header, the keys of JSON objects), or nil for positional columns.
    public var names: [String]?
    /// The columns, all of `rows` cells.
    public var columns: [Column]
    /// Number of rows.
    public var rows: Int

    /// Wraps columns of equal length.
    public init(names: [String]?, columns: [Column]) {
        precondition(names == nil || names!.count == columns.count, "one name per column")
        self.names = names
        self.columns = columns
        self.rows = columns.first?.count ?? 0
        precondition(columns.allSatisfy { $0.count == rows }, "columns of equal length")
    }

    /// Whether any cell is text or missing, i.e. whether the table needs more than a plain
    /// numeric matrix.
    public var needsEncoding: Bool {
        columns.contains { column in
            switch column {
            case .text: true
            case .numeric(let values): values.contains { $0.isNaN }
            }
        }
    }

    /// The category spelling of a number found in a text column: an integer without a
    /// fraction (`3`), otherwise Swift's shortest round-tripping form (`1.5`).
    public static func text(for number: Float) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return String(number)
    }
}

/// Builds a `Table` cell by cell and column by column, switching a column to text the first
/// time it sees a text cell (its earlier numbers become their category spelling).
public struct TableBuilder: Sendable {
    /// One cell as read.
    public enum Cell: Sendable, Equatable {
        case number(Float)
        case text(String)
        case missing
    }

    private var numbers: [[Float]] = []
    private var texts: [[String?]?] = []
    /// Cells in each column so far.
    public private(set) var counts: [Int] = []

    /// An empty builder of `columns` columns.
    public init(columns: Int) {
        numbers = Array(repeating: [], count: columns)
        texts = Array(repeating: nil, count: columns)
        counts = Array(repeating: 0, count: columns)
    }

    /// Number of columns.
    public var columnCount: Int { numbers.count }

    /// Adds a column holding `rows` missing cells (a key first seen after `rows` rows).
    public mutating func addColumn(missingRows rows: Int) {
        numbers.append(Array(repeating: .nan, count: rows))
        texts.append(nil)
        counts.append(rows)
    }

    /// Appends one cell to `column`.
    public mutating func append(_ cell: Cell, to column: Int) {
        counts[column] += 1
        if texts[column] != nil {
            switch cell {
            case .number(let value): texts[column]!.append(Table.text(for: value))
            case .text(let value): texts[column]!.append(value)
            case .missing: texts[column]!.append(nil)
            }
            return
        }
        switch cell {
        case .number(let value): numbers[column].append(value)
        case .missing: numbers[column].append(.nan)
        case .text(let value):
            var converted = numbers[column].map { $0.isNaN ? nil : Table.text(for: $0) }
            converted.append(value)
            texts[column] = converted
            numbers[column] = []
        }
    }

    /// The table; `names` must have one name per column when given.
    public func table(names: [String]?) -> Table {
        let columns = (0 ..< numbers.count).map { k in texts[k].map(Table.Column.text) ?? .numeric(numbers[k]) }
        return Table(names: names, columns: columns)
    }
}
