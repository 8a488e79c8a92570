import AxonAPI
@testable import AxonStore
@testable import AxonJobs
import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// Job records on disk: a restart lists finished jobs again and marks interrupted ones, live
/// replicas keep their own, corrupt files are skipped, and `jobs.retain` bounds the history.
@Suite("Job records")
struct JobRecordTests {
    let plans = JobsTests()

    /// The record files in every owner directory under `<state>/jobs`.
    func recordFiles(_ state: String) -> [String] {
        let root = "\(state)/jobs"
        let owners = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return owners.flatMap { owner in
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(root)/\(owner)")) ?? [])
                .filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }
        }.sorted()
    }

    /// The record file of job `id`, in whichever owner directory holds it.
    func recordText(_ state: String, _ id: String) -> String? {
        let owners = (try? FileManager.default.contentsOfDirectory(atPath: "\(state)/jobs")) ?? []
        return owners.lazy.compactMap { try? String(contentsOfFile: "\(state)/jobs/\($0)/\(id).json", encoding: .utf8) }.first
    }

    @Test("a finished job answers GET /jobs/{id} identically after a restart, and new ids continue")
    func restartKeepsFinishedJobs() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let train = #"{"model":"line","inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7],"epochs":5,"validation_split":0,"seed":3}"#
        let first = await loadedDaemon(stateDirectory: directory.path)
        var id = ""
        var before: [String: Any] = [:]
        try await withAPIServer(first) { port in
            let trained = try await call(port, "POST", "/train?wait=true", json: train)
            #expect(trained.status == 200, "\(trained.text)")
            id = try #require(trained.object["id"] as? String)
            let polled = try await call(port, "GET", "/jobs/\(id)")
            #expect(polled.status == 200)
            before = polled.object
        }
        #expect(before["status"] as? String == "succeeded" && (before["history"] as? [Any])?.count == 5)
        first.jobs.close()

        let second = await loadedDaemon(stateDirectory: directory.path)
        defer { second.jobs.close() }
        try await withAPIServer(second) { port in
            let again = try await call(port, "GET", "/jobs/\(id)")
            #expect(again.status == 200, "\(again.text)")
            #expect(NSDictionary(dictionary: again.object) == NSDictionary(dictionary: before), "\(again.text)")
            let list = try await call(port, "GET", "/jobs")
            #expect((list.object["jobs"] as? [[String: Any]])?.map { $0["id"] as? String } == [id])
            // A job submitted after the restart gets the next number, not job-1 again.
            let next = try await call(port, "POST", "/train?wait=true", json: train)
            let nextID = try #require(next.object["id"] as? String)
            #expect(nextID.hasPrefix("job-2-"), "\(next.text)")
            let ids = { (response: TestResponse) in (response.object["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } }
            #expect(ids(try await call(port, "GET", "/jobs")) == [nextID, id])
            #expect(ids(try await call(port, "GET", "/jobs?limit=1")) == [nextID])
            let zero = try await call(port, "GET", "/jobs?limit=0")
            #expect(zero.status == 400, "\(zero.text)")
            #expect(try await call(port, "GET", "/jobs?limit=x").status == 400)
            #expect(try await call(port, "GET", "/jobs?page=2").envelope?.code == "unknown_field")
        }
        #expect(recordFiles(directory.path).count == 2)
    }

    @Test("jobs queued or running when their daemon stopped are listed as failed with interrupted")
    func unfinishedJobsAreInterrupted() async throws {
        let (directory, store, dying) = try await freshJobs()
        defer { directory.remove() }
        let running = try dying.submit(try plans.longPlan("a"))
        let queued = try dying.submit(try plans.longPlan("b"))
        #expect(await eventually { (dying.job(running.id)?.epoch ?? 0) >= 1 })
        // From the disk's point of view the daemon is gone: no more writes, lock released.
        dying.close()

        let restarted = JobScheduler(testing: store)
        #expect(restarted.restore(stateDirectory: directory.path) == 2)
        defer { restarted.close() }
        for id in [running.id, queued.id] {
            let job = try #require(restarted.job(id))
            #expect(job.status == .failed && job.error?.code == "interrupted" && job.finishedAt != nil, "\(job)")
            #expect(job.error?.message.contains("resubmit") == true)
        }
        #expect(restarted.job(running.id)?.startedAt != nil && restarted.job(queued.id)?.startedAt == nil)
        #expect(restarted.list().map(\.id) == [queued.id, running.id])
        #expect(restarted.activeCount == 0)

        _ = dying.cancel(running.id)
        _ = dying.cancel(queued.id)
        #expect(await dying.wait(running.id)?.status == .cancelled)
        // The dead daemon's directory was adopted: one owner directory is left, the new one.
        let owners = try FileManager.default.contentsOfDirectory(atPath: "\(directory.path)/jobs")
        #expect(owners.count == 1, "\(owners)")
    }

    @Test("a live replica's records stay its own")
    func liveReplicasAreNotAdopted() async throws {
        let (directory, store, replicaA) = try await freshJobs()
        defer { directory.remove() }
        defer { replicaA.close() }
        let job = try replicaA.submit(try plans.shortPlan("m"))
        #expect(await replicaA.wait(job.id)?.status == .succeeded)

        let replicaB = JobScheduler(testing: store)
        #expect(replicaB.restore(stateDirectory: directory.path) == 0)
        defer { replicaB.close() }
        #expect(replicaB.job(job.id) == nil && replicaA.job(job.id)?.status == .succeeded)
        #expect(recordFiles(directory.path) == ["\(job.id).json"])
    }

    @Test("corrupt, truncated and foreign record files are skipped with a warning, never a crash")
    func corruptRecordsAreSkipped() async throws {
        let (directory, store, first) = try await freshJobs()
        defer { directory.remove() }
        let good = try first.submit(try plans.shortPlan("m"))
        #expect(await first.wait(good.id)?.status == .succeeded)
        first.close()
        let owner = try #require(try FileManager.default.contentsOfDirectory(atPath: "\(directory.path)/jobs").first)
        let valid = try Data(contentsOf: URL(fileURLWithPath: "\(directory.path)/jobs/\(owner)/\(good.id).json"))
        for (name, bytes) in [
            ("job-7-aa.json", Array(valid.prefix(valid.count / 2))),
            ("job-8-bb.json", Array("not json".utf8)),
            ("job-9-cc.json", Array(#"{"format":99,"job":{}}"#.utf8)),
            ("job-10-dd.json", [UInt8](repeating: 0xff, count: 64)),
            // A valid record under another name: its id would write outside the file it came from.
            ("job-11-ee.json", Array(valid)),
        ] {
            try DurableFile.write(bytes, to: "\(directory.path)/jobs/\(owner)/\(name)")
        }

        let log = LogCapture()
        let second = JobScheduler(testing: store, logger: log.logger)
        #expect(second.restore(stateDirectory: directory.path) == 1)
        defer { second.close() }
        #expect(second.job(good.id)?.status == .succeeded)
        #expect(second.list().map(\.id) == [good.id])
        let warnings = log.lines.filter { $0.level == .warning && $0.message.contains("job record") }
        #expect(warnings.count == 5, "\(warnings.map(\.message))")
        // The skipped files stay for an operator; a later job still numbers after the good one.
        let next = try second.submit(try plans.shortPlan("n"))
        #expect(next.id.hasPrefix("job-2-"))
        #expect(await second.wait(next.id)?.status == .succeeded)
    }

    @Test("a loss curve round-trips bit for bit through the record's columns, and broken columns are refused")
    func historyColumnsRoundTrip() throws {
        typealias Epoch = JobSnapshot.Epoch
        let curves: [[Epoch]] = [
            [],
            [Epoch(epoch: 0, trainLoss: nil, validationLoss: nil, samplesPerSecond: nil)],
            [Epoch(epoch: 3, trainLoss: 0.1, validationLoss: nil, samplesPerSecond: 618_000.25)],
            (0 ..< 50).map { k in
                Epoch(epoch: k, trainLoss: 1 / Double(k + 3), validationLoss: k % 3 == 0 ? nil : Double.ulpOfOne * Double(k),
                      samplesPerSecond: k % 2 == 0 ? 1e-300 : 1.7976931348623157e308)
            },
        ]
        for curve in curves {
            let columns = JobJournal.HistoryColumns(curve)
            let decoded = try #require(columns.epochs)
            #expect(decoded == curve)
            #expect(decoded.map { $0.trainLoss?.bitPattern } == curve.map { $0.trainLoss?.bitPattern })
        }
        var broken = JobJournal.HistoryColumns([Epoch(epoch: 0, trainLoss: 1, validationLoss: 2, samplesPerSecond: 3)])
        broken.trainLoss = "1,2"
        #expect(broken.epochs == nil)
        broken.trainLoss = "x"
        #expect(broken.epochs == nil)
        broken.trainLoss = "nan"
        #expect(broken.epochs == nil)
        broken.trainLoss = "1"
        broken.epoch = "zero"
        #expect(broken.epochs == nil)
        broken.epoch = ""
        #expect(broken.epochs == nil)
    }

    @Test("a staging directory abandoned by a daemon that died while starting is removed; a young one is left")
    func abandonedStagingIsRemoved() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        for name in [".new-old", ".new-young"] {
            try FileManager.default.createDirectory(atPath: "\(directory.path)/jobs/\(name)", withIntermediateDirectories: true)
            try DurableFile.write([], to: "\(directory.path)/jobs/\(name)/owner.lock")
        }
        let old = "\(directory.path)/jobs/.new-old"
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -120)], ofItemAtPath: old)
        let jobs = JobScheduler(testing: store)
        jobs.restore(stateDirectory: directory.path)
        defer { jobs.close() }
        let entries = try FileManager.default.contentsOfDirectory(atPath: "\(directory.path)/jobs")
        #expect(!entries.contains(".new-old") && entries.contains(".new-young") && entries.count == 2, "\(entries)")
    }

    @Test("jobs.retain bounds the history in memory and on disk, oldest finished first")
    func retentionRemovesTheOldest() async throws {
        let (directory, store, jobs) = try await freshJobs(retain: 2)
        defer { directory.remove() }
        var ids: [String] = []
        for name in ["a", "b", "c"] {
            let job = try jobs.submit(try plans.shortPlan(name))
            #expect(await jobs.wait(job.id)?.status == .succeeded)
            ids.append(job.id)
        }
        #expect(jobs.list().map(\.id) == [ids[2], ids[1]])
        #expect(jobs.job(ids[0]) == nil)
        jobs.close()
        #expect(recordFiles(directory.path) == [ids[1], ids[2]].map { "\($0).json" }.sorted())

        // A restart with a smaller bound trims what it adopts.
        let smaller = JobScheduler(testing: store, retain: 1)
        smaller.restore(stateDirectory: directory.path)
        #expect(smaller.list().map(\.id) == [ids[2]])
        smaller.close()
        #expect(recordFiles(directory.path) == ["\(ids[2]).json"])
    }

    @Test("a state directory where jobs cannot be written leaves jobs in memory, logged")
    func unwritableStateKeepsJobsInMemory() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = await loadedStore(directory)
        // A file where the jobs directory belongs.
        try DurableFile.write(Array("x".utf8), to: "\(directory.path)/jobs")
        let log = LogCapture()
        let jobs = JobScheduler(testing: store, logger: log.logger)
        #expect(jobs.restore(stateDirectory: directory.path) == 0)
        #expect(log.lines.contains { $0.level == .error && $0.message.contains("job records cannot be kept") })
        let job = try jobs.submit(try plans.shortPlan("m"))
        #expect(await jobs.wait(job.id)?.status == .succeeded)
        #expect(jobs.job(job.id)?.status == .succeeded)
    }

    /// Starts the real axond on `state`, port 0, and returns it with the port from its log.
    func startDaemon(_ state: String) async throws -> (Subprocess, Int) {
        let axond = try Subprocess.builtProduct("axond")
        let process = try Subprocess(axond, ["serve", "--port", "0", "--state-dir", state, "--log-level", "notice", "--no-access-log"])
        var output = ""
        for _ in 0 ..< 100 {
            output += try await onThread { try process.readSome() }
            if let range = output.range(of: #"http\.address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression),
                let port = Int(output[range].split(separator: ":").last ?? "")
            {
                for _ in 0 ..< 1000 {
                    if (try? await call(port, "GET", "/readyz"))?.status == 200 { return (process, port) }
                    try await Task.sleep(for: .milliseconds(10))
                }
                throw TestFailure("axond on port \(port) never became ready")
            }
        }
        throw TestFailure("axond did not report its address: \(output)")
    }

    @Test("SIGKILL of the real axond: after a restart the finished job is listed as it was and the running one as interrupted")
    func killedDaemonRestarts() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let (first, port) = try await startDaemon(directory.path)
        let finished = try await call(port, "POST", "/train?wait=true", json: JobWaitTests.short)
        #expect(finished.status == 200, "\(finished.text)")
        let finishedID = try #require(finished.object["id"] as? String)
        let before = try await call(port, "GET", "/jobs/\(finishedID)").object
        let accepted = try await call(port, "POST", "/train", json: JobWaitTests.long)
        let runningID = try #require(accepted.object["id"] as? String)
        // On disk before the 202 was sent.
        #expect(recordText(directory.path, runningID) != nil)
        // Running, and its running record on disk (written asynchronously when it started).
        var onDisk = false
        for _ in 0 ..< 2000 where !onDisk {
            let job = try await call(port, "GET", "/jobs/\(runningID)").object
            onDisk = job["status"] as? String == "running" && recordText(directory.path, runningID)?.contains(#""status":"running""#) == true
            if !onDisk { try await Task.sleep(for: .milliseconds(5)) }
        }
        #expect(onDisk)
        kill(first.pid, SIGKILL)
        #expect(try await onThread { try first.wait() } == 128 + SIGKILL)

        let (second, again) = try await startDaemon(directory.path)
        let restored = try await call(again, "GET", "/jobs/\(finishedID)")
        #expect(NSDictionary(dictionary: restored.object) == NSDictionary(dictionary: before), "\(restored.text)")
        let interrupted = try await call(again, "GET", "/jobs/\(runningID)").object
        #expect(interrupted["status"] as? String == "failed", "\(interrupted)")
        #expect((interrupted["error"] as? [String: Any])?["code"] as? String == "interrupted")
        #expect((try await call(again, "GET", "/jobs").object["jobs"] as? [Any])?.count == 2)
        kill(second.pid, SIGTERM)
        #expect(try await onThread { try second.wait() } == 0)
    }
}
