import Testing
@testable import ModelKit

/// Preprocessing learned from a table: medians and categories from the training rows only,
/// one-hot encoding with an all-zero unknown, a missing slot when training saw missing cells,
/// the category limit checked while counting, and scalers that leave one-hot inputs 0/1.
@Suite("Preprocessing")
struct PreprocessingTests {
    static func table() -> Table {
        var builder = TableBuilder(columns: 3)
        let rows: [[TableBuilder.Cell]] = [
            [.number(1), .text("red"), .number(10)],
            [.number(2), .text("blue"), .missing],
            [.missing, .text("green"), .number(30)],
            [.number(4), .missing, .number(40)],
            [.number(100), .text("red"), .number(50)],
        ]
        for row in rows {
            for (k, cell) in row.enumerated() { builder.append(cell, to: k) }
        }
        return builder.table(names: ["size", "color", "count"])
    }

    @Test("medians, sorted categories and a missing slot are learned")
    func fit() throws {
        let p = try Preprocessing.fit(Self.table(), trainingRows: nil, missingValues: .impute, maxCategories: 100)
        #expect(p.names == ["size", "color", "count"])
        #expect(p.columns.map(\.kind) == [.numeric, .categorical, .numeric])
        #expect(p.columns[0].fill == 3)  // median of 1, 2, 4, 100
        #expect(p.columns[0].missingCount == 1)
        #expect(p.columns[1].categories == ["blue", "green", "red"])
        #expect(p.columns[1].missingCategory)
        #expect(p.columns[2].fill == 35)
        #expect(p.offsets == [0, 1, 5])
        #expect(p.encodedWidth == 6)
    }

    @Test("only the training rows are fitted: a validation row's category is unseen")
    func trainingRowsOnly() throws {
        let p = try Preprocessing.fit(Self.table(), trainingRows: [0, 1, 4], missingValues: .impute, maxCategories: 100)
        #expect(p.columns[1].categories == ["blue", "red"])
        #expect(!p.columns[1].missingCategory)
        #expect(p.columns[0].fill == 2)
        let encoded = try p.encode(Self.table())
        // Row 2: missing size -> 2, green is unknown -> all zero, count 30.
        #expect(Array(encoded.values[2 * 4 ..< 3 * 4]) == [2, 0, 0, 30])
        // Row 3: missing color without a missing slot -> all zero.
        #expect(Array(encoded.values[3 * 4 ..< 4 * 4]) == [4, 0, 0, 40])
    }

    @Test("encoding: one-hot, unknown as zeros, missing slot, imputed numbers")
    func encode() throws {
        let p = try Preprocessing.fit(Self.table(), trainingRows: nil, missingValues: .impute, maxCategories: 100)
        var row = [Float](repeating: 0, count: p.encodedWidth)
        try row.withUnsafeMutableBufferPointer { buffer in
            try p.encode(.missing, column: 0, rowIndex: 0, into: buffer)
            try p.encode(.text("purple"), column: 1, rowIndex: 0, into: buffer)
            try p.encode(.text("7"), column: 2, rowIndex: 0, into: buffer)
        }
        #expect(row == [3, 0, 0, 0, 0, 7])
        row = [Float](repeating: 0, count: p.encodedWidth)
        try row.withUnsafeMutableBufferPointer { buffer in
            try p.encode(.number(5), column: 0, rowIndex: 0, into: buffer)
            try p.encode(.missing, column: 1, rowIndex: 0, into: buffer)
            try p.encode(.missing, column: 2, rowIndex: 0, into: buffer)
        }
        #expect(row == [5, 0, 0, 0, 1, 35])
        #expect(throws: PreprocessingError.textInNumericColumn(row: 3, column: "\"size\"", text: "big")) {
            var scratch = [Float](repeating: 0, count: p.encodedWidth)
            try scratch.withUnsafeMutableBufferPointer { try p.encode(.text("big"), column: 0, rowIndex: 3, into: $0) }
        }
    }

    @Test("numbers in a text column are categories by their shortest spelling, from CSV or JSON")
    func numberSpelling() throws {
        var builder = TableBuilder(columns: 1)
        builder.append(.number(1), to: 0)
        builder.append(.number(2.5), to: 0)
        builder.append(.text("x"), to: 0)
        let table = builder.table(names: nil)
        #expect(table.columns[0] == .text(["1", "2.5", "x"]))
        let p = try Preprocessing.fit(table, trainingRows: nil, missingValues: .impute, maxCategories: 10)
        #expect(p.columns[0].categories == ["1", "2.5", "x"])
        #expect(p.label(0) == "column 0")
        for cell in [TableBuilder.Cell.number(1), .text("1.0"), .text("1")] {
            var row = [Float](repeating: 0, count: 3)
            try row.withUnsafeMutableBufferPointer { try p.encode(cell, column: 0, rowIndex: 0, into: $0) }
            #expect(row == [1, 0, 0], "\(cell)")
        }
    }

    @Test("the category limit is counted over all columns while categories are found")
    func categoryLimit() throws {
        #expect(throws: PreprocessingError.tooManyCategories(column: "\"color\"", needed: 4, limit: 3)) {
            try Preprocessing.fit(Self.table(), trainingRows: nil, missingValues: .impute, maxCategories: 3)
        }
        var builder = TableBuilder(columns: 2)
        for k in 0 ..< 1000 {
            builder.append(.text("a\(k % 3)"), to: 0)
            builder.append(.text("b\(k)"), to: 1)
        }
        #expect(throws: PreprocessingError.tooManyCategories(column: "column 1", needed: 11, limit: 10)) {
            try Preprocessing.fit(builder.table(names: nil), trainingRows: nil, missingValues: .impute, maxCategories: 10)
        }
    }

    @Test("missing_values refuse names the first missing cell")
    func refuse() throws {
        #expect(throws: PreprocessingError.missingRefused(row: 2, column: "\"size\"")) {
            try Preprocessing.fit(Self.table(), trainingRows: nil, missingValues: .refuse, maxCategories: 100)
        }
        var builder = TableBuilder(columns: 1)
        builder.append(.text("a"), to: 0)
        builder.append(.text("b"), to: 0)
        let p = try Preprocessing.fit(builder.table(names: ["c"]), trainingRows: nil, missingValues: .refuse, maxCategories: 100)
        #expect(throws: PreprocessingError.missingRefused(row: 9, column: "\"c\"")) {
            var row = [Float](repeating: 0, count: 2)
            try row.withUnsafeMutableBufferPointer { try p.encode(.missing, column: 0, rowIndex: 9, into: $0) }
        }
    }

    @Test("median by quickselect equals the sorted median", arguments: [1, 2, 3, 10, 101, 1000])
    func median(_ count: Int) {
        var generator = RandomGenerator(seed: UInt64(count))
        for trial in 0 ..< 20 {
            var values = (0 ..< count).map { _ in Float(Int(generator.nextUnitFloat() * 20)) }
            if trial == 1 { values.sort() }
            if trial == 2 { values.sort(by: >) }
            let sorted = values.sorted()
            let expected = count % 2 == 1 ? sorted[count / 2] : Float((Double(sorted[count / 2 - 1]) + Double(sorted[count / 2])) / 2)
            #expect(Preprocessing.median(&values) == expected)
        }
        var none: [Float] = []
        #expect(Preprocessing.median(&none) == 0)
    }

    @Test("scalers fit numeric inputs and leave one-hot inputs 0/1")
    func normalizer() throws {
        let p = try Preprocessing.fit(Self.table(), trainingRows: nil, missingValues: .impute, maxCategories: 100)
        let encoded = try p.encode(Self.table())
        guard case .standard(let standard) = p.normalizer(.standard, fittedOn: encoded) else {
            Issue.record("expected a standardizer")
            return
        }
        #expect(Array(standard.mean[1 ..< 5]) == [0, 0, 0, 0])
        #expect(Array(standard.standardDeviation[1 ..< 5]) == [1, 1, 1, 1])
        #expect(standard.mean[0] == Standardizer(fittedOn: encoded).mean[0])
        guard case .minMax(let scaler) = p.normalizer(.minMax, fittedOn: encoded) else {
            Issue.record("expected a min-max scaler")
            return
        }
        #expect(Array(scaler.minimum[1 ..< 5]) == [0, 0, 0, 0] && Array(scaler.range[1 ..< 5]) == [1, 1, 1, 1])
        #expect(p.normalizer(.none, fittedOn: encoded) == .none)
    }

    @Test("numeric columns with names keep their medians")
    func numericNames() throws {
        let inputs = try Matrix([[1, 10], [3, 20], [2, 40], [8, 30]])
        let p = try Preprocessing.numeric(names: ["a", "b"], inputs: inputs, trainingRows: [0, 1, 2], missingValues: .impute)
        #expect(p.columns.map(\.fill) == [2, 20])
        #expect(p.encodedWidth == 2 && !p.hasCategoricalColumns)
        #expect(p.positions == ["a": 0, "b": 1])
    }

    @Test("stored preprocessing that does not hold together is refused")
    func invalid() {
        #expect(throws: PreprocessingError.self) { try Preprocessing.Column(name: "c", kind: .categorical, categories: ["a", "a"]) }
        #expect(throws: PreprocessingError.self) { try Preprocessing.Column(name: "c", kind: .numeric, fill: .nan) }
        #expect(throws: PreprocessingError.self) {
            try Preprocessing(columns: [Preprocessing.Column(name: "x", kind: .numeric), Preprocessing.Column(name: "x", kind: .numeric)], missingValues: .impute)
        }
        #expect(throws: PreprocessingError.self) {
            try Preprocessing(columns: [Preprocessing.Column(name: "x", kind: .numeric), Preprocessing.Column(name: nil, kind: .numeric)], missingValues: .impute)
        }
    }

    @Test("splitOrder gives the rows split() puts on each side")
    func splitOrder() throws {
        let inputs = try Matrix(rows: 10, columns: 1, values: (0 ..< 10).map(Float.init))
        let dataset = try Dataset(inputs: inputs, targets: inputs)
        let (training, validation) = try dataset.split(validationFraction: 0.3, seed: 4)
        let order = try Dataset.splitOrder(count: 10, validationFraction: 0.3, seed: 4)
        #expect(training.inputs.values == order.training.map(Float.init))
        #expect(validation.inputs.values == order.validation.map(Float.init))
    }
}
