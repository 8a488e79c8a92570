import AxonAPI
import AxonHTTP
import AxonSupport
import Foundation
import Synchronization

/// Server-Sent Events of training jobs (`GET /jobs/{id}/events`) and of everything
/// (`GET /events`): one event when a job is queued (again when it starts waiting for its
/// model's training lock), one when it starts, one per epoch, then a final `succeeded`,
/// `failed` or `cancelled` carrying the whole job; on `/events` also the models' changes.
///
/// Nothing is kept per event: a job's ids follow from its state (1 queued, 2 started, 3 + e for
/// epoch e, and the final event one past the last epoch's), so a client that connects late or
/// resumes with `Last-Event-ID` is sent what the job's record still holds after that id (its
/// loss curve is decimated past `jobs.history_points`), then the live events. With nobody
/// listening a job pays one atomic load per event.
///
/// Streams are bounded in number (`events.max_streams`); each buffers at most
/// `streamBufferBytes`, and a reader that falls that far behind loses epochs, never the final
/// event. A comment every `heartbeat` keeps proxies from closing idle streams and finds the
/// clients that left.
public final class JobEvents: Sendable {
    /// An event as sent: `id`, `event` name and one JSON `data` line.
    struct Event: Sendable {
        let id: Int
        let name: String
        let data: [UInt8]
        let final: Bool
        /// Sent again under the same id to a stream that already has it: the job's queued
        /// state changed (it began waiting for its model's training lock).
        var update = false

        var bytes: [UInt8] { ServerSentEvent.encode(id: id, name: name, data: data) }
    }

    private final class Subscriber: Sendable {
        let stream: EventStream
        /// The job it follows; nil for `/events`.
        let job: String?
        /// The last id its backlog held: a live event up to it is already in the stream.
        let covered: Int
        init(stream: EventStream, job: String?, covered: Int = 0) {
            self.stream = stream
            self.job = job
            self.covered = covered
        }
    }

    private struct State {
        var subscribers: [ObjectIdentifier: Subscriber] = [:]
        var heartbeatRunning = false
        var closed = false
    }

    /// Open streams at most (`events.max_streams`).
    let maxStreams: Int
    /// Interval of the keep-alive comment (`events.heartbeat_seconds`).
    let heartbeat: Duration
    /// Unsent bytes one stream may hold.
    let streamBufferBytes: Int
    // A pthread mutex (`Locked`), not `Mutex`: ThreadSanitizer cannot see the latter's futex and
    // reported the subscribers, each read and written under it, as races.
    private let state = Locked(State())
    private let listening = Atomic<Int>(0)
    private let dropped = Atomic<Int>(0)
    private let wake = NSCondition()

    public init(maxStreams: Int = 100, heartbeat: Duration = .seconds(15), streamBufferBytes: Int = 256 << 10) {
        self.maxStreams = maxStreams
        self.heartbeat = heartbeat
        self.streamBufferBytes = streamBufferBytes
    }

    /// Streams open now.
    public var openStreams: Int { listening.load(ordering: .relaxed) }
    /// Epoch events a slow reader lost so far.
    public var droppedEvents: Int { dropped.load(ordering: .relaxed) }

    // MARK: ids and events

    static let queuedID = 1
    static let startedID = 2
    static func epochID(_ epoch: Int) -> Int { 3 + epoch }

    static func queued(_ job: JobSnapshot) -> Event {
        Event(id: queuedID, name: "queued", data: encode(JobStage(job, status: .queued)), final: false)
    }

    /// The queued event again, now with `waiting_for`: the job waits for its model's training lock.
    static func waiting(_ job: JobSnapshot) -> Event {
        var event = queued(job)
        event.update = true
        return event
    }

    static func started(_ job: JobSnapshot) -> Event {
        Event(id: startedID, name: "started", data: encode(JobStage(job, status: .running)), final: false)
    }

    static func epoch(_ job: JobSnapshot, _ epoch: JobSnapshot.Epoch) -> Event {
        Event(id: epochID(epoch.epoch), name: "epoch", data: encode(JobProgress(job, epoch)), final: false)
    }

    static func final(_ job: JobSnapshot) -> Event {
        let lastEpoch = job.history.last?.epoch
        let id = lastEpoch.map { epochID($0) + 1 } ?? startedID + 1
        return Event(id: id, name: job.status.rawValue, data: encode(job), final: true)
    }

    /// The events of `job` after `lastEventID` that its record still holds.
    static func backlog(_ job: JobSnapshot, after lastEventID: Int) -> [Event] {
        var events: [Event] = []
        if lastEventID < queuedID { events.append(queued(job)) }
        if job.startedAt != nil {
            if lastEventID < startedID { events.append(started(job)) }
            for point in job.history where epochID(point.epoch) > lastEventID { events.append(epoch(job, point)) }
        }
        if job.status.isFinished {
            let last = final(job)
            if last.id > lastEventID { events.append(last) }
        }
        return events
    }

    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        // Every value here is finite (the job record keeps no NaN): encoding cannot fail.
        (try? APIJSON.encode(value)) ?? Array("{}".utf8)
    }

    // MARK: publishing

    /// Whether anyone listens: callers skip building events when nobody does.
    var hasListeners: Bool { listening.load(ordering: .relaxed) > 0 }

    /// Sends `make()` to the streams following `job` and to `/events`. A final event is never
    /// dropped and ends the job's own streams.
    func publish(job: String, _ make: () -> Event) {
        guard hasListeners else { return }
        let targets = state.withLock { state in state.subscribers.values.filter { $0.job == nil || $0.job == job } }
        guard !targets.isEmpty else { return }
        let event = make()
        let bytes = event.bytes
        var gone: [ObjectIdentifier] = []
        for subscriber in targets where subscriber.job == nil || event.id > subscriber.covered || (event.update && event.id == subscriber.covered) {
            switch subscriber.stream.write(bytes, force: event.final) {
            case .written:
                if event.final, subscriber.job != nil {
                    subscriber.stream.finish()
                    gone.append(ObjectIdentifier(subscriber))
                }
            case .full: dropped.add(1, ordering: .relaxed)
            case .closed: gone.append(ObjectIdentifier(subscriber))
            }
        }
        remove(gone)
    }

    /// Sends a model change (`installed`, `rolled_back`, `deleted`) to `/events`.
    func publishModel(_ name: String, change: String, version: UInt64?) {
        guard hasListeners else { return }
        let data = Self.encode(ModelChange(model: name, change: change, version: version))
        let targets = state.withLock { state in state.subscribers.values.filter { $0.job == nil } }
        var gone: [ObjectIdentifier] = []
        // No id: a model change is not part of any job's sequence, and resuming skips nothing.
        let bytes = ServerSentEvent.encode(id: nil, name: JobEventName.model.rawValue, data: data)
        for subscriber in targets where subscriber.stream.write(bytes) == .closed { gone.append(ObjectIdentifier(subscriber)) }
        remove(gone)
    }

    // MARK: subscribing

    /// Opens a stream following job `id`: its backlog after `lastEventID`, then live events; a
    /// finished job's stream holds its final event and ends. nil when `snapshot` does not know
    /// the job; 503 past `events.max_streams`.
    ///
    /// The stream counts as a listener before `snapshot` reads the job's record, and the record
    /// is read and the stream registered under the lock `publish` takes: an event the record
    /// does not hold yet reaches the stream live, one it holds is not sent twice, so none is
    /// lost between the two (a job that ended in between would leave the stream open forever).
    func open(following id: String, after lastEventID: Int, snapshot: () -> JobSnapshot?) throws(APIError) -> EventStream? {
        listening.add(1, ordering: .sequentiallyConsistent)
        var registered = false
        defer { if !registered { listening.subtract(1, ordering: .relaxed) } }
        let stream = EventStream(capacity: streamBufferBytes)
        let (found, startHeartbeat) = try state.withLock { (state) throws(APIError) -> (Bool, Bool) in
            guard let job = snapshot() else { return (false, false) }
            let backlog = Self.backlog(job, after: lastEventID)
            for event in backlog { stream.write(event.bytes, force: true) }
            if job.status.isFinished {
                stream.finish()
                return (true, false)
            }
            try admit(&state)
            let subscriber = Subscriber(stream: stream, job: id, covered: backlog.last?.id ?? lastEventID)
            state.subscribers[ObjectIdentifier(subscriber)] = subscriber
            registered = true
            defer { state.heartbeatRunning = true }
            return (true, !state.heartbeatRunning)
        }
        if startHeartbeat { startBeating() }
        return found ? stream : nil
    }

    /// Opens a stream of every job's events and the models' changes, from now on.
    func openAll() throws(APIError) -> EventStream {
        let stream = EventStream(capacity: streamBufferBytes)
        stream.write(": every job's events and model changes from now on\n\n")
        try register(Subscriber(stream: stream, job: nil))
        return stream
    }

    private func register(_ subscriber: Subscriber) throws(APIError) {
        let startHeartbeat = try state.withLock { (state) throws(APIError) -> Bool in
            try admit(&state)
            state.subscribers[ObjectIdentifier(subscriber)] = subscriber
            listening.add(1, ordering: .relaxed)
            defer { state.heartbeatRunning = true }
            return !state.heartbeatRunning
        }
        if startHeartbeat { startBeating() }
    }

    /// 503 while draining or when `events.max_streams` streams are open.
    private func admit(_ state: inout State) throws(APIError) {
        guard !state.closed else { throw APIError.draining }
        guard state.subscribers.count < maxStreams else {
            throw APIError(
                status: .serviceUnavailable, code: "too_many_streams",
                message: "\(state.subscribers.count) event streams are open, events.max_streams is \(maxStreams); retry later",
                headers: ["Retry-After": "5"])
        }
    }

    private func startBeating() {
        DedicatedThread.start("axon-events") { [self] in self.beat() }
    }

    private func remove(_ ids: [ObjectIdentifier]) {
        guard !ids.isEmpty else { return }
        state.withLock { state in
            for id in ids where state.subscribers.removeValue(forKey: id) != nil { listening.subtract(1, ordering: .relaxed) }
        }
    }

    /// Every `heartbeat`, a comment to every stream; streams whose client left are dropped.
    private func beat() {
        let interval = heartbeat.inSeconds
        while true {
            wake.lock()
            _ = wake.wait(until: Date(timeIntervalSinceNow: interval))
            wake.unlock()
            let (subscribers, closed) = state.withLock { ($0.subscribers.values.map { $0 }, $0.closed) }
            if closed { return }
            let ping = Array(": heartbeat\n\n".utf8)
            remove(subscribers.filter { $0.stream.write(ping) == .closed }.map { ObjectIdentifier($0) })
        }
    }

    /// Ends every stream and the heartbeat; later opens answer `draining`. Called at shutdown.
    public func close() {
        let subscribers = state.withLock { state -> [Subscriber] in
            state.closed = true
            defer { state.subscribers = [:] }
            listening.subtract(state.subscribers.count, ordering: .relaxed)
            return Array(state.subscribers.values)
        }
        for subscriber in subscribers { subscriber.stream.finish() }
        wake.lock()
        wake.broadcast()
        wake.unlock()
    }
}
