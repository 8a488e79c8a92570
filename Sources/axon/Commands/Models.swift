import ArgumentParser
import AxonAPI

/// `axon models`: the models that serve.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the models axond serves.")

    @OptionGroup var client: ClientOptions

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let (list, raw) = try client.client().models()
            if client.json { return Terminal.json(raw) }
            if list.models.isEmpty {
                Terminal.line("no models; train one with: axon train data.csv --model NAME")
            } else {
                let header = ["NAME", "VERSION", "TASK", "INPUTS", "OUTPUTS", "PARAMETERS", "CREATED"]
                let rows = list.models.map {
                    [$0.name, String($0.version), $0.task, String($0.inputs), String($0.outputs), String($0.parameterCount), $0.createdAt]
                }
                for line in Format.table([header] + rows) { Terminal.line(line) }
            }
            if !list.skipped.isEmpty {
                Terminal.line("not served (limits.max_models reached): \(list.skipped.joined(separator: ", "))")
            }
        }
    }
}
