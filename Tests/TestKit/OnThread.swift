import Foundation

/// Runs blocking work (a socket read, a child process's output, a wait) on a thread of its own
/// and awaits it. The cooperative pool has only as many threads as cores (two here), and every
/// test in the process shares it: a test blocking one of them for seconds starves the others,
/// and their timing-sensitive steps (a drain deadline) then fail.
public func onThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
