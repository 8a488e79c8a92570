#if canImport(Glibc)
import Glibc
#endif

/// A fresh directory under /tmp, removed by `remove()` or, at the latest, when the value is
/// dropped. Tests whose subprocesses use the path call `remove()` in a `defer`, so the
/// directory outlives every use even where the optimizer would end the value's life early.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() throws {
        var template = Array("/tmp/axon-test-XXXXXX".utf8CString)
        guard let created = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw TestFailure("mkdtemp failed: errno \(errno)")
        }
        path = String(cString: created)
    }

    /// Removes the directory and everything in it; calling it again does nothing.
    public func remove() {
        // Test clean-up only (may hold a read-only mount's leftovers): a recursive remove.
        _ = system("rm -rf '\(path)'")
    }

    deinit { remove() }
}
