#if canImport(Glibc)
import Glibc
#endif
import Checkpoint
import StressFixture
import Testing
import TestKit

@Suite("Crash safety")
struct CrashSafetyTests {
    /// One commit the child reported as durable.
    struct Commit {
        var model: String
        var version: UInt64
        var seq: UInt64
    }

    static let rounds = 50
    static let floats = 100_000  // 400 KB per file, so kills land inside writes as well as between them

    /// A child commits in a loop (retention 3) and is SIGKILLed at a random moment, 50 times.
    /// After every kill the directory must load with every model at a complete version, and
    /// every reported commit that retention has not legitimately pruned must be on disk intact.
    @Test("SIGKILL at random moments loses and corrupts no committed version")
    func sigkillLoop() async throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let verify = ScanOptions(
            quarantineCorrupt: false, repairCurrentMarker: false, verifyAllVersions: true, removeLeftoversOlderThan: nil)
        var random = SeededGenerator(seed: 0xC0FFEE)
        var committed: [String: [Commit]] = [:]
        var seq: UInt64 = 1
        var corrupt = 0
        var lost = 0

        for round in 0..<Self.rounds {
            let child = try stressChild(["loop", directory.path, "3", String(Self.floats), String(seq)])
            let waitFor = Int.random(in: 0...4, using: &random)
            var lines: [String] = []
            // The child is read and waited for on a thread of its own: the cooperative pool
            // the other tests run on has only as many threads as cores.
            let delay = UInt32.random(in: 0...20_000, using: &random)
            let (read, status, rest) = try await onThread { () throws -> ([String], Int32, [String]) in
                var read: [String] = []
                while read.count < waitFor, let line = try child.readLine() { read.append(line) }
                // Random extra delay so the kill also lands inside a write, an fsync or a rename.
                usleep(delay)
                child.kill()
                return (read, try child.wait(), try child.remainingLines())
            }
            lines = read + rest
            #expect(status == 128 + SIGKILL, "round \(round): child must die by SIGKILL, not exit")

            for line in lines {
                let fields = line.split(separator: " ")
                guard fields.count == 3, let version = UInt64(fields[1]), let lineSeq = UInt64(fields[2]) else {
                    Issue.record("round \(round): unexpected child output '\(line)'")
                    continue
                }
                committed[String(fields[0]), default: []].append(Commit(model: String(fields[0]), version: version, seq: lineSeq))
                seq = max(seq, lineSeq + 1)
            }

            let scan = state.scan(options: verify)
            for problem in scan.problems {
                Issue.record("round \(round): \(problem)")
                if case .corrupt = problem.kind { corrupt += 1 }
            }
            let loaded = Dictionary(uniqueKeysWithValues: scan.models.map { ($0.name.rawValue, $0) })
            for (model, commits) in committed {
                guard let last = commits.last, let current = loaded[model] else {
                    Issue.record("round \(round): model \(model) with commits did not load")
                    lost += commits.count
                    continue
                }
                // The child may die after CURRENT moved but before it printed: current >= last.
                #expect(current.version >= last.version, "round \(round): \(model) at \(current.version) < \(last.version)")
                let oldestRetained = current.versions.first ?? 0
                for commit in commits where commit.version >= oldestRetained {
                    do {
                        let file = try state.load(ModelName(model), version: commit.version)
                        if file != stressCheckpoint(model: model, seq: commit.seq, floats: Self.floats) {
                            Issue.record("round \(round): \(model) v\(commit.version) holds the wrong contents")
                            corrupt += 1
                        }
                    } catch {
                        Issue.record("round \(round): \(model) v\(commit.version) committed but \(error)")
                        lost += 1
                    }
                }
            }
        }
        // A kill between commit and prune leaves extra versions; the next prune must clear them.
        for model in committed.keys.sorted() {
            let name = try ModelName(model)
            let current = try state.currentVersion(of: name)
            try state.prune(name, keep: 3)
            let retained = try state.versions(of: name)
            #expect(retained.count == 3 || retained.count == 4 && !retained.suffix(3).contains(current ?? 0))
            #expect(retained.contains(current ?? 0))
        }
        let total = committed.values.reduce(0) { $0 + $1.count }
        // Kills that landed inside DurableFile.write leave a temporary behind: evidence that the
        // loop really interrupted writes, not only the gaps between them.
        let temporaries = committed.keys.reduce(0) { count, model in
            count + listDirectory("\(state.modelsPath)/\(model)").filter(DurableFile.isTemporaryName).count
        }
        print("crash safety: \(Self.rounds) SIGKILLs, \(total) commits reported, \(temporaries) writes interrupted, \(corrupt) corrupt, \(lost) lost")
        #expect(total >= Self.rounds, "the child should commit at least about once per round")
        #expect(corrupt == 0)
        #expect(lost == 0)
    }
}
