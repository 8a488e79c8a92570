import AxonHTTP
import Foundation
import ModelKit
import Testing

@testable import AxonServer

/// The streaming JSON training reader: the same request whatever the chunk boundaries, rows
/// as matrices or tables, numbers rounded as `Float(String)` rounds them, and the row budget
/// applied while the rows arrive.
@Suite("JSON ingest")
struct JSONIngestTests {
    /// A request read from `body` handed over in the chunks `cuts` make, described (a missing
    /// cell is NaN, so tables are compared as text), or the error.
    static func read(_ body: [UInt8], cuts: [Int] = [], limits: ServerLimits = ServerLimits()) -> String {
        var reader = JSONTrainingReader(limits: limits)
        do {
            try feed(body, cuts: cuts) { (chunk) throws(APIError) in try reader.consume(chunk) }
            let request = try reader.finish()
            return "inputs \(request.inputs.map(\.bitPattern)) shape \(request.inputShape ?? []) table \(request.table.map { "\($0)" } ?? "-") "
                + "names \(request.columnNames ?? []) targets \(request.targets.map { "\($0)" } ?? "-") model \(request.model ?? "-") "
                + "layers \(request.layers ?? []) rate \(request.learningRate ?? 0) stopping \(String(describing: request.earlyStopping)) keys \(request.seenKeys)"
        } catch {
            return "\(error.status.code) \(error.code) \(error.message)"
        }
    }

    static let bodies = [
        #"{"model":"m","inputs":[[1,2.5],[-3e2,0.125]],"targets":[0,1],"layers":[2,4,2]}"#,
        #" { "inputs" : [ [ 1 , "red" ] , [ null , true ] ] , "targets" : [ "a\"b" , "c\u00e9" ] , "optimizer" : { "name" : "sgd" , "learning_rate" : 0.5 } } "#,
        #"{"inputs":[{"x":1,"color":"red"},{"color":"blue","y":2.5},{}],"targets":[true,false,true],"early_stopping":{"patience":3}}"#,
        #"{"inputs":[[0.1,0.2]],"targets":[[1,2,3]],"epochs":2,"seed":12345678901234}"#,
        #"{"inputs":[[1,2],[3]],"targets":[0,1]}"#,
        #"{"inputs":[[1,NaN]],"targets":[0]}"#,
        #"{"inputs":[[1,2]],"targets":[0],"bogus":1}"#,
        #"{"inputs":[[1,2]],"targets":[0,"a"]}"#,
        #"{"inputs":[[1,2]],"targets":[0]"#,
        #"{"inputs":[[1,2,]],"targets":[0]}"#,
        #"{"inputs":[[1e39]],"targets":[0]}"#,
        #"{"inputs":[[01]],"targets":[0]}"#,
    ]

    @Test(arguments: bodies)
    func chunkBoundariesDoNotMatter(_ body: String) {
        expectSameWhateverTheChunks(body) { bytes, cuts in Self.read(bytes, cuts: cuts) }
    }

    @Test func rowsBecomeMatricesOrTables() {
        #expect(Self.read(Array(Self.bodies[0].utf8)).hasPrefix("inputs \([1, 2.5, -300, 0.125].map { Float($0).bitPattern }) shape [2, 2] table -"))
        let table = Self.read(Array(Self.bodies[1].utf8))
        #expect(table.contains("red") && table.contains("labels([\"a\\\"b\", \"cé\"])") && table.contains("rate 0.5"), "\(table)")
        let objects = Self.read(Array(Self.bodies[2].utf8))
        #expect(objects.contains("shape [3, 3]") && objects.contains("names [\"x\", \"color\", \"y\"]"), "\(objects)")
        #expect(Self.read(Array(Self.bodies[3].utf8)).contains("vectors([1.0, 2.0, 3.0], width: 3)"))
    }

    @Test func errorsKeepTheirStatusAndName() {
        #expect(Self.read(Array(Self.bodies[4].utf8)).hasPrefix("422 ragged_array inputs[1] has 1 values; inputs[0] has 2"))
        #expect(Self.read(Array(Self.bodies[5].utf8)).hasPrefix("400 non_finite_number inputs[0][1] is NaN"))
        #expect(Self.read(Array(Self.bodies[6].utf8)).hasPrefix("400 unknown_field"))
        #expect(Self.read(Array(Self.bodies[7].utf8)).hasPrefix("400 bad_request targets[1] is a string; targets[0] is a number"))
        #expect(Self.read(Array(Self.bodies[8].utf8)).hasPrefix("400 invalid_json"))
        #expect(Self.read(Array(Self.bodies[9].utf8)).hasPrefix("400 invalid_json"))
        #expect(Self.read(Array(Self.bodies[10].utf8)).contains("inputs[0][0]"))
        #expect(Self.read(Array(Self.bodies[11].utf8)).hasPrefix("400 "))
    }

    @Test func numbersRoundAsFloatStringDoes() throws {
        let tokens = CSVIngestTests.randomNumbers(count: 20_000, seed: 5).map { token in
            // JSON spellings only: no '+', no bare dots, no leading zeros.
            var text = token.hasPrefix("+") ? String(token.dropFirst()) : token
            if text.hasPrefix(".") { text = "0" + text }
            if text.hasPrefix("-.") { text = "-0" + text.dropFirst() }
            if text.hasSuffix(".") { text += "0" }
            return text
        }
        let body = #"{"inputs":["# + tokens.map { "[\($0)]" }.joined(separator: ",") + #"],"targets":["# + tokens.map { _ in "0" }.joined(separator: ",") + "]}"
        let cuts = Array(stride(from: 997, to: body.utf8.count, by: 997))
        var reader = JSONTrainingReader(limits: ServerLimits())
        try feed(Array(body.utf8), cuts: cuts) { (chunk) throws(APIError) in try reader.consume(chunk) }
        let request = try reader.finish()
        #expect(request.inputs.map(\.bitPattern) == tokens.map { Float($0)!.bitPattern })
    }

    @Test func theRowBudgetRefusesTheRowThatWouldCrossIt() {
        var limits = ServerLimits()
        // Rows of 2 inputs take 3 x (2 + 1) x 4 + 8 = 44 bytes of a job.
        limits.maxJobBytes = 44 * 50
        let body = #"{"inputs":["# + (0 ..< 80).map { "[\($0),1]" }.joined(separator: ",") + #"],"targets":[0]}"#
        let outcome = Self.read(Array(body.utf8), cuts: [40, 400], limits: limits)
        #expect(outcome.hasPrefix("413 limit_exceeded") && outcome.contains("limits.max_job_bytes") && outcome.contains("inputs[50]"), "\(outcome)")
        var rows = ServerLimits()
        rows.maxRowsPerRequest = 10
        #expect(Self.read(Array(body.utf8), limits: rows).contains("limits.max_rows_per_request"))
    }

    @Test func aSettingIsBounded() {
        var limits = ServerLimits()
        limits.maxStringBytes = 100
        // Blanks between members are skipped, never held; inside a setting's value they are held.
        let outside = #"{"model":"# + String(repeating: " ", count: (1 << 20) + 200) + #""m"}"#
        #expect(Self.read(Array(outside.utf8), cuts: [1000], limits: limits).contains("model m"))
        let inside = #"{"layers":[1,"# + String(repeating: " ", count: (1 << 20) + 200) + "2]}"
        let refused = Self.read(Array(inside.utf8), cuts: [1000], limits: limits)
        #expect(refused.hasPrefix("413 limit_exceeded") && refused.contains("limits.max_string_bytes"), "\(refused)")
        let layers = #"{"layers":[1"# + String(repeating: ",1", count: 1_000) + "]}"
        #expect(Self.read(Array(layers.utf8), cuts: [100]).contains("limits.max_layers"))
    }
}
