@testable import AxonStore
import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

@Suite("training lock (flock on <state>/locks/<model>.lock)")
struct TrainingLockTests {
    // Swift Testing makes a fresh suite value for each test: each gets its own state directory,
    // removed when the test is over.
    let state: TemporaryDirectory
    let model: ModelName
    /// The lock file of `model`.
    var path: String { TrainingLock.path(stateDirectory: state.path, model: model) }

    init() throws {
        state = try TemporaryDirectory()
        model = try ModelName("iris")
    }

    @Test("one holder at a time in a process; released by unlock and by deinit")
    func exclusiveInProcess() throws {
        let first = try #require(try TrainingLock.tryAcquire(stateDirectory: state.path, model: model))
        #expect(first.path == "\(state.path)/locks/iris.lock")
        #expect(try TrainingLock.tryAcquire(stateDirectory: state.path, model: model) == nil)
        // Another model is independent.
        #expect(try TrainingLock.tryAcquire(stateDirectory: state.path, model: ModelName("other")) != nil)
        first.unlock()
        #expect(!first.isHeld)
        do {
            let second = try #require(try TrainingLock.tryAcquire(stateDirectory: state.path, model: model))
            #expect(second.isHeld)
        }
        // `second` went out of scope: deinit released it.
        #expect(try TrainingLock.tryAcquire(stateDirectory: state.path, model: model) != nil)
    }

    @Test("another process sees the lock (flock(1)), and the holder is recorded")
    func crossProcess() async throws {
        let lock = try #require(try TrainingLock.tryAcquire(stateDirectory: state.path, model: model))
        let (held, _) = try await onThread { try Subprocess.run("flock", ["-n", path, "true"]) }
        #expect(held == 1)
        #expect(TrainingLock.holder(path: path)?.hasPrefix("pid \(getpid()) on ") == true)
        lock.unlock()
        let (free, _) = try await onThread { try Subprocess.run("flock", ["-n", path, "true"]) }
        #expect(free == 0)
    }

    @Test("a process holding the lock blocks us until it exits; a crash releases it")
    func heldByChild() async throws {
        try FileManager.default.createDirectory(atPath: "\(state.path)/locks", withIntermediateDirectories: true)
        // The shell takes the lock on fd 9 and execs sleep, so the child itself holds it;
        // SIGKILL then plays a crashed trainer.
        let child = try Subprocess("sh", ["-c", "exec 9>\"$0\"; flock 9; echo locked; exec sleep 60", path])
        var line = ""
        for _ in 0..<10 where !line.contains("locked") {
            line += try await onThread { try child.readSome() }
        }
        try #require(line.contains("locked"))
        await #expect(throws: TrainingLockError.self) {
            _ = try await TrainingLock.acquire(stateDirectory: state.path, model: model, timeout: .milliseconds(200))
        }
        kill(child.pid, SIGKILL)
        _ = try await onThread { try child.wait() }
        let lock = try await TrainingLock.acquire(stateDirectory: state.path, model: model, timeout: .seconds(10))
        #expect(lock.isHeld)
    }

    @Test("a waiter gets the lock once the holder releases it")
    func waiterProceeds() async throws {
        let holder = try #require(try TrainingLock.tryAcquire(stateDirectory: state.path, model: model))
        async let waiter = TrainingLock.acquire(stateDirectory: state.path, model: model, timeout: .seconds(10))
        holder.unlock()
        let acquired = try await waiter
        #expect(acquired.isHeld)
    }
}
