import Checkpoint
import Foundation
import ModelKit
import Testing

/// Checkpoints written by axond before issue 12 (release build of e782b58, made by
/// `Tests/Fixtures/checkpoints/make-v1.sh`) still load, re-encode to the same bytes and predict
/// bit-identically on both prediction paths, with what that axond answered over `/predict`.
@Suite("v1 checkpoint fixtures")
struct FixtureCheckpointTests {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/checkpoints")

    /// One recorded answer: the path (`single` or `batch`), the input row and the outputs'
    /// bit patterns.
    struct Recorded {
        var path: String
        var input: [Float]
        var bits: [UInt32]
    }

    static func recorded(_ name: String) throws -> [Recorded] {
        let text = try String(contentsOf: directory.appendingPathComponent("\(name).predictions"), encoding: .utf8)
        return try text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let halves = line.split(separator: "|")
            let left = halves[0].split(separator: " ")
            // Float(text) rounds the shortest text axond printed back to exactly the bits it had.
            func floats(_ parts: some Sequence<Substring>) throws -> [Float] {
                try parts.map { try #require(Float(String($0)), "\($0) in \(line)") }
            }
            let printed = try floats(halves[1].split(separator: " "))
            let bits = try halves[2].split(separator: " ").map { try #require(UInt32($0, radix: 16)) }
            // The two records of each output agree, so neither can be a typo.
            #expect(printed.map(\.bitPattern) == bits, "\(line)")
            return Recorded(path: String(left[0]), input: try floats(left.dropFirst()), bits: bits)
        }
    }

    @Test(arguments: ["v1-regression", "v1-classification"])
    func loadsAndPredictsBitIdentically(name: String) throws {
        let bytes = Array(try Data(contentsOf: Self.directory.appendingPathComponent("\(name).axon")))
        let file = try CheckpointDecoder.decode(bytes)
        let checkpoint = try ModelCheckpoint(file: file)
        #expect(try CheckpointEncoder.encode(checkpoint.checkpointFile()) == bytes, "re-encoding changed the file")
        let model = checkpoint.model
        let recorded = try Self.recorded(name)
        #expect(recorded.count == 10)
        let batchRows = recorded.filter { $0.path == "batch" }
        let batch = try model.predict(rows: Matrix(rows: batchRows.count, columns: model.configuration.inputCount,
                                                   values: batchRows.flatMap(\.input)))
        var batchIndex = 0
        for entry in recorded {
            let output: [Float]
            if entry.path == "single" {
                output = try model.predict(row: entry.input)
            } else {
                let width = model.configuration.outputCount
                output = Array(batch.values[batchIndex * width ..< (batchIndex + 1) * width])
                batchIndex += 1
            }
            #expect(output.map(\.bitPattern) == entry.bits, "\(entry.path) \(entry.input): \(output)")
        }
    }
}
