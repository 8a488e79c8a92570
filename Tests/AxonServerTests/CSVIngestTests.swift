import AxonHTTP
import Foundation
import ModelKit
import Testing

@testable import AxonServer

/// The streaming CSV reader: numbers rounded exactly as `Float(String)` rounds them, the same
/// result whatever the chunk boundaries, quoted fields, line breaks, and errors that name the
/// line, the column and the value.
@Suite("CSV ingest")
struct CSVIngestTests {
    /// Reads `body` handed over in the chunks that `cuts` (ascending offsets) make.
    static func read(_ body: [UInt8], cuts: [Int] = [], target: String? = nil, limits: ServerLimits = ServerLimits()) -> ReadOutcome {
        var request = TrainRequest()
        do {
            var reader = CSVTrainingReader(target: target, limits: limits, expectedBytes: body.count)
            try feed(body, cuts: cuts) { (chunk) throws(APIError) in try reader.consume(chunk) }
            try reader.finish(into: &request)
        } catch {
            return ReadOutcome(error: "\(error.status.code) \(error.code) \(error.message)")
        }
        return ReadOutcome(request)
    }

    static func read(_ text: String, cuts: [Int] = [], target: String? = nil, limits: ServerLimits = ServerLimits()) -> ReadOutcome {
        read(Array(text.utf8), cuts: cuts, target: target, limits: limits)
    }

    /// Random decimal spellings of floats: shortest, fixed and exponent forms of many
    /// precisions, signs, leading and trailing dots, and values a hair from a midpoint between
    /// two floats (where rounding through a double first could go wrong).
    static func randomNumbers(count: Int, seed: UInt64) -> [String] {
        var generator = RandomGenerator(seed: seed)
        func unit() -> Double { Double(generator.nextUnitFloat()) }
        var tokens: [String] = []
        while tokens.count < count {
            let magnitude = pow(10, unit() * 16 - 8)
            let value = (unit() < 0.5 ? -1 : 1) * magnitude * (0.5 + unit())
            let float = Float(value)
            switch tokens.count % 9 {
            case 0: tokens.append("\(float)")
            case 1: tokens.append(String(format: "%.\(1 + Int(unit() * 9))f", value))
            case 2: tokens.append(String(format: "%.\(Int(unit() * 12))e", value))
            case 3: tokens.append(String(format: "%.\(1 + Int(unit() * 19))g", value))
            case 4:
                // A midpoint between two floats, spelled with up to 17 digits.
                let midpoint = (Double(float) + Double(float.nextUp)) / 2
                tokens.append(String(format: "%.\(9 + Int(unit() * 9))g", midpoint))
            case 5:
                let midpoint = (Double(float) + Double(float.nextUp)) / 2
                tokens.append(String(format: "%.17g", midpoint.nextUp))
            case 6: tokens.append(String(Int(value * 1000)))
            case 7: tokens.append(String(format: "%+.4E", value))
            default:
                let text = String(format: "%.3f", abs(value))
                tokens.append(text.hasPrefix("0.") ? String(text.dropFirst()) : "\(Int(abs(value))).")
            }
        }
        return tokens
    }

    @Test func numbersRoundAsFloatStringDoes() throws {
        let tokens = Self.randomNumbers(count: 30_000, seed: 3)
        for token in tokens {
            let expected = try #require(Float(token), "\(token) is not a Float")
            let read = Array(token.utf8).withUnsafeBufferPointer { DecimalFloat.number($0) }
            #expect(read?.bitPattern == expected.bitPattern, "\(token): \(String(describing: read)) != \(expected)")
        }
        // The same tokens through the reader, as cells of one body in chunks of 1 KiB.
        var body = "value,label\n"
        for token in tokens { body += "\(token),1\n" }
        let cuts = Array(stride(from: 1024, to: body.utf8.count, by: 1024))
        let outcome = Self.read(body, cuts: cuts)
        #expect(outcome.error == nil, "\(outcome)")
        #expect(outcome.inputs == tokens.map { Float($0)!.bitPattern })
    }

    @Test func midpointsFallBackToCorrectRounding() throws {
        // 1 + 2^-24 is the midpoint of 1 and its successor: the exact decimal rounds to even
        // (1), one a hair above it rounds up.
        for token in ["1.000000059604644775390625", "1.0000000596046448", "1.00000005960464478", "16777217", "16777217.0", "-16777217",
                      "0.1", "3.4028235e38", "1e-22", "9007199254740993"] {
            let read = Array(token.utf8).withUnsafeBufferPointer { DecimalFloat.number($0) }
            #expect(read?.bitPattern == Float(token)?.bitPattern, "\(token)")
        }
    }

    @Test func quotedFieldsAndLineBreaks() {
        let body = "a,\"b, quoted\",label\r\n1,\" 2 \",\"say \"\"hi\"\"\"\r\n\n3,4,\"two\nlines\"\r5,6,plain"
        let outcome = Self.read(body)
        #expect(outcome.error == nil, "\(outcome)")
        #expect(outcome.names == ["a", "b, quoted"])
        #expect(outcome.inputs == [1, 2, 3, 4, 5, 6].map { Float($0).bitPattern })
        #expect(outcome.targets == "\(TrainRequest.Targets.labels(["say \"hi\"", "two\nlines", "plain"]))")
        // A quoted comma makes one text cell: the rows become a table.
        let table = Self.read("x,y\n\"1,5\",0\n2,1\n")
        #expect(table.table?.contains("1,5") == true, "\(table)")
        #expect(table.shape == [2, 1])
    }

    /// Bodies whose outcome must not depend on where the chunks are cut.
    static let chunkBodies = [
        "a,b,label\r\n1.5,-2e3,x\r\n\"3,5\",4,\"he said \"\"hi\"\"\"\r\n\n5,6,\"multi\nline\"\n",
        "x,y,z\n0.1,22.5e-1,3\n-4,5.000001,6\r7,8,9",
        "p,q\n1,2\n3,\"x\"y\n",
        "p,q\n1,\n,2\n\"\",3",
        "p,q\n1,2\n\"open,3\n",
        "p,q,y\n123456789012345678901234,1e99,2\n",
        "  h1 , h2 \n 1 , 2 \n",
    ]

    @Test(arguments: chunkBodies)
    func chunkBoundariesDoNotMatter(_ body: String) {
        expectSameWhateverTheChunks(body) { bytes, cuts in Self.read(bytes, cuts: cuts) }
    }

    @Test func errorsNameTheLineColumnAndValue() {
        let notFinite = Self.read("a,b,y\n1,2,0\r\n\r\n1,inf,1\n")
        #expect(notFinite.error?.hasPrefix("400 bad_request CSV line 4, column 2 (\"b\"): \"inf\" is not a finite number") == true, "\(notFinite)")
        let long = String(repeating: "7", count: 300)
        let tooLong = Self.read("a,y\n\(long),1\n")
        #expect(tooLong.error?.contains("CSV line 2, column 1 (\"a\")") == true, "\(tooLong)")
        #expect(tooLong.error?.contains("limits.max_number_bytes") == true && tooLong.error?.contains("(300 bytes)") == true, "\(tooLong)")
        #expect(tooLong.error?.contains(long) == false, "the message quotes only a prefix")
        let ragged = Self.read("a,b,y\n1,2,3\n4,5\n")
        #expect(ragged.error == "400 ragged_array CSV line 3 has 2 fields; the header has 3", "\(ragged)")
        let wide = Self.read("a,b,y\n1,2,3,4\n")
        #expect(wide.error == "400 ragged_array CSV line 2 has more than 3 fields; the header has 3", "\(wide)")
        let afterQuote = Self.read("a,y\n\"1\"x,2\n")
        #expect(afterQuote.error?.contains("CSV line 2, column 1 (\"a\"): text after the closing quote of \"1\"") == true, "\(afterQuote)")
        let unclosed = Self.read("a,y\n1,\"2\n")
        #expect(unclosed.error?.contains("the quoted field never closes") == true, "\(unclosed)")
        let utf8 = Self.read(Array("a,y\n1,".utf8) + [0xFF, 0x0A])
        #expect(utf8.error == "400 invalid_utf8 CSV line 2, column 2 (\"y\") is not valid UTF-8", "\(utf8)")
    }

    @Test func textCellsTurnTheRowsIntoATableMidStream() {
        var body = "a,b,y\n"
        for k in 0 ..< 200 { body += "\(k),\(k).5,\(k % 2)\n" }
        body += "red,,1\n"
        let outcome = Self.read(body, cuts: [100, 2000])
        #expect(outcome.error == nil && outcome.inputs.isEmpty && outcome.shape == [201, 2], "\(outcome)")
        #expect(outcome.table?.contains("red") == true && outcome.table?.contains("199.5") == true, "\(outcome)")
    }

    @Test func theRowBudgetRefusesTheRowThatWouldCrossIt() throws {
        // Rows of 3 inputs: the data's share of a job is 3 x (3 + 1) x 4 + 8 = 56 bytes a row.
        var limits = ServerLimits()
        limits.maxJobBytes = 56 * 100
        var body = "a,b,c,y\n"
        for k in 0 ..< 150 { body += "\(k),1,2,0\n" }
        var reader = CSVTrainingReader(target: nil, limits: limits)
        var refused: APIError?
        let bytes = Array(body.utf8)
        bytes.withUnsafeBufferPointer { (bytes: UnsafeBufferPointer<UInt8>) -> Void in
            var start = 0
            while start < bytes.count, refused == nil {
                let end = min(bytes.count, start + 7)
                do throws(APIError) {
                    try reader.consume(UnsafeBufferPointer(rebasing: bytes[start ..< end]))
                } catch {
                    refused = error
                }
                #expect(reader.rows <= 100, "the rows grew past the budget")
                start = end
            }
        }
        let error = try #require(refused)
        #expect(error.status.code == 413 && error.code == "limit_exceeded")
        #expect(error.message.contains("limits.max_job_bytes") && error.message.contains("CSV line 102"), "\(error.message)")
        var rows = ServerLimits()
        rows.maxRowsPerRequest = 10
        #expect(Self.read(body, limits: rows).error?.contains("limits.max_rows_per_request") == true)
    }

    @Test func labelsKeepTheirSpellingAndAreBoundedByTheClassLimit() {
        // Numeric targets until a text one: then every target is a label, spelled as sent.
        let mixed = Self.read("a,y\n1,1.0\n2,+1\n3,cat\n4,1.0\n")
        #expect(mixed.targets == "\(TrainRequest.Targets.labels(["1.0", "+1", "cat", "1.0"]))", "\(mixed)")
        var limits = ServerLimits()
        limits.maxClasses = 5
        var body = "a,y\n"
        for k in 0 ..< 50 { body += "\(k),class\(k % 7)\n" }
        let refused = Self.read(body, cuts: [64], limits: limits)
        #expect(refused.error?.hasPrefix("413 limit_exceeded") == true && refused.error?.contains("limits.max_classes") == true, "\(refused)")
        #expect(refused.error?.contains("CSV line 7") == true, "\(refused)")
        var few = "a,y\n"
        for k in 0 ..< 50 { few += "\(k),class\(k % 5)\n" }
        #expect(Self.read(few, limits: limits).error == nil)
    }

    @Test func aWideHeaderIsRefusedBeforeItEnds() {
        var limits = ServerLimits()
        limits.maxFeatures = 100
        var reader = CSVTrainingReader(target: nil, limits: limits)
        let header = Array(String(repeating: "c,", count: 500).utf8)
        #expect(throws: APIError.self) {
            try header.withUnsafeBufferPointer { (bytes) throws(APIError) in try reader.consume(bytes) }
        }
    }
}

/// `axon-bench ingest` reads files through the training readers, chunk by chunk.
@Suite("training body probe")
struct TrainingBodyProbeTests {
    @Test func filesAreReadInChunks() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("probe-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var csv = "a,b,label\n"
        var json = #"{"inputs":["#
        for k in 0 ..< 500 {
            csv += "\(k),\(Double(k) / 3),\(k % 2)\n"
            json += (k == 0 ? "" : ",") + "[\(k),\(Double(k) / 3)]"
        }
        json += #"],"targets":["# + (0 ..< 500).map { "\($0 % 2)" }.joined(separator: ",") + "]}"
        let csvFile = directory.appendingPathComponent("body.csv")
        let jsonFile = directory.appendingPathComponent("body.json")
        try Data(csv.utf8).write(to: csvFile)
        try Data(json.utf8).write(to: jsonFile)
        let fromCSV = try TrainingBodyProbe.parse(file: csvFile.path, csv: true, target: "label", chunkBytes: 100)
        #expect(fromCSV.rows == 500 && fromCSV.columns == 2 && !fromCSV.isTable)
        let fromJSON = try TrainingBodyProbe.parse(file: jsonFile.path, csv: false, target: nil, chunkBytes: 33)
        #expect(fromJSON.rows == 500 && fromJSON.columns == 2 && !fromJSON.isTable)
        #expect(throws: (any Error).self) { try TrainingBodyProbe.parse(file: directory.path + "/missing", csv: true, target: nil, chunkBytes: 10) }
    }
}
