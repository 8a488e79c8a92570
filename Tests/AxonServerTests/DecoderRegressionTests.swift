import AxonHTTP
import AxonServer
import Foundation
import TestKit
import Testing

/// The fuzz harnesses' inputs, replayed through the same `RequestDecoders` entry `make fuzz`
/// drives: every seed is a valid request, and every input a fuzzer once crashed on
/// (`Fuzz/regressions/<body>/`) is now refused with a 4xx, never a crash, a 5xx or an answer.
/// Inputs whose fix has not landed wait in `Fuzz/regressions/pending/<body>/`, which is not
/// replayed (they would kill the test process); move them up once the fix is in.
@Suite("Request decoder fuzz regressions")
struct DecoderRegressionTests {
    /// The files of `Fuzz/<folder>/<body>/`, sorted; none when the folder does not exist.
    static func inputs(_ folder: String, _ body: RequestDecoders.Body) throws -> [(name: String, bytes: [UInt8])] {
        let directory = repositoryRoot.appendingPathComponent("Fuzz/\(folder)/\(body.rawValue)")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path) else { return [] }
        return try names.sorted().filter { !$0.hasPrefix(".") }.map { name in
            (name, Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }

    /// Runs `body` with a context serving the harness models from a fresh state directory.
    static func withContext(_ body: (APIContext) throws -> Void) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let context = try await RequestDecoders.context(stateDirectory: directory.path)
        try body(context)
    }

    @Test("every seed is a valid request", arguments: RequestDecoders.Body.allCases)
    func seedsAreAccepted(_ body: RequestDecoders.Body) async throws {
        let seeds = try Self.inputs("seeds", body)
        #expect(!seeds.isEmpty, "no seeds in Fuzz/seeds/\(body.rawValue)")
        try await Self.withContext { context in
            for seed in seeds {
                #expect(throws: Never.self, "Fuzz/seeds/\(body.rawValue)/\(seed.name)") {
                    try RequestDecoders.decode(seed.bytes, as: body, context: context)
                }
            }
        }
    }

    @Test("every input a fuzzer crashed on is refused with a 4xx", arguments: RequestDecoders.Body.allCases)
    func crashesAreRefused(_ body: RequestDecoders.Body) async throws {
        let crashes = try Self.inputs("regressions", body)
        try await Self.withContext { context in
            for crash in crashes {
                let file = "Fuzz/regressions/\(body.rawValue)/\(crash.name)"
                do {
                    try RequestDecoders.decode(crash.bytes, as: body, context: context)
                    Issue.record("\(file) was accepted; expected a 4xx refusal")
                } catch let error as any HTTPResponseError {
                    #expect((400 ..< 500).contains(error.status.code), "\(file): \(error.status) \(error.code): \(error.message)")
                } catch {
                    Issue.record("\(file): not an HTTP error: \(error)")
                }
            }
        }
    }
}
