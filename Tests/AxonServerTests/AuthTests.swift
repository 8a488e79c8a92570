@testable import AxonHTTP
import Foundation
import Testing

@testable import AxonServer
import TestKit

private let admin = "admin-0123456789abcdef"
private let reader = "read-0123456789abcdef"

private func policy(read: String? = reader, admin adminToken: String? = admin) -> AccessPolicy {
    var policy = AccessPolicy()
    policy.readToken = read
    policy.adminToken = adminToken
    return policy
}

@Suite("access control: scopes, tokens, CORS")
struct AuthTests {
    @Test(
        "default scopes by method and path",
        arguments: [
            ("GET", "/healthz", AccessScope.open), ("GET", "/readyz", .open), ("HEAD", "/v2/health/ready", .open),
            ("GET", "/metrics", .open), ("GET", "/v1/models/iris", .read), ("GET", "/models", .read),
            ("POST", "/v1/models/{name}:predict", .read), ("POST", "/v1/models/iris:evaluate", .read),
            ("POST", "/v2/models/{name}/infer", .read), ("POST", "/v2/models/{name}/versions/{version}/infer", .read),
            ("POST", "/train", .admin), ("POST", "/v1/models/{name}:rollback", .admin), ("DELETE", "/v1/models/iris", .admin),
            ("PUT", "/v1/models/iris", .admin), ("POST", "/jobs/{id}/cancel", .admin), ("PATCH", "/x", .admin),
            ("OPTIONS", "/train", .open), ("BREW", "/pot", .admin),
        ])
    func defaultScopes(method: String, path: String, expected: AccessScope) {
        #expect(AccessPolicy().defaultScope(method: HTTPMethod(rawValue: method), path: path) == expected)
    }

    @Test("protect_metrics and protect_health move /metrics and the probes to read")
    func protectedProbes() {
        var policy = AccessPolicy()
        policy.protectMetrics = true
        #expect(policy.defaultScope(method: .get, path: "/metrics") == .read)
        #expect(policy.defaultScope(method: .get, path: "/healthz") == .open)
        policy.protectHealth = true
        #expect(policy.defaultScope(method: .get, path: "/healthz") == .read)
    }

    @Test("no token configured: everything open")
    func disabled() {
        #expect(AccessPolicy().denial(for: .admin, authorization: nil) == nil)
    }

    @Test("missing, malformed and unknown tokens are 401 with a Bearer challenge")
    func unauthorized() throws {
        for header in [nil, "", "Basic abc", "Bearer", "Bearer  ", "Bearer wrong-0123456789abcdef", "Bearer \(admin)x"] {
            for scope in [AccessScope.read, .admin] {
                let denial = try #require(policy().denial(for: scope, authorization: header), "\(String(describing: header))")
                #expect(denial.status == .unauthorized)
                #expect(denial.headers["WWW-Authenticate"]?.hasPrefix("Bearer") == true)
            }
        }
    }

    @Test("the read token reads but gets 403 on admin routes; the admin token does both")
    func scopes() throws {
        let p = policy()
        #expect(p.denial(for: .read, authorization: "Bearer \(reader)") == nil)
        #expect(p.denial(for: .read, authorization: "bearer \(admin)") == nil)
        #expect(p.denial(for: .read, authorization: "BEARER  \(reader)\t ") == nil)
        #expect(p.denial(for: .read, authorization: "Bearer \(reader) x") != nil)
        #expect(p.denial(for: .admin, authorization: "Bearer \(admin)") == nil)
        let forbidden = try #require(p.denial(for: .admin, authorization: "Bearer \(reader)"))
        #expect(forbidden.status == .forbidden && forbidden.code == "insufficient_scope")
        #expect(p.denial(for: .open, authorization: nil) == nil)
    }

    @Test("with only an admin token, reads are open and admin routes are not")
    func adminOnly() {
        let p = policy(read: nil)
        #expect(p.denial(for: .read, authorization: nil) == nil)
        #expect(p.denial(for: .admin, authorization: nil)?.status == .unauthorized)
        #expect(p.denial(for: .admin, authorization: "Bearer \(admin)") == nil)
    }

    @Test("constant-time comparison: equal, different content, different lengths, empty")
    func constantTime() {
        #expect(ConstantTime.equals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!ConstantTime.equals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!ConstantTime.equals(Array("abc".utf8), Array("abc\0".utf8)))
        #expect(!ConstantTime.equals(Array("".utf8), Array("a".utf8)))
        #expect(ConstantTime.equals([UInt8](), [UInt8]()))
    }

    @Test("a scope attached at registration wins over the default")
    func attachedScope() {
        var router = Router()
        router.get("/v1/models/{name}/secret", scope: .admin) { _ in Response.text("x") }
        router.post("/v1/models/{name}:predict", scope: .open) { _ in Response.text("x") }
        router.get("/plain") { _ in Response.text("x") }
        let access = AccessPolicy()
        let secret = router.match(method: .get, path: "/v1/models/a/secret")
        #expect(router.requiredScope(for: secret, method: .get, path: "/v1/models/a/secret", policy: access) == .admin)
        let head = router.match(method: .head, path: "/v1/models/a/secret")
        #expect(router.requiredScope(for: head, method: .head, path: "/v1/models/a/secret", policy: access) == .admin)
        let predict = router.match(method: .post, path: "/v1/models/a:predict")
        #expect(router.requiredScope(for: predict, method: .post, path: "/v1/models/a:predict", policy: access) == .open)
        let plain = router.match(method: .get, path: "/plain")
        #expect(router.requiredScope(for: plain, method: .get, path: "/plain", policy: access) == .read)
        let missing = router.match(method: .delete, path: "/nowhere")
        #expect(router.requiredScope(for: missing, method: .delete, path: "/nowhere", policy: access) == .admin)
    }

    @Test("CORS: preflights for allowed origins, 403 for others, nothing when off")
    func cors() throws {
        var cors = CORSPolicy()
        let preflight = Request(
            method: .options, path: "/train",
            headers: ["Origin": "https://app.example", "Access-Control-Request-Method": "POST"])
        #expect(cors.preflightResponse(for: preflight) == nil)
        cors.enabled = true
        cors.allowedOrigins = ["https://app.example"]
        let allowed = try #require(cors.preflightResponse(for: preflight))
        #expect(allowed.status == .noContent)
        #expect(allowed.headers["Access-Control-Allow-Headers"]?.contains("Authorization") == true)
        let other = Request(
            method: .options, path: "/train", headers: ["Origin": "https://evil.example", "Access-Control-Request-Method": "POST"])
        #expect(cors.preflightResponse(for: other)?.status == .forbidden)
        var response = Response.text("ok")
        cors.decorate(&response, for: Request(method: .get, path: "/x", headers: ["Origin": "https://app.example"]))
        #expect(response.headers["Access-Control-Allow-Origin"] == "https://app.example")
        #expect(response.headers["Vary"] == "Origin")
        var untouched = Response.text("ok")
        cors.decorate(&untouched, for: Request(method: .get, path: "/x", headers: ["Origin": "https://evil.example"]))
        #expect(untouched.headers["Access-Control-Allow-Origin"] == nil)
    }
}

@Suite("access control over HTTP")
struct AuthLiveTests {
    private func router() -> Router {
        var router = Router()
        HealthRoutes.register(on: &router, readiness: Readiness(.ready))
        router.post("/train") { _ in Response.json(bytes: Array(#"{"job":"1"}"#.utf8)) }
        router.post("/v1/models/{name}:predict") { _ in Response.json(bytes: Array(#"{"predictions":[]}"#.utf8)) }
        router.get("/metrics") { _ in Response.text("axon_up 1\n") }
        return router
    }

    private func configuration() -> HTTPServerConfiguration {
        var configuration = testConfiguration()
        configuration.access.readToken = reader
        configuration.access.adminToken = admin
        configuration.cors.enabled = true
        configuration.cors.allowedOrigins = ["https://app.example"]
        return configuration
    }

    @Test("POST /train without a token is 401 JSON with WWW-Authenticate; scopes hold per route")
    func tokens() async throws {
        try await withServer(router: router(), configuration: configuration()) { _, port in
            let responses = try await onThread {
                let c = try TestConnection(port: port)
                let body = Array("{}".utf8)
                return [
                    try c.request("POST", "/train", body: body),
                    try c.request("POST", "/train", headers: [("Authorization", "Bearer \(reader)")], body: body),
                    try c.request("POST", "/train", headers: [("Authorization", "Bearer \(admin)")], body: body),
                    try c.request("POST", "/v1/models/iris:predict", body: body),
                    try c.request("POST", "/v1/models/iris:predict", headers: [("Authorization", "Bearer \(reader)")], body: body),
                    try c.request("GET", "/healthz"),
                    try c.request("GET", "/metrics"),
                    try c.request("DELETE", "/v1/models/iris"),
                ]
            }
            #expect(responses[0].status == 401 && responses[0].envelope?.code == "missing_token")
            #expect(responses[0].header("WWW-Authenticate") == #"Bearer realm="axon""#)
            #expect(responses[0].header("Content-Type") == "application/json")
            #expect(responses[1].status == 403 && responses[1].envelope?.code == "insufficient_scope")
            #expect(responses[2].status == 200)
            #expect(responses[3].status == 401)
            #expect(responses[4].status == 200)
            #expect(responses[5].status == 200)
            #expect(responses[6].status == 200)
            // Unknown routes are checked too, so a 404 does not reveal which admin routes exist.
            #expect(responses[7].status == 401)
        }
    }

    @Test("CORS preflight is answered before auth; allowed origins get Access-Control-Allow-Origin")
    func corsLive() async throws {
        try await withServer(router: router(), configuration: configuration()) { _, port in
            let (preflight, denied, actual) = try await onThread {
                let c = try TestConnection(port: port)
                return (
                    try c.request(
                        "OPTIONS", "/train",
                        headers: [("Origin", "https://app.example"), ("Access-Control-Request-Method", "POST")]),
                    try c.request(
                        "OPTIONS", "/train",
                        headers: [("Origin", "https://evil.example"), ("Access-Control-Request-Method", "POST")]),
                    try c.request(
                        "POST", "/v1/models/iris:predict",
                        headers: [("Origin", "https://app.example"), ("Authorization", "Bearer \(reader)")], body: Array("{}".utf8))
                )
            }
            #expect(preflight.status == 204)
            #expect(preflight.header("Access-Control-Allow-Origin") == "https://app.example")
            #expect(preflight.header("Access-Control-Allow-Methods")?.contains("POST") == true)
            #expect(denied.status == 403 && denied.header("Access-Control-Allow-Origin") == nil)
            #expect(actual.status == 200 && actual.header("Access-Control-Allow-Origin") == "https://app.example")
        }
    }
}

@Suite("Tokens on the daemon's real routes")
struct DaemonAuthTests {
    @Test("with tokens configured, POST /train needs the admin token: 401 without, 403 with the read token")
    func trainNeedsTheAdminToken() async throws {
        let state = try TemporaryDirectory()
        let read = "read-token-0123456789", admin = "admin-token-0123456789"
        let daemon = await loadedDaemon(stateDirectory: state.path) { configuration in
            configuration.http.access.readToken = read
            configuration.http.access.adminToken = admin
        }
        var http = testConfiguration(maxBodyBytes: 1 << 20)
        http.access = daemon.configuration.http.access
        let body = Array(#"{"model": "m", "inputs": [[0], [1], [2], [3]], "targets": [0, 1, 0, 1], "epochs": 1}"#.utf8)
        try await withServer(router: daemon.makeRouter(), configuration: http) { _, port in
            let (missing, wrongScope, granted) = try await onThread {
                let headers = [("Content-Type", "application/json")]
                let missing = try TestConnection(port: port).request("POST", "/train", headers: headers, body: body)
                let wrongScope = try TestConnection(port: port).request(
                    "POST", "/train", headers: headers + [("Authorization", "Bearer \(read)")], body: body)
                let granted = try TestConnection(port: port).request(
                    "POST", "/train?wait=true", headers: headers + [("Authorization", "Bearer \(admin)")], body: body)
                return (missing, wrongScope, granted)
            }
            #expect(missing.status == 401)
            #expect(missing.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(wrongScope.status == 403)
            #expect(granted.status == 200, "\(granted.text)")
        }
    }
}
