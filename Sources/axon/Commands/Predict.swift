import ArgumentParser
import AxonAPI
import Foundation

/// `axon predict NAME 5.1,3.5,1.4,0.2` or `--file rows.csv`.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Predict with a model.",
        discussion: """
            Each row is comma-separated cells in the model's column order: numbers, text for categories, \
            empty for a missing value. A --file whose first line names the model's columns (a CSV header, \
            as training takes) is sent by column name, and columns the model does not take (its target) \
            are left out, so the training CSV itself can be predicted.
            """)

    @Argument(help: "The model's name.")
    var model: String

    @Argument(help: "Rows of comma-separated cells (e.g. 5.1,3.5,1.4,0.2); put -- before rows starting with a minus sign.")
    var rows: [String] = []

    @Option(help: "A CSV file of rows (- for standard input).")
    var file: String?

    @Option(help: "A retained version to predict with (default: the one that serves).")
    var modelVersion: UInt64?

    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard rows.isEmpty != (file == nil) else {
            throw ValidationError(rows.isEmpty ? "give rows to predict, or --file" : "give rows as arguments or --file, not both")
        }
    }

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let api = try client.client()
            let inputs: PredictRequest.Inputs
            if let file {
                inputs = try fileInputs(file, api: api)
            } else {
                inputs = try argumentInputs()
            }
            let (answer, raw) = try api.predict(PredictRequest(model: model, version: modelVersion, inputs: inputs))
            if client.json { return Terminal.json(raw) }
            for line in Self.lines(answer) { Terminal.line(line) }
        }
    }

    private func argumentInputs() throws(CLIError) -> PredictRequest.Inputs {
        var cells: [[TableCell]] = []
        for row in rows {
            for record in try CSVText.records(row) { cells.append(record.map(CSVText.cell)) }
        }
        return .rows(cells)
    }

    /// The file's rows: by column name when its first line is a header naming the model's
    /// columns, else in order (a header of a model without named columns is skipped).
    private func fileInputs(_ path: String, api: APIClient) throws(CLIError) -> PredictRequest.Inputs {
        let bytes = path == "-" ? try StandardInput.readAll() : try Self.read(path)
        var records = try CSVText.records(String(decoding: bytes, as: UTF8.self))
        guard let first = records.first else { throw .usage("\(path) holds no rows") }
        let looksLikeHeader = first.allSatisfy { if case .text = CSVText.cell($0) { true } else { false } }
        guard looksLikeHeader else { return .rows(records.map { $0.map(CSVText.cell) }) }
        let detail = try api.model(model)
        let columns = detail.preprocessing?.columns.compactMap(\.name) ?? []
        records.removeFirst()
        guard !columns.isEmpty, first.contains(where: columns.contains) else {
            // The first line is a header the model cannot use by name: rows go in file order.
            return .rows(records.map { $0.map(CSVText.cell) })
        }
        let ignored = first.filter { !columns.contains($0) }
        if !ignored.isEmpty {
            Terminal.error("axon: leaving out \(ignored.joined(separator: ", ")): not an input column of model \(model)")
        }
        var objects: [[String: TableCell]] = []
        for (k, record) in records.enumerated() {
            guard record.count == first.count else {
                throw .usage("\(path) line \(k + 2) has \(record.count) cells; its header has \(first.count)")
            }
            var object: [String: TableCell] = [:]
            for (name, cell) in zip(first, record) where columns.contains(name) { object[name] = CSVText.cell(cell) }
            objects.append(object)
        }
        return .objects(objects)
    }

    private static func read(_ path: String) throws(CLIError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable("cannot read \(path)") }
        return Array(data)
    }

    /// One line per row: a classifier's label and its probability, a regressor's outputs.
    static func lines(_ answer: PredictResponse) -> [String] {
        if let labels = answer.labels, let classes = answer.classes {
            let rows = labels.indices.map { k -> [String] in
                let probability = answer.probabilities?[k].indices.contains(classes[k]) == true ? answer.probabilities?[k][classes[k]] : nil
                return [String(k + 1), labels[k], Format.number(probability)]
            }
            return Format.table([["ROW", "LABEL", "PROBABILITY"]] + rows)
        }
        let rows = answer.outputs.enumerated().map { k, outputs in [String(k + 1), outputs.map { Format.number($0) }.joined(separator: " ")] }
        return Format.table([["ROW", "OUTPUT"]] + rows)
    }
}
