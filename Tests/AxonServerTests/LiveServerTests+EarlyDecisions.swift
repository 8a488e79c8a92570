@testable import AxonHTTP
import Foundation
import Testing

@testable import AxonServer

#if canImport(Glibc)
import Glibc
import TestKit
#endif

/// Decisions taken from the headers alone, before a body is read, and clients that send slowly.
extension LiveServerTests {
    /// An admin-only `POST /train` that answers the length of its body, and a configuration with
    /// the admin token "admin-secret", a body limit of `maxBodyBytes` and the access log as asked.
    func adminUpload(maxBodyBytes: UInt64, accessLog: Bool = false) -> (Router, HTTPServerConfiguration) {
        var router = Router()
        router.post("/train", scope: .admin) { request in Response.text("\(request.body.count)") }
        var configuration = testConfiguration(maxBodyBytes: maxBodyBytes)
        configuration.access.adminToken = "admin-secret"
        configuration.accessLog = accessLog
        return (router, configuration)
    }

    @Test("401 and 413 for an upload arrive before its body is sent, the 401 first; access log as for any answer")
    func uploadsAreRefusedFromTheirHeaders() async throws {
        let (router, configuration) = adminUpload(maxBodyBytes: 64 << 20, accessLog: true)
        let log = LogCapture()
        try await withServer(router: router, configuration: configuration, logger: log.logger) { _, port in
            // Only the heads are sent: each answer must come without the server reading a body.
            let (noToken, noTokenOverLimit, wrongToken, overLimit, small) = try await onThread {
                func head(_ length: Int, token: String?) -> String {
                    "POST /train HTTP/1.1\r\nHost: x\r\nContent-Length: \(length)\r\nX-Request-Id: \(length)-\(token ?? "none")\r\n"
                        + (token.map { "Authorization: Bearer \($0)\r\n" } ?? "") + "\r\n"
                }
                func answer(_ text: String) throws -> TestResponse {
                    let c = try TestConnection(port: port)
                    try c.send(text)
                    return try c.readResponse()
                }
                return (
                    try answer(head(50_000_000, token: nil)), try answer(head(100_000_000, token: nil)),
                    try answer(head(50_000_000, token: "guess")), try answer(head(100_000_000, token: "admin-secret")),
                    try TestConnection(port: port).request(
                        "POST", "/train", headers: [("Authorization", "Bearer admin-secret")], body: Array(repeating: 1, count: 3))
                )
            }
            #expect(noToken.status == 401 && noToken.envelope?.code == "missing_token")
            #expect(noTokenOverLimit.status == 401, "the token is checked before the body limit")
            #expect(wrongToken.status == 401 && wrongToken.envelope?.code == "invalid_token")
            #expect(overLimit.status == 413 && overLimit.envelope?.code == "content_too_large")
            #expect(small.status == 200 && small.text == "3")
        }
        let lines = log.lines.filter { $0.message == "request" }
        #expect(lines.count == 5)
        let early = try #require(lines.first { $0.metadata["http.request_id"] == "50000000-none" })
        #expect(early.metadata["http.status"] == "401")
        let tooLarge = try #require(lines.first { $0.metadata["http.request_id"] == "100000000-admin-secret" })
        #expect(tooLarge.metadata["http.status"] == "413" && tooLarge.metadata["http.route"] == "/train")
    }

    @Test("a refused small body is read and dropped, so the connection stays open for the retry")
    func refusedSmallBodiesKeepTheConnection() async throws {
        let (router, configuration) = adminUpload(maxBodyBytes: 1 << 20)
        try await withServer(router: router, configuration: configuration) { _, port in
            let statuses = try await onThread {
                let c = try TestConnection(port: port)
                let body = [UInt8](repeating: 9, count: 60_000)
                return [
                    try c.request("POST", "/train", body: body).status,
                    try c.request("POST", "/nope", headers: [("Authorization", "Bearer admin-secret")], body: body).status,
                    try c.request("POST", "/train", headers: [("Authorization", "Bearer admin-secret")], body: body).status,
                ]
            }
            #expect(statuses == [401, 404, 200])
        }
    }

    @Test func uploadsToAnUnknownRouteOrWithTheWrongMethodAreRefusedFromTheirHeaders() async throws {
        var router = Router()
        router.get("/healthz") { _ in Response.text("live") }
        try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 64 << 20)) { _, port in
            let (missing, wrong, malformed) = try await onThread {
                func answer(_ method: String, _ path: String) throws -> TestResponse {
                    let c = try TestConnection(port: port)
                    try c.send("\(method) \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: 60000000\r\n\r\n")
                    return try c.readResponse()
                }
                return (try answer("POST", "/nope"), try answer("POST", "/healthz"), try answer("PUT", "/a%zz"))
            }
            #expect(missing.status == 404 && missing.envelope?.code == "not_found")
            #expect(wrong.status == 405 && wrong.header("Allow") == "GET, HEAD")
            #expect(malformed.status == 400)
        }
    }

    @Test("a body larger than the first reservation arrives whole; a client leaving mid-body frees its request")
    func bodiesGrowAsTheyArriveAndAbandonedOnesAreFreed() async throws {
        var router = Router()
        router.post("/echo", async: { request in Response(body: request.body) })
        try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 8 << 20)) { server, port in
            // Past the shim's 1 MiB first reservation, so the buffer doubles twice while it arrives.
            let body = (0..<(3 << 20) + 17).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            var leaving: TestConnection? = try await onThread {
                let c = try TestConnection(port: port)
                try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
                return c
            }
            #expect(await eventually { server.inFlight.active == 1 })
            let echoed = try await onThread { try TestConnection(port: port).request("POST", "/echo", body: body) }
            #expect(echoed.status == 200 && echoed.body == body)
            // The half-sent request holds what its headers decided until it ends; the sanitizer
            // run (make sanitize) fails on a leak if the shim does not release it then.
            withExtendedLifetime(leaving) {}
            leaving = nil
            #expect(await eventually { server.inFlight.active == 0 })
        }
    }

    @Test("a thousand clients trickling requests do not lock a new client out")
    func tricklingClientsDoNotLockOutANewOne() async throws {
        // Two descriptors per client in this process (client and server end), plus headroom.
        var limit = rlimit()
        #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            #expect(getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0)
        }
        let clients = min(1000, (Int(clamping: limit.rlim_cur) - 512) / 2)
        try #require(clients >= 200, "RLIMIT_NOFILE \(limit.rlim_cur) is too low for this test")

        var router = Router()
        router.get("/healthz") { _ in Response.text("live") }
        try await withServer(router: router) { _, port in
            let answers = try await onThread {
                let slow = try (0..<clients).map { _ in
                    let c = try TestConnection(port: port)
                    try c.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    return c
                }
                let first = try TestConnection(port: port).request("GET", "/healthz")
                // Each sends one more byte, as a slowloris client does every 25 s.
                let stillOpen = slow.filter { $0.trickle(UInt8(ascii: "a")) }.count
                let second = try TestConnection(port: port).request("GET", "/healthz")
                return (first.status, second.status, stillOpen)
            }
            #expect(answers.0 == 200 && answers.1 == 200)
            #expect(answers.2 == clients, "the default request deadline (60 s) must not cut them yet")
        }
    }

    @Test("a request still trickling in at http.request_timeout_seconds is closed; a slow handler is not")
    func tricklingRequestsAreClosedAtTheirDeadline() async throws {
        let gate = Gate()
        var router = Router()
        router.post("/echo") { request in Response(body: request.body) }
        router.get("/slow", after: gate, answering: "late but whole")
        var configuration = testConfiguration()
        configuration.requestTimeoutSeconds = 1
        configuration.connectionTimeoutSeconds = 30
        try await withServer(router: router, configuration: configuration) { server, port in
            // Accepted first: were its deadline still armed while the handler waits, the reaper
            // pass that closes the tricklers below would close it too.
            let slow = Task { try await onThread { try TestConnection(port: port).request("GET", "/slow") } }
            #expect(await eventually { gate.arrived == 1 })

            let heads = [
                "GET /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ",  // headers never complete (slowloris)
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n",  // a body that never completes
            ]
            for head in heads {
                let closed = try await onThread {
                    let c = try TestConnection(port: port)
                    try c.send(head)
                    // A byte every 100 ms keeps the 30 s idle timeout from ever firing; at most 10 s.
                    for _ in 0..<100 {
                        if !c.trickle(UInt8(ascii: "a")) || c.closed(within: 100) { return true }
                    }
                    return false
                }
                #expect(closed, "the server must close a request still arriving after 1 s: \(head)")
            }
            #expect(server.timedOutConnections == 2)

            gate.open()
            let answer = try await slow.value
            #expect(answer.status == 200 && answer.text == "late but whole")
            let again = try await onThread { try TestConnection(port: port).request("POST", "/echo", body: [1, 2, 3]) }
            #expect(again.status == 200 && again.body == [1, 2, 3])
        }
    }
}

@Suite("Open-file limit")
struct OpenFileLimitTests {
    @Test func raisesTheSoftLimitTowardTheHardOneAndNeverLowersIt() {
        #expect(OpenFileLimit.plan(connectionLimit: 4096, soft: 1024, hard: 524_288) == (5120, 5120))
        #expect(OpenFileLimit.plan(connectionLimit: 4096, soft: 1024, hard: 2048) == (5120, 2048))
        #expect(OpenFileLimit.plan(connectionLimit: 4096, soft: 20_000, hard: 20_000) == (5120, 20_000))
        #expect(OpenFileLimit.plan(connectionLimit: 4096, soft: 1024, hard: rlim_t.max) == (5120, 5120), "RLIM_INFINITY")
        #expect(OpenFileLimit.plan(connectionLimit: 0, soft: 1024, hard: 4096) == (2044, 2044))
    }
}
