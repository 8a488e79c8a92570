/// How a model turns its columns into inputs: each column's kind, the categories it one-hot
/// encodes (the first `shownCategories`), the value imputed for a missing cell, and the scaler
/// applied to a numeric column afterwards.
public struct PreprocessingView: Codable, Sendable, Equatable {
    /// One input column.
    public struct Column: Codable, Sendable, Equatable {
        /// The column's name (a CSV header cell or a JSON key); nil for unnamed columns.
        public var name: String?
        /// `numeric` or `categorical`.
        public var kind: String
        /// `[first, end)` of the column in the encoded input row.
        public var inputs: [Int]
        /// The value a missing numeric cell is replaced with.
        public var imputed: Float?
        /// The first `shownCategories` categories, in encoding order.
        public var categories: [String]?
        /// How many categories the column encodes.
        public var categoryCount: Int?
        /// Whether a missing cell has a category of its own.
        public var missingCategory: Bool?
        /// Missing cells seen in training.
        public var missingCount: Int
        /// The scaler applied after imputation (numeric columns).
        public var scaler: Scaler?

        enum CodingKeys: String, CodingKey {
            case name, kind, inputs, imputed, categories, scaler
            case categoryCount = "category_count", missingCategory = "missing_category", missingCount = "missing_count"
        }

        /// A column from its fields.
        public init(
            name: String?, kind: String, inputs: [Int], imputed: Float? = nil, categories: [String]? = nil,
            categoryCount: Int? = nil, missingCategory: Bool? = nil, missingCount: Int, scaler: Scaler? = nil
        ) {
            self.name = name
            self.kind = kind
            self.inputs = inputs
            self.imputed = imputed
            self.categories = categories
            self.categoryCount = categoryCount
            self.missingCategory = missingCategory
            self.missingCount = missingCount
            self.scaler = scaler
        }
    }

    /// `standard`: `(x - mean) / std`; `min_max`: `(x - min) / range`.
    public struct Scaler: Codable, Sendable, Equatable {
        /// `standard` or `min_max`.
        public var kind: String
        /// Standard: the mean subtracted.
        public var mean: Float?
        /// Standard: the deviation divided by.
        public var std: Float?
        /// Min-max: the minimum subtracted.
        public var min: Float?
        /// Min-max: the range divided by.
        public var range: Float?

        /// A scaler from its fields.
        public init(kind: String, mean: Float? = nil, std: Float? = nil, min: Float? = nil, range: Float? = nil) {
            self.kind = kind
            self.mean = mean
            self.std = std
            self.min = min
            self.range = range
        }
    }

    /// Categories listed per column; `category_count` tells how many there are.
    public static let shownCategories = 20

    /// `impute` or `refuse`.
    public var missingValues: String
    /// Width of an encoded input row.
    public var encodedWidth: Int
    /// The input columns, in order.
    public var columns: [Column]

    enum CodingKeys: String, CodingKey {
        case columns
        case missingValues = "missing_values", encodedWidth = "encoded_width"
    }

    /// A view from its fields.
    public init(missingValues: String, encodedWidth: Int, columns: [Column]) {
        self.missingValues = missingValues
        self.encodedWidth = encodedWidth
        self.columns = columns
    }
}
