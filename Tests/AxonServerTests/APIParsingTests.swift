@testable import AxonHTTP
@testable import AxonJobs
import Foundation
import ModelKit
import Testing

@testable import AxonServer

/// The hand-written body parser and writer of the inference routes, in-process.
@Suite("API parsing")
struct APIParsingTests {
    func tensor(_ text: String, innermost: (count: Int, owner: String)? = nil) throws(APIError) -> (values: [Float], shape: [Int]) {
        var values: [Float] = []
        var shape: [Int] = []
        try Array(text.utf8).withUnsafeBufferPointer { (bytes) throws(APIError) in
            var scanner = JSONScanner(bytes, limits: JSONLimits(ServerLimits()))
            shape = try scanner.readTensor(at: "x", into: &values, innermost: innermost)
            try scanner.expectEnd()
        }
        return (values, shape)
    }

    func message(_ text: String, innermost: (count: Int, owner: String)? = nil) -> String? {
        do {
            _ = try tensor(text, innermost: innermost)
            return nil
        } catch {
            return error.message
        }
    }

    @Test func numbersMatchTheStandardLibraryBitForBit() throws {
        var generator = RandomGenerator(seed: 42)
        var texts: [String] = ["0", "-0", "1", "16", "0.1", "1e-7", "-2.5E+3", "123456789012345678901234", "3.4028234e38",
                               "1.17549435e-38", "0.000000000000000000000000000001", "9007199254740993", "0.30000000000000004"]
        for _ in 0 ..< 2000 {
            let value = (generator.nextUnitFloat() - 0.5) * Float(1 << 20) * generator.nextUnitFloat()
            texts.append(value.description)
            texts.append(String(Double(value) * 1e-9))
        }
        for text in texts {
            let parsed = try tensor(text)
            #expect(parsed.shape == [])
            let expected = Float(Double(text)!)
            #expect(parsed.values[0].bitPattern == expected.bitPattern, "\(text): \(parsed.values[0]) != \(expected)")
        }
    }

    /// Rows long enough for the bulk row scanner, in every spelling it takes or leaves to the
    /// general loop (blanks, exponents, long numbers, the last bytes): the same values as
    /// numbers read one by one, and errors still name the element.
    @Test func longRowsReadLikeSingleNumbers() throws {
        var generator = RandomGenerator(seed: 7)
        let odd = ["1e3", " 2.5", "-0", "0", "12345678.5", "0.123456789", "3.25 ", "-1E-2", "7", "100000000"]
        for round in 0 ..< 40 {
            var texts: [String] = []
            for k in 0 ..< 50 + round * 7 {
                let value = (generator.nextUnitFloat() - 0.5) * Float(1 << (k % 20))
                texts.append(k % 11 == 5 ? odd[(k + round) % odd.count] : String(format: "%.\(k % 6)f", value))
            }
            let parsed = try tensor("[" + texts.joined(separator: ",") + "]")
            #expect(parsed.shape == [texts.count])
            let expected = texts.map { Float(Double($0.trimmingCharacters(in: .whitespaces))!) }
            #expect(parsed.values.map(\.bitPattern) == expected.map(\.bitPattern), "round \(round)")
            let nested = try tensor("[[" + texts.joined(separator: ",") + "],[" + texts.joined(separator: ",") + "]]")
            #expect(nested.shape == [2, texts.count])
            #expect(nested.values.map(\.bitPattern) == (expected + expected).map(\.bitPattern))
        }
        let good = Array(repeating: "1.5", count: 100).joined(separator: ",")
        #expect(message("[" + good + ",01," + good + "]") == "malformed JSON at x[100] (byte 402): expected ',' or ']', found '1'")
        #expect(message("[[" + good + "],[" + good + ",\"a\"]]")?.contains("x[1][100]") == true)
        #expect(message("[[" + good + "],[" + good + ",2]]") == "x[1] has 101 values; its first sibling has 100")
        for tail in ["1e39", "-1e39", "1e-50e", "1.", "--1", "01"] {
            #expect(message("[" + good + "," + tail + "]")?.contains("x[100]") == true, "\(tail)")
        }
    }

    @Test func shapesOfNestedArrays() throws {
        #expect(try tensor("[1,2,3]").shape == [3])
        #expect(try tensor(" [ [1, 2] , [3,4], [5,6] ] ").shape == [3, 2])
        #expect(try tensor("[[1,2],[3,4]]").values == [1, 2, 3, 4])
        #expect(try tensor("[[[1],[2]],[[3],[4]]]").shape == [2, 2, 1])
        #expect(try tensor("[]").shape == [0])
    }

    @Test func raggedAndMistypedArraysNameTheElement() {
        #expect(message("[[1,2],[3]]") == "x[1] has 1 values; its first sibling has 2")
        #expect(message("[[1,2],[3,4,5]]", innermost: (2, "model \"m\"")) == "x[1] has 3 values; model \"m\" expects 2")
        #expect(message("[[1,2],3]") == "x[1] is a number; expected an array like its siblings")
        #expect(message("[1,[2]]") == "x[1] is an array; expected a number like its siblings")
        #expect(message("[[1,true]]") == "x[0][1] must be a number, got a boolean")
        #expect(message("[[1,NaN]]") == "x[0][1] is NaN; only finite numbers are accepted")
        #expect(message("[-Infinity]") == "x[0] is -Infinity; only finite numbers are accepted")
        #expect(message("[1e39]")?.contains("outside the 32-bit float range") == true)
        #expect(message("[1.]")?.contains("expected a digit after '.'") == true)
        #expect(message("[1,]")?.contains("malformed JSON") == true)
    }

    @Test func stringsAreUnescapedAndMustBeUTF8() throws {
        func read(_ bytes: [UInt8]) throws(APIError) -> String {
            try bytes.withUnsafeBufferPointer { (buffer) throws(APIError) in
                var scanner = JSONScanner(buffer, limits: JSONLimits(ServerLimits()))
                return try scanner.readString(at: "s")
            }
        }
        #expect(try read(Array(#""a\"b\\c\n\u00e9\ud83d\ude00""#.utf8)) == "a\"b\\c\né😀")
        #expect(try read(Array("\"héllo\"".utf8)) == "héllo")
        #expect(throws: APIError.self) { try read([0x22, 0xFF, 0x22]) }
        #expect(throws: APIError.self) { try read(Array(#""\ud83d""#.utf8)) }
    }

    @Test func writerEscapesAndRoundTripsFloats() throws {
        var writer = JSONWriter(capacity: 64)
        writer.byte(UInt8(ascii: "["))
        writer.string("q\"\\\n\u{01}")
        writer.byte(UInt8(ascii: ","))
        let values: [Float] = [0.1, -3, 1e-7, 3.4028235e38, 0]
        values.withUnsafeBufferPointer { writer.floatArray($0) }
        writer.byte(UInt8(ascii: "]"))
        let decoded = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? [Any])
        #expect(decoded[0] as? String == "q\"\\\n\u{01}")
        let numbers = try #require(decoded[1] as? [Double])
        #expect(numbers.map { Float($0) } == values)
    }

    @Test func csvBodiesBecomeRowsAndLabels() throws {
        var request = TrainRequest()
        let target = try request.apply(query: [("model", "iris"), ("target", "species"), ("epochs", "5")], csv: true, limits: ServerLimits())
        try request.read(csv: Array("a,species,b\n1,x,2\n3,y,4\r\n".utf8), target: target, limits: ServerLimits())
        #expect(request.inputShape == [2, 2] && request.inputs == [1, 2, 3, 4] && request.epochs == 5)
        guard case .labels(let labels) = request.targets else {
            Issue.record("expected string labels")
            return
        }
        #expect(labels == ["x", "y"])
        var broken = TrainRequest()
        #expect(throws: APIError.self) { try broken.read(csv: Array("a,b\n1,2\n3\n".utf8), target: nil, limits: ServerLimits()) }
        #expect(throws: APIError.self) { try broken.read(csv: Array("a,b\ninf,2\n".utf8), target: nil, limits: ServerLimits()) }
        // Text and empty cells make the rows a table; a numeric CSV stays on the numeric path.
        var table = TrainRequest()
        try table.read(csv: Array("a,b,y\nfoo,2,1\n,3,0\n".utf8), target: nil, limits: ServerLimits())
        #expect(table.inputs.isEmpty && table.inputShape == [2, 2] && table.columnNames == ["a", "b"])
        #expect(table.table?.columns == [.text(["foo", nil]), .numeric([2, 3])])
        #expect(request.table == nil && request.columnNames == ["a", "b"])
        #expect(throws: APIError.self) { _ = try broken.apply(query: [("bogus", "1")], csv: true, limits: ServerLimits()) }
    }

    @Test func trainingDefaultsAreInferredFromTheData() throws {
        let request = try TrainRequest.parse(
            json: Array(#"{"model":"d","inputs":[[1,2],[2,1],[3,3],[0,1],[4,4],[2,2]],"targets":[0,2,1,2,0,1]}"#.utf8), limits: ServerLimits())
        let plan = try TrainingPlan.fresh(request, limits: ServerLimits())
        #expect(plan.start.configuration.task == .classification)
        #expect(plan.start.configuration.layerSizes == [2, 64, 3])
        #expect(plan.start.configuration.classLabels == ["0", "1", "2"])
        #expect(plan.configuration.optimizer.kind == .adam && plan.configuration.normalization == .standard)
        #expect(plan.configuration.earlyStopping != nil && plan.configuration.validationFraction == 0)
        let regression = try TrainingPlan.fresh(
            try TrainRequest.parse(json: Array(#"{"model":"r","inputs":[[1],[2],[3]],"targets":[0.5,1.5,2.25]}"#.utf8), limits: ServerLimits()),
            limits: ServerLimits())
        #expect(regression.start.configuration.task == .regression && regression.start.configuration.outputCount == 1)
        #expect(regression.configuration.normalizeTargets == true && plan.configuration.normalizeTargets == nil)
    }

    /// Integers are classes only when few distinct values repeat: six rows of y = x² are a
    /// regression, booleans and strings are classes, and `task` overrides the rule.
    @Test func theTaskRuleNeedsRepeatedIntegers() throws {
        func task(_ json: String) throws -> (ModelConfiguration.Task, String?) {
            let plan = try TrainingPlan.fresh(try TrainRequest.parse(json: Array(json.utf8), limits: ServerLimits()), limits: ServerLimits())
            return (plan.start.configuration.task, plan.reasons["task"])
        }
        let square = try task(#"{"model":"s","inputs":[[0],[1],[2],[3],[4],[5]],"targets":[0,1,4,9,16,25]}"#)
        #expect(square.0 == .regression)
        #expect(square.1?.contains("6 distinct integers in 6 rows") == true, "\(square.1 ?? "-")")
        let large = try task(#"{"model":"s","inputs":[[0],[1],[2],[3]],"targets":[0,1,4,81]}"#)
        #expect(large.0 == .regression)
        let classes = try task(#"{"model":"c","inputs":[[0],[1],[2],[3],[4],[5]],"targets":[0,1,2,0,1,2]}"#)
        #expect(classes.0 == .classification)
        let booleans = try task(#"{"model":"b","inputs":[[0],[1],[2],[3]],"targets":[true,false,true,false]}"#)
        #expect(booleans.0 == .classification)
        let mixed = #"{"model":"b","inputs":[[0],[1]],"targets":[true,"x"]}"#
        #expect(throws: APIError.self) { try TrainRequest.parse(json: Array(mixed.utf8), limits: ServerLimits()) }
        let forced = try task(#"{"model":"f","task":"classification","inputs":[[0],[1],[2],[3],[4],[5]],"targets":[0,1,2,3,4,5]}"#)
        #expect(forced.0 == .classification && forced.1 == nil)
        let wrongType = #"{"model":"r","inputs":[[0],[1]],"targets":[0.5,1.5],"normalize_targets":"yes"}"#
        do {
            _ = try TrainRequest.parse(json: Array(wrongType.utf8), limits: ServerLimits())
            Issue.record("normalize_targets \"yes\" was accepted")
        } catch {
            #expect(error.status == .badRequest && error.message.contains("normalize_targets"), "\(error.message)")
        }
        var query = TrainRequest()
        #expect(throws: APIError.self) { _ = try query.apply(query: [("normalize_targets", "1")], csv: true, limits: ServerLimits()) }
        _ = try query.apply(query: [("normalize_targets", "false")], csv: true, limits: ServerLimits())
        #expect(query.normalizeTargets == false)
        let refused = #"{"model":"c","inputs":[[0],[1],[2],[3],[4],[5]],"targets":[0,1,2,0,1,2],"normalize_targets":true}"#
        #expect(throws: APIError.self) {
            try TrainingPlan.fresh(try TrainRequest.parse(json: Array(refused.utf8), limits: ServerLimits()), limits: ServerLimits())
        }
    }

    /// Defaults follow the data and the request: full batch on small sets, the step budget in
    /// epochs, and any setting the request gives wins (and loses its "why").
    @Test func defaultsFollowTheDataAndExplicitSettingsWin() throws {
        func plan(_ json: String) throws -> TrainingPlan {
            try TrainingPlan.fresh(try TrainRequest.parse(json: Array(json.utf8), limits: ServerLimits()), limits: ServerLimits())
        }
        let rows = (0 ..< 10).map { "[\($0)]" }.joined(separator: ",")
        let targets = (0 ..< 10).map { String($0 * $0) }.joined(separator: ",")
        let small = try plan(#"{"model":"s","inputs":[\#(rows)],"targets":[\#(targets)]}"#)
        #expect(small.configuration.batchSize == 10 && small.configuration.validationFraction == 0)
        #expect(small.configuration.epochs == TrainingDefaults.stepBudget && small.configuration.optimizer.learningRate == 0.01)
        #expect(small.reasons["batch_size"]?.contains("full batch") == true)
        #expect(small.reasons["epochs"]?.contains("optimizer steps") == true && small.configuration.schedule == .constant)
        // Mini-batch defaults anneal over the epochs really run; a rate the request gives is held constant.
        let manyRows = (0 ..< 1_000).map { "[\($0)]" }.joined(separator: ",")
        let manyTargets = (0 ..< 1_000).map { String(Double($0) * 0.5) }.joined(separator: ",")
        let annealed = try plan(#"{"model":"m","inputs":[\#(manyRows)],"targets":[\#(manyTargets)],"epochs":30}"#)
        #expect(annealed.configuration.schedule == .cosine(epochs: 30, minimum: 0.003 * TrainingDefaults.annealFloor))
        #expect(annealed.configuration.earlyStopping?.minDelta == 0 && annealed.configuration.validationFraction == 0)
        let constant = try plan(#"{"model":"m","inputs":[\#(manyRows)],"targets":[\#(manyTargets)],"learning_rate":0.002}"#)
        #expect(constant.configuration.schedule == .constant && constant.configuration.optimizer.learningRate == 0.002)
        let given = try plan(#"{"model":"s","inputs":[\#(rows)],"targets":[\#(targets)],"batch_size":4,"epochs":7,"learning_rate":0.5}"#)
        #expect(given.configuration.batchSize == 4 && given.configuration.epochs == 7 && given.configuration.optimizer.learningRate == 0.5)
        #expect(given.reasons["batch_size"] == nil && given.reasons["epochs"] == nil && given.reasons["learning_rate"] == nil)
        let big = TrainingDefaults.choose(rows: 20_000, features: 20, outputs: 3)
        #expect(big.validationFraction == 0 && big.batchSize == TrainingDefaults.miniBatchSize && big.learningRate == 0.003)
        #expect(big.schedule == .cosine(epochs: 200, minimum: 0.003 * TrainingDefaults.annealFloor))
        #expect(big.epochs == TrainingDefaults.minimumEpochs && big.steps == 200 * 157 && big.earlyStopping.patience == 10)
        #expect(big.earlyStopping.minDelta == TrainingDefaults.minDelta)
        let bigRegression = TrainingDefaults.choose(rows: 10_000, features: 20, outputs: 1, task: .regression)
        #expect(bigRegression.earlyStopping.minDelta == 0 && bigRegression.validationFraction == 0)
        let medium = TrainingDefaults.choose(rows: 442, features: 10, outputs: 1)
        #expect(medium.validationFraction == 0.2 && medium.batchSize == 354 && medium.l2 == 0.003)
        let capped = TrainingDefaults.choose(rows: 10, features: 1, outputs: 1, maximumEpochRows: 100)
        #expect(capped.epochs == 10)
    }

    @Test func openAPIGeneratedFilesMatchTheYAML() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", repositoryRoot.appendingPathComponent("scripts/openapi.py").path, "--check"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "openapi.json or OpenAPIDocument.swift is stale: run python3 scripts/openapi.py")
        let served = try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json)) as? [String: Any]
        let paths = try #require(served?["paths"] as? [String: Any])
        for template in ["/train", "/predict", "/v1/models/{name}:predict", "/v2/models/{name}/infer", "/models/{name}/evaluate", "/jobs/{id}"] {
            #expect(paths[template] != nil, "\(template) missing from the OpenAPI document")
        }
    }
}

/// The streaming CSV reader reads what Axon's CSV reading always read, for bodies without
/// quoted commas or line breaks: the same rows, labels and tables as a plain reference that
/// splits lines and fields, strips blanks and quotes, and asks `Float(String)`.
@Suite("CSV reader against the reference rules")
struct CSVReferenceTests {
    static let failed = ReadOutcome(error: "failed")

    static func read(_ csv: String) -> ReadOutcome {
        var request = TrainRequest()
        do {
            try request.read(csv: Array(csv.utf8), target: nil, limits: ServerLimits())
        } catch {
            return failed
        }
        return ReadOutcome(request)
    }

    /// The rules, spelled out plainly (the reader of commit 6e2f1c8, without its limits).
    static func reference(_ csv: String) -> ReadOutcome {
        func field(_ text: Substring) -> String {
            var slice = text
            while let first = slice.first, first == " " || first == "\t" || first == "\"" { slice = slice.dropFirst() }
            while let last = slice.last, last == " " || last == "\t" || last == "\"" { slice = slice.dropLast() }
            return String(slice)
        }
        func number(_ text: String) -> Float? { Float(text) ?? (Double(text) != nil ? .infinity : nil) }
        var outcome = ReadOutcome()
        var lines = csv.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard !lines.isEmpty else { return failed }
        let header = lines.removeFirst().split(separator: ",", omittingEmptySubsequences: false).map(field)
        guard header.count >= 2 else { return failed }
        var rows: [[String]] = []
        for line in lines {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map(field)
            guard cells.count == header.count else { return failed }
            rows.append(cells)
        }
        let labels = rows.map { $0[header.count - 1] }
        let numbers = labels.compactMap { Float($0).flatMap { $0.isFinite ? $0 : nil } }
        outcome.targets = numbers.count == labels.count
            ? "\(String(describing: TrainRequest.Targets.numbers(numbers)))" : "\(String(describing: TrainRequest.Targets.labels(labels)))"
        let inputs = rows.map { $0.dropLast() }
        for cell in inputs.joined() where !cell.isEmpty {
            if let value = number(cell), !value.isFinite { return failed }
        }
        outcome.names = Array(header.dropLast())
        outcome.shape = [rows.count, header.count - 1]
        if inputs.joined().allSatisfy({ number($0) != nil }) {
            outcome.inputs = inputs.joined().map { number($0)!.bitPattern }
        } else {
            var builder = TableBuilder(columns: header.count - 1)
            for row in inputs {
                for (column, cell) in row.enumerated() {
                    builder.append(cell.isEmpty ? .missing : number(cell).map { .number($0) } ?? .text(cell), to: column)
                }
            }
            outcome.table = "\(builder.table(names: outcome.names))"
        }
        return outcome
    }

    @Test func theReaderFollowsTheRules() {
        let cells = ["1", "-2.5e3", " 3 ", "\"4\"", "+5", ".5", "1.", "0x1p3", "1e-50", "1e99", "inf", "nan", "1.000000001",
                     "3.4028235e38", "0", "-0", "", "red", "1,5", "\t7\t", "1e", "--1", "0.1", "1.00000000000000000001",
                     "a-rather-long-category-name", "NA", "0.30000001192092896", "7e-46"]
        var generator = RandomGenerator(seed: 11)
        var bodies = ["a,b\n1,2\n3,4\r\n", "a,b\r\n\r\n1,2\n\n3,x\n", "a,b\n1,2,3\n", "a,b\n1\n", "\n\na,y\n1,2\n", "a,b\n", "x,y\n1,2"]
        for _ in 0 ..< 400 {
            var body = "p,q,y\n"
            for _ in 0 ..< 1 + Int(generator.nextUnitFloat() * 4) {
                let pick = { cells[Int(generator.nextUnitFloat() * Float(cells.count)) % cells.count] }
                body += "\(pick()),\(pick()),\(pick())\(generator.nextUnitFloat() < 0.5 ? "\n" : "\r\n")"
            }
            bodies.append(body)
        }
        for body in bodies {
            #expect(Self.read(body) == Self.reference(body), "\(body.debugDescription)")
        }
    }
}
