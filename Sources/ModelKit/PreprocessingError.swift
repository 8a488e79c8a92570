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
