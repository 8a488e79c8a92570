import AxonHTTP
import AxonSupport
import Dispatch
import Foundation
import Synchronization

/// The bounded pool that runs predictions too costly for a polling thread, and evaluations.
///
/// `inference.threads` threads of its own: not the polling threads, which must keep answering
/// cheap requests (`/healthz`, one-row predictions) while a large batch computes, and not the
/// cooperative pool, which the async handlers and the store's awaits need. At most
/// `inference.queue_limit` requests wait for a thread; one more is refused at once with 503
/// `overloaded` and `Retry-After` rather than queued without bound.
///
/// Threads start with the first work (a context that never predicts anything large costs no
/// thread) and end after `shutdown()`, once the queue is empty.
final class InferencePool: WorkExecutor {
    typealias Work = @Sendable () -> Void

    private struct State {
        /// Work not yet taken by a thread, oldest first from `head`.
        var queue: [Work?] = []
        var head = 0
        /// Threads running a piece of work now.
        var busy = 0
        var started = false
        var stopped = false
        /// Requests refused with `overloaded` since the pool was made.
        var rejected = 0

        var pending: Int { queue.count - head }
    }

    /// Threads of the pool (`inference.threads`).
    let threads: Int
    /// Requests that may wait for a thread (`inference.queue_limit`).
    let queueLimit: Int
    private let state = Locked(State())
    // One signal per queued piece of work, and one per thread at shutdown.
    private let available = DispatchSemaphore(value: 0)

    /// A pool of `threads` threads (at least one) and room for `queueLimit` waiting requests.
    init(threads: Int, queueLimit: Int) {
        self.threads = max(1, threads)
        self.queueLimit = max(0, queueLimit)
    }

    /// A pool sized by `configuration`.
    convenience init(_ configuration: InferenceConfiguration) {
        self.init(threads: configuration.threads, queueLimit: configuration.queueLimit)
    }

    /// Queues `work` for a pool thread, whose result then goes to `deliver` (on the same thread,
    /// after the thread counts as free again). Throws 503 `overloaded` when `queueLimit`
    /// requests already wait (work that an idle thread takes at once does not count as
    /// waiting), and 503 `draining` after `shutdown()`.
    func execute<T: Sendable>(_ work: @escaping @Sendable () -> T, then deliver: @escaping @Sendable (T) -> Void) throws(APIError) {
        try enqueue { [self] in
            let result = work()
            state.withLock { $0.busy -= 1 }
            deliver(result)
        }
    }

    private func enqueue(_ work: @escaping Work) throws(APIError) {
        let start = try state.withLock { (state) throws(APIError) -> Bool in
            guard !state.stopped else { throw APIError.draining }
            let idle = threads - state.busy
            guard state.pending < queueLimit + idle else {
                state.rejected += 1
                throw APIError.overloaded(threads: threads, queueLimit: queueLimit)
            }
            state.queue.append(work)
            defer { state.started = true }
            return !state.started
        }
        if start { startThreads() }
        available.signal()
    }

    /// Runs `work` on a pool thread and returns its result; throws what `execute` throws when
    /// the pool refuses it.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            do {
                try execute({ Result { try work() } }, then: { continuation.resume(with: $0) })
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Refuses new work; the threads finish what is queued, then end. Does not wait for them.
    func shutdown() {
        let started = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return state.started && !state.stopped
        }
        guard started else { return }
        for _ in 0 ..< threads { available.signal() }
    }

    /// Requests waiting for a thread now.
    var waiting: Int {
        state.withLock { max(0, $0.pending - (threads - $0.busy)) }
    }

    /// Threads running a piece of work now.
    var busy: Int {
        state.withLock { $0.busy }
    }

    /// Requests refused with `overloaded` so far.
    var rejected: Int {
        state.withLock { $0.rejected }
    }

    private func startThreads() {
        for index in 0 ..< threads {
            DedicatedThread.start("axon-infer-\(index)", stackSize: DedicatedThread.computeStackSize) { [self] in self.work() }
        }
    }

    private enum Next {
        case run(Work)
        case exit
        case none
    }

    private func work() {
        while true {
            available.wait()
            let next = state.withLock { state -> Next in
                guard state.pending > 0 else { return state.stopped ? .exit : .none }
                guard let work = state.queue[state.head] else { preconditionFailure("queued work taken twice") }
                state.queue[state.head] = nil
                state.head += 1
                // Compact once the taken prefix dominates, so the array does not grow forever.
                if state.head >= 64, state.head * 2 >= state.queue.count {
                    state.queue.removeFirst(state.head)
                    state.head = 0
                }
                state.busy += 1
                return .run(work)
            }
            switch next {
            case .none: continue
            case .exit: return
            case .run(let work):
                // Counts itself free (`execute`) before it delivers.
                work()
            }
        }
    }
}

extension APIError {
    /// Seconds an `overloaded` answer asks the client to wait: the pool's work is predictions,
    /// which take milliseconds to a few seconds each.
    static let overloadedRetryAfterSeconds = 1

    /// 503: every inference thread is busy and `inference.queue_limit` requests already wait.
    static func overloaded(threads: Int, queueLimit: Int) -> APIError {
        APIError(
            status: .serviceUnavailable, code: "overloaded",
            message: "all \(threads) inference threads (inference.threads) are busy and \(queueLimit) requests already wait (inference.queue_limit); retry later",
            headers: ["Retry-After": String(overloadedRetryAfterSeconds)])
    }
}
