#if canImport(Glibc)
import Glibc
#endif

/// The `checkpoint-stress` helper, run as a separate process whose stdout is a pipe.
final class ChildProcess {
    let pid: pid_t
    private let output: Int32
    private var buffer: [UInt8] = []
    private var reachedEOF = false

    /// Locates `checkpoint-stress`: `AXON_CHECKPOINT_STRESS` if set, otherwise next to the
    /// running test binary (SwiftPM puts every product of a build in the same directory).
    static func stressBinary() throws -> String {
        if let override = getenv("AXON_CHECKPOINT_STRESS") { return String(cString: override) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { throw TestFailure("readlink /proc/self/exe failed: errno \(errno)") }
        var directory = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // Walk up from the binary (it may sit inside an .xctest bundle) to the build directory.
        for _ in 0..<4 {
            guard let slash = directory.lastIndex(of: "/") else { break }
            directory = String(directory[..<slash])
            let candidate = "\(directory)/checkpoint-stress"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw TestFailure("checkpoint-stress not found near the test binary; run `swift build` or set AXON_CHECKPOINT_STRESS")
    }

    /// Starts `checkpoint-stress` with `arguments`.
    init(_ arguments: [String]) throws {
        let executable = try Self.stressBinary()
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw TestFailure("pipe failed: errno \(errno)") }
        // CLOEXEC: children spawned concurrently by other tests must not inherit this pipe, or
        // our end-of-output would wait for them. dup2 in the child clears the flag on fd 1.
        // (pipe2 is not visible through the Glibc module; the short window only delays EOF.)
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        posix_spawn_file_actions_addclose(&actions, fds[1])
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child: pid_t = 0
        let status = posix_spawn(&child, executable, &actions, nil, argv, environ)
        close(fds[1])
        guard status == 0 else {
            close(fds[0])
            throw TestFailure("posix_spawn \(executable) failed: \(status)")
        }
        pid = child
        output = fds[0]
    }

    deinit {
        close(output)
    }

    /// The next complete line of output, or nil at end of output.
    func readLine() -> String? {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: buffer[..<newline], as: UTF8.self)
                buffer.removeSubrange(...newline)
                return line
            }
            if reachedEOF { return nil }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let count = chunk.withUnsafeMutableBytes { read(output, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 {
                reachedEOF = true
            } else {
                buffer.append(contentsOf: chunk[0..<count])
            }
        }
    }

    /// Every remaining line until the child closes its output.
    func remainingLines() -> [String] {
        var lines: [String] = []
        while let line = readLine() { lines.append(line) }
        return lines
    }

    /// Sends SIGKILL.
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Waits for exit; returns the exit status, or 128 + signal number if killed.
    @discardableResult
    func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7F
        return signal == 0 ? (status >> 8) & 0xFF : 128 + signal
    }
}
