import Foundation
import TestKit
import Testing

/// `axon train` with stdout on a real pseudo-terminal: util-linux `script` runs it on one and
/// copies what the terminal received.
@Suite("axon on a terminal")
struct CLITerminalTests {
    static let hasScript = FileManager.default.isExecutableFile(atPath: "/usr/bin/script")

    @Test("the progress bar redraws in place with carriage returns, then the metrics follow on lines of their own", .enabled(if: hasScript))
    func progressBarRedraws() async throws {
        let daemon = try await LiveDaemon.start()
        let binary = try Subprocess.builtProduct("axon")
        let command = [binary, "train", irisPath, "--model", "iris", "--target", "species", "--epochs", "400", "--patience", "0"]
            .map { "'\($0)'" }.joined(separator: " ")
        var environment = noTokens
        environment["AXON_URL"] = daemon.url
        let sent = environment
        let (status, output) = try await onThread { () -> (Int32, String) in
            // -e: script exits with the command's status; -q: no banner; the log goes nowhere.
            let process = try Subprocess("script", ["-qec", command, "/dev/null"], environment: sent)
            let text = try process.readAll(timeout: .seconds(120))
            return (try process.wait(timeout: .seconds(30)), text)
        }
        #expect(status == 0, "\(output)")
        let draws = output.components(separatedBy: "\repoch ").count - 1
        #expect(draws >= 2, "the bar is drawn at the first epoch and once more at the last: \(output.debugDescription)")
        #expect(output.contains("\u{1B}[K"), "each redraw erases the rest of the old line")
        let first = try #require(output.range(of: "\repoch "))
        let last = try #require(output.range(of: "\repoch ", options: .backwards))
        #expect(!output[first.lowerBound ..< last.lowerBound].contains("\n"), "redraws stay on one line")
        #expect(output[last.upperBound...].range(of: #"^400/400 \[#{10,30}\] loss "#, options: .regularExpression) != nil, "a full bar: \(output.debugDescription)")
        #expect(output.contains("model iris version 1 trained: 400 epochs, completed"), "\(output.debugDescription)")
        #expect(try await daemon.stop() == 0)
    }
}
