import ArgumentParser
import AxonAPI

/// `axon watch JOB`: follows a job that is running (or shows how one ended).
struct Watch: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow a training job's progress until it ends.",
        discussion: "A job that has already ended shows its last state at once. axon exits 1 when the job failed or was cancelled.")

    @Argument(help: "The job id (axon jobs lists them).")
    var job: String

    @OptionGroup var client: ClientOptions

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let api = try client.client()
            let (snapshot, _) = try api.job(job)
            try follow(snapshot, api: api, json: client.json)
        }
    }
}
