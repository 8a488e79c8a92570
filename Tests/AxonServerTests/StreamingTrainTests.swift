import AxonServer
import Foundation
import Testing
import TestKit

/// Training bodies streamed through a live server: parsed as the chunks arrive, within
/// `limits.max_train_body_bytes` (not the smaller `limits.max_body_bytes` of other routes),
/// refused with 413 once the rows read so far cross the job budget, and refused from their
/// head when the query is bad.
@Suite("streamed training bodies")
struct StreamingTrainTests {
    /// A CSV of `rows` rows: three features and a class label from a fixed rule.
    static func csv(rows: Int) -> [UInt8] {
        var text = "a,b,c,label\n"
        for k in 0 ..< rows {
            let a = Double(k % 97) / 97, b = Double(k % 13) / 13, c = Double(k % 7) / 7
            text += "\(a),\(b),\(c),\(a + b > 1 ? "hi" : "lo")\n"
        }
        return Array(text.utf8)
    }

    /// A live daemon whose HTTP body limit is 64 KiB, with `configure` applied to its settings.
    static func withDaemon(_ configure: @escaping (inout DaemonConfiguration) -> Void = { _ in }, _ body: (Int) async throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path, configure: configure)
        try await withServer(router: daemon.makeRouter(), configuration: testConfiguration(maxBodyBytes: 64 << 10)) { _, port in
            try await body(port)
        }
    }

    static func send(_ port: Int, _ path: String, type: String, body: [UInt8]? = nil, chunks: [[UInt8]]? = nil) async throws -> TestResponse {
        try await onThread {
            try TestConnection(port: port, timeoutSeconds: 60).request(
                "POST", path, headers: [("Content-Type", type)], body: body, chunks: chunks)
        }
    }

    @Test func aTrainingBodyMayExceedTheBodyLimitOfOtherRoutes() async throws {
        let body = Self.csv(rows: 20_000)
        #expect(body.count > 256 << 10)
        try await Self.withDaemon { port in
            let trained = try await Self.send(port, "/train?model=big&epochs=2&seed=1&wait=true", type: "text/csv", body: body)
            #expect(trained.status == 200, "\(trained.text)")
            // The same body chunked (no Content-Length), continuing the model.
            let chunks = stride(from: 0, to: body.count, by: 10_000).map { Array(body[$0 ..< min(body.count, $0 + 10_000)]) }
            let continued = try await Self.send(port, "/models/big/train?epochs=1&wait=true", type: "text/csv", chunks: chunks)
            #expect(continued.status == 200, "\(continued.text)")
            // Other routes keep limits.max_body_bytes.
            let predict = try await Self.send(port, "/predict", type: "application/json", body: Array(repeating: 0x20, count: 100 << 10))
            expectError(predict, 413, "content_too_large", mentions: ["limits.max_body_bytes"])
        }
    }

    @Test func aJSONBodyStreamsToo() async throws {
        var json = #"{"model":"js","epochs":2,"seed":3,"inputs":["#
        json += (0 ..< 6000).map { "[\(Double($0 % 50) / 50),\(Double($0 % 9) / 9)]" }.joined(separator: ",")
        json += #"],"targets":["# + (0 ..< 6000).map { $0 % 50 > 25 ? "\"x\"" : "\"y\"" }.joined(separator: ",") + "]}"
        let body = Array(json.utf8)
        #expect(body.count > 64 << 10)
        try await Self.withDaemon { port in
            let chunks = stride(from: 0, to: body.count, by: 7_777).map { Array(body[$0 ..< min(body.count, $0 + 7_777)]) }
            let trained = try await Self.send(port, "/train?wait=true", type: "application/json", chunks: chunks)
            #expect(trained.status == 200, "\(trained.text)")
        }
    }

    @Test func aBodyOverTheTrainingLimitIs413() async throws {
        let body = Self.csv(rows: 10_000)
        try await Self.withDaemon({ $0.limits.maxTrainBodyBytes = 100 << 10 }) { port in
            // Declared: refused from the head.
            let declared = try await Self.send(port, "/train?model=x", type: "text/csv", body: body)
            expectError(declared, 413, "content_too_large", mentions: ["limits.max_train_body_bytes"])
            // Chunked: refused once it has passed the limit.
            let chunks = stride(from: 0, to: body.count, by: 16_000).map { Array(body[$0 ..< min(body.count, $0 + 16_000)]) }
            let chunked = try await Self.send(port, "/train?model=x", type: "text/csv", chunks: chunks)
            expectError(chunked, 413, "content_too_large", mentions: ["limits.max_train_body_bytes"])
        }
    }

    @Test func rowsPastTheJobBudgetAre413WhileTheyArrive() async throws {
        let body = Self.csv(rows: 30_000)
        // Rows of 3 inputs take 3 x (3 + 1) x 4 + 8 = 56 bytes of a job: room for 10,000.
        try await Self.withDaemon({ $0.limits.maxJobBytes = 56 * 10_000 }) { port in
            let chunks = stride(from: 0, to: body.count, by: 32_000).map { Array(body[$0 ..< min(body.count, $0 + 32_000)]) }
            let refused = try await Self.send(port, "/train?model=x", type: "text/csv", chunks: chunks)
            expectError(refused, 413, "limit_exceeded", mentions: ["limits.max_job_bytes", "CSV line 10002"])
        }
    }

    @Test func aBadQueryIsAnsweredBeforeTheBody() async throws {
        let body = Self.csv(rows: 1_000)
        #expect(body.count > 16 << 10 && body.count < 64 << 10)
        try await Self.withDaemon { port in
            let refused = try await Self.send(port, "/train?model=x&bogus=1", type: "text/csv", body: body)
            expectError(refused, 400, "unknown_field", mentions: ["bogus"])
            let unknown = try await Self.send(port, "/models/nope/train", type: "text/csv", body: body)
            #expect(unknown.status == 404, "\(unknown.text)")
        }
    }
}
