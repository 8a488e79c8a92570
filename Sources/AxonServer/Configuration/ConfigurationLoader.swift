import AxonHTTP
import Foundation

/// A value given on the command line, applied after the file and the environment.
public struct ConfigurationOverride: Sendable, Equatable {
    /// The dotted key (`http.port`).
    public var key: String
    /// The text as typed; parsed like an environment variable.
    public var value: String
    /// Where it came from, for messages (`flag --port`).
    public var source: String

    /// An override of `key` with `value` from `source`.
    public init(key: String, value: String, source: String) {
        self.key = key
        self.value = value
        self.source = source
    }
}

/// Builds the effective `DaemonConfiguration`: defaults < file < environment (`AXON_<KEY>`)
/// < command-line flags, then checks the keys that constrain each other.
public enum ConfigurationLoader {
    /// Shortest accepted token: long enough that guessing is hopeless, short enough to paste.
    public static let minimumTokenLength = 16

    /// Loads `file` (if any), then the environment, then `overrides`.
    public static func load(
        file: String?, environment: [String: String], overrides: [ConfigurationOverride] = []
    ) throws(ConfigurationError) -> DaemonConfiguration {
        var contents: Data?
        if let file {
            do {
                contents = try Data(contentsOf: URL(fileURLWithPath: file))
            } catch {
                throw .unreadableFile(path: file, reason: Self.reason(error))
            }
        }
        return try load(contents: contents, path: file ?? "-", environment: environment, overrides: overrides)
    }

    /// Like `load(file:environment:overrides:)` with the file's bytes already read.
    public static func load(
        contents: Data?, path: String, environment: [String: String], overrides: [ConfigurationOverride] = []
    ) throws(ConfigurationError) -> DaemonConfiguration {
        let keys = ConfigurationKey.all
        let byName = Dictionary(uniqueKeysWithValues: keys.map { ($0.name, $0) })
        var configuration = DaemonConfiguration()

        if let contents {
            let root: ConfigurationValue
            do {
                root = try JSONDecoder().decode(ConfigurationValue.self, from: contents)
            } catch {
                throw .malformedFile(path: path, reason: Self.reason(error))
            }
            guard case .object(let members) = root else {
                throw .malformedFile(path: path, reason: "the top level must be an object, got \(root.summary)")
            }
            for (name, value) in try flatten(members, prefix: "", keys: keys, source: "file \(path)") {
                // flatten only returns known names.
                try byName[name]?.apply(value, to: &configuration, source: "file \(path)")
            }
        }

        for key in keys {
            for variable in key.environmentAliases + [key.environmentVariable] {
                guard let text = environment[variable] else { continue }
                try key.apply(key.parse(text: text), to: &configuration, source: "environment \(variable)")
            }
        }

        for override in overrides {
            guard let key = byName[override.key] else {
                throw .unknownKey(override.key, source: override.source, suggestion: suggestion(for: override.key, in: keys))
            }
            try key.apply(key.parse(text: override.value), to: &configuration, source: override.source)
        }

        try validateCombination(configuration)
        return configuration
    }

    /// Nested objects and dotted names are the same key: `{"http": {"port": 1}}` and
    /// `{"http.port": 1}` both set `http.port`.
    private static func flatten(
        _ members: [String: ConfigurationValue], prefix: String, keys: [ConfigurationKey], source: String
    ) throws(ConfigurationError) -> [(String, ConfigurationValue)] {
        var result: [(String, ConfigurationValue)] = []
        // Sorted, so the first error reported does not depend on dictionary order.
        for name in members.keys.sorted() {
            let value = members[name]!
            let full = prefix + name
            if keys.contains(where: { $0.name == full }) {
                result.append((full, value))
            } else if keys.contains(where: { $0.name.hasPrefix(full + ".") }) {
                guard case .object(let inner) = value else {
                    throw .wrongType(key: full, expected: "an object (a section)", got: value.summary, source: source)
                }
                result += try flatten(inner, prefix: full + ".", keys: keys, source: source)
            } else {
                throw .unknownKey(full, source: source, suggestion: suggestion(for: full, in: keys))
            }
        }
        return result
    }

    /// Rules that involve more than one key, or the file system.
    static func validateCombination(_ configuration: DaemonConfiguration) throws(ConfigurationError) {
        let access = configuration.http.access
        for (key, token) in [("auth.read_token", access.readToken), ("auth.admin_token", access.adminToken)] {
            guard let token else { continue }
            guard token.utf8.count >= minimumTokenLength else {
                throw .invalid(key: key, reason: "must be at least \(minimumTokenLength) characters (e.g. `openssl rand -hex 32`)")
            }
            guard token.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) else {
                throw .invalid(key: key, reason: "must be printable ASCII without spaces (it travels in an HTTP header)")
            }
        }
        if access.readToken != nil && access.adminToken == nil {
            throw .invalid(key: "auth.admin_token", reason: "must be set when auth.read_token is (otherwise training would stay open while reads need a token)")
        }
        if let read = access.readToken, read == access.adminToken {
            throw .invalid(key: "auth.read_token", reason: "must differ from auth.admin_token")
        }
        if configuration.readOnly {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: configuration.stateDirectory, isDirectory: &isDirectory)
            guard exists, isDirectory.boolValue else {
                throw .invalid(
                    key: "state_dir",
                    reason: "\(configuration.stateDirectory) must be an existing directory when read_only is true (read-only mode never creates it)")
            }
        }
        let cors = configuration.http.cors
        if cors.enabled && cors.allowedOrigins.isEmpty {
            throw .invalid(key: "cors.allowed_origins", reason: "must list at least one origin when cors.enabled is true")
        }
        let tls = configuration.http.tls
        switch (tls.certificateFile, tls.keyFile) {
        case (nil, nil):
            break
        case (.some, nil):
            throw .invalid(key: "tls.key_file", reason: "must be set when tls.cert_file is")
        case (nil, .some):
            throw .invalid(key: "tls.cert_file", reason: "must be set when tls.key_file is")
        case (.some(let certificate), .some(let key)):
            for (name, path) in [("tls.cert_file", certificate), ("tls.key_file", key)] where !FileManager.default.isReadableFile(atPath: path) {
                throw .invalid(key: name, reason: "\(path) is missing or not readable")
            }
            if !HTTPServer.isTLSSupported {
                throw .invalid(key: "tls.cert_file", reason: "this libmicrohttpd was built without TLS support")
            }
        }
    }

    /// The configuration as nested JSON with every key, in the documented order; secrets that
    /// are set print as `"<redacted>"`. `config/axond.json` is this rendering of the defaults.
    public static func render(_ configuration: DaemonConfiguration, redactingSecrets: Bool = true) -> String {
        var sections: [(name: String, lines: [String])] = []
        var top: [String] = []
        for key in ConfigurationKey.all {
            var value = key.value(in: configuration)
            if redactingSecrets, key.isSecret, value != .null { value = .string("<redacted>") }
            let parts = key.name.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 1 {
                sections.append((name: parts[0], lines: []))
                top.append("\(ConfigurationValue.quote(parts[0])): \(value.json)")
                continue
            }
            let line = "\(ConfigurationValue.quote(parts[1])): \(value.json)"
            if let index = sections.firstIndex(where: { $0.name == parts[0] }) {
                sections[index].lines.append(line)
            } else {
                sections.append((name: parts[0], lines: [line]))
            }
        }
        var entries: [String] = []
        var topIterator = top.makeIterator()
        for section in sections {
            if section.lines.isEmpty {
                if let line = topIterator.next() { entries.append("  " + line) }
            } else {
                entries.append(
                    "  \(ConfigurationValue.quote(section.name)): {\n"
                        + section.lines.map { "    " + $0 }.joined(separator: ",\n") + "\n  }")
            }
        }
        return "{\n" + entries.joined(separator: ",\n") + "\n}\n"
    }

    /// The known key closest to `name` (edit distance at most 3), or nil.
    static func suggestion(for name: String, in keys: [ConfigurationKey]) -> String? {
        let scored = keys.map { ($0.name, editDistance(name, $0.name)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= 3 else { return nil }
        return best
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8), b = Array(b.utf8)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }

    private static func reason(_ error: any Error) -> String {
        if let decoding = error as? DecodingError, case .dataCorrupted(let context) = decoding {
            return (context.underlyingError.map { "\($0)" }) ?? context.debugDescription
        }
        return (error as NSError).localizedDescription
    }
}
