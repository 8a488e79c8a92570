import Dispatch

/// The serial executor `ModelStore` runs on: a private dispatch queue instead of the shared
/// cooperative pool. Installs block in fsync for milliseconds; on their own queue they never
/// occupy one of the few pool threads that async request handlers need.
final class StoreExecutor: SerialExecutor {
    private let queue = DispatchQueue(label: "axon.model-store")

    /// Runs `job` on the queue, in order.
    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    /// This executor as an actor's `unownedExecutor`.
    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }
}
