/// Why a configuration cannot be used. Every case names the key (dotted, as in the file) and
/// where the bad value came from, so the message says exactly what to fix.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// The file could not be read.
    case unreadableFile(path: String, reason: String)
    /// The file is not valid JSON, or its top level is not an object.
    case malformedFile(path: String, reason: String)
    /// A key no setting has; `suggestion` is the closest known key, if one is close.
    case unknownKey(String, source: String, suggestion: String?)
    /// The value has the wrong JSON type (or does not parse as one, for environment and flags).
    case wrongType(key: String, expected: String, got: String, source: String)
    /// The value has the right type but lies outside what the key allows.
    case outOfRange(key: String, value: String, allowed: String, source: String)
    /// The value conflicts with another key, or is unusable for another reason.
    case invalid(key: String, reason: String)

    /// The key the error is about (nil for whole-file errors).
    public var key: String? {
        switch self {
        case .unreadableFile, .malformedFile: nil
        case .unknownKey(let key, _, _): key
        case .wrongType(let key, _, _, _), .outOfRange(let key, _, _, _), .invalid(let key, _): key
        }
    }

    /// One line naming the key, the source and what is allowed.
    public var description: String {
        switch self {
        case .unreadableFile(let path, let reason):
            "cannot read configuration file \(path): \(reason)"
        case .malformedFile(let path, let reason):
            "configuration file \(path) is not a valid JSON object: \(reason)"
        case .unknownKey(let key, let source, let suggestion):
            "unknown configuration key \(key) (\(source))" + (suggestion.map { "; did you mean \($0)?" } ?? "")
        case .wrongType(let key, let expected, let got, let source):
            "configuration key \(key) (\(source)) must be \(expected), got \(got)"
        case .outOfRange(let key, let value, let allowed, let source):
            "configuration key \(key) (\(source)) is \(value), outside \(allowed)"
        case .invalid(let key, let reason):
            "configuration key \(key): \(reason)"
        }
    }
}
