import Foundation
import TestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The repository root (for `examples/`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()

/// `examples/iris.csv`: 150 rows, four measurements and the species.
let irisPath = repositoryRoot.appendingPathComponent("examples/iris.csv").path

/// The real axond, built next to the tests, on 127.0.0.1 port 0 with a temporary state
/// directory. Ready once it has logged its address and that its (empty) store is loaded: the
/// API answers from then on, so nothing polls or sleeps.
final class LiveDaemon: @unchecked Sendable {
    let process: Subprocess
    let port: Int
    let directory: TemporaryDirectory
    var url: String { "http://127.0.0.1:\(port)" }

    /// Starts one, off the cooperative pool (its start-up is read with blocking reads).
    static func start(environment: [String: String] = [:]) async throws -> LiveDaemon {
        try await onThread { try LiveDaemon(environment: environment) }
    }

    private init(environment: [String: String]) throws {
        directory = try TemporaryDirectory()
        process = try Subprocess(
            try Subprocess.builtProduct("axond"),
            ["serve", "--port", "0", "--state-dir", directory.path, "--log-level", "notice", "--no-access-log"],
            environment: environment)
        var port: Int?
        var loaded = false
        var lines: [String] = []
        // The two lines come in either order: the listener and the store start side by side.
        for _ in 0 ..< 50 where port == nil || !loaded {
            guard let line = try process.readLine(timeout: .seconds(60)) else { break }
            lines.append(line)
            if let range = line.range(of: #"http\.address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                port = Int(line[range].split(separator: ":").last ?? "")
            }
            loaded = loaded || line.contains("models loaded")
        }
        guard let port, loaded else {
            directory.remove()
            throw TestFailure("axond did not start: \(lines.joined(separator: "\n"))")
        }
        self.port = port
    }

    /// SIGTERM, then its exit status (0 after a clean drain).
    @discardableResult
    func stop() async throws -> Int32 {
        process.kill(SIGTERM)
        defer { directory.remove() }
        let process = self.process
        return try await onThread { try process.wait(timeout: .seconds(60)) }
    }

    /// A test that failed before `stop()` leaves no daemon behind.
    deinit {
        process.kill()
        _ = try? process.wait(timeout: .seconds(30))
        directory.remove()
    }
}

/// What one run of `axon` printed, and its exit status.
struct CLIRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String

    var lines: [String] { stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty } }
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Tokens set in the test's environment must not leak into a run that does not choose its own.
let noTokens = ["AXON_TOKEN": "", "AXON_AUTH_ADMIN_TOKEN": "", "AXON_ADMIN_TOKEN": "", "AXON_AUTH_READ_TOKEN": "", "AXON_READ_TOKEN": ""]

/// Runs the built `axon` with `arguments` against `url` (AXON_URL), stdout a pipe.
func axon(_ arguments: [String], url: String, environment: [String: String] = [:]) async throws -> CLIRun {
    let scratch = try TemporaryDirectory()
    defer { scratch.remove() }
    let errors = scratch.path + "/stderr"
    let binary = try Subprocess.builtProduct("axon")
    var env = noTokens
    env["AXON_URL"] = url
    for (key, value) in environment { env[key] = value }
    let sent = env
    let (status, output) = try await onThread { () -> (Int32, String) in
        let process = try Subprocess(binary, arguments, environment: sent, standardErrorFile: errors)
        let text = try process.readAll(timeout: .seconds(120))
        return (try process.wait(timeout: .seconds(30)), text)
    }
    let stderr = (try? String(contentsOfFile: errors, encoding: .utf8)) ?? ""
    return CLIRun(status: status, stdout: output, stderr: stderr)
}
