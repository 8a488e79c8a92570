import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawnp, its stdout (and stderr) captured through a pipe.
/// Used for openssl, curl and the real `axond` binary. Every wait is bounded.
final class Subprocess: @unchecked Sendable {
    let pid: pid_t
    private let output: Int32
    private var finished: Int32?

    /// Starts `executable` (looked up in PATH unless it contains a '/') with `arguments`;
    /// `environment` entries are added to the test's own environment.
    init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        var merged = ProcessInfo.processInfo.environment
        for (key, value) in environment { merged[key] = value }
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = merged.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        let status = posix_spawnp(&child, executable, &actions, nil, argv, envp)
        close(fds[1])
        guard status == 0 else {
            close(fds[0])
            throw TestFailure("cannot start \(executable): \(String(cString: strerror(status)))")
        }
        pid = child
        output = fds[0]
    }

    deinit {
        if finished == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(output)
    }

    /// Reads all output until the child closes it (bounded by `timeout`).
    func readAll(timeout: Duration = .seconds(30)) throws -> String {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            guard ContinuousClock.now < deadline else { throw TestFailure("no end of output within \(timeout)") }
            guard poll(&poller, 1, 100) >= 0 else { throw TestFailure("poll failed: errno \(errno)") }
            guard poller.revents != 0 else { continue }
            let n = read(output, &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Returns whatever output arrives next (waiting up to 10 s for some); "" at end of output.
    func readSome() throws -> String {
        var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 10_000) > 0 else { throw TestFailure("no output from pid \(pid) within 10 s") }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let n = read(output, &chunk, chunk.count)
        return n > 0 ? String(decoding: chunk[0..<n], as: UTF8.self) : ""
    }

    /// Waits for the exit (bounded); returns the exit status, or 128 + signal.
    func wait(timeout: Duration = .seconds(30)) throws -> Int32 {
        if let finished { return finished }
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            guard ContinuousClock.now < deadline else { throw TestFailure("pid \(pid) did not exit within \(timeout)") }
            usleep(10_000)
        }
        // WIFEXITED / WEXITSTATUS / WTERMSIG are macros Swift cannot import.
        let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        finished = code
        return code
    }

    /// Runs to completion and returns (exit status, output).
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = try Subprocess(executable, arguments, environment: environment)
        let text = try process.readAll()
        return (try process.wait(), text)
    }

    /// A product built next to the test bundle (`.build/debug/axond`).
    static func builtProduct(_ name: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw TestFailure("readlink /proc/self/exe failed: errno \(errno)") }
        var directory = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        for _ in 0..<4 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            let candidate = "\(directory)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw TestFailure("\(name) not found near the test binary; run `swift build --build-tests` first")
    }
}

/// A test failure with a message.
struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

