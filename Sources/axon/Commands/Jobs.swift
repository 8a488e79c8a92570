import ArgumentParser
import AxonAPI

/// `axon jobs`: the most recent training jobs.
struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List recent training jobs, newest first.")

    @Option(help: "How many jobs to list.")
    var limit = 20

    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard limit >= 1 else { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        try reportingErrors { () throws(CLIError) in
            let (list, raw) = try client.client().jobs(limit: limit)
            if client.json { return Terminal.json(raw) }
            guard !list.jobs.isEmpty else { return Terminal.line("no jobs") }
            let header = ["ID", "MODEL", "KIND", "STATUS", "EPOCHS", "VERSION", "CREATED"]
            let rows = list.jobs.map { job in
                [job.id, job.model, job.kind, job.status.rawValue, "\(job.epoch)/\(job.epochs)",
                 job.version.map(String.init) ?? "-", job.createdAt]
            }
            for line in Format.table([header] + rows) { Terminal.line(line) }
        }
    }
}
