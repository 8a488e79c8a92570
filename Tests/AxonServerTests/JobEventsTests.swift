import AxonAPI
@testable import AxonHTTP
@testable import AxonStore
@testable import AxonJobs
import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// `GET /jobs/{id}/events` and `GET /events` against a live server on 127.0.0.1:0 with real
/// training jobs: the order of the events, resumption, the final event, the stream bound.
@Suite("Job events")
struct JobEventsTests {
    struct Event: Equatable, @unchecked Sendable {
        var id: Int?
        var name: String
        var data: [String: Any]
        static func == (a: Event, b: Event) -> Bool { a.id == b.id && a.name == b.name }
    }

    /// Reads events from an open stream until `stop` says so or the body ends (bounded).
    final class EventReader: @unchecked Sendable {
        let connection: TestConnection
        private var pending = ""
        private(set) var ended = false

        init(port: Int, path: String, lastEventID: Int? = nil) throws {
            connection = try TestConnection(port: port)
            var headers: [(String, String)] = []
            if let lastEventID { headers.append(("Last-Event-ID", String(lastEventID))) }
            try connection.sendRequest("GET", path, headers: headers)
        }

        func head() throws -> TestResponse { try connection.readStreamHead() }

        /// Gives up after `limit` chunks or `seconds`: heartbeats alone would keep a chunk
        /// count going for half an hour.
        func read(until stop: (Event) -> Bool, limit: Int = 10_000, seconds: Int = 20) throws -> [Event] {
            var events: [Event] = []
            let deadline = ContinuousClock.now + .seconds(seconds)
            for _ in 0 ..< limit where ContinuousClock.now < deadline {
                while let range = pending.range(of: "\n\n") {
                    let block = String(pending[..<range.lowerBound])
                    pending.removeSubrange(..<range.upperBound)
                    guard let event = Self.parse(block) else { continue }
                    events.append(event)
                    if stop(event) { return events }
                }
                guard let chunk = try connection.readChunk() else {
                    ended = true
                    return events
                }
                pending += String(decoding: chunk, as: UTF8.self)
            }
            return events
        }

        static func parse(_ block: String) -> Event? {
            var id: Int?
            var name = "message"
            var data = ""
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix(":") { continue }
                if line.hasPrefix("id: ") { id = Int(line.dropFirst(4)) }
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard !data.isEmpty else { return nil }
            let object = (try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any]) ?? [:]
            return Event(id: id, name: name, data: object)
        }
    }

    /// A live server over jobs with events; `lockedModel`'s training lock is held meanwhile, as
    /// another replica training it would.
    func withEventsServer<T>(
        maxStreams: Int = 100, lockedModel: String? = nil, _ body: (Int, JobScheduler, JobEvents) async throws -> T
    ) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let held = try lockedModel.map { try TrainingLock.tryAcquire(stateDirectory: directory.path, model: ModelName($0)) }
        defer { held??.unlock() }
        let store = await loadedStore(directory)
        let events = JobEvents(maxStreams: maxStreams, heartbeat: .milliseconds(200))
        let jobs = JobScheduler(testing: store, observer: events)
        jobs.restore(stateDirectory: directory.path)
        defer {
            events.close()
            jobs.close()
        }
        var router = Router()
        APIRoutes.register(on: &router, context: APIContext(store: store, jobs: jobs, events: events, limits: ServerLimits()))
        return try await withServer(router: router, configuration: testConfiguration(maxBodyBytes: 1 << 20)) { _, port in
            try await body(port, jobs, events)
        }
    }

    static let job20 = #"{"model":"m","inputs":[[0],[1],[2],[3],[4],[5]],"targets":[0,1,4,9,16,25],"epochs":20,"early_stopping":false,"validation_split":0,"seed":3}"#
    static let endless: String = {
        let rows = (0 ..< 64).map { "[\($0 % 7),\(($0 * 3) % 5)]" }.joined(separator: ",")
        let targets = (0 ..< 64).map { String($0 % 2) }.joined(separator: ",")
        return #"{"model":"long","inputs":[\#(rows)],"targets":[\#(targets)],"epochs":1000000,"early_stopping":false,"validation_split":0}"#
    }()

    private func submit(_ port: Int, _ json: String) async throws -> String {
        let response = try await call(port, "POST", "/train", json: json)
        #expect(response.status == 202, "\(response.text)")
        return try #require(response.object["id"] as? String)
    }

    @Test("a job's stream: queued, started, one event per epoch in order, then succeeded with the version; Last-Event-ID resumes")
    func aJobsEventsInOrderAndResumption() async throws {
        try await withEventsServer { port, _, _ in
            let id = try await submit(port, Self.job20)
            let (head, events) = try await onThread { () throws -> (TestResponse, [Event]) in
                let reader = try EventReader(port: port, path: "/jobs/\(id)/events")
                let head = try reader.head()
                let events = try reader.read(until: { _ in false })
                #expect(reader.ended, "the stream of a finished job ends after its final event")
                return (head, events)
            }
            #expect(head.status == 200)
            #expect(head.header("Content-Type") == "text/event-stream")
            #expect(events.map(\.name) == ["queued", "started"] + Array(repeating: "epoch", count: 20) + ["succeeded"])
            #expect(events.first?.data["status"] as? String == "queued" && events.dropFirst().first?.data["status"] as? String == "running")
            let ids = events.compactMap(\.id)
            #expect(ids.count == events.count && ids == ids.sorted() && Set(ids).count == ids.count, "ids must increase: \(ids)")
            #expect(events.dropFirst(2).prefix(20).map { $0.data["epoch"] as? Int } == Array(0 ..< 20))
            #expect(events[2].data["train_loss"] is Double && events[2].data["epochs"] as? Int == 20)
            let final = try #require(events.last)
            #expect(final.data["id"] as? String == id && final.data["version"] as? Int == 1)

            // Resumed after epoch 9: epochs 10...19, then the final event again.
            let tenth = try #require(events[11].id)
            let resumed = try await onThread { () throws -> [Event] in
                let reader = try EventReader(port: port, path: "/jobs/\(id)/events", lastEventID: tenth)
                #expect(try reader.head().status == 200)
                return try reader.read(until: { _ in false })
            }
            #expect(resumed.filter { $0.name == "epoch" }.map { $0.data["epoch"] as? Int } == Array(10 ..< 20))
            #expect(resumed.last?.name == "succeeded" && resumed.count == 11)

            // Resumed after the final event: nothing more, and the stream ends.
            let none = try await onThread { () throws -> [Event] in
                let reader = try EventReader(port: port, path: "/jobs/\(id)/events", lastEventID: final.id)
                _ = try reader.head()
                return try reader.read(until: { _ in false })
            }
            #expect(none.isEmpty)

            let bad = try await onThread {
                try TestConnection(port: port).request("GET", "/jobs/\(id)/events", headers: [("Last-Event-ID", "abc")])
            }
            #expect(bad.status == 400 && bad.envelope?.code == "invalid_header" && bad.text.contains("Last-Event-ID"))
            let unknown = try await call(port, "GET", "/jobs/job-999-0/events")
            #expect(unknown.status == 404)
        }
    }

    @Test("a job that starts waiting for its model's training lock sends its queued event again, with waiting_for")
    func waitingForTheLockIsAnEvent() async throws {
        try await withEventsServer(lockedModel: "m") { port, jobs, _ in
            // Open before the job exists, so it sees the first queued event live, then the update.
            let reader = try await onThread { () throws -> EventReader in
                let reader = try EventReader(port: port, path: "/events")
                #expect(try reader.head().status == 200)
                return reader
            }
            let id = try await submit(port, Self.job20)
            let events = try await onThread { try reader.read(until: { event in event.data["waiting_for"] != nil }) }
            #expect(events.map(\.name) == ["queued", "queued"], "\(events.map(\.name))")
            #expect(events.first?.data["waiting_for"] == nil && events.map(\.id) == [1, 1])
            #expect((events.last?.data["waiting_for"] as? String)?.contains(#"model "m""#) == true)
            #expect(events.last?.data["job"] as? String == id)
            _ = jobs.cancel(id)
        }
    }

    @Test("live events reach an open stream, the stream bound answers 503, and a cancel's final event ends every stream")
    func liveEventsBoundAndCancel() async throws {
        try await withEventsServer(maxStreams: 2) { port, _, events in
            let id = try await submit(port, Self.endless)
            // Two streams follow the running job and see live epochs.
            let readers = try await onThread { () throws -> [EventReader] in
                try (0 ..< 2).map { _ in
                    let reader = try EventReader(port: port, path: "/jobs/\(id)/events")
                    #expect(try reader.head().status == 200)
                    let seen = try reader.read(until: { $0.name == "epoch" && ($0.data["epoch"] as? Int ?? 0) >= 3 })
                    #expect(seen.last?.name == "epoch")
                    return reader
                }
            }
            #expect(events.openStreams == 2)
            let third = try await call(port, "GET", "/jobs/\(id)/events")
            #expect(third.status == 503 && third.envelope?.code == "too_many_streams", "\(third.text)")
            #expect(third.text.contains("events.max_streams"))
            #expect(third.header("Retry-After") != nil)

            let cancelled = try await call(port, "DELETE", "/jobs/\(id)")
            #expect(cancelled.status == 200)
            for reader in readers {
                let rest = try await onThread { try reader.read(until: { $0.name != "epoch" }) }
                #expect(rest.last?.name == "cancelled", "\(rest.map(\.name).suffix(3))")
                #expect(try await onThread { try reader.read(until: { _ in false }) }.isEmpty && reader.ended)
            }
            #expect(await eventually { events.openStreams == 0 })
        }
    }

    @Test("GET /events carries every job's events and the models' changes")
    func everythingStream() async throws {
        try await withEventsServer { port, _, _ in
            let reader = try await onThread { () throws -> EventReader in
                let reader = try EventReader(port: port, path: "/events")
                #expect(try reader.head().status == 200)
                return reader
            }
            let id = try await submit(port, Self.job20)
            let seen = try await onThread { try reader.read(until: { $0.name == "model" }) }
            #expect(seen.first?.name == "queued" && seen.first?.data["job"] as? String == id)
            #expect(seen.contains { $0.name == "started" })
            #expect(seen.filter { $0.name == "epoch" }.count == 20)
            #expect(seen.last?.data["change"] as? String == "installed" && seen.last?.data["version"] as? Int == 1)
            let final = try await onThread { try reader.read(until: { $0.name == "succeeded" }) }
            #expect(final.last?.data["id"] as? String == id)
            #expect(try await call(port, "DELETE", "/models/m").status == 200)
            let deleted = try await onThread { try reader.read(until: { $0.name == "model" }) }
            #expect(deleted.last?.data["change"] as? String == "deleted" && deleted.last?.data["model"] as? String == "m")
        }
    }
    @Test("open streams and dropped epoch events are in /metrics")
    func streamsAreScraped() throws {
        let metrics = AxonMetrics()
        let events = JobEvents(maxStreams: 4, heartbeat: .seconds(60), streamBufferBytes: 64)
        defer { events.close() }
        metrics.training.observeEvents(open: { events.openStreams }, dropped: { events.droppedEvents })
        func value(_ name: String) -> String? {
            String(decoding: metrics.exposition(), as: UTF8.self).split(separator: "\n")
                .first { $0.hasPrefix(name + " ") }.map { String($0.split(separator: " ")[1]) }
        }
        #expect(value("axon_event_streams_open") == "0.0")
        // Never sent (no connection reads it), so its 64-byte buffer fills at the second epoch.
        _ = try events.openAll()
        #expect(value("axon_event_streams_open") == "1.0")
        var job = JobSnapshot(
            id: "job-1-a", model: "m", kind: "train", status: .running, createdAt: "", epochs: 3, epoch: 0, rows: 1, history: [],
            parentVersion: nil)
        job.startedAt = ""
        for epoch in 0 ..< 3 {
            events.publish(job: job.id) { JobEvents.epoch(job, JobSnapshot.Epoch(epoch: epoch, trainLoss: 1, validationLoss: nil, samplesPerSecond: 1)) }
        }
        #expect(value("axon_event_stream_dropped_total").flatMap(Int.init).map { $0 >= 1 } == true)
    }
}
