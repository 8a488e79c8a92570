import AxonHTTP
import Foundation
import Testing

@testable import AxonServer

/// The fast path of the JSON training reader (`DecimalFloat.scanRow` over rows of numbers and
/// lists of number targets): the same request, the same numbers and the same errors as the
/// general path, which reads a body handed over one byte at a time (the fast path needs a
/// window of bytes and never runs then), wherever the chunk boundaries fall.
@Suite("JSON fast path")
struct JSONFastPathTests {
    static func read(_ body: String, cuts: [Int] = [], limits: ServerLimits = ServerLimits()) -> String {
        JSONIngestTests.read(Array(body.utf8), cuts: cuts.filter { $0 <= body.utf8.count }, limits: limits)
    }

    /// `body` read by the general path alone: one byte a chunk.
    static func general(_ body: String, limits: ServerLimits = ServerLimits()) -> String {
        read(body, cuts: Array(0 ... body.utf8.count), limits: limits)
    }

    /// Rows of every spelling the fast path takes, and some it leaves to the general path (an
    /// exponent, a blank, 17 digits, a negative zero, an integer) amid them.
    static let rows = [
        "[-0.96761,-0.53112,1.28884,-2.03179,0.5,12,-0,0.12345678,1234567.5,-9.1,3,0.0]",
        "[1e2,-0.25 ,7.125,0.1000000000000000055511151231257827,-3.5E-3,2,4,6,8,10,12.5,-0.0]",
        "[0.000001,99999.99,-1.0,123.456,1.17549435e-38,8.5,4194304.5,16777217,33554433,0.3,0.7,1]",
        "[ 5.5, 6.5 , 7.5,8.5,9.5,10.5,11.5,12.5,13.5,14.5,15.5,16.5]",
    ]

    /// Blanks before the body's end: the fast path wants a window of bytes past a number, and
    /// the blanks give it one up to the last.
    static let padding = String(repeating: " ", count: 100)

    static let body = #"{"model":"fast","inputs":["# + rows.joined(separator: ",") + #"],"targets":[0,1,2.5,-3]"# + padding + "}"

    @Test func everyCutGivesTheGeneralPathsRequest() {
        let general = Self.general(Self.body)
        #expect(general.hasPrefix("inputs ") && general.contains("shape [4, 12]"), "\(general)")
        #expect(Self.read(Self.body) == general)
        for cut in 0 ... Self.body.utf8.count {
            #expect(Self.read(Self.body, cuts: [cut]) == general, "cut at \(cut)")
        }
        for cut in stride(from: 0, through: Self.body.utf8.count, by: 7) {
            #expect(Self.read(Self.body, cuts: [cut, cut + 13, cut + 101]) == general, "cuts at \(cut), +13, +101")
        }
    }

    @Test func numbersAreFloatStringsNumbers() throws {
        let tokens = Self.rows.flatMap { $0.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        var reader = JSONTrainingReader(limits: ServerLimits())
        try Array(Self.body.utf8).withUnsafeBufferPointer { (bytes) throws(APIError) in try reader.consume(bytes) }
        let request = try reader.finish()
        #expect(request.inputs.map(\.bitPattern) == tokens.map { Float($0)!.bitPattern })
    }

    @Test func wideRowsRoundAsFloatStringDoes() throws {
        let tokens = CSVIngestTests.randomNumbers(count: 24_000, seed: 11).map { token in
            // JSON spellings only, as in JSONIngestTests.
            var text = token.hasPrefix("+") ? String(token.dropFirst()) : token
            if text.hasPrefix(".") { text = "0" + text }
            if text.hasPrefix("-.") { text = "-0" + text.dropFirst() }
            if text.hasSuffix(".") { text += "0" }
            return text
        }
        let rows = stride(from: 0, to: tokens.count, by: 24).map { "[" + tokens[$0 ..< $0 + 24].joined(separator: ",") + "]" }
        let body = #"{"inputs":["# + rows.joined(separator: ",") + #"],"targets":["# + rows.map { _ in "1" }.joined(separator: ",") + "]}"
        for cuts in [[], Array(stride(from: 4_093, to: body.utf8.count, by: 4_093))] {
            var reader = JSONTrainingReader(limits: ServerLimits())
            try Array(body.utf8).withUnsafeBufferPointer { (all) throws(APIError) in
                var start = 0
                for cut in cuts + [all.count] {
                    try reader.consume(UnsafeBufferPointer(rebasing: all[start ..< cut]))
                    start = cut
                }
            }
            let request = try reader.finish()
            #expect(request.inputs.map(\.bitPattern) == tokens.map { Float($0)!.bitPattern })
            #expect(request.inputShape == [1_000, 24])
        }
    }

    /// A body whose rows are long enough for the fast path, with `row` as its second row.
    static func body(second row: String, width: Int = 12, targets: String = "[0,1]") -> String {
        let first = "[" + (0 ..< width).map { "\(Double($0) + 0.5)" }.joined(separator: ",") + "]"
        return #"{"inputs":["# + first + "," + row + #"],"targets":"# + targets + padding + "}"
    }

    static func numbers(_ count: Int) -> String { "[" + (0 ..< count).map { "-\($0).25" }.joined(separator: ",") + "]" }

    @Test(arguments: [
        (body(second: numbers(13)), "422 ragged_array inputs[1] has 13 values"),
        (body(second: numbers(11)), "422 ragged_array inputs[1] has 11 values"),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,NaN]"), "400 non_finite_number inputs[1][11] is NaN"),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,]"), "400 invalid_json"),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,-]"), "400 invalid_json"),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,01]"), "400 "),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,1.]"), "400 invalid_json"),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,\"a\"]"), "inputs "),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,[1]]"), "400 ragged_array inputs[1][11] is an array"),
        (body(second: "[1,2,3,4,5,6,7,8,9,10,11,1e39]"), "400 non_finite_number inputs[1][11]"),
        (body(second: numbers(12), targets: "[0," + (1 ..< 40).map { "\($0)" }.joined(separator: ",") + ",\"x\"]"),
         "400 bad_request targets[40] is a string; targets[0] is a number"),
        (body(second: numbers(12), targets: "[0," + (1 ..< 40).map { "\($0)" }.joined(separator: ",") + ",]"), "400 invalid_json"),
        (body(second: numbers(12), targets: "[0," + (1 ..< 40).map { "\($0)" }.joined(separator: ",") + ",true]"), "400 bad_request targets[40] is a boolean"),
    ])
    func errorsAreTheGeneralPaths(_ body: String, _ prefix: String) {
        let general = Self.general(body)
        #expect(general.hasPrefix(prefix), "\(general)")
        #expect(Self.read(body) == general)
        for cut in stride(from: 0, through: body.utf8.count, by: 5) {
            #expect(Self.read(body, cuts: [cut]) == general, "cut at \(cut)")
        }
    }

    @Test func limitsAreCheckedBeforeTheValuesAreStored() {
        var features = ServerLimits()
        features.maxFeatures = 10
        var short = ServerLimits()
        short.maxNumberBytes = 6
        var rows = ServerLimits()
        rows.maxRowsPerRequest = 30
        var job = ServerLimits()
        // Rows of 12 inputs take 3 x 13 x 4 + 8 = 164 bytes of a job, targets 3 x 1 x 4 + 8 = 20:
        // the 20th target crosses 388.
        job.maxJobBytes = 2 * 164 + 20 * 3
        let targets = "[0," + (1 ..< 40).map { "\($0)" }.joined(separator: ",") + "]"
        let cases: [(String, ServerLimits, [String])] = [
            (Self.body(second: Self.numbers(12)), features, ["413 limit_exceeded", "limits.max_features"]),
            (Self.body(second: "[1.2345,2,3,4,5,6,7,8,9,10,11,-1.2345]"), short, ["413 limit_exceeded", "limits.max_number_bytes", "inputs[1][11]"]),
            (Self.body(second: Self.numbers(12), targets: targets), rows, ["413 limit_exceeded", "limits.max_rows_per_request", "targets"]),
            (Self.body(second: Self.numbers(12), targets: targets), job, ["413 limit_exceeded", "limits.max_job_bytes", "targets[19]"]),
        ]
        for (body, limits, mentions) in cases {
            let general = Self.general(body, limits: limits)
            #expect(mentions.allSatisfy { general.contains($0) }, "\(general)")
            #expect(Self.read(body, limits: limits) == general)
            for cut in stride(from: 0, through: body.utf8.count, by: 3) {
                #expect(Self.read(body, cuts: [cut], limits: limits) == general, "cut at \(cut) of \(body)")
            }
        }
    }
}
