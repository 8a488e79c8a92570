/// A parsed path template such as `/v1/models/{name}/versions/{version}:predict`.
///
/// Each segment is a literal, or one named capture with optional literal text before and after
/// it in the same segment: `{name}:predict` captures `half_plus_three` from
/// `half_plus_three:predict`, which expresses TF-Serving's verb suffix.
public struct RouteTemplate: Sendable, Hashable, CustomStringConvertible {
    /// One path segment of a template.
    public enum Segment: Sendable, Hashable {
        /// Matches exactly this (decoded) text.
        case literal(String)
        /// Matches `prefix` + a non-empty value + `suffix`; the value is stored under `name`.
        case capture(name: String, prefix: String, suffix: String)
    }

    /// The template text as registered.
    public let text: String
    /// The parsed segments; empty for `/`.
    public let segments: [Segment]

    /// Parses a template. Throws `RouterError.invalidTemplate` naming what is wrong.
    public init(_ text: String) throws(RouterError) {
        guard text.hasPrefix("/") else { throw .invalidTemplate(text, reason: "must start with /") }
        self.text = text
        var names = Set<String>()
        var parsed: [Segment] = []
        let raw = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        if !(raw.count == 1 && raw[0].isEmpty) {
            for piece in raw {
                guard !piece.isEmpty else { throw .invalidTemplate(text, reason: "empty segment") }
                let segment = try Self.parseSegment(piece, template: text)
                if case .capture(let name, _, _) = segment {
                    guard names.insert(name).inserted else {
                        throw .invalidTemplate(text, reason: "segment name {\(name)} used twice")
                    }
                }
                parsed.append(segment)
            }
        }
        segments = parsed
    }

    private static func parseSegment(_ piece: Substring, template: String) throws(RouterError) -> Segment {
        guard let open = piece.firstIndex(of: "{") else {
            guard !piece.contains("}") else { throw .invalidTemplate(template, reason: "unbalanced } in \(piece)") }
            return .literal(String(piece))
        }
        guard let close = piece[open...].firstIndex(of: "}") else {
            throw .invalidTemplate(template, reason: "unbalanced { in \(piece)")
        }
        let name = piece[piece.index(after: open)..<close]
        let prefix = piece[..<open], suffix = piece[piece.index(after: close)...]
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw .invalidTemplate(template, reason: "segment name {\(name)} must be letters, digits or _")
        }
        guard !prefix.contains("}"), !suffix.contains("{"), !suffix.contains("}") else {
            throw .invalidTemplate(template, reason: "one {name} per segment in \(piece)")
        }
        return .capture(name: String(name), prefix: String(prefix), suffix: String(suffix))
    }

    /// The template text.
    public var description: String { text }
}

/// Errors of route registration and lookup.
public enum RouterError: Error, Equatable, CustomStringConvertible {
    /// A template that cannot be parsed, with the reason.
    case invalidTemplate(String, reason: String)
    /// The same method and template registered twice.
    case duplicateRoute(method: HTTPMethod, template: String)
    /// A handler asked for a parameter its route does not declare (a programming mistake, answered 500).
    case missingParameter(String)

    /// A sentence naming the problem.
    public var description: String {
        switch self {
        case .invalidTemplate(let template, let reason): "invalid route template \(template): \(reason)"
        case .duplicateRoute(let method, let template): "route \(method) \(template) is registered twice"
        case .missingParameter(let name): "route has no parameter {\(name)}"
        }
    }
}
