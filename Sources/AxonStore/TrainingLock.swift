import Checkpoint
import Foundation
import Synchronization

/// Why a training lock could not be taken.
public enum TrainingLockError: Error, Equatable, CustomStringConvertible {
    /// The lock file (or its directory) could not be created or opened.
    case cannotOpen(path: String, errno: Int32)
    /// Another process (or another lock in this one) held it for the whole wait.
    case timedOut(path: String, holder: String?)
    /// `flock` failed for a reason other than contention.
    case lockFailed(path: String, errno: Int32)

    /// What failed, and who holds the lock when known.
    public var description: String {
        switch self {
        case .cannotOpen(let path, let code): "cannot open lock file \(path): \(String(cString: strerror(code)))"
        case .timedOut(let path, let holder): "lock \(path) is held" + (holder.map { " by \($0)" } ?? "") + "; timed out waiting"
        case .lockFailed(let path, let code): "flock \(path) failed: \(String(cString: strerror(code)))"
        }
    }
}

/// An exclusive `flock(2)` lock on `<state>/locks/<model>.lock`: whichever replica holds it
/// may train and commit `model`; the others wait or answer 409. Released by `unlock()`, by
/// deinit, or by the kernel when the process dies, so a crashed trainer never wedges a model.
///
/// The lock files live beside `models/` rather than inside a model's directory, so they
/// survive deleting the model and never show up in the store's directory scans. Locks are
/// per open file description: two `TrainingLock`s in one process exclude each other too.
/// On NFS, Linux maps `flock` onto byte-range locks, which NFSv4 servers honour across clients.
///
///     guard let lock = try TrainingLock.tryAcquire(stateDirectory: dir, model: name) else {
///         throw APIError(status: .conflict, code: "training_in_progress", message: "...")
///     }
///     defer { lock.unlock() }
public final class TrainingLock: Sendable {
    /// The lock file.
    public let path: String
    private let descriptor: Mutex<Int32>

    private init(path: String, descriptor: Int32) {
        self.path = path
        self.descriptor = Mutex(descriptor)
    }

    /// `<stateDirectory>/locks/<model>.lock`.
    public static func path(stateDirectory: String, model: ModelName) -> String {
        "\(stateDirectory)/locks/\(model.rawValue).lock"
    }

    /// Takes the lock for `model` if it is free; nil when another holder has it.
    public static func tryAcquire(stateDirectory: String, model: ModelName) throws(TrainingLockError) -> TrainingLock? {
        try tryAcquire(path: path(stateDirectory: stateDirectory, model: model))
    }

    /// Takes the lock at `path` if it is free (creating the file and its directory); nil when held.
    public static func tryAcquire(path: String) throws(TrainingLockError) -> TrainingLock? {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw .lockFailed(path: path, errno: code)
        }
        // Who holds it, for the messages of those who wait: "pid 123 on host-a".
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let hostName = String(decoding: host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let holder = Array("pid \(getpid()) on \(hostName)\n".utf8)
        _ = ftruncate(fd, 0)
        _ = holder.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return TrainingLock(path: path, descriptor: fd)
    }

    /// Waits up to `timeout` for the lock on `model`, polling without blocking a thread.
    public static func acquire(
        stateDirectory: String, model: ModelName, timeout: Duration, pollInterval: Duration = .milliseconds(50)
    ) async throws -> TrainingLock {
        let path = path(stateDirectory: stateDirectory, model: model)
        let deadline = ContinuousClock.now + timeout
        while true {
            if let lock = try tryAcquire(path: path) { return lock }
            guard ContinuousClock.now < deadline else { throw TrainingLockError.timedOut(path: path, holder: holder(path: path)) }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// What the current holder wrote into the lock file ("pid 123 on host-a"), if readable.
    public static func holder(path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path), !data.isEmpty else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Whether the lock is still held by this object.
    public var isHeld: Bool { descriptor.withLock { $0 >= 0 } }

    /// Releases the lock (idempotent). The file stays: deleting it would race with a waiter
    /// that already opened it and would then lock an unlinked file.
    public func unlock() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            _ = flock(fd, LOCK_UN)
            close(fd)
            fd = -1
        }
    }

    deinit {
        unlock()
    }
}
