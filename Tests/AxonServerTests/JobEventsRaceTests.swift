import AxonAPI
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// A stream opened while its job moves on: the job's record is read and the stream registered
/// as one step against publishing, so no event falls between the backlog and the live events
/// (a lost final event left the stream open for good) and none is sent twice.
@Suite("Job events opened as the job moves on")
struct JobEventsRaceTests {
    static func job(_ status: JobStatus, epochs: Int) -> JobSnapshot {
        var job = JobSnapshot(
            id: "job-1-a", model: "m", kind: "train", status: status, createdAt: "t", epochs: 5, epoch: epochs, rows: 4,
            history: (0 ..< epochs).map { JobSnapshot.Epoch(epoch: $0, trainLoss: 1, validationLoss: nil, samplesPerSecond: 10) })
        job.startedAt = "t"
        return job
    }

    @Test("the stream is a listener while the record is read; an unknown job opens nothing; a finished one is not registered")
    func listensBeforeReading() throws {
        let events = JobEvents()
        var sawListener = false
        let stream = try #require(try events.open(following: "job-1-a", after: 0) {
            // A publish from now on takes the lock this read runs under, so it reaches the stream.
            sawListener = events.hasListeners
            return Self.job(.running, epochs: 2)
        })
        #expect(sawListener)
        #expect(events.openStreams == 1 && stream.isOpen)
        #expect(try events.open(following: "job-9-z", after: 0) { nil } == nil)
        #expect(events.openStreams == 1, "an unknown job leaves the count as it was")
        let ended = try #require(try events.open(following: "job-1-a", after: 0) { Self.job(.succeeded, epochs: 5) })
        #expect(!ended.isOpen && events.openStreams == 1, "a finished job's stream holds its backlog and ends")
        events.publish(job: "job-1-a") { JobEvents.final(Self.job(.succeeded, epochs: 5)) }
        #expect(!stream.isOpen && events.openStreams == 0, "the final event ends the live stream and releases it")
    }

    @Test("streams opened right after each of 40 short jobs is submitted each get every event once, then the final one")
    func noEventLostOrDoubled() async throws {
        let job = #"{"model":"m","inputs":[[0],[1],[2],[3]],"targets":[0,1,4,9],"epochs":3,"early_stopping":false,"validation_split":0,"seed":1}"#
        try await JobEventsTests().withEventsServer { port, _, _ in
            for round in 0 ..< 40 {
                let response = try await call(port, "POST", "/train", json: job)
                let id = try #require(response.object["id"] as? String, "\(response.text)")
                let events = try await onThread { () throws -> [JobEventsTests.Event] in
                    let reader = try JobEventsTests.EventReader(port: port, path: "/jobs/\(id)/events")
                    #expect(try reader.head().status == 200)
                    // Heartbeats every 200 ms: a lost final event fails here within 20 s.
                    return try reader.read(until: { ["succeeded", "failed", "cancelled"].contains($0.name) }, limit: 100)
                }
                #expect(events.map(\.name) == ["queued", "started", "epoch", "epoch", "epoch", "succeeded"], "round \(round)")
                #expect(events.compactMap(\.id) == [1, 2, 3, 4, 5, 6], "round \(round)")
            }
        }
    }
}
