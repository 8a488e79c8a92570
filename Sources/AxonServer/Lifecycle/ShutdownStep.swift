import AxonSupport
import ServiceLifecycle
import Synchronization

/// A component with nothing to run, only something to do at shutdown (close the job records,
/// end the event streams' heartbeat, stop the inference pool): a `Service`, so the daemon's
/// `ServiceGroup` runs the steps in reverse order of their listing, after the services listed
/// later have stopped.
struct ShutdownStep: Service {
    /// Names the thread `action` runs on.
    let name: String
    /// Blocking work (fsync, joining threads), so it runs on a thread of its own.
    let action: @Sendable () -> Void

    func run() async throws {
        // Cancellation (a failed sibling) shuts down as well: the step runs either way.
        try? await gracefulShutdown()
        await DedicatedThread.run(name, action)
    }
}

/// Opens once; tasks that wait before then resume when it opens, later ones at once.
final class Latch: Sendable {
    private enum State {
        case closed([CheckedContinuation<Void, Never>])
        case open
    }

    private let state = Mutex(State.closed([]))

    func open() {
        let waiting: [CheckedContinuation<Void, Never>] = state.withLock { state in
            guard case .closed(let waiting) = state else { return [] }
            state = .open
            return waiting
        }
        for continuation in waiting { continuation.resume() }
    }

    func wait() async {
        await withCheckedContinuation { continuation in
            let resumeNow: Bool = state.withLock { state in
                guard case .closed(var waiting) = state else { return true }
                waiting.append(continuation)
                state = .closed(waiting)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

/// Ends the daemon's `ServiceGroup` gracefully when `latch` opens (`Daemon.triggerGracefulShutdown`),
/// as SIGTERM does; returns as well when the group shuts down for another reason.
struct ShutdownRequest: Service {
    let latch: Latch

    func run() async {
        await withDiscardingTaskGroup { group in
            let latch = self.latch
            group.addTask {
                try? await gracefulShutdown()
                latch.open()
            }
            await latch.wait()
            group.cancelAll()
        }
    }
}
