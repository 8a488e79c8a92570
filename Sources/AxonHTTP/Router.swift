/// Maps a method and a path to a handler. Build it once at start-up, then share it read-only.
///
/// Synchronous handlers run on the libmicrohttpd thread and answer before it moves on (the fast
/// path: health, metrics, small predictions). Asynchronous handlers run in a `Task` and answer
/// later while the connection stays suspended (training, disk, anything that waits).
/// Deferrable handlers decide per request on the libmicrohttpd thread: they answer at once, or
/// hand the rest of the work to an executor of their own (large predictions go to the
/// inference pool) and the connection stays suspended until it answers.
///
///     var router = Router()
///     router.get("/healthz") { _ in Response.json(bytes: ok) }
///     router.post("/v1/models/{name}:predict", async: { request in try await predict(request) })
public struct Router: Sendable {
    /// A handler answering on the calling (libmicrohttpd) thread.
    public typealias Handler = @Sendable (Request) throws -> Response
    /// A handler answering later from a `Task`.
    public typealias AsyncHandler = @Sendable (Request) async throws -> Response

    /// A handler that decides on the calling (libmicrohttpd) thread whether to answer now.
    public typealias DeferrableHandler = @Sendable (Request) throws -> Reply

    /// What a deferrable handler decided.
    public enum Reply: Sendable {
        /// The answer, sent at once from the libmicrohttpd thread.
        case now(Response)
        /// The answer is `work`'s, run by `executor` on a thread of its own, the connection
        /// suspended meanwhile. An executor that refuses the work (it throws) answers with its error.
        case later(on: any WorkExecutor, work: @Sendable () throws -> Response)
    }

    /// How a route answers.
    public enum Endpoint: Sendable {
        /// On the libmicrohttpd thread.
        case sync(Handler)
        /// From a `Task`, the connection suspended meanwhile.
        case async(AsyncHandler)
        /// On the libmicrohttpd thread, or later from an executor: the handler decides per request.
        case deferrable(DeferrableHandler)
        /// Its body read as it arrives, by a sink the route makes from the headers; answered
        /// from a `Task` once the body is in.
        case streaming(StreamingRoute)
    }

    /// The outcome of a lookup.
    public enum Match: Sendable {
        /// A route matched; `parameters` holds its named segments.
        case found(endpoint: Endpoint, template: String, parameters: Parameters)
        /// The path matched a template registered only for other methods.
        case methodNotAllowed(template: String, allowed: [HTTPMethod])
        /// No template matches the path.
        case notFound
        /// The path has a broken percent escape.
        case malformedPath
    }

    private struct Capture {
        var name: String
        // The literal text around the value in the segment, as UTF-8: matched against the
        // path's bytes without making a String per segment.
        var prefix: [UInt8]
        var suffix: [UInt8]
        var node: Node
    }

    /// A literal child: the segment text as UTF-8, and its node.
    private struct Literal {
        var text: [UInt8]
        var node: Node
    }

    /// A node of the template tree. A class, so that a lookup walks references instead of
    /// copying nodes with their children (a struct tree cost about 3 µs per capture route).
    /// Nodes are mutated only while the router is built, and only when this router holds the
    /// only reference to its tree (`add` copies a shared tree first), so a router shared
    /// between threads is never mutated: hence `@unchecked Sendable`.
    private final class Node: @unchecked Sendable {
        // A handful per node: comparing short byte strings beats hashing a String per segment.
        var literals: [Literal] = []
        var captures: [Capture] = []
        var endpoints: [HTTPMethod: Endpoint] = [:]
        var template: String?

        func copy() -> Node {
            let node = Node()
            node.literals = literals.map { Literal(text: $0.text, node: $0.node.copy()) }
            node.captures = captures.map { Capture(name: $0.name, prefix: $0.prefix, suffix: $0.suffix, node: $0.node.copy()) }
            node.endpoints = endpoints
            node.template = template
            return node
        }

        func literal(_ segment: UnsafeBufferPointer<UInt8>) -> Node? {
            for literal in literals where literal.text.count == segment.count {
                if literal.text.withUnsafeBufferPointer({ $0.elementsEqual(segment) }) { return literal.node }
            }
            return nil
        }
    }

    private var root = Node()
    // Access scopes attached at registration ("METHOD template"), see Router+Scope.swift.
    var scopes: [String: AccessScope] = [:]

    /// An empty router.
    public init() {}

    /// Registers `endpoint` for `method` and `template`. Throws for an invalid template or a duplicate route.
    public mutating func add(_ method: HTTPMethod, _ template: String, endpoint: Endpoint) throws(RouterError) {
        let parsed = try RouteTemplate(template)
        // Value semantics: a copy of this router (or the original) must not see the route.
        if !isKnownUniquelyReferenced(&root) { root = root.copy() }
        try Self.insert(into: root, segments: parsed.segments[...], method: method, template: parsed.text, endpoint: endpoint)
    }

    private static func insert(
        into node: Node, segments: ArraySlice<RouteTemplate.Segment>, method: HTTPMethod, template: String,
        endpoint: Endpoint
    ) throws(RouterError) {
        guard let first = segments.first else {
            guard node.endpoints[method] == nil else { throw .duplicateRoute(method: method, template: template) }
            if let existing = node.template, existing != template {
                // `/a/{x}` and `/a/{y}` are the same path shape: one template per node keeps
                // parameter names unambiguous.
                throw .invalidTemplate(template, reason: "same shape as \(existing) with other names")
            }
            node.template = template
            node.endpoints[method] = endpoint
            return
        }
        let rest = segments.dropFirst()
        switch first {
        case .literal(let text):
            let bytes = Array(text.utf8)
            let child: Node
            if let existing = node.literals.first(where: { $0.text == bytes }) {
                child = existing.node
            } else {
                child = Node()
                node.literals.append(Literal(text: bytes, node: child))
            }
            try insert(into: child, segments: rest, method: method, template: template, endpoint: endpoint)
        case .capture(let name, let prefixText, let suffixText):
            let prefix = Array(prefixText.utf8), suffix = Array(suffixText.utf8)
            if let index = node.captures.firstIndex(where: { $0.prefix == prefix && $0.suffix == suffix }) {
                guard node.captures[index].name == name else {
                    throw .invalidTemplate(template, reason: "{\(name)} conflicts with {\(node.captures[index].name)} at the same position")
                }
                try insert(into: node.captures[index].node, segments: rest, method: method, template: template, endpoint: endpoint)
            } else {
                let child = Node()
                try insert(into: child, segments: rest, method: method, template: template, endpoint: endpoint)
                node.captures.append(Capture(name: name, prefix: prefix, suffix: suffix, node: child))
                // Most specific first: `{name}:predict` must be tried before a bare `{name}`.
                node.captures.sort { ($0.prefix.count + $0.suffix.count) > ($1.prefix.count + $1.suffix.count) }
            }
        }
    }

    /// Finds the route for `method` and the raw (percent-encoded) `path`. `HEAD` falls back to `GET`.
    public func match(method: HTTPMethod, path: String) -> Match {
        guard path.hasPrefix("/") else { return .notFound }
        var parameters = Parameters()
        let found: Node?
        var path = path
        if path.withUTF8({ $0.contains(UInt8(ascii: "%")) }) {
            guard let decoded = Self.decodedSegments(path) else { return .malformedPath }
            found = decoded.bytes.withUnsafeBufferPointer { bytes in
                decoded.ranges.withUnsafeBufferPointer { Self.find(root, bytes, $0[...], &parameters) }
            }
        } else {
            // Most paths: the segments are the path's own bytes between slashes, walked in place.
            found = path.withUTF8 { bytes in
                Self.withSegments(of: bytes) { Self.find(root, bytes, $0[...], &parameters) }
            }
        }
        guard let node = found, let template = node.template else { return .notFound }
        if let endpoint = node.endpoints[method] ?? (method == .head ? node.endpoints[.get] : nil) {
            return .found(endpoint: endpoint, template: template, parameters: parameters)
        }
        return .methodNotAllowed(template: template, allowed: Self.allowed(node))
    }

    /// Calls `body` with the segments of a path without escapes as ranges of its UTF-8 `bytes`
    /// (after the leading `/`, split at each `/`, empty ones kept; none for `/`), kept on the
    /// stack for a path of ordinary depth.
    private static func withSegments<T>(of bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<Range<Int>>) -> T) -> T {
        let slash = UInt8(ascii: "/")
        var count = bytes.count > 1 ? 1 : 0
        for index in 1 ..< max(bytes.count, 1) where bytes[index] == slash { count += 1 }
        return withUnsafeTemporaryAllocation(of: Range<Int>.self, capacity: count) { ranges in
            var start = 1, next = 0
            for index in 1 ..< max(bytes.count, 1) where bytes[index] == slash {
                ranges.initializeElement(at: next, to: start ..< index)
                next += 1
                start = index + 1
            }
            if count > 0 { ranges.initializeElement(at: next, to: start ..< bytes.count) }
            return body(UnsafeBufferPointer(ranges))
        }
    }

    /// The segments of a path with escapes, each decoded on its own (`%2F` stays inside its
    /// segment), as ranges of one buffer; nil for a broken escape or a segment that is not UTF-8.
    private static func decodedSegments(_ path: String) -> (bytes: [UInt8], ranges: [Range<Int>])? {
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        if path != "/" {
            for raw in path.utf8.dropFirst().split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
                guard let text = PercentDecoding.decode(Substring(raw)) else { return nil }
                let start = bytes.count
                bytes.append(contentsOf: text.utf8)
                ranges.append(start ..< bytes.count)
            }
        }
        return (bytes, ranges)
    }

    /// The node `segments` (ranges of `bytes`) lead to from `node`, literals before captures,
    /// backtracking when a branch ends without endpoints.
    private static func find(
        _ node: Node, _ bytes: UnsafeBufferPointer<UInt8>, _ segments: Slice<UnsafeBufferPointer<Range<Int>>>,
        _ parameters: inout Parameters
    ) -> Node? {
        guard let range = segments.first else { return node.endpoints.isEmpty ? nil : node }
        let rest = segments.dropFirst()
        let segment = UnsafeBufferPointer(rebasing: bytes[range])
        if let child = node.literal(segment), let found = find(child, bytes, rest, &parameters) { return found }
        for capture in node.captures {
            let prefix = capture.prefix.count, suffix = capture.suffix.count
            guard segment.count > prefix + suffix, segment.prefix(prefix).elementsEqual(capture.prefix),
                segment.suffix(suffix).elementsEqual(capture.suffix)
            else { continue }
            // A whole UTF-8 segment less whole UTF-8 affixes: still valid UTF-8.
            let value = String(decoding: UnsafeBufferPointer(rebasing: segment[prefix ..< segment.count - suffix]), as: UTF8.self)
            let saved = parameters
            parameters.append(name: capture.name, value: value)
            if let found = find(capture.node, bytes, rest, &parameters) { return found }
            parameters = saved
        }
        return nil
    }

    private static let methodOrder: [HTTPMethod] = [.get, .head, .post, .put, .patch, .delete, .options]

    private static func allowed(_ node: Node) -> [HTTPMethod] {
        var methods = Set(node.endpoints.keys)
        if methods.contains(.get) { methods.insert(.head) }
        let known = methodOrder.filter { methods.contains($0) }
        let others = methods.subtracting(methodOrder).sorted { $0.rawValue < $1.rawValue }
        return known + others
    }
}

extension Router {
    /// Registers a synchronous handler, requiring `scope` when given (else the access policy's
    /// default for the route); an invalid template or duplicate route is a programming mistake
    /// and stops the process with the reason.
    public mutating func on<R: ResponseGenerator>(
        _ method: HTTPMethod, _ template: String, scope: AccessScope? = nil, _ handler: @escaping @Sendable (Request) throws -> R
    ) {
        register(method, template, .sync { request in try handler(request).response(for: request) }, scope: scope)
    }

    /// Registers an asynchronous handler (see `on(_:_:scope:_:)` for the scope and template errors).
    public mutating func on<R: ResponseGenerator>(
        _ method: HTTPMethod, _ template: String, scope: AccessScope? = nil,
        async handler: @escaping @Sendable (Request) async throws -> R
    ) {
        register(method, template, .async { request in try await handler(request).response(for: request) }, scope: scope)
    }

    /// Registers a deferrable handler (see `on(_:_:scope:_:)` for template errors).
    public mutating func on(_ method: HTTPMethod, _ template: String, deferrable handler: @escaping DeferrableHandler) {
        register(method, template, .deferrable(handler), scope: nil)
    }

    /// Registers a route whose body is read as it arrives (see `on(_:_:scope:_:)` for template errors).
    public mutating func on(_ method: HTTPMethod, _ template: String, streaming route: StreamingRoute) {
        register(method, template, .streaming(route), scope: nil)
    }

    private mutating func register(_ method: HTTPMethod, _ template: String, _ endpoint: Endpoint, scope: AccessScope?) {
        do {
            try add(method, template, endpoint: endpoint)
        } catch {
            preconditionFailure(error.description)
        }
        if let scope { attach(scope, method: method, template: template) }
    }

    // The verbs the routes use; any other method and handler kind goes through `on`.

    /// A synchronous `GET` route.
    public mutating func get<R: ResponseGenerator>(_ template: String, scope: AccessScope? = nil, _ handler: @escaping @Sendable (Request) throws -> R) {
        on(.get, template, scope: scope, handler)
    }
    /// An asynchronous `GET` route.
    public mutating func get<R: ResponseGenerator>(_ template: String, scope: AccessScope? = nil, async handler: @escaping @Sendable (Request) async throws -> R) {
        on(.get, template, scope: scope, async: handler)
    }
    /// A synchronous `POST` route.
    public mutating func post<R: ResponseGenerator>(_ template: String, scope: AccessScope? = nil, _ handler: @escaping @Sendable (Request) throws -> R) {
        on(.post, template, scope: scope, handler)
    }
    /// An asynchronous `POST` route.
    public mutating func post<R: ResponseGenerator>(_ template: String, scope: AccessScope? = nil, async handler: @escaping @Sendable (Request) async throws -> R) {
        on(.post, template, scope: scope, async: handler)
    }
    /// A deferrable `POST` route.
    public mutating func post(_ template: String, deferrable handler: @escaping DeferrableHandler) {
        on(.post, template, deferrable: handler)
    }
    /// A `POST` route whose body is read as it arrives.
    public mutating func post(_ template: String, streaming route: StreamingRoute) {
        on(.post, template, streaming: route)
    }
    /// An asynchronous `DELETE` route.
    public mutating func delete<R: ResponseGenerator>(_ template: String, scope: AccessScope? = nil, async handler: @escaping @Sendable (Request) async throws -> R) {
        on(.delete, template, scope: scope, async: handler)
    }
}

/// Runs deferred work on threads of its own (see `Router.Reply.later`).
public protocol WorkExecutor: Sendable {
    /// Runs `work` later on another thread, exactly once, then hands its result to `deliver`;
    /// or throws, without running either, when it cannot take more (the thrown error is the
    /// request's answer). The executor counts the work as done before `deliver` runs, so a
    /// client that has its answer finds the executor's capacity free again.
    func execute<T: Sendable>(_ work: @escaping @Sendable () -> T, then deliver: @escaping @Sendable (T) -> Void) throws
}

extension Router.Match {
    /// Whether the match is a route whose body is streamed (it has a body limit of its own).
    var isStreaming: Bool {
        if case .found(.streaming, _, _) = self { return true }
        return false
    }
}
