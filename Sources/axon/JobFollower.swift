import AxonAPI
import Glibc

/// Follows one job's event stream (`GET /jobs/{id}/events`, docs/events.md) until its final
/// event. A stream that breaks or goes quiet is resumed with `Last-Event-ID`, so nothing is
/// shown twice; after `maxQuietReconnects` reconnections without a single event in between it
/// gives up.
struct JobFollower {
    let api: APIClient
    /// Seconds without a byte (the server sends a heartbeat comment every 15 s by default)
    /// before the stream counts as broken.
    static let idleTimeout = 60.0
    static let maxQuietReconnects = 5

    /// The finished job and its JSON as the final event carried it.
    func follow(_ job: JobSnapshot, display: JobDisplay) throws(CLIError) -> (JobSnapshot, String) {
        var counter = EpochCounter(job)
        var lastEventID: String?
        var quietReconnects = 0
        while true {
            do throws(CLIError) {
                let stream = try api.events(of: job.id, after: lastEventID)
                var parser = ServerSentEventParser()
                while let bytes = try stream.next(timeout: Self.idleTimeout) {
                    let events: [ServerSentEvent]
                    do throws(ServerSentEventError) {
                        events = try parser.feed(bytes)
                    } catch {
                        throw CLIError.badResponse("the event stream of job \(job.id) is broken: \(error)")
                    }
                    for event in events {
                        quietReconnects = 0
                        lastEventID = event.id ?? lastEventID
                        if let final = try handle(event, counter: &counter, display: display) { return (final, event.data) }
                    }
                }
            } catch {
                guard case .unreachable(let why) = error else { throw error }
                quietReconnects += 1
                guard quietReconnects <= Self.maxQuietReconnects else {
                    throw .unreachable("lost the event stream of job \(job.id) (\(why)); the job may still be running: axon watch \(job.id)")
                }
                usleep(useconds_t(250_000 * quietReconnects))
                continue
            }
            // The stream ended before the final event (a proxy or a draining server closed it).
            quietReconnects += 1
            guard quietReconnects <= Self.maxQuietReconnects else {
                throw .unreachable("the event stream of job \(job.id) keeps ending before the job does; axon watch \(job.id) to try again")
            }
        }
    }

    /// Shows `event`; returns the job when the event is final.
    private func handle(_ event: ServerSentEvent, counter: inout EpochCounter, display: JobDisplay) throws(CLIError) -> JobSnapshot? {
        guard let name = JobEventName(rawValue: event.name) else { return nil }
        let data = Array(event.data.utf8)
        do {
            switch name {
            case .queued, .started:
                display.stage(try APIJSON.decode(JobStage.self, from: data), event: name)
            case .epoch:
                let progress = try APIJSON.decode(JobProgress.self, from: data)
                display.epoch(progress, done: counter.done(progress.epoch))
            case .succeeded, .failed, .cancelled:
                let job = try APIJSON.decode(JobSnapshot.self, from: data)
                display.end()
                return job
            case .model:
                break
            }
        } catch {
            throw .badResponse("the \(name) event is not what axon expects (\(error))")
        }
        return nil
    }
}

/// Turns an epoch index (counted across warm starts) into this job's count: a `continue` job
/// starts where its parent version stopped.
struct EpochCounter {
    private var base: Int?

    init(_ job: JobSnapshot) {
        if job.kind == "train" {
            base = 0
        } else if job.epoch > 0, let last = job.history.last {
            base = last.epoch + 1 - job.epoch
        }
    }

    /// The 1-based count of epoch `index` in this job; a `continue` job followed from its start
    /// learns its base from the first epoch.
    mutating func done(_ index: Int) -> Int {
        let base = self.base ?? index
        self.base = base
        return index - base + 1
    }
}
