import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawnp, its stdout (and, unless told otherwise, its
/// stderr) captured through a pipe. Used for openssl, curl, the real `axond` binary and
/// `checkpoint-stress`. Every wait is bounded.
public final class Subprocess: @unchecked Sendable {
    public let pid: pid_t
    private let output: Int32
    private var finished: Int32?
    private var buffer: [UInt8] = []
    private var reachedEnd = false

    /// Starts `executable` (looked up in PATH unless it contains a '/') with `arguments`;
    /// `environment` entries are added to the test's own environment. With
    /// `mergingStandardError` false, stderr stays the test's own and only stdout is captured;
    /// with `standardErrorFile`, stderr goes to that file instead (created or truncated).
    public init(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], mergingStandardError: Bool = true,
        standardErrorFile: String? = nil
    ) throws {
        // Tests start processes from several threads: a child spawned between another's pipe()
        // and its FD_CLOEXEC would inherit that pipe's write end, and the pipe would never reach
        // end of output while the child lives (Glibc's module does not export pipe2).
        Self.spawning.lock()
        defer { Self.spawning.unlock() }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        if let standardErrorFile {
            posix_spawn_file_actions_addopen(&actions, 2, standardErrorFile, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        } else if mergingStandardError {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
        }
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

    private static let spawning = NSLock()

    deinit {
        if finished == nil {
            Glibc.kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(output)
    }

    /// Reads the next chunk of output into `buffer`, waiting until `deadline`; false at end of output.
    private func fill(until deadline: ContinuousClock.Instant, what: String) throws -> Bool {
        guard !reachedEnd else { return false }
        while true {
            guard ContinuousClock.now < deadline else { throw TestFailure("no \(what) from pid \(pid) in time") }
            var poller = pollfd(fd: output, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0 && errno != EINTR { throw TestFailure("poll failed: errno \(errno)") }
            guard ready > 0 else { continue }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = read(output, &chunk, chunk.count)
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                reachedEnd = true
                return false
            }
            buffer += chunk[0..<count]
            return true
        }
    }

    /// The next complete line of output (waiting up to `timeout` for it), or nil at end of output.
    public func readLine(timeout: Duration = .seconds(30)) throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            guard try fill(until: deadline, what: "line") else { return nil }
        }
    }

    /// Every remaining line until the child closes its output (bounded by `timeout` per line).
    public func remainingLines(timeout: Duration = .seconds(30)) throws -> [String] {
        var lines: [String] = []
        while let line = try readLine(timeout: timeout) { lines.append(line) }
        return lines
    }

    /// Reads all output until the child closes it (bounded by `timeout`).
    public func readAll(timeout: Duration = .seconds(30)) throws -> String {
        let deadline = ContinuousClock.now + timeout
        while try fill(until: deadline, what: "end of output") {}
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Returns whatever output arrives next (waiting up to 10 s for some); "" at end of output.
    public func readSome() throws -> String {
        if buffer.isEmpty { _ = try fill(until: ContinuousClock.now + .seconds(10), what: "output") }
        defer { buffer.removeAll() }
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Sends `signal` (SIGKILL unless told otherwise).
    public func kill(_ signal: Int32 = SIGKILL) {
        _ = Glibc.kill(pid, signal)
    }

    /// Waits for the exit (bounded); returns the exit status, or 128 + signal.
    public func wait(timeout: Duration = .seconds(30)) throws -> Int32 {
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
    public static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (Int32, String) {
        let process = try Subprocess(executable, arguments, environment: environment)
        let text = try process.readAll()
        return (try process.wait(), text)
    }

    /// A product built next to the test bundle (`.build/debug/axond`); the environment
    /// variable `override`, when set, names the binary instead.
    public static func builtProduct(_ name: String, override: String? = nil) throws -> String {
        if let override, let path = getenv(override) { return String(cString: path) }
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
