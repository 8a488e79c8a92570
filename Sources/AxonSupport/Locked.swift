import Foundation

/// A value behind a pthread mutex (`NSLock`), for state that threads of our own share.
///
/// `Synchronization.Mutex` locks with a raw futex on Linux, which ThreadSanitizer cannot see:
/// it reported the inference pool's critical sections, each inside `withLock`, as data races.
/// A pthread mutex is intercepted, so `make sanitize` checks this state for real.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()

    public init(_ value: Value) {
        self.value = value
    }

    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
