import AxonAPI
import Foundation
import TestKit
import Testing

/// The built `axon` against the built `axond`, both real processes on loopback.
@Suite("axon against a live axond")
struct CLILiveTests {
    static let iris = ["train", irisPath, "--model", "iris", "--target", "species", "--seed", "7"]

    @Test("train follows the job's events as plain lines when stdout is a pipe, ends with the metrics and exits 0")
    func trainPlain() async throws {
        let daemon = try await LiveDaemon.start()
        let run = try await axon(Self.iris + ["--epochs", "30"], url: daemon.url)
        #expect(run.status == 0, "\(run)")
        let lines = run.lines
        #expect(lines.first?.hasPrefix("job job-") == true && lines.first?.contains("queued: model iris, 30 epochs") == true, "\(run)")
        #expect(lines.contains { $0.contains("started: 150 training rows, 30 epochs") }, "\(run)")
        #expect(lines.contains { $0.hasPrefix("epoch  1/30  loss ") }, "\(run)")
        #expect(lines.contains { $0.hasPrefix("epoch 30/30  loss ") }, "\(run)")
        #expect(lines.contains { $0.hasPrefix("model iris version 1 trained: 30 epochs, completed") }, "\(run)")
        let accuracy = try #require(lines.first { $0.hasPrefix("  accuracy") }?.split(separator: " ").last.flatMap { Double($0) }, "\(run)")
        #expect(accuracy > 0.6)
        #expect(!run.stdout.contains("\r"), "no carriage returns when stdout is not a terminal")
        #expect(run.stderr.isEmpty, "\(run)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("train --json prints only the finished job as the API has it; --detach prints the job id, and watch follows it")
    func trainJSONDetachWatch() async throws {
        let daemon = try await LiveDaemon.start()
        let json = try await axon(Self.iris + ["--epochs", "12", "--json"], url: daemon.url)
        #expect(json.status == 0, "\(json)")
        #expect(json.lines.count == 1, "\(json)")
        let job = try APIJSON.decode(JobSnapshot.self, from: Array(json.stdout.utf8))
        #expect(job.status == .succeeded && job.version == 1 && job.history.map(\.epoch) == Array(0 ..< 12))
        #expect(job.metrics?.accuracy != nil)

        let detached = try await axon(Self.iris + ["--epochs", "2000", "--patience", "0", "--detach"], url: daemon.url)
        #expect(detached.status == 0, "\(detached)")
        let id = detached.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(id.hasPrefix("job-2-"), "\(detached)")
        let watched = try await axon(["watch", id], url: daemon.url)
        #expect(watched.status == 0, "\(watched)")
        #expect(watched.lines.contains { $0.hasPrefix("epoch 2000/2000") }, "\(watched)")
        #expect(watched.lines.contains { $0.hasPrefix("model iris version 2 trained: 2000 epochs") }, "\(watched)")
        // Watching a job that has ended shows how it ended, at once.
        let again = try await axon(["watch", id, "--json"], url: daemon.url)
        #expect(try APIJSON.decode(JobSnapshot.self, from: Array(again.stdout.utf8)).version == 2, "\(again)")
        let unknown = try await axon(["watch", "job-99-0"], url: daemon.url)
        #expect(unknown.status == 5 && unknown.stderr.contains("job_not_found"), "\(unknown)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a train the server refuses (no such target column) exits 2 with its message; a job that fails exits 1")
    func trainFailures() async throws {
        let daemon = try await LiveDaemon.start()
        let refused = try await axon(["train", irisPath, "--model", "iris", "--target", "colour"], url: daemon.url)
        #expect(refused.status == 2, "\(refused)")
        #expect(refused.stderr.contains("target=colour is not a CSV column; columns: sepal_length"), "\(refused)")
        #expect(refused.stderr.contains("HTTP 400"), "\(refused)")
        #expect(refused.stdout.isEmpty, "\(refused)")

        // Accepted, then diverges: the job fails while it is followed.
        let diverged = try await axon(
            ["train", irisPath, "--model", "iris", "--target", "species", "--optimizer", "sgd", "--learning-rate", "1e6", "--epochs", "50"], url: daemon.url)
        #expect(diverged.status == 1, "\(diverged)")
        #expect(diverged.stderr.contains("failed: training diverged"), "\(diverged)")
        #expect(diverged.stderr.contains("(diverged)"), "\(diverged)")
        #expect(diverged.lines.contains { $0.contains("started: 150 training rows") }, "\(diverged)")

        #expect(try await daemon.stop() == 0)
    }

    @Test("predict takes rows as arguments, or a CSV whose header names the columns in any order")
    func predict() async throws {
        let daemon = try await LiveDaemon.start()
        #expect(try await axon(Self.iris + ["--epochs", "200", "--json"], url: daemon.url).status == 0)
        let row = try await axon(["predict", "iris", "5.1,3.5,1.4,0.2", "7.7,3.0,6.1,2.3"], url: daemon.url)
        #expect(row.status == 0, "\(row)")
        #expect(row.lines.first == "ROW  LABEL      PROBABILITY", "\(row)")
        #expect(row.lines.dropFirst().first?.hasPrefix("1    setosa     0.") == true, "\(row)")
        #expect(row.lines.dropFirst(2).first?.hasPrefix("2    virginica  0.") == true, "\(row)")

        let file = try await axon(["predict", "iris", "--file", irisPath, "--json"], url: daemon.url)
        #expect(file.status == 0, "\(file)")
        #expect(file.stderr.contains("leaving out species"), "\(file)")
        let labels = try #require(try APIJSON.decode(PredictResponse.self, from: Array(file.stdout.utf8)).labels)
        let species = try String(contentsOfFile: irisPath, encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: ",").last ?? "") }
        #expect(labels.count == 150)
        #expect(zip(labels, species).filter { $0 == $1 }.count >= 135, "the columns were matched by name")

        // The same rows with the columns in another order: matched by name, the same labels.
        let scratch = try TemporaryDirectory()
        defer { scratch.remove() }
        let shuffled = scratch.path + "/shuffled.csv"
        let text = try String(contentsOfFile: irisPath, encoding: .utf8).split(separator: "\n").map { line in
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            return [cells[4], cells[3], cells[1], cells[0], cells[2]].joined(separator: ",")
        }.joined(separator: "\n")
        try text.write(toFile: shuffled, atomically: true, encoding: .utf8)
        let reordered = try await axon(["predict", "iris", "--file", shuffled, "--json"], url: daemon.url)
        #expect(try APIJSON.decode(PredictResponse.self, from: Array(reordered.stdout.utf8)).labels == labels, "\(reordered)")

        let narrow = try await axon(["predict", "iris", "1,2,3"], url: daemon.url)
        #expect(narrow.status == 2 && narrow.stderr.contains("expects 4"), "\(narrow)")
        let unknown = try await axon(["predict", "lily", "1,2,3,4"], url: daemon.url)
        #expect(unknown.status == 5, "\(unknown)")
        let both = try await axon(["predict", "iris", "1,2,3,4", "--file", irisPath], url: daemon.url)
        #expect(both.status == 64, "\(both)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("models and jobs list what the daemon holds, as tables or as the API's JSON")
    func modelsAndJobs() async throws {
        let daemon = try await LiveDaemon.start()
        let empty = try await axon(["models"], url: daemon.url)
        #expect(empty.status == 0 && empty.stdout.hasPrefix("no models"), "\(empty)")
        #expect(try await axon(["jobs"], url: daemon.url).stdout == "no jobs\n")
        let trained = try await axon(Self.iris + ["--epochs", "5", "--json"], url: daemon.url)
        let job = try APIJSON.decode(JobSnapshot.self, from: Array(trained.stdout.utf8))

        let models = try await axon(["models"], url: daemon.url)
        #expect(models.status == 0, "\(models)")
        #expect(models.lines.first?.hasPrefix("NAME  VERSION  TASK            INPUTS  OUTPUTS  PARAMETERS  CREATED") == true, "\(models)")
        #expect(models.lines.dropFirst().first?.hasPrefix("iris  1        classification  4       3       ") == true, "\(models)")
        let list = try APIJSON.decode(ModelList.self, from: Array(try await axon(["models", "--json"], url: daemon.url).stdout.utf8))
        #expect(list.models.map(\.name) == ["iris"] && list.models.first?.version == 1)

        let jobs = try await axon(["jobs"], url: daemon.url)
        #expect(jobs.lines.first?.hasPrefix("ID ") == true, "\(jobs)")
        #expect(jobs.lines.dropFirst().first?.hasPrefix("\(job.id)  iris   train  succeeded  5/5     1        ") == true, "\(jobs)")
        let jobList = try APIJSON.decode(JobList.self, from: Array(try await axon(["jobs", "--json", "--limit", "1"], url: daemon.url).stdout.utf8))
        #expect(jobList.jobs.map(\.id) == [job.id])
        #expect(try await axon(["jobs", "--limit", "0"], url: daemon.url).status == 64)
        #expect(try await daemon.stop() == 0)
    }

    @Test("train --continue makes version 2 from version 1 and counts its own epochs; rollback serves version 1 again; an unknown version exits 5")
    func continueAndRollback() async throws {
        let daemon = try await LiveDaemon.start()
        #expect(try await axon(Self.iris + ["--epochs", "3", "--json"], url: daemon.url).status == 0)
        let continued = try await axon(Self.iris + ["--epochs", "4", "--continue"], url: daemon.url)
        #expect(continued.status == 0, "\(continued)")
        #expect(continued.lines.contains { $0.hasPrefix("epoch 1/4  loss ") } && continued.lines.contains { $0.hasPrefix("epoch 4/4  loss ") }, "\(continued)")
        #expect(continued.lines.contains { $0.hasPrefix("model iris version 2 trained: 4 epochs (7 in all), completed") }, "\(continued)")
        let rolled = try await axon(["rollback", "iris", "1"], url: daemon.url)
        #expect(rolled.status == 0 && rolled.stdout == "model iris now serves version 1\n", "\(rolled)")
        let list = try APIJSON.decode(ModelList.self, from: Array(try await axon(["models", "--json"], url: daemon.url).stdout.utf8))
        #expect(list.models.first?.version == 1)
        let json = try await axon(["rollback", "iris", "2", "--json"], url: daemon.url)
        #expect(try APIJSON.decode(ModelSummary.self, from: Array(json.stdout.utf8)).version == 2, "\(json)")
        let unknown = try await axon(["rollback", "iris", "9"], url: daemon.url)
        #expect(unknown.status == 5 && unknown.stderr.contains("version_not_found"), "\(unknown)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("tokens: no token or an unknown one exits 4, AXON_TOKEN is sent, a read token cannot train, axond's own variable works")
    func tokens() async throws {
        let daemon = try await LiveDaemon.start(environment: ["AXON_ADMIN_TOKEN": "admin-secret-0123456789", "AXON_READ_TOKEN": "read-secret-0123456789"])
        let anonymous = try await axon(["models"], url: daemon.url)
        #expect(anonymous.status == 4 && anonymous.stderr.contains("missing_token") && anonymous.stderr.contains("AXON_TOKEN"), "\(anonymous)")
        #expect(try await axon(["models"], url: daemon.url, environment: ["AXON_TOKEN": "read-secret-0123456789"]).status == 0)
        let reader = try await axon(Self.iris + ["--epochs", "3"], url: daemon.url, environment: ["AXON_TOKEN": "read-secret-0123456789"])
        #expect(reader.status == 4 && reader.stderr.contains("HTTP 403"), "\(reader)")
        let wrong = try await axon(["jobs", "--token", "nope"], url: daemon.url)
        #expect(wrong.status == 4 && wrong.stderr.contains("invalid_token"), "\(wrong)")
        // axond's own variable works too, for a shell that starts both.
        let admin = try await axon(Self.iris + ["--epochs", "3"], url: daemon.url, environment: ["AXON_ADMIN_TOKEN": "admin-secret-0123456789"])
        #expect(admin.status == 0, "\(admin)")
        #expect(try await daemon.stop() == 0)
    }

    @Test("a daemon that is not there: connection refused exits 3 with where axon looked; an unreadable file 66; a bad URL 64")
    func unreachable() async throws {
        let daemon = try await LiveDaemon.start()
        let url = daemon.url
        #expect(try await daemon.stop() == 0)
        let refused = try await axon(["models"], url: url)
        #expect(refused.status == 3, "\(refused)")
        #expect(refused.stderr.contains("cannot connect to 127.0.0.1:\(daemon.port): connection refused"), "\(refused)")
        // The file is opened before connecting: its problem is the one reported.
        let missing = try await axon(["train", "/nonexistent/rows.csv", "--model", "iris"], url: url)
        #expect(missing.status == 66 && missing.stderr.contains("cannot read /nonexistent/rows.csv"), "\(missing)")
        let https = try await axon(["models"], url: "https://127.0.0.1:\(daemon.port)")
        #expect(https.status == 64 && https.stderr.contains("plain HTTP only"), "\(https)")
    }
}
