@testable import AxonHTTP
import Testing

@testable import AxonServer

@Suite("Router")
struct RouterTests {
    private func router(_ routes: [(HTTPMethod, String)]) -> Router {
        var router = Router()
        for (method, template) in routes {
            router.on(method, template) { request in Response.text("\(method) \(template) \(request.path)") }
        }
        return router
    }

    private func template(of match: Router.Match) -> String? {
        if case .found(_, let template, _) = match { return template }
        return nil
    }

    private func params(of match: Router.Match) -> Parameters? {
        if case .found(_, _, let parameters) = match { return parameters }
        return nil
    }

    @Test func literalRoutesMatchExactly() {
        let r = router([(.get, "/healthz"), (.get, "/v2/health/live"), (.get, "/")])
        #expect(template(of: r.match(method: .get, path: "/healthz")) == "/healthz")
        #expect(template(of: r.match(method: .get, path: "/v2/health/live")) == "/v2/health/live")
        #expect(template(of: r.match(method: .get, path: "/")) == "/")
        #expect(template(of: r.match(method: .get, path: "/healthz/")) == nil)
        #expect(template(of: r.match(method: .get, path: "/v2/health")) == nil)
        #expect(template(of: r.match(method: .get, path: "healthz")) == nil)
    }

    @Test("a copy of a router is independent: routes added to one are not in the other")
    func copiesAreIndependent() {
        let original = router([(.get, "/models/{name}")])
        var copy = original
        copy.on(.get, "/models/{name}/versions") { _ in Response.text("versions") }
        copy.on(.post, "/models/{name}") { _ in Response.text("post") }
        #expect(template(of: copy.match(method: .get, path: "/models/a/versions")) == "/models/{name}/versions")
        #expect(template(of: original.match(method: .get, path: "/models/a/versions")) == nil)
        #expect(template(of: original.match(method: .post, path: "/models/a")) == nil)
        #expect(template(of: original.match(method: .get, path: "/models/a")) == "/models/{name}")
    }

    @Test func namedSegmentsCaptureValues() throws {
        let r = router([(.get, "/v1/models/{name}"), (.get, "/v1/models/{name}/versions/{version}")])
        let match = r.match(method: .get, path: "/v1/models/iris/versions/3")
        #expect(template(of: match) == "/v1/models/{name}/versions/{version}")
        let parameters = try #require(params(of: match))
        #expect(parameters["name"] == "iris")
        #expect(parameters["version"] == "3")
        #expect(try parameters.require("name") == "iris")
        #expect(throws: RouterError.missingParameter("model")) { try parameters.require("model") }
    }

    @Test func tfServingVerbSuffixIsExpressible() throws {
        let r = router([
            (.get, "/v1/models/{name}"), (.post, "/v1/models/{name}:predict"),
            (.post, "/v1/models/{name}/versions/{version}:predict"),
        ])
        let predict = r.match(method: .post, path: "/v1/models/half_plus_three:predict")
        #expect(template(of: predict) == "/v1/models/{name}:predict")
        #expect(params(of: predict)?["name"] == "half_plus_three")

        let versioned = r.match(method: .post, path: "/v1/models/m/versions/7:predict")
        #expect(template(of: versioned) == "/v1/models/{name}/versions/{version}:predict")
        #expect(params(of: versioned)?["version"] == "7")

        // The bare segment still serves names without the suffix.
        #expect(params(of: r.match(method: .get, path: "/v1/models/m"))?["name"] == "m")
        // An empty name before the suffix is no match for the suffix route.
        #expect(template(of: r.match(method: .post, path: "/v1/models/:predict")) == nil)
    }

    @Test func suffixRouteWithOtherMethodIs405NotAFallThrough() {
        let r = router([(.get, "/v1/models/{name}"), (.post, "/v1/models/{name}:predict")])
        guard case .methodNotAllowed(let template, let allowed) = r.match(method: .get, path: "/v1/models/m:predict") else {
            Issue.record("expected 405")
            return
        }
        #expect(template == "/v1/models/{name}:predict")
        #expect(allowed == [.post])
    }

    @Test func literalWinsOverCaptureAndBacktracks() {
        let r = router([(.get, "/v1/models/{name}/metadata"), (.get, "/v1/models/default/status")])
        #expect(template(of: r.match(method: .get, path: "/v1/models/default/status")) == "/v1/models/default/status")
        // "default" first tries the literal branch, which has no /metadata, then the capture.
        let match = r.match(method: .get, path: "/v1/models/default/metadata")
        #expect(template(of: match) == "/v1/models/{name}/metadata")
        #expect(params(of: match)?["name"] == "default")
    }

    @Test func wrongMethodListsAllowedMethodsInOrder() {
        let r = router([(.post, "/jobs"), (.get, "/jobs"), (.delete, "/jobs")])
        guard case .methodNotAllowed(_, let allowed) = r.match(method: .put, path: "/jobs") else {
            Issue.record("expected 405")
            return
        }
        #expect(allowed == [.get, .head, .post, .delete])
    }

    @Test func headFallsBackToGet() {
        let r = router([(.get, "/healthz")])
        #expect(template(of: r.match(method: .head, path: "/healthz")) == "/healthz")
    }

    @Test func segmentsArePercentDecoded() {
        let r = router([(.get, "/v1/models/{name}")])
        #expect(params(of: r.match(method: .get, path: "/v1/models/my%20model"))?["name"] == "my model")
        #expect(params(of: r.match(method: .get, path: "/v1/models/a%2Fb"))?["name"] == "a/b")
        guard case .malformedPath = r.match(method: .get, path: "/v1/models/bad%zz") else {
            Issue.record("expected malformedPath")
            return
        }
    }


    @Test func segmentBoundariesAndEscapedLiterals() {
        let r = router([(.get, "/"), (.get, "/v1/models/{name}"), (.post, "/v2/models/{name}/infer"), (.get, "/a/{x}:go")])
        #expect(template(of: r.match(method: .get, path: "/")) == "/")
        // An empty segment is no capture value, and a trailing slash is one more (empty) segment.
        #expect(template(of: r.match(method: .get, path: "/v1/models/")) == nil)
        #expect(template(of: r.match(method: .get, path: "/v1/models/m/")) == nil)
        #expect(template(of: r.match(method: .get, path: "//v1/models/m")) == nil)
        // A literal spelled with escapes is still that literal; an escaped slash is not a boundary.
        #expect(params(of: r.match(method: .post, path: "/v2/mod%65ls/digits/infer"))?["name"] == "digits")
        #expect(template(of: r.match(method: .post, path: "/v2/models/digits%2Finfer")) == nil)
        // The affixes must fit around a non-empty value; non-ASCII values come back whole.
        #expect(template(of: r.match(method: .get, path: "/a/:go")) == nil)
        #expect(params(of: r.match(method: .get, path: "/a/é:go"))?["x"] == "é")
        #expect(params(of: r.match(method: .get, path: "/a/%C3%A9:go"))?["x"] == "é")
    }
    @Test(arguments: [
        ("healthz", "must start with /"),
        ("/a//b", "empty segment"),
        ("/a/{name", "unbalanced { in {name"),
        ("/a/name}", "unbalanced } in name}"),
        ("/a/{}", "segment name {} must be letters, digits or _"),
        ("/a/{x}{y}", "one {name} per segment in {x}{y}"),
        ("/a/{x}/b/{x}", "segment name {x} used twice"),
    ])
    func invalidTemplatesNameTheProblem(template: String, reason: String) {
        #expect(throws: RouterError.invalidTemplate(template, reason: reason)) { try RouteTemplate(template) }
    }

    @Test func duplicateAndConflictingRoutesAreRejected() throws {
        var r = Router()
        let endpoint = Router.Endpoint.sync { _ in Response() }
        try r.add(.get, "/v1/models/{name}", endpoint: endpoint)
        #expect(throws: RouterError.duplicateRoute(method: .get, template: "/v1/models/{name}")) {
            try r.add(.get, "/v1/models/{name}", endpoint: endpoint)
        }
        #expect(throws: RouterError.self) { try r.add(.post, "/v1/models/{model}", endpoint: endpoint) }
        try r.add(.post, "/v1/models/{name}", endpoint: endpoint)
    }
}

@Suite("Errors and request ids")
struct ErrorMappingTests {
    struct Input: Decodable {
        struct Tensor: Decodable {
            var name: String
            var shape: [Int]
        }
        var inputs: [Tensor]
    }

    @Test func decodingFailuresNameTheCodingPath() throws {
        let request = Request(method: .post, path: "/x", body: Array(#"{"inputs":[{"name":"a","shape":["two"]}]}"#.utf8))
        do {
            _ = try request.decode(Input.self)
            Issue.record("decoding should fail")
        } catch let error as APIError {
            #expect(error.status == .badRequest)
            #expect(error.code == "invalid_json")
            #expect(error.message == "field $.inputs[0].shape[0] must be Int")
        }
        let missing = Request(method: .post, path: "/x", body: Array(#"{"inputs":[{"shape":[1]}]}"#.utf8))
        #expect(throws: APIError.badRequest("missing field $.inputs[0].name", code: "invalid_json")) {
            try missing.decode(Input.self)
        }
    }

    @Test func envelopeHasExactlyCodeAndMessage() {
        let response = APIError.methodNotAllowed(method: .post, path: "/healthz", allowed: [.get, .head]).response
        #expect(response.status == .methodNotAllowed)
        #expect(response.headers["allow"] == "GET, HEAD")
        #expect(response.headers["Content-Type"] == "application/json")
        #expect(
            String(decoding: response.body, as: UTF8.self)
                == #"{"error":{"code":"method_not_allowed","message":"POST is not allowed on /healthz; allowed: GET, HEAD"}}"#)
    }

    @Test func requestIDsAreSanitizedOrGenerated() {
        #expect(RequestID.sanitized("abc-123") == "abc-123")
        #expect(RequestID.sanitized("") == nil)
        #expect(RequestID.sanitized("has space") == nil)
        #expect(RequestID.sanitized(String(repeating: "x", count: 129)) == nil)
        #expect(RequestID.sanitized(String(repeating: "x", count: 128)) != nil)
        let a = RequestID.generate(), b = RequestID.generate()
        #expect(a != b)
        #expect(RequestID.sanitized(a) == a)
    }

    @Test func queryItemsAreDecoded() {
        let request = Request(method: .get, path: "/x", query: "a=1&b=hello+world&c=%41&flag")
        let items = request.queryItems.map { "\($0.name)=\($0.value)" }
        #expect(items == ["a=1", "b=hello world", "c=A", "flag="])
    }

    @Test func readinessNeverLeavesDraining() {
        let readiness = Readiness()
        #expect(readiness.phase == .starting)
        readiness.markReady()
        #expect(readiness.phase == .ready)
        readiness.markDraining()
        readiness.markReady()
        #expect(readiness.phase == .draining)
    }
}

@Suite("Daemon routes")
struct DaemonRouteTests {
    private func isFound(_ match: Router.Match) -> Bool {
        if case .found = match { return true }
        return false
    }

    @Test func debugRoutesOnlyWhenEnabled() {
        var configuration = DaemonConfiguration()
        let plain = Daemon(configuration: configuration, logger: quietLogger).makeRouter()
        #expect(isFound(plain.match(method: .get, path: "/healthz")))
        #expect(isFound(plain.match(method: .get, path: "/v2/health/ready")))
        #expect(!isFound(plain.match(method: .get, path: "/debug/async")))

        configuration.enableDebugRoutes = true
        let debug = Daemon(configuration: configuration, logger: quietLogger).makeRouter()
        #expect(isFound(debug.match(method: .get, path: "/debug/async")))
        #expect(isFound(debug.match(method: .get, path: "/debug/sleep/5")))
        #expect(isFound(debug.match(method: .post, path: "/debug/echo")))
    }

    @Test func sleepRouteRejectsOutOfRangeDurations() async throws {
        var router = Router()
        DebugRoutes.register(on: &router)
        guard case .found(.async(let handler), _, let parameters) = router.match(method: .get, path: "/debug/sleep/99999") else {
            Issue.record("expected an async route")
            return
        }
        var request = Request(method: .get, path: "/debug/sleep/99999")
        request.parameters = parameters
        await #expect(throws: APIError.self) { try await handler(request) }
    }

    @Test func defaultsAreLoopbackAnd64MiB() {
        let configuration = DaemonConfiguration()
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8080)
        #expect(configuration.http.maxBodyBytes == 64 * 1024 * 1024)
        #expect(throws: HTTPServerError.self) {
            var bad = HTTPServerConfiguration()
            bad.port = 70000
            try bad.validate()
        }
    }
}
