@testable import AxonHTTP
import Foundation
import Logging
import Synchronization
import Testing

@testable import AxonServer
import TestKit

struct Unexpected: Error, CustomStringConvertible {
    var description: String { "unexpected failure with private detail" }
}

/// Real HTTP requests against a server on 127.0.0.1, port 0.
@Suite("Live HTTP server")
struct LiveServerTests {
    @Test func healthEndpointsFollowReadiness() async throws {
        let readiness = Readiness()
        var router = Router()
        HealthRoutes.register(on: &router, readiness: readiness)
        try await withServer(router: router) { _, port in
            let (live, liveV2, starting) = try await onThread {
                let c = try TestConnection(port: port)
                return (try c.request("GET", "/healthz"), try c.request("GET", "/v2/health/live"), try c.request("GET", "/readyz"))
            }
            #expect(live.status == 200 && live.text == #"{"status":"live"}"#)
            #expect(liveV2.status == 200)
            #expect(starting.status == 503 && starting.envelope?.code == "not_ready")

            readiness.markReady()
            let (ready, readyV2) = try await onThread {
                let c = try TestConnection(port: port)
                return (try c.request("GET", "/readyz"), try c.request("GET", "/v2/health/ready"))
            }
            #expect(ready.status == 200 && ready.text == #"{"status":"ready"}"#)
            #expect(readyV2.status == 200 && ready.header("Content-Type") == "application/json")

            readiness.markDraining()
            let draining = try await onThread { try TestConnection(port: port).request("GET", "/v2/health/ready") }
            #expect(draining.status == 503 && draining.envelope?.code == "draining")
        }
    }

    @Test("http.connection_limit holds across the polling threads: one over it is closed, and a freed slot is reused")
    func connectionLimitIsSharedByThePollingThreads() async throws {
        var router = Router()
        router.get("/healthz") { _ in Response.text("live") }
        var configuration = testConfiguration()
        configuration.connectionLimit = 2
        try await withServer(router: router, configuration: configuration) { _, port in
            try await onThread {
                let first = try TestConnection(port: port)
                let second = try TestConnection(port: port)
                #expect(try first.request("GET", "/healthz").status == 200)
                #expect(try second.request("GET", "/healthz").status == 200)
                let third = try TestConnection(port: port)
                #expect(third.isClosedByPeer(), "a third connection must be refused with a limit of 2")
                withExtendedLifetime(first) {}
            }
            // Every closed connection gives its slot back: ten more, one after another, are all
            // answered (a close reaches the server's count a moment later, hence `eventually`).
            for round in 0..<10 {
                let answered = await eventually(limit: 500) {
                    (try? TestConnection(port: port).request("GET", "/healthz").status) == 200
                }
                #expect(answered, "connection \(round) after the first three closed")
            }
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405WithAllow() async throws {
        var router = Router()
        router.get("/healthz") { _ in Response.text("ok") }
        router.post("/v1/models/{name}:predict") { _ in Response.text("predicted") }
        try await withServer(router: router) { _, port in
            let (missing, wrong, suffix) = try await onThread {
                let c = try TestConnection(port: port)
                return (
                    try c.request("GET", "/nope"), try c.request("DELETE", "/healthz"),
                    try c.request("GET", "/v1/models/m:predict")
                )
            }
            #expect(missing.status == 404)
            #expect(missing.envelope?.code == "not_found")
            #expect(missing.header("Content-Type") == "application/json")
            #expect(wrong.status == 405)
            #expect(wrong.header("Allow") == "GET, HEAD")
            #expect(wrong.envelope?.code == "method_not_allowed")
            #expect(suffix.status == 405 && suffix.header("Allow") == "POST")
        }
    }

    @Test func bodyOverLimitByContentLengthIs413BeforeTheBodyIsSent() async throws {
        var router = Router()
        router.post("/echo") { request in Response(body: request.body) }
        try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 1024)) { _, port in
            let (tooLarge, fits) = try await onThread {
                // Only the head is sent: the 413 must arrive without the server reading a body.
                let c = try TestConnection(port: port)
                try c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1025\r\n\r\n")
                let tooLarge = try c.readResponse()
                let fits = try TestConnection(port: port).request("POST", "/echo", body: [UInt8](repeating: 7, count: 1024))
                return (tooLarge, fits)
            }
            #expect(tooLarge.status == 413)
            #expect(tooLarge.envelope?.code == "content_too_large")
            #expect(tooLarge.envelope?.message.contains("1024 bytes") == true)
            #expect(fits.status == 200 && fits.body == [UInt8](repeating: 7, count: 1024))
        }
    }

    @Test func chunkedBodyOverLimitIs413AndWithinLimitArrivesWhole() async throws {
        var router = Router()
        router.post("/echo") { request in Response(body: request.body) }
        try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 1024)) { _, port in
            let chunks = (0..<4).map { [UInt8](repeating: UInt8($0), count: 300) }
            let (tooLarge, fits) = try await onThread {
                let tooLarge = try TestConnection(port: port).request("POST", "/echo", chunks: chunks)
                let fits = try TestConnection(port: port).request("POST", "/echo", chunks: Array(chunks[0..<3]))
                return (tooLarge, fits)
            }
            #expect(tooLarge.status == 413)
            #expect(tooLarge.envelope?.code == "content_too_large")
            #expect(fits.status == 200)
            #expect(fits.body == chunks[0..<3].flatMap { $0 })
        }
    }

    @Test func asyncHandlerAnsweredFromAnotherThreadAfterADelay() async throws {
        let handlerThreads = Recorder()
        var router = Router()
        router.get("/slow/{n}", async: { request in
            let n = try request.parameters.require("n")
            // Answered by a plain thread 50 ms later, long after the libmicrohttpd thread moved on.
            let text: String = await withCheckedContinuation { continuation in
                Thread.detachNewThread {
                    usleep(50_000)
                    handlerThreads.record(Thread.current.isMainThread ? "main" : "other")
                    continuation.resume(returning: "late \(n)")
                }
            }
            return Response.text(text)
        })
        try await withServer(router: router) { _, port in
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for i in 0..<4 {
                    group.addTask { try await onThread { try TestConnection(port: port).request("GET", "/slow/\(i)") } }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(responses.count == 4)
            #expect(Set(responses.map(\.text)) == ["late 0", "late 1", "late 2", "late 3"])
            #expect(responses.allSatisfy { $0.status == 200 })
            #expect(handlerThreads.values == ["other", "other", "other", "other"])
        }
    }

    @Test func requestIDIsEchoedOrGenerated() async throws {
        var router = Router()
        router.get("/id") { request in Response.text(request.id) }
        try await withServer(router: router) { _, port in
            let (echoed, first, second, invalid) = try await onThread {
                let c = try TestConnection(port: port)
                return (
                    try c.request("GET", "/id", headers: [("X-Request-Id", "trace-42")]),
                    try c.request("GET", "/id"), try c.request("GET", "/missing"),
                    try c.request("GET", "/id", headers: [("X-Request-Id", String(repeating: "a", count: 200))])
                )
            }
            #expect(echoed.header("X-Request-Id") == "trace-42" && echoed.text == "trace-42")
            let generated = try #require(first.header("X-Request-Id"))
            #expect(!generated.isEmpty && first.text == generated)
            #expect(second.header("X-Request-Id") != nil && second.header("X-Request-Id") != generated)
            #expect(invalid.header("X-Request-Id")?.count ?? 0 < 200)
        }
    }

    @Test func handlerErrorsMapThroughTheOneBoundary() async throws {
        var router = Router()
        router.get("/bad") { _ -> Response in throw APIError.badRequest("field x must be positive") }
        router.get("/boom") { _ -> Response in throw Unexpected() }
        router.post("/decode", async: { request -> Response in
            struct Body: Decodable { var count: Int }
            return Response.text("\(try request.decode(Body.self).count)")
        })
        let log = LogCapture()
        try await withServer(router: router, logger: log.logger) { _, port in
            let (bad, boom, decode) = try await onThread {
                let c = try TestConnection(port: port)
                return (
                    try c.request("GET", "/bad"), try c.request("GET", "/boom"),
                    try c.request("POST", "/decode", body: Array(#"{"count":"x"}"#.utf8))
                )
            }
            #expect(bad.status == 400 && bad.envelope?.message == "field x must be positive")
            #expect(boom.status == 500)
            #expect(boom.envelope?.code == "internal" && boom.envelope?.message == "internal server error")
            #expect(!boom.text.contains("private detail"))
            #expect(log.lines.contains { $0.level == .error && $0.metadata["error"]?.contains("private detail") == true })
            #expect(decode.status == 400 && decode.envelope?.message == "field $.count must be Int")
        }
    }

    @Test func accessLogWritesOneLinePerRequest() async throws {
        var router = Router()
        router.get("/v1/models/{name}") { _ in Response.text("ok") }
        var configuration = testConfiguration()
        configuration.accessLog = true
        let log = LogCapture()
        let server = HTTPServer(configuration: configuration, router: router, logger: log.logger)
        try server.start()
        let port = try #require(server.port)
        let responses = try await onThread {
            let c = try TestConnection(port: port)
            return [
                try c.request("GET", "/v1/models/iris", headers: [("X-Request-Id", "r-1")]),
                try c.request("POST", "/v1/models/iris", headers: [("X-Request-Id", "r-2")]),
            ]
        }
        _ = await server.stop(drainTimeout: .seconds(5))
        #expect(responses.map(\.status) == [200, 405])
        let lines = log.lines.filter { $0.message == "request" }
        #expect(lines.count == 2)
        #expect(lines.first { $0.metadata["http.request_id"] == "r-1" }?.metadata["http.route"] == "/v1/models/{name}")
        let rejected = try #require(lines.first { $0.metadata["http.request_id"] == "r-2" })
        #expect(rejected.metadata["http.method"] == "POST" && rejected.metadata["http.status"] == "405")
        #expect(rejected.metadata["http.duration_us"].flatMap(Int.init) != nil)
    }

    @Test func keepAliveQueryAndPort() async throws {
        var router = Router()
        router.get("/q") { request in Response.text(request.query) }
        try await withServer(router: router) { server, port in
            #expect(port > 0 && server.boundAddress == "127.0.0.1:\(port)")
            let texts = try await onThread {
                let c = try TestConnection(port: port)
                return try (0..<3).map { try c.request("GET", "/q?a=\($0)&b=%20").text }
            }
            #expect(texts == ["a=0&b=%20", "a=1&b=%20", "a=2&b=%20"])

            // The same port cannot be bound twice.
            var again = testConfiguration()
            again.port = port
            let second = HTTPServer(configuration: again, router: router, logger: quietLogger)
            #expect(throws: HTTPServerError.self) { try second.start() }
        }
    }

    @Test func drainCompletesInFlightRequestsAndRefusesNewOnes() async throws {
        let gate = Gate()
        var router = Router()
        router.get("/healthz") { _ in Response.text("live") }
        router.get("/work/{n}", async: { request in
            await gate.wait()
            return Response.text("done \(try request.parameters.require("n"))")
        })
        var configuration = testConfiguration()
        // The idle connection below must outlive a loaded machine's pauses, not time out first.
        configuration.connectionTimeoutSeconds = 120
        let server = HTTPServer(configuration: configuration, router: router, logger: quietLogger)
        try server.start()
        let port = try #require(server.port)

        // An idle keep-alive connection, accepted before the stop.
        let idle = try TestConnection(port: port)
        #expect(try await onThread { try idle.request("GET", "/healthz") }.status == 200)

        let inFlight = 6
        let clients = (0..<inFlight).map { i in
            Task { try await onThread { try TestConnection(port: port).request("GET", "/work/\(i)") } }
        }
        #expect(await eventually { gate.arrived == inFlight })

        let stop = Task { await server.stop(drainTimeout: .seconds(10)) }
        #expect(await eventually { server.isDraining })

        // New connections are refused; a new request on an open connection gets 503 and a close.
        #expect(connectionRefused(port: port))
        let refused = try await onThread { try idle.request("GET", "/healthz") }
        #expect(refused.status == 503 && refused.envelope?.code == "draining")
        #expect(refused.header("Connection") == "close")

        gate.open()
        var texts: [String] = []
        for client in clients {
            let response = try await client.value
            #expect(response.status == 200)
            texts.append(response.text)
        }
        #expect(texts == (0..<inFlight).map { "done \($0)" })
        let report = await stop.value
        #expect(report == HTTPServer.StopReport(forcedRequests: 0, didStop: true))
        #expect(server.port == nil)
    }

    @Test func drainDeadlineAnswersUnfinishedRequests503() async throws {
        let gate = Gate()
        var router = Router()
        router.get("/stuck", after: gate, answering: "too late")
        let server = HTTPServer(configuration: testConfiguration(), router: router, logger: quietLogger)
        try server.start()
        let port = try #require(server.port)
        let client = Task { try await onThread { try TestConnection(port: port).request("GET", "/stuck") } }
        #expect(await eventually { gate.arrived == 1 })

        let report = await server.stop(drainTimeout: .milliseconds(100))
        #expect(report == HTTPServer.StopReport(forcedRequests: 1, didStop: true))
        let response = try await client.value
        #expect(response.status == 503 && response.envelope?.code == "draining")
        // The handler answers after the daemon is gone: the shim discards it safely.
        gate.open()
        #expect(await server.stop(drainTimeout: .seconds(1)).didStop == false)
    }

    @Test func clientGoneWhileSuspendedIsCleanedUp() async throws {
        let gate = Gate()
        var router = Router()
        router.get("/wait", after: gate, answering: "answered")
        router.get("/fast", async: { _ in Response.text("fast") })
        try await withServer(router: router) { server, port in
            // Two clients leave while their requests are suspended; the answers come later.
            for _ in 0..<2 {
                let arrived = gate.arrived
                try await onThread { try TestConnection(port: port).sendRequest("GET", "/wait") }
                #expect(await eventually { gate.arrived == arrived + 1 })
            }
            #expect(server.inFlight.suspended == 2)
            gate.open()
            // Resumed, libmicrohttpd finds the clients gone and completes without re-entering
            // the handler: the requests must stop counting as suspended all the same.
            #expect(await eventually { server.inFlight == (0, 0) })
            let texts = try await onThread {
                let c = try TestConnection(port: port)
                return try (0..<20).map { _ in try c.request("GET", "/fast").text }
            }
            #expect(texts == Array(repeating: "fast", count: 20))
            #expect(server.inFlight.suspended == 0)
        }
    }

    @Test func serviceDrainsOnGracefulShutdown() async throws {
        let readiness = Readiness()
        var router = Router()
        HealthRoutes.register(on: &router, readiness: readiness)
        let server = HTTPServer(configuration: testConfiguration(), router: router, logger: quietLogger)
        let listening = AsyncStream<String>.makeStream()
        let service = HTTPServerService(
            server: server, readiness: readiness, drainTimeout: .seconds(5), logger: quietLogger,
            onListening: { address in
                readiness.markReady()
                listening.continuation.yield(address)
            })
        let group = ServiceGroupRunner(service: service)
        let running = Task { try await group.run() }
        var iterator = listening.stream.makeAsyncIterator()
        let address = try #require(await iterator.next())
        let port = try #require(server.port)
        #expect(address == "127.0.0.1:\(port)")
        let ready = try await onThread { try TestConnection(port: port).request("GET", "/readyz") }
        #expect(ready.status == 200)
        await group.shutdown()
        try await running.value
        #expect(readiness.phase == .draining)
        #expect(server.port == nil)
    }
}
