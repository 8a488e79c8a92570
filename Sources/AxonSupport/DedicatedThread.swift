import Foundation

/// Every thread Axon starts of its own, for work that blocks (fsync, disk reads, the drain, a
/// training job) or must keep going whatever the cooperative pool is doing (the watchdog, the
/// heartbeat). One place, so each is named and sized the same way.
public enum DedicatedThread {
    /// Stack of a thread that runs ModelKit's batch kernels and BLAS (training, inference).
    public static let computeStackSize = 8 << 20

    /// Starts `body` on a new thread named `name` (shown by `top -H` and in crash reports).
    public static func start(_ name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread(block: body)
        thread.name = name
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }

    /// `body`'s result, computed on a new thread while the calling task is suspended, so
    /// blocking work never holds one of the cooperative pool's few threads.
    public static func run<T: Sendable>(
        _ name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> T
    ) async -> T {
        await withCheckedContinuation { continuation in
            start(name, stackSize: stackSize) { continuation.resume(returning: body()) }
        }
    }
}
