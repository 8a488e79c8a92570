@testable import AxonHTTP
import Foundation
import Synchronization
import TestKit
import Testing

@testable import AxonServer

/// The streamed response the shim sends while it is written (the transport of Server-Sent
/// Events): bytes go out as they are written, an idle stream sleeps, a full buffer refuses
/// instead of growing, and client departure and drain both end it.
@Suite("Streamed responses")
struct EventStreamTests {
    /// The stream a handler made, for the test to write into.
    final class Slot: Sendable {
        private let value = Mutex<EventStream?>(nil)
        func set(_ stream: EventStream) { value.withLock { $0 = stream } }
        var stream: EventStream? { value.withLock { $0 } }
    }

    private func streamingRouter(_ slot: Slot, capacity: Int = 1 << 16, prelude: @escaping @Sendable (EventStream) -> Void = { _ in }) -> Router {
        var router = Router()
        router.get("/events") { _ in
            let stream = EventStream(capacity: capacity)
            prelude(stream)
            slot.set(stream)
            return Response.eventStream(stream)
        }
        router.get("/plain") { _ in Response.text("plain") }
        return router
    }

    @Test("bytes written later reach the client as they are written, then the body ends and the connection is reused")
    func writesArriveInOrderAndTheBodyEnds() async throws {
        let slot = Slot()
        try await withServer(router: streamingRouter(slot)) { server, port in
            let connection = try TestConnection(port: port)
            let head = try await onThread { () throws -> TestResponse in
                try connection.sendRequest("GET", "/events")
                return try connection.readStreamHead()
            }
            #expect(head.status == 200)
            #expect(head.header("Content-Type") == "text/event-stream")
            #expect(head.header("Cache-Control") == "no-cache")
            let stream = try #require(slot.stream)
            #expect(server.openStreams == 1)
            for index in 1 ... 3 {
                #expect(stream.write("data: \(index)\n\n") == .written)
                let chunk = try await onThread { try connection.readChunk() }
                #expect(chunk.map { String(decoding: $0, as: UTF8.self) } == "data: \(index)\n\n")
            }
            stream.finish()
            #expect(stream.write("data: late\n\n") == .closed)
            #expect(try await onThread { try connection.readChunk() } == nil)
            #expect(await eventually { server.openStreams == 0 })
            let next = try await onThread { try connection.request("GET", "/plain") }
            #expect(next.status == 200 && next.text == "plain")
        }
    }

    @Test("a write that does not fit the capacity is refused (not buffered without bound) unless forced")
    func aFullBufferRefusesUnlessForced() async throws {
        let slot = Slot()
        let results = Mutex<[EventStream.WriteResult]>([])
        // Written before the answer is queued, so nothing drains the buffer meanwhile.
        let router = streamingRouter(slot, capacity: 16) { stream in
            let outcomes = [stream.write("0123456789"), stream.write("0123456789"), stream.write("final", force: true)]
            results.withLock { $0 = outcomes }
            stream.finish()
        }
        try await withServer(router: router) { _, port in
            let body = try await onThread { () throws -> String in
                let connection = try TestConnection(port: port)
                try connection.sendRequest("GET", "/events")
                _ = try connection.readStreamHead()
                var text = ""
                for _ in 0 ..< 10 {
                    guard let chunk = try connection.readChunk() else { break }
                    text += String(decoding: chunk, as: UTF8.self)
                }
                return text
            }
            #expect(results.withLock { $0 } == [.written, .full, .written])
            #expect(body == "0123456789final")
        }
    }

    @Test("a client that goes away ends its stream: writes then answer closed and the stream is released")
    func aDepartedClientClosesTheStream() async throws {
        let slot = Slot()
        try await withServer(router: streamingRouter(slot)) { server, port in
            try await onThread {
                let connection = try TestConnection(port: port)
                try connection.sendRequest("GET", "/events")
                _ = try connection.readStreamHead()
            }  // the connection closes here
            let stream = try #require(slot.stream)
            // The next write wakes the sleeping connection; sending fails and the shim lets go.
            #expect(await eventually { stream.write(": ping\n\n") == .closed })
            #expect(await eventually { server.openStreams == 0 })
        }
    }

    @Test("drain ends open streams cleanly: buffered bytes and the final chunk arrive, and stop does not wait for its deadline")
    func drainEndsOpenStreams() async throws {
        let slot = Slot()
        let server = HTTPServer(configuration: testConfiguration(), router: streamingRouter(slot), logger: quietLogger)
        try server.start()
        let port = try #require(server.port)
        let connection = try TestConnection(port: port)
        _ = try await onThread { () throws -> TestResponse in
            try connection.sendRequest("GET", "/events")
            return try connection.readStreamHead()
        }
        let stream = try #require(slot.stream)
        #expect(stream.write("data: before\n\n") == .written)
        let started = ContinuousClock.now
        let stop = Task { await server.stop(drainTimeout: .seconds(20)) }
        let text = try await onThread { () throws -> String in
            var text = ""
            for _ in 0 ..< 10 {
                guard let chunk = try connection.readChunk() else { return text }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text + "(no end)"
        }
        _ = await stop.value
        #expect(text == "data: before\n\n")
        #expect(ContinuousClock.now - started < .seconds(10), "the open stream held the drain to its deadline")
        #expect(stream.write("data: after\n\n") == .closed)
    }
}
