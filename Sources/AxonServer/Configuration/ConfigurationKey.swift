import AxonSupport
import Foundation

/// One configuration key: its dotted name (`http.port`), what values it accepts, and how it
/// reads and writes `DaemonConfiguration`. The same key is set from the file (nested or dotted
/// JSON), from the environment (`AXON_HTTP_PORT`) and from command-line flags.
public struct ConfigurationKey {
    /// What a key accepts; drives parsing of environment and flag text and the range checks.
    enum Kind {
        case integer(ClosedRange<Int>)
        case optionalInteger(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case optionalNumber(ClosedRange<Double>)
        case boolean
        case string
        case optionalString
        case stringList
        case choice([String])
    }

    /// The dotted name, as in the file.
    public let name: String
    /// One sentence for `check-config --keys` and the table in docs/operations.md.
    public let summary: String
    /// Whether the value is a secret that `check-config` must not print.
    public let isSecret: Bool
    /// Extra environment variable names (`AXON_READ_TOKEN`); the primary form wins when both are set.
    public let environmentAliases: [String]
    let kind: Kind
    private let setter: (inout DaemonConfiguration, ConfigurationValue) -> Void
    private let getter: (DaemonConfiguration) -> ConfigurationValue
    private let check: (ConfigurationValue) -> String?

    /// `AXON_` and the name upper-cased with dots as underscores: `AXON_HTTP_PORT`.
    public var environmentVariable: String {
        "AXON_" + String(name.uppercased().map { $0 == "." ? "_" : $0 })
    }

    /// The value `configuration` holds for this key.
    public func value(in configuration: DaemonConfiguration) -> ConfigurationValue { getter(configuration) }

    /// The accepted values, for messages and documentation.
    public var allowed: String {
        switch kind {
        case .integer(let range): "an integer in \(range.lowerBound)...\(range.upperBound)"
        case .optionalInteger(let range): "null or an integer in \(range.lowerBound)...\(range.upperBound)"
        case .number(let range): "a number in \(range.lowerBound)...\(range.upperBound)"
        case .optionalNumber(let range): "null or a number in \(range.lowerBound)...\(range.upperBound)"
        case .boolean: "a boolean"
        case .string: "a non-empty string"
        case .optionalString: "null or a non-empty string"
        case .stringList: "an array of strings"
        case .choice(let options): "one of " + options.joined(separator: ", ")
        }
    }

    /// Checks `value` (type, range, key-specific rules) and stores it in `configuration`.
    func apply(_ value: ConfigurationValue, to configuration: inout DaemonConfiguration, source: String) throws(ConfigurationError) {
        let normalized = try normalize(value, source: source)
        if let reason = check(normalized) {
            throw .outOfRange(key: name, value: normalized.json, allowed: reason, source: source)
        }
        setter(&configuration, normalized)
    }

    /// Parses environment or flag text into a value of this key's kind; text that does not parse
    /// stays a string, which `apply` then reports as the wrong type.
    func parse(text: String) -> ConfigurationValue {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch kind {
        case .integer:
            return Int(trimmed).map(ConfigurationValue.int) ?? .string(text)
        case .optionalInteger:
            if trimmed.isEmpty || trimmed == "null" { return .null }
            return Int(trimmed).map(ConfigurationValue.int) ?? .string(text)
        case .number, .optionalNumber:
            if case .optionalNumber = kind, trimmed.isEmpty || trimmed == "null" { return .null }
            return Double(trimmed).map(ConfigurationValue.number) ?? .string(text)
        case .boolean:
            switch trimmed.lowercased() {
            case "true", "1", "yes", "on": return .bool(true)
            case "false", "0", "no", "off": return .bool(false)
            default: return .string(text)
            }
        case .optionalString:
            return trimmed.isEmpty ? .null : .string(text)
        case .stringList:
            return .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: .whitespaces)) })
        case .string, .choice:
            return .string(text)
        }
    }

    private func normalize(_ value: ConfigurationValue, source: String) throws(ConfigurationError) -> ConfigurationValue {
        let wrong = ConfigurationError.wrongType(key: name, expected: allowed, got: value.summary, source: source)
        let outside = ConfigurationError.outOfRange(key: name, value: value.json, allowed: allowed, source: source)
        switch (kind, value) {
        case (.integer(let range), .int(let number)), (.optionalInteger(let range), .int(let number)):
            guard range.contains(number) else { throw outside }
            return value
        case (.integer(let range), .number(let number)), (.optionalInteger(let range), .number(let number)):
            // 8080.0 is an integer written oddly; 1.5 is not one.
            guard number.rounded() == number, let exact = Int(exactly: number) else { throw wrong }
            guard range.contains(exact) else { throw outside }
            return .int(exact)
        case (.number(let range), .int(let number)), (.optionalNumber(let range), .int(let number)):
            guard range.contains(Double(number)) else { throw outside }
            return .number(Double(number))
        case (.number(let range), .number(let number)), (.optionalNumber(let range), .number(let number)):
            guard number.isFinite, range.contains(number) else { throw outside }
            return value
        case (.optionalNumber, .null), (.optionalString, .null), (.optionalInteger, .null), (.boolean, .bool):
            return value
        case (.string, .string(let text)), (.optionalString, .string(let text)):
            guard !text.isEmpty else { throw outside }
            return value
        case (.choice(let options), .string(let text)):
            guard options.contains(text) else { throw outside }
            return value
        case (.stringList, .array(let items)):
            for item in items {
                guard case .string(let text) = item, !text.isEmpty else { throw wrong }
            }
            return value
        default:
            throw wrong
        }
    }

    init(
        _ name: String, _ kind: Kind, _ summary: String, secret: Bool = false, aliases: [String] = [],
        check: @escaping (ConfigurationValue) -> String? = { _ in nil },
        get: @escaping (DaemonConfiguration) -> ConfigurationValue,
        set: @escaping (inout DaemonConfiguration, ConfigurationValue) -> Void
    ) {
        self.name = name
        self.kind = kind
        self.summary = summary
        self.isSecret = secret
        self.environmentAliases = aliases
        self.check = check
        self.getter = get
        self.setter = set
    }
}

extension ConfigurationKey {
    static func integer(
        _ name: String, _ range: ClosedRange<Int>, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, Int>
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .integer(range), summary, get: { .int($0[keyPath: path]) },
            set: { configuration, value in if case .int(let number) = value { configuration[keyPath: path] = number } })
    }

    /// A duration given in (fractional) seconds, kept to the millisecond.
    static func seconds(
        _ name: String, _ range: ClosedRange<Double>, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, Duration>
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .number(range), summary, get: { .number(seconds($0[keyPath: path])) },
            set: { configuration, value in
                if case .number(let s) = value { configuration[keyPath: path] = .milliseconds(Int64((s * 1000).rounded())) }
            })
    }

    static func boolean(_ name: String, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, Bool>) -> ConfigurationKey {
        ConfigurationKey(
            name, .boolean, summary, get: { .bool($0[keyPath: path]) },
            set: { configuration, value in if case .bool(let flag) = value { configuration[keyPath: path] = flag } })
    }

    static func optionalString(
        _ name: String, _ summary: String, _ path: WritableKeyPath<DaemonConfiguration, String?>, secret: Bool = false,
        aliases: [String] = []
    ) -> ConfigurationKey {
        ConfigurationKey(
            name, .optionalString, summary, secret: secret, aliases: aliases,
            get: { $0[keyPath: path].map(ConfigurationValue.string) ?? .null },
            set: { configuration, value in
                if case .string(let text) = value { configuration[keyPath: path] = text } else { configuration[keyPath: path] = nil }
            })
    }

    static func seconds(_ duration: Duration) -> Double {
        duration.inSeconds
    }
}
