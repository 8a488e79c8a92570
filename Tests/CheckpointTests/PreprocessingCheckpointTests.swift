import Checkpoint
import Foundation
import ModelKit
import Testing

/// Preprocessing in checkpoint metadata (schema 2): it survives a save and load exactly, a
/// model without it is still written as schema 1 byte for byte, and a schema-1 file written
/// by e782b58 (before preprocessing existed) loads and predicts bit-identically.
@Suite("Preprocessing checkpoints")
struct PreprocessingCheckpointTests {
    static func preprocessing() throws -> Preprocessing {
        try Preprocessing(
            columns: [
                Preprocessing.Column(name: "size", kind: .numeric, fill: 2.25, missingCount: 1),
                Preprocessing.Column(name: "color", kind: .categorical, categories: ["blue", "red", "ünïcode \"q\""], missingCategory: true, missingCount: 2),
                Preprocessing.Column(name: "rooms", kind: .numeric, fill: 0.1),
            ],
            missingValues: .impute)
    }

    static func checkpoint(_ preprocessing: Preprocessing?) throws -> ModelCheckpoint {
        let configuration = try ModelConfiguration(
            layerSizes: [preprocessing?.encodedWidth ?? 6, 4, 1], hiddenActivation: .relu, outputActivation: .identity, loss: .meanSquaredError)
        let model = try Model(configuration: configuration, seed: 3)
            .replacingNormalizer(.standard(Standardizer(mean: [1, 0, 0, 0, 0, 3], standardDeviation: [2, 1, 1, 1, 1, 0.5])))
        return ModelCheckpoint(
            model: model,
            metadata: ModelMetadata(createdAt: Date(timeIntervalSince1970: 1_800_000_000), annotations: ["job.id": "j"], preprocessing: preprocessing))
    }

    static func metadata(_ file: CheckpointFile) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(file.metadata)) as? [String: Any])
    }

    @Test("preprocessing round-trips exactly and is written as schema 2")
    func roundTrip() throws {
        let original = try Self.checkpoint(Self.preprocessing())
        let file = try original.checkpointFile()
        let json = try Self.metadata(file)
        #expect(json["schema"] as? Int == 2)
        let stored = try #require(json["preprocessing"] as? [String: Any])
        #expect(stored["missing_values"] as? String == "impute")
        let bytes = try CheckpointEncoder.encode(file)
        let decoded = try ModelCheckpoint(file: try CheckpointDecoder.decode(bytes))
        #expect(decoded == original)
        #expect(decoded.metadata.preprocessing?.columns[1].categories == ["blue", "red", "ünïcode \"q\""])
        #expect(decoded.metadata.preprocessing?.columns[0].fill.bitPattern == Float(2.25).bitPattern)
        #expect(try CheckpointEncoder.encode(try decoded.checkpointFile()) == bytes)
    }

    @Test("a model without preprocessing is written as schema 1, without the key")
    func plainStaysSchema1() throws {
        let json = try Self.metadata(try Self.checkpoint(nil).checkpointFile())
        #expect(json["schema"] as? Int == 1)
        #expect(json["preprocessing"] == nil)
    }

    @Test("preprocessing that disagrees with the model or the schema is refused")
    func refused() throws {
        let file = try Self.checkpoint(Self.preprocessing()).checkpointFile()
        func replacing(_ transform: (inout [String: Any]) -> Void) throws -> ModelCheckpointError? {
            var json = try Self.metadata(file)
            transform(&json)
            var copy = file
            copy.metadata = Array(try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]))
            do {
                _ = try ModelCheckpoint(file: copy)
                return nil
            } catch {
                return error
            }
        }
        #expect(try replacing { $0["schema"] = 1 } == .inconsistentMetadata(field: "schema", expected: "2 (the file has preprocessing)", found: "1"))
        let narrower = try replacing {
            var p = $0["preprocessing"] as! [String: Any]
            var columns = p["columns"] as! [[String: Any]]
            columns.removeLast()
            p["columns"] = columns
            $0["preprocessing"] = p
        }
        #expect(narrower == .inconsistentMetadata(field: "preprocessing", expected: "6 encoded inputs", found: "5"))
        let duplicate = try replacing {
            var p = $0["preprocessing"] as! [String: Any]
            var columns = p["columns"] as! [[String: Any]]
            columns[1]["categories"] = ["red", "red", "blue"]
            p["columns"] = columns
            $0["preprocessing"] = p
        }
        guard case .invalidMetadata(let reason)? = duplicate else {
            Issue.record("expected invalidMetadata, got \(String(describing: duplicate))")
            return
        }
        #expect(reason.contains("twice"))
        // Writing one whose width disagrees with the network is refused too.
        var mismatched = try Self.checkpoint(Self.preprocessing())
        mismatched.metadata.preprocessing = try Preprocessing(columns: [Preprocessing.Column(name: "a", kind: .numeric)], missingValues: .refuse)
        #expect(throws: ModelCheckpointError.inconsistentMetadata(field: "preprocessing", expected: "6 encoded inputs", found: "1")) {
            try mismatched.checkpointFile()
        }
    }

    /// `Tests/Fixtures/checkpoints/tables-v1-csv.axon`: iris trained from CSV by axond built
    /// from e782b58, and what its /predict answered (make-tables-v1.sh).
    @Test("a CSV-trained checkpoint from e782b58 loads, predicts bit-identically and re-encodes to the same bytes")
    func e782b58Fixture() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/checkpoints")
        let bytes = Array(try Data(contentsOf: fixtures.appendingPathComponent("tables-v1-csv.axon")))
        let loaded = try ModelCheckpoint(file: try CheckpointDecoder.decode(bytes))
        #expect(loaded.metadata.preprocessing == nil)
        #expect(try CheckpointEncoder.encode(try loaded.checkpointFile()) == bytes)
        let expected = try String(contentsOf: fixtures.appendingPathComponent("tables-v1-csv.predictions"), encoding: .utf8)
        var checked = 0
        for line in expected.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "|")
            let inputs = parts[0].split(separator: " ").dropFirst().map { Float(String($0))! }
            let outputs = parts[1].split(separator: " ").map { Float(String($0))! }
            #expect(try loaded.model.predict(row: inputs).map(\.bitPattern) == outputs.map(\.bitPattern), "\(line)")
            checked += 1
        }
        #expect(checked == 4)
    }
}
