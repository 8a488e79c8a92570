import ArgumentParser
import AxonAPI

/// `axon rollback NAME VERSION`: serves a retained version again.
struct Rollback: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve an earlier version of a model again.",
        discussion: "The version must still be retained on disk (GET /models/NAME/versions lists them).")

    @Argument(help: "The model's name.")
    var model: String

    @Argument(help: "The version to serve.")
    var version: UInt64

    @OptionGroup var client: ClientOptions

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let (summary, raw) = try client.client().rollback(model, to: version)
            if client.json { return Terminal.json(raw) }
            Terminal.line("model \(summary.name) now serves version \(summary.version)")
        }
    }
}
