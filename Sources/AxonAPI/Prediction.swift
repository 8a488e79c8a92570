/// One table cell of a prediction row (docs/preprocessing.md): a number, text (a category) or
/// missing (`null`).
public enum TableCell: Codable, Sendable, Equatable {
    /// A number; it must be finite (JSON has no NaN or Infinity).
    case number(Double)
    /// A category.
    case text(String)
    /// A missing value, imputed or refused as the model's `missing_values` says.
    case missing

    /// Encodes the cell as a JSON number, string or null.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        case .missing: try container.encodeNil()
        }
    }

    /// Decodes a JSON number, string or null (a boolean reads as the text `true` or `false`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .missing
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(Bool.self) {
            self = .text(value ? "true" : "false")
        } else {
            self = .text(try container.decode(String.self))
        }
    }
}

/// The body of `POST /predict`: rows in training column order, or objects keyed by column name
/// (for a model trained from a CSV header or JSON objects).
public struct PredictRequest: Encodable, Sendable, Equatable {
    /// The rows to predict.
    public enum Inputs: Encodable, Sendable, Equatable {
        /// Rows of cells in training column order.
        case rows([[TableCell]])
        /// Rows keyed by column name, every column present.
        case objects([[String: TableCell]])

        /// Encodes the rows as a JSON array.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .rows(let rows): try container.encode(rows)
            case .objects(let rows): try container.encode(rows)
            }
        }
    }

    /// The model's name.
    public var model: String
    /// A retained version; the serving one when nil.
    public var version: UInt64?
    /// The rows.
    public var inputs: Inputs

    /// A request for `inputs` on `model`.
    public init(model: String, version: UInt64? = nil, inputs: Inputs) {
        self.model = model
        self.version = version
        self.inputs = inputs
    }
}

/// The answer of `POST /predict`. The server writes it by hand, straight into one buffer (the
/// hot path, `PredictRoutes.predictAnswer`); this is its shape for clients.
public struct PredictResponse: Codable, Sendable, Equatable {
    /// The model that answered.
    public var model: String
    /// The version that answered.
    public var version: UInt64
    /// One row of outputs per input row (a classifier's probabilities or a regressor's values).
    public var outputs: [[Double]]
    /// A classifier's best class index per row.
    public var classes: [Int]?
    /// A classifier's best class name per row.
    public var labels: [String]?
    /// A classifier's probability per class per row (a single sigmoid output becomes two).
    public var probabilities: [[Double]]?

    /// An answer from its fields.
    public init(
        model: String, version: UInt64, outputs: [[Double]], classes: [Int]? = nil, labels: [String]? = nil, probabilities: [[Double]]? = nil
    ) {
        self.model = model
        self.version = version
        self.outputs = outputs
        self.classes = classes
        self.labels = labels
        self.probabilities = probabilities
    }
}
