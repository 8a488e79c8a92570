import AxonServer
import Foundation
import Testing
import TestKit

/// Real tables through the API (issue 12, item 5): a CSV with a text column and empty cells
/// trains without options; /predict takes named-feature objects with unseen categories and
/// nulls; the model detail shows the stored vocabulary, imputed values and scalers; errors
/// name the column; the category limit and the request budget hold.
@Suite("Tables: categorical columns, missing values, named features")
struct TablesTests {
    /// Price from size, color and rooms; a text column, and empty cells in all three.
    static let houses = """
        size,color,rooms,price
        1.5,red,3,150
        2.0,blue,,210
        ,green,2,120
        3.1,red,5,300
        2.2,,4,220
        1.1,blue,2,105
        2.8,green,4,260
        1.9,red,3,190
        2.5,blue,4,240
        3.5,green,6,340
        1.2,red,2,118
        2.1,,3,205

        """

    static func column(_ detail: [String: Any], _ name: String) -> [String: Any] {
        let columns = (detail["preprocessing"] as? [String: Any])?["columns"] as? [[String: Any]] ?? []
        return columns.first { $0["name"] as? String == name } ?? [:]
    }

    @Test("a CSV with a text column and empty cells trains without options; objects with an unseen category and a null predict")
    func csvWithTextAndEmptyCells() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let contract = try OpenAPIContract()
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        try await withAPIServer(daemon) { port in
            let trained = try await call(port, "POST", "/train?model=houses&wait=true", body: Array(Self.houses.utf8), contentType: "text/csv")
            #expect(trained.status == 200, "\(trained.text)")
            #expect(contract.problems(trained, method: "POST", template: "/train").isEmpty)

            let predicted = try await call(
                port, "POST", "/predict",
                json: #"{"model":"houses","inputs":[{"color":"purple","size":2.0,"rooms":null},{"size":null,"color":null,"rooms":3},{"size":1.5,"color":"red","rooms":3}]}"#)
            #expect(predicted.status == 200, "\(predicted.text)")
            #expect(contract.problems(predicted, method: "POST", template: "/predict").isEmpty)
            let outputs = try #require(predicted.object["outputs"] as? [[Double]])
            #expect(outputs.count == 3 && outputs.allSatisfy { $0.count == 1 && $0[0].isFinite })

            // Arrays of cells in training order answer the same as the objects.
            let arrays = try await call(
                port, "POST", "/predict", json: #"{"inputs":[[2.0,"purple",null],[null,null,3],[1.5,"red",3]],"model":"houses"}"#)
            #expect(arrays.status == 200, "\(arrays.text)")
            #expect(arrays.object["outputs"] as? [[Double]] == outputs)

            let detail = try await call(port, "GET", "/models/houses")
            #expect(detail.status == 200, "\(detail.text)")
            #expect(contract.problems(detail, method: "GET", template: "/models/{name}").isEmpty, "\(detail.text)")
            let preprocessing = try #require(detail.object["preprocessing"] as? [String: Any], "\(detail.text)")
            #expect(preprocessing["missing_values"] as? String == "impute")
            let color = Self.column(detail.object, "color")
            #expect(color["kind"] as? String == "categorical")
            // The vocabulary comes from the training split (seed 0, 20% held out), sorted.
            let categories = try #require(color["categories"] as? [String])
            #expect(!categories.isEmpty && categories == categories.sorted())
            #expect(Set(categories).isSubset(of: ["blue", "green", "red"]))
            #expect(color["category_count"] as? Int == categories.count)
            let size = Self.column(detail.object, "size")
            #expect(size["kind"] as? String == "numeric")
            let imputed = try #require(size["imputed"] as? Double)
            #expect(imputed >= 1.1 && imputed <= 3.5)
            #expect((size["scaler"] as? [String: Any])?["kind"] as? String == "standard")
            #expect(Self.column(detail.object, "rooms")["imputed"] is Double)
            let width = try #require(preprocessing["encoded_width"] as? Int)
            #expect(width == 2 + categories.count + ((color["missing_category"] as? Bool) == true ? 1 : 0))
            #expect((detail.object["input"] as? [String: Any])?["shape"] as? [Int] == [-1, width])

            // TF-Serving and V2 describe and take the encoded rows.
            let v2 = try await call(port, "GET", "/v2/models/houses")
            let inputs = try #require(v2.object["inputs"] as? [[String: Any]])
            #expect(inputs.first?["shape"] as? [Int] == [-1, width] && inputs.first?["datatype"] as? String == "FP32")
            let encoded = "[" + Array(repeating: "0", count: width).joined(separator: ",") + "]"
            let tf = try await call(port, "POST", "/v1/models/houses:predict", json: #"{"instances":[\#(encoded)]}"#)
            #expect(tf.status == 200, "\(tf.text)")

            // Errors name the column.
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"houses","inputs":[{"colour":"red","size":1,"rooms":2}]}"#),
                400, "unknown_field", mentions: ["colour", "size, color, rooms"])
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"houses","inputs":[{"color":"red","size":1}]}"#),
                400, "missing_field", mentions: ["\"rooms\"", "null"])
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"houses","inputs":[{"color":"red","size":"big","rooms":1}]}"#),
                422, "invalid_input", mentions: ["\"size\"", "big", "numeric"])
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"houses","inputs":[[1,"red"]]}"#),
                422, "shape_mismatch", mentions: ["inputs[0]", "3 columns"])

            // The model survives a restart with its preprocessing: same answer.
            await daemon.store.load()
            let again = try await call(
                port, "POST", "/predict",
                json: #"{"model":"houses","inputs":[{"color":"purple","size":2.0,"rooms":null},{"size":null,"color":null,"rooms":3},{"size":1.5,"color":"red","rooms":3}]}"#)
            #expect(again.object["outputs"] as? [[Double]] == outputs)
        }
        let reloaded = await loadedDaemon(stateDirectory: directory.path)
        try await withAPIServer(reloaded) { port in
            let detail = try await call(port, "GET", "/models/houses")
            #expect(Self.column(detail.object, "color")["kind"] as? String == "categorical", "\(detail.text)")
        }
    }

    @Test("JSON object rows and cell rows train; continuing and evaluating match columns by name")
    func jsonTables() async throws {
        try await withFreshDaemon { port in
            var rows: [String] = []
            var targets: [String] = []
            for k in 0 ..< 40 {
                let shape = ["round", "square", "star"][k % 3]
                let size = k % 7 == 0 ? "null" : String(Double(k % 10) / 2)
                rows.append(#"{"shape":"\#(shape)","size":\#(size)}"#)
                targets.append(shape == "star" || k % 10 > 6 ? #""big""# : #""small""#)
            }
            let body = #"{"model":"shapes","epochs":30,"inputs":[\#(rows.joined(separator: ","))],"targets":[\#(targets.joined(separator: ","))]}"#
            let trained = try await call(port, "POST", "/train?wait=true", json: body)
            #expect(trained.status == 200, "\(trained.text)")
            let detail = try await call(port, "GET", "/models/shapes")
            #expect(Self.column(detail.object, "shape")["categories"] as? [String] == ["round", "square", "star"], "\(detail.text)")
            #expect((Self.column(detail.object, "size")["missing_count"] as? Int ?? 0) > 0)

            let predicted = try await call(port, "POST", "/predict", json: #"{"model":"shapes","inputs":{"size":null,"shape":"hexagon"}}"#)
            #expect(predicted.status == 200, "\(predicted.text)")
            #expect((predicted.object["labels"] as? [String])?.count == 1)

            // Continue with the columns in another order, and evaluate.
            let more = #"{"epochs":2,"validation_split":0,"inputs":[{"size":1,"shape":"star"},{"size":4.5,"shape":"round"}],"targets":["big","small"]}"#
            let continued = try await call(port, "POST", "/models/shapes/train?wait=true", json: more)
            #expect(continued.status == 200, "\(continued.text)")
            let evaluated = try await call(
                port, "POST", "/models/shapes/evaluate", json: #"{"inputs":[{"size":1,"shape":"star"},{"shape":"new","size":null}],"targets":["big","small"]}"#)
            #expect(evaluated.status == 200, "\(evaluated.text)")
            expectError(
                try await call(port, "POST", "/models/shapes/train", json: #"{"inputs":[{"size":1,"shape":"star","extra":2}],"targets":["big"]}"#),
                400, "unknown_field", mentions: ["extra", "shape, size"])
            expectError(
                try await call(port, "POST", "/models/shapes/train", json: #"{"missing_values":"refuse","inputs":[{"size":1,"shape":"star"}],"targets":["big"]}"#),
                400, "unknown_field", mentions: ["missing_values"])

            // Cell rows without names: strings and nulls in arrays; objects are refused there.
            let cells = #"{"model":"cells","epochs":5,"inputs":[["a",1],["b",null],["a",3],[true,4]],"targets":[1.0,2.0,3.0,4.5]}"#
            let positional = try await call(port, "POST", "/train?wait=true", json: cells)
            #expect(positional.status == 200, "\(positional.text)")
            let cellDetail = try await call(port, "GET", "/models/cells")
            let first = ((cellDetail.object["preprocessing"] as? [String: Any])?["columns"] as? [[String: Any]])?.first
            #expect(first?["name"] == nil && first?["categories"] as? [String] == ["a", "b", "true"], "\(cellDetail.text)")
            expectError(try await call(port, "POST", "/predict", json: #"{"model":"cells","inputs":[{"x":1}]}"#), 400, "unknown_field", mentions: ["no names"])
            let one = try await call(port, "POST", "/predict", json: #"{"model":"cells","inputs":["zzz",null]}"#)
            #expect(one.status == 200, "\(one.text)")
            // Numbers only, sent before the model is named: read again as cells once it is known.
            let numbersFirst = try await call(port, "POST", "/predict", json: #"{"inputs":[[7,2]],"model":"cells"}"#)
            let numbersAfter = try await call(port, "POST", "/predict", json: #"{"model":"cells","inputs":[["7",2]]}"#)
            #expect(numbersFirst.status == 200, "\(numbersFirst.text)")
            #expect(numbersFirst.object["outputs"] as? [[Double]] == numbersAfter.object["outputs"] as? [[Double]])
        }
    }

    @Test("missing_values refuse: a missing cell is a 422 naming row and column, at training and at prediction")
    func refuse() async throws {
        try await withFreshDaemon { port in
            expectError(
                try await call(port, "POST", "/train?model=h&missing_values=refuse", body: Array(TablesTests.houses.utf8), contentType: "text/csv"),
                422, "missing_value", mentions: ["inputs[", "refuse"])
            let complete = #"{"model":"r","missing_values":"refuse","epochs":3,"inputs":[{"a":"x","b":1},{"a":"y","b":2},{"a":"x","b":3}],"targets":[1,2,3.5]}"#
            let trained = try await call(port, "POST", "/train?wait=true", json: complete)
            #expect(trained.status == 200, "\(trained.text)")
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"r","inputs":[{"a":"x","b":null}]}"#),
                422, "missing_value", mentions: ["inputs[0]", "\"b\"", "refuse"])
            let unseen = try await call(port, "POST", "/predict", json: #"{"model":"r","inputs":[{"a":"never","b":1}]}"#)
            #expect(unseen.status == 200, "\(unseen.text)")
        }
    }

    @Test("a numeric CSV remembers its column names and medians; its array rows stay on the numeric path")
    func numericCSVNames() async throws {
        try await withFreshDaemon { port in
            let iris = try repositoryFile("examples/iris.csv")
            let trained = try await call(port, "POST", "/train?model=iris&target=species&epochs=20&seed=1&wait=true", body: iris, contentType: "text/csv")
            #expect(trained.status == 200, "\(trained.text)")
            let detail = try await call(port, "GET", "/models/iris")
            let columns = try #require((detail.object["preprocessing"] as? [String: Any])?["columns"] as? [[String: Any]], "\(detail.text)")
            #expect(columns.compactMap { $0["name"] as? String }.count == 4)
            #expect(columns.allSatisfy { $0["kind"] as? String == "numeric" && $0["imputed"] is Double })
            let names = columns.compactMap { $0["name"] as? String }
            let values = [5.1, 3.5, 1.4, 0.2]
            let object = "{" + zip(names, values).map { #""\#($0)":\#($1)"# }.joined(separator: ",") + "}"
            let byName = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[\#(object)]}"#)
            let byArray = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[[5.1,3.5,1.4,0.2]]}"#)
            #expect(byName.status == 200 && byArray.status == 200, "\(byName.text) \(byArray.text)")
            #expect(byName.object["outputs"] as? [[Double]] == byArray.object["outputs"] as? [[Double]])
            // A null takes the stored median.
            let withNull = try await call(port, "POST", "/predict", json: #"{"model":"iris","inputs":[[5.1,null,1.4,0.2]]}"#)
            #expect(withNull.status == 200, "\(withNull.text)")
        }
    }

    @Test("a model without preprocessing refuses objects and text with a 422, strings in number rows as before")
    func plainModel() async throws {
        try await withStoredClassifier { port in
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[{"a":1}]}"#), 422, "shape_mismatch",
                mentions: ["rows of 4 numbers"])
            expectError(
                try await call(port, "POST", "/predict", json: #"{"model":"m","inputs":[[1,"2",3,4]]}"#), 400, "bad_request",
                mentions: ["inputs[0][1]", "number", "string"])
            expectError(
                try await call(port, "POST", "/models/m/train", json: #"{"inputs":[[1,null,3,4]],"targets":[0]}"#), 422, "shape_mismatch",
                mentions: ["rows of 4 numbers"])
        }
    }

    @Test("prediction rows are counted against the request budget before their encoded values exist")
    func predictionBudget() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path) { $0.limits.maxRequestBytes = 200_000 }
        try await withAPIServer(daemon) { port in
            // 600 categories: each row `["k1"]` of 7 bytes encodes to 600 floats (2,400 bytes).
            let csv = "c,y\n" + (0 ..< 600).map { "k\($0),\($0 % 2)\n" }.joined()
            let trained = try await call(port, "POST", "/train?model=wide&epochs=1&validation_split=0&wait=true", body: Array(csv.utf8), contentType: "text/csv")
            #expect(trained.status == 200, "\(trained.text)")
            let few = try await call(port, "POST", "/predict", json: #"{"model":"wide","inputs":[["k1"],["k2"]]}"#)
            #expect(few.status == 200, "\(few.text)")
            let many = #"{"model":"wide","inputs":["# + Array(repeating: #"["k1"]"#, count: 2_000).joined(separator: ",") + "]}"
            expectError(try await call(port, "POST", "/predict", json: many), 413, "limit_exceeded", mentions: ["limits.max_request_bytes"])
        }
        let limited = await loadedDaemon(stateDirectory: directory.path) { $0.limits.maxCategories = 10 }
        try await withAPIServer(limited) { port in
            let csv = "c,d,y\n" + (0 ..< 50).map { "a\($0 % 4),b\($0),1\n" }.joined()
            expectError(
                try await call(port, "POST", "/train?model=many", body: Array(csv.utf8), contentType: "text/csv"), 413, "limit_exceeded",
                mentions: ["limits.max_categories", "\"d\""])
        }
    }
}
