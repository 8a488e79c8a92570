/// A JSON value of a configuration file, or a value parsed from an environment variable or a flag.
public enum ConfigurationValue: Sendable, Equatable, Decodable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// An integral number.
    case int(Int)
    /// A number with a fraction or exponent.
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([ConfigurationValue])
    /// An object (a section of the file).
    case object([String: ConfigurationValue])

    /// Decodes any JSON value. Bool is tried before the numbers so `true` never reads as 1.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([ConfigurationValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: ConfigurationValue].self))
        }
    }

    /// The JSON type name, for error messages ("a string \"abc\"").
    var summary: String {
        switch self {
        case .null: "null"
        case .bool(let value): "boolean \(value)"
        case .int(let value): "integer \(value)"
        case .number(let value): "number \(value)"
        case .string(let value): "string \"\(value)\""
        case .array: "an array"
        case .object: "an object"
        }
    }

    /// The value as JSON text (single line; objects with sorted keys).
    public var json: String {
        switch self {
        case .null: "null"
        case .bool(let value): value ? "true" : "false"
        case .int(let value): String(value)
        case .number(let value): value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .string(let value): Self.quote(value)
        case .array(let values): "[" + values.map(\.json).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.keys.sorted().map { "\(Self.quote($0)): \(members[$0]!.json)" }.joined(separator: ", ") + "}"
        }
    }

    /// A JSON string literal with the escapes RFC 8259 requires.
    static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
