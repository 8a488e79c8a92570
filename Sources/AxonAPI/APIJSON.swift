import Foundation

/// The API's JSON conventions in one place: the server writes sorted keys without escaped
/// slashes (stable bytes for clients and tests), and clients read with the same rules.
public enum APIJSON {
    /// Encodes `value` as the server writes it.
    public static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }

    /// Decodes `type` from a response body.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
