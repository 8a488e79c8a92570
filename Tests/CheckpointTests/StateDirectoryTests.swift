#if canImport(Glibc)
import Glibc
#endif
import Checkpoint
import StressFixture
import Testing
import TestKit

@Suite("State directory")
struct StateDirectoryTests {
    @Test("model names: 1-64 of [A-Za-z0-9._-], not starting with '.'", arguments: [
        ("a", true), ("Model_1.v2-final", true), (String(repeating: "x", count: 64), true), ("0", true),
        ("", false), (".hidden", false), ("..", false), ("a/b", false), ("a b", false), ("é", false),
        (String(repeating: "x", count: 65), false), ("CURRENT\n", false), ("-", true),
    ])
    func names(name: String, valid: Bool) {
        #expect(((try? ModelName(name)) != nil) == valid, "\(name)")
        #expect((ModelName.problem(with: name) == nil) == valid)
    }

    @Test("version file names are canonical and zero-padded")
    func versionFileNames() {
        #expect(StateDirectory.fileName(version: 1) == "00000001.axon")
        #expect(StateDirectory.fileName(version: 123_456_789) == "123456789.axon")
        #expect(StateDirectory.version(fromFileName: "00000042.axon") == 42)
        #expect(StateDirectory.version(fromFileName: "123456789.axon") == 123_456_789)
        for bad in ["42.axon", "000000042.axon", "00000000.axon", "0000004a.axon", "00000042.axo", "x00000042.axon",
            "+0000042.axon", "99999999999999999999999.axon"] {
            #expect(StateDirectory.version(fromFileName: bad) == nil, "\(bad)")
        }
    }

    @Test("commits number versions, move CURRENT and load back exactly")
    func commitAndLoad() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("iris")
        for seq in 1...3 {
            #expect(try state.commit(stressCheckpoint(model: "iris", seq: UInt64(seq), floats: 10), to: model) == UInt64(seq))
        }
        #expect(try state.versions(of: model) == [1, 2, 3])
        #expect(try state.currentMarker(of: model) == 3)
        #expect(try state.load(model, version: 2) == stressCheckpoint(model: "iris", seq: 2, floats: 10))
        #expect(try state.modelNames() == [model])
        #expect(throws: StorageError.versionNotFound(model: "iris", version: 9)) { try state.load(model, version: 9) }
        #expect(throws: StorageError.modelNotFound("nope")) { try state.versions(of: ModelName("nope")) }
        let invalid = CheckpointFile(metadata: [], tensors: [Tensor(name: "w", shape: [2], values: [1])])
        #expect(throws: StorageError.invalidCheckpoint(.shapeMismatch(tensor: "w", shape: [2], values: 1))) {
            try state.commit(invalid, to: model)
        }
        #expect(try state.versions(of: model) == [1, 2, 3])
    }

    @Test("retention keeps the newest K and always the current version")
    func retention() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path, retention: 5)
        let model = try ModelName("m")
        for seq in 1...8 { try state.commit(stressCheckpoint(model: "m", seq: UInt64(seq), floats: 4), to: model) }
        #expect(try state.prune(model) == [1, 2, 3])
        #expect(try state.versions(of: model) == [4, 5, 6, 7, 8])

        try state.setCurrent(model, version: 4)
        #expect(try state.prune(model, keep: 2) == [5, 6])
        #expect(try state.versions(of: model) == [4, 7, 8])
        #expect(try state.currentVersion(of: model) == 4)
        #expect(try state.prune(model, keep: 2) == [])
    }

    @Test("rollback sets CURRENT to any retained intact version, and refuses others")
    func rollback() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("m")
        for seq in 1...3 { try state.commit(stressCheckpoint(model: "m", seq: UInt64(seq), floats: 4), to: model) }
        try state.setCurrent(model, version: 1)
        #expect(try state.currentVersion(of: model) == 1)
        #expect(state.scan().models.first?.version == 1)
        // The next commit continues after the highest number ever used, not after the current one.
        #expect(try state.commit(stressCheckpoint(model: "m", seq: 4, floats: 4), to: model) == 4)

        #expect(throws: StorageError.versionNotFound(model: "m", version: 7)) { try state.setCurrent(model, version: 7) }
        #expect(throws: StorageError.modelNotFound("other")) { try state.setCurrent(ModelName("other"), version: 1) }
        try writeFile(state.path(of: model, version: 2), [1, 2, 3])
        #expect(throws: StorageError.corrupt(path: state.path(of: model, version: 2), .badMagic(found: [1, 2, 3]))) {
            try state.setCurrent(model, version: 2)
        }
        #expect(try state.currentVersion(of: model) == 4)
    }

    @Test("delete removes the model and every version; a second delete reports not found")
    func delete() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let keep = try ModelName("keep")
        let gone = try ModelName("gone")
        for seq in 1...3 { try state.commit(stressCheckpoint(model: "gone", seq: UInt64(seq), floats: 4), to: gone) }
        try state.commit(stressCheckpoint(model: "keep", seq: 1, floats: 4), to: keep)
        try state.delete(gone)
        #expect(listDirectory(state.modelsPath) == ["keep"])
        #expect(try state.modelNames() == [keep])
        #expect(throws: StorageError.modelNotFound("gone")) { try state.delete(gone) }
        #expect(state.scan().models.map(\.name) == [keep])
    }

    @Test("quarantine moves the file with a reason beside it")
    func quarantine() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("q")
        try state.commit(stressCheckpoint(model: "q", seq: 1, floats: 4), to: model)
        let original = try readFile(state.path(of: model, version: 1))
        let destination = try state.quarantine(model, version: 1, reason: "test reason")
        #expect(destination.hasPrefix("\(state.quarantinePath)/q-00000001-"))
        #expect(try readFile(destination) == original)
        let reasonPath = String(destination.dropLast(5)) + ".reason"
        let reason = String(decoding: try readFile(reasonPath), as: UTF8.self)
        #expect(reason == "model: q\nversion: 1\nreason: test reason\n")
        #expect(try state.versions(of: model) == [])
        #expect(throws: StorageError.versionNotFound(model: "q", version: 1)) {
            try state.quarantine(model, version: 1, reason: "again")
        }
    }

    @Test("scan quarantines a truncated current version and serves the previous one")
    func scanFallsBack() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("m")
        for seq in 1...3 { try state.commit(stressCheckpoint(model: "m", seq: UInt64(seq), floats: 50), to: model) }
        let third = try readFile(state.path(of: model, version: 3))
        try writeFile(state.path(of: model, version: 3), Array(third.prefix(200)))
        var second = try readFile(state.path(of: model, version: 2))
        second[150] ^= 0x10
        try writeFile(state.path(of: model, version: 2), second)

        let scan = state.scan()
        let loaded = try #require(scan.models.first)
        #expect(loaded.version == 1)
        #expect(loaded.versions == [1])
        #expect(loaded.checkpoint == stressCheckpoint(model: "m", seq: 1, floats: 50))
        let corrupt = scan.problems.compactMap { problem -> CheckpointError? in
            if case .corrupt(let error, let destination) = problem.kind, destination != nil { return error }
            return nil
        }
        #expect(corrupt.count == 2)
        #expect(corrupt.first == .truncated(expected: UInt64(third.count), got: 200))
        if case .checksumMismatch = corrupt.last {} else { Issue.record("expected a checksum mismatch, got \(corrupt)") }
        #expect(scan.problems.contains { $0.kind == .fellBack(from: 3, to: 1) })
        #expect(listDirectory(state.quarantinePath).count == 4)  // two files, two reasons
        #expect(try state.currentMarker(of: model) == 1)  // repaired

        let again = state.scan()
        #expect(again.problems.isEmpty)
        #expect(again.models.first?.version == 1)
    }

    @Test("scan reports stray entries, bad markers and models with nothing loadable; clears old leftovers")
    func scanProblems() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        try state.prepare()
        let good = try ModelName("good")
        try state.commit(stressCheckpoint(model: "good", seq: 1, floats: 4), to: good)
        try state.commit(stressCheckpoint(model: "good", seq: 2, floats: 4), to: good)
        try writeFile("\(state.path(of: good))/CURRENT", Array("two\n".utf8))
        try writeFile("\(state.path(of: good))/notes.txt", [1])
        try writeFile("\(state.path(of: good))/.00000003.axon.tmp-abc", [1])
        mkdir("\(state.modelsPath)/.hidden", 0o755)
        mkdir("\(state.modelsPath)/bad name", 0o755)
        mkdir("\(state.modelsPath)/.trash-old-1", 0o755)
        mkdir("\(state.modelsPath)/empty", 0o755)
        mkdir("\(state.modelsPath)/broken", 0o755)
        try writeFile("\(state.modelsPath)/broken/00000001.axon", Array("garbage".utf8))

        let fresh = state.scan()
        #expect(fresh.models.map(\.name.rawValue) == ["good"])
        #expect(fresh.models.first?.version == 2)  // highest intact version, marker unreadable
        let kinds = fresh.problems.map(\.kind)
        #expect(kinds.contains(.invalidCurrentMarker(contents: "two\n")))
        #expect(kinds.contains(.unexpectedEntry))
        #expect(kinds.contains(.noLoadableVersion))
        #expect(fresh.problems.filter { $0.kind == .invalidModelName(reason: "must not start with '.'") }.count == 1)
        #expect(fresh.problems.contains { $0.path.hasSuffix("bad name") })
        #expect(!kinds.contains(.removedLeftover))  // too young to be stale
        #expect(try state.currentMarker(of: good) == 2)  // unreadable marker rewritten at startup
        #expect(fresh.problems.contains { if case .corrupt(.badMagic, _) = $0.kind { true } else { false } })

        let sweep = state.scan(options: ScanOptions(removeLeftoversOlderThan: 0))
        #expect(sweep.problems.filter { $0.kind == .removedLeftover }.count == 2)
        #expect(!listDirectory(state.modelsPath).contains(".trash-old-1"))
        #expect(!listDirectory(state.path(of: good)).contains(".00000003.axon.tmp-abc"))
    }

    @Test("files beyond lowered limits are skipped and left in place, not quarantined")
    func limitsLowered() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("m")
        try state.commit(stressCheckpoint(model: "m", seq: 1, floats: 8), to: model)
        try state.commit(stressCheckpoint(model: "m", seq: 2, floats: 1000), to: model)
        let strict = StateDirectory(root: directory.path, limits: CheckpointLimits(maxElements: 100))
        let scan = strict.scan()
        #expect(scan.models.first?.version == 1)
        #expect(scan.problems.contains { problem in
            if case .unreadable(.corrupt(_, .limitExceeded(field: .elements, limit: 100, value: 1000))) = problem.kind { true } else { false }
        })
        #expect(try state.versions(of: model) == [1, 2])
        #expect(try state.currentMarker(of: model) == 2)  // not repaired: version 2 is intact
        #expect(listDirectory(state.quarantinePath).isEmpty)

        let tiny = StateDirectory(root: directory.path, limits: CheckpointLimits(maxFileBytes: 100))
        let none = tiny.scan()
        #expect(none.models.isEmpty)
        #expect(none.problems.contains { if case .unreadable(.fileTooLarge) = $0.kind { true } else { false } })
        #expect(try state.versions(of: model) == [1, 2])
    }

    @Test("verifyAllVersions quarantines damaged older versions too")
    func verifyAll() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("m")
        for seq in 1...3 { try state.commit(stressCheckpoint(model: "m", seq: UInt64(seq), floats: 8), to: model) }
        try writeFile(state.path(of: model, version: 1), [0x41])
        #expect(state.scan().problems.isEmpty)  // only the serving version is verified by default
        let full = state.scan(options: ScanOptions(verifyAllVersions: true))
        #expect(full.models.first?.versions == [2, 3])
        #expect(full.problems.count == 1)
        #expect(try state.versions(of: model) == [2, 3])
    }
}

@Suite("State directory under concurrency")
struct ConcurrencyTests {
    @Test("threads committing to one model never overwrite each other's versions")
    func concurrentCommits() async throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("shared")
        let outcomes = await withTaskGroup(of: [(seq: UInt64, result: Result<UInt64, StorageError>)].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    (0..<10).map { index in
                        let seq = UInt64(worker * 100 + index)
                        let result = Result { () throws(StorageError) in
                            try state.commit(stressCheckpoint(model: "shared", seq: seq, floats: 64), to: model)
                        }
                        return (seq, result)
                    }
                }
            }
            var all: [(seq: UInt64, result: Result<UInt64, StorageError>)] = []
            for await outcomes in group { all += outcomes }
            return all
        }
        var versions: [UInt64: UInt64] = [:]
        for outcome in outcomes {
            switch outcome.result {
            case .success(let version):
                #expect(versions[version] == nil, "version \(version) handed out twice")
                versions[version] = outcome.seq
            case .failure(let error):
                // The only acceptable failure: another thread won the race for that number.
                if case .versionExists = error {} else { Issue.record("commit failed: \(error)") }
            }
        }
        #expect(!versions.isEmpty)
        for (version, seq) in versions {
            #expect(try state.load(model, version: version) == stressCheckpoint(model: "shared", seq: seq, floats: 64))
        }
        #expect(listDirectory(state.path(of: model)).filter(DurableFile.isTemporaryName).isEmpty)
    }

    @Test("rescans running during commits only ever see complete versions")
    func rescanDuringCommits() async throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("busy")
        try state.commit(stressCheckpoint(model: "busy", seq: 0, floats: 4096), to: model)
        let reader = Task.detached { () -> (problems: [ScanProblem], versions: [UInt64]) in
            var snapshot = StateSnapshot()
            var problems: [ScanProblem] = []
            var seen: [UInt64] = []
            for _ in 0..<200 {
                let update = state.rescan(since: snapshot, options: ScanOptions(quarantineCorrupt: false, repairCurrentMarker: false, removeLeftoversOlderThan: nil))
                problems += update.problems
                for change in update.changes {
                    if case .added(let loaded) = change { seen.append(loaded.version) }
                    if case .updated(let loaded, _) = change { seen.append(loaded.version) }
                }
                snapshot = update.snapshot
            }
            return (problems, seen)
        }
        for seq in 1...30 {
            try state.commit(stressCheckpoint(model: "busy", seq: UInt64(seq), floats: 4096), to: model)
        }
        let observed = await reader.value
        #expect(observed.problems.isEmpty, "\(observed.problems)")
        #expect(observed.versions == observed.versions.sorted())  // never goes backwards
    }
}

@Suite("Watch mode")
struct WatchTests {
    @Test("rescan picks up versions written by another process, rollbacks and deletions")
    func watch() async throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let alpha = try ModelName("alpha")
        try state.commit(stressCheckpoint(model: "alpha", seq: 1, floats: 16), to: alpha)
        let initial = state.scan()
        #expect(initial.snapshot.models[alpha]?.version == 1)

        // Unchanged directory: nothing to report, nothing decoded.
        let quiet = state.rescan(since: initial.snapshot)
        #expect(quiet.changes.isEmpty)
        #expect(quiet.snapshot == initial.snapshot)

        // A second process commits a new version of alpha and a new model beta.
        for (model, seq) in [("alpha", "2"), ("beta", "1")] {
            let child = try stressChild(["commit", directory.path, model, seq, "16"])
            let (lines, status) = try await onThread { (try child.remainingLines(), try child.wait()) }
            #expect(lines.count == 1)
            #expect(status == 0)
        }
        // A half-written temporary must be ignored.
        try writeFile("\(state.path(of: alpha))/.00000003.axon.tmp-123", [1, 2, 3])

        let update = state.rescan(since: quiet.snapshot)
        #expect(update.problems.isEmpty)
        #expect(update.changes.count == 2)
        guard update.changes.count == 2 else { return }
        if case .updated(let model, let previous) = update.changes[0] {
            #expect(model.name == alpha && model.version == 2 && previous == 1)
            #expect(model.checkpoint == stressCheckpoint(model: "alpha", seq: 2, floats: 16))
        } else {
            Issue.record("expected alpha updated, got \(update.changes[0])")
        }
        if case .added(let model) = update.changes[1] {
            #expect(model.name.rawValue == "beta" && model.version == 1)
        } else {
            Issue.record("expected beta added, got \(update.changes[1])")
        }

        try state.setCurrent(alpha, version: 1)
        let rolledBack = state.rescan(since: update.snapshot)
        #expect(rolledBack.changes.count == 1)
        if case .updated(let model, 2) = rolledBack.changes.first {
            #expect(model.version == 1)
        } else {
            Issue.record("expected rollback to 1, got \(rolledBack.changes)")
        }

        try state.delete(alpha)
        let deleted = state.rescan(since: rolledBack.snapshot)
        #expect(deleted.changes.count == 1)
        if case .removed(let name, 1) = deleted.changes.first {
            #expect(name == alpha)
        } else {
            Issue.record("expected alpha removed, got \(deleted.changes)")
        }
        #expect(deleted.snapshot.models.keys.map(\.rawValue) == ["beta"])
    }

    @Test("a corrupt new version in watch mode keeps the served version")
    func corruptNewVersion() throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("m")
        try state.commit(stressCheckpoint(model: "m", seq: 1, floats: 16), to: model)
        let initial = state.scan()
        try writeFile(state.path(of: model, version: 2), Array("torn".utf8))
        try writeFile("\(state.path(of: model))/CURRENT", Array("2\n".utf8))
        let update = state.rescan(since: initial.snapshot)
        #expect(update.changes.isEmpty)
        #expect(update.snapshot == initial.snapshot)
        // Reported once, as corrupt and quarantined; the still-served version 1 is unchanged.
        #expect(update.problems.count == 1)
        #expect(update.problems.contains { if case .corrupt(.badMagic, .some) = $0.kind { true } else { false } })
        #expect(state.rescan(since: update.snapshot).problems.isEmpty)
        #expect(try state.currentMarker(of: model) == 2)  // watch mode does not rewrite the marker
    }
}
