/// A validated model name: 1 to 64 characters of `[A-Za-z0-9._-]`, not starting with `.`.
///
/// The rule keeps every name a single safe path component: no separators, no `..`, and no
/// collision with the hidden temporary and trash entries the store itself creates.
public struct ModelName: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The name as given.
    public let rawValue: String

    /// Longest accepted name, in characters.
    public static let maxLength = 64

    /// Validates `value`.
    public init(_ value: String) throws(StorageError) {
        if let reason = Self.problem(with: value) { throw .invalidModelName(value, reason: reason) }
        rawValue = value
    }

    /// Why `value` is not a valid name, or nil if it is.
    public static func problem(with value: String) -> String? {
        let bytes = value.utf8
        if bytes.isEmpty { return "must not be empty" }
        if bytes.count > maxLength { return "must be at most \(maxLength) characters, got \(bytes.count)" }
        if bytes.first == UInt8(ascii: ".") { return "must not start with '.'" }
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                continue
            default:
                return "may contain only A-Z, a-z, 0-9, '.', '_' and '-'"
            }
        }
        return nil
    }

    /// The name itself.
    public var description: String { rawValue }

    /// Orders names by their raw value.
    public static func < (lhs: ModelName, rhs: ModelName) -> Bool { lhs.rawValue < rhs.rawValue }
}
