#if canImport(Glibc)
import Glibc
#endif
import Checkpoint
import StressFixture
import Testing
import TestKit

@Suite("Durable writes")
struct DurableFileTests {
    @Test("write replaces atomically and leaves no temporary behind")
    func writeAndReplace() throws {
        let directory = try TemporaryDirectory()
        let path = "\(directory.path)/file.axon"
        try DurableFile.write([1, 2, 3], to: path)
        try DurableFile.write([4, 5], to: path)
        #expect(try readFile(path) == [4, 5])
        #expect(listDirectory(directory.path) == ["file.axon"])
    }

    @Test("write without replacing refuses an existing file and keeps it")
    func noReplace() throws {
        let directory = try TemporaryDirectory()
        let path = "\(directory.path)/00000001.axon"
        try DurableFile.write([1], to: path, replacing: false)
        #expect(throws: StorageError.systemCall(.link, path: path, errno: EEXIST)) {
            try DurableFile.write([2], to: path, replacing: false)
        }
        #expect(try readFile(path) == [1])
        #expect(listDirectory(directory.path) == ["00000001.axon"])
    }

    @Test("a write into a missing directory reports open, the path and ENOENT")
    func missingDirectory() throws {
        let directory = try TemporaryDirectory()
        do {
            try DurableFile.write([1], to: "\(directory.path)/missing/file.axon")
            Issue.record("write succeeded")
        } catch {
            guard case .systemCall(.open, let path, ENOENT) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(path.hasPrefix("\(directory.path)/missing/.file.axon.tmp-"))
            #expect(error.description.contains("ENOENT"))
            #expect(error.condition == .notFound)
        }
    }

    @Test("read refuses files over the limit before reading them")
    func readLimit() throws {
        let directory = try TemporaryDirectory()
        let path = "\(directory.path)/big"
        try writeFile(path, [UInt8](repeating: 7, count: 1000))
        #expect(throws: StorageError.fileTooLarge(path: path, size: 1000, limit: 999)) {
            try DurableFile.read(path, maxBytes: 999)
        }
        #expect(throws: StorageError.notRegularFile(path: directory.path)) {
            try DurableFile.read(directory.path, maxBytes: 999)
        }
        #expect(try DurableFile.read(path, maxBytes: 1000).count == 1000)
    }

    @Test("temporary names are hidden, marked and never look like committed versions")
    func temporaryNames() {
        let temporary = DurableFile.temporaryPath(for: "/state/models/m/00000003.axon")
        let name = String(temporary.split(separator: "/").last!)
        #expect(temporary.hasPrefix("/state/models/m/.00000003.axon.tmp-"))
        #expect(DurableFile.isTemporaryName(name))
        #expect(StateDirectory.version(fromFileName: name) == nil)
        #expect(!DurableFile.isTemporaryName("00000003.axon"))
    }

    /// RLIMIT_FSIZE makes the kernel fail the write with EFBIG (root ignores permission bits,
    /// so a read-only directory would not stop these tests). It runs in a child process
    /// because the limit and the ignored SIGXFSZ must not leak into the test runner.
    @Test("a write failing with EFBIG keeps the old version serving and removes the temporary")
    func fileSizeLimit() async throws {
        let directory = try TemporaryDirectory()
        let state = StateDirectory(root: directory.path)
        let model = try ModelName("limited")
        let first = try state.commit(stressCheckpoint(model: "limited", seq: 1, floats: 100), to: model)
        #expect(first == 1)
        let before = try readFile(state.path(of: model, version: 1))

        let child = try stressChild(["commit-limited", directory.path, "limited", "2", "100000", "65536"])
        let (lines, status) = try await onThread { (try child.remainingLines(), try child.wait()) }
        #expect(status == 3)
        let report = try #require(lines.first)
        #expect(report.contains("write"))
        #expect(report.contains("EFBIG"))
        #expect(report.hasSuffix("errno=\(EFBIG)"))
        #expect(StorageError.systemCall(.write, path: "x", errno: EFBIG).condition == .fileTooLarge)
        #expect(StorageError.systemCall(.fsync, path: "x", errno: ENOSPC).condition == .diskFull)
        #expect(StorageError.systemCall(.rename, path: "x", errno: EROFS).condition == .readOnly)

        #expect(listDirectory(state.path(of: model)) == ["00000001.axon", "CURRENT"])
        #expect(try readFile(state.path(of: model, version: 1)) == before)
        #expect(try state.currentVersion(of: model) == 1)
        let scan = state.scan()
        #expect(scan.problems.isEmpty)
        #expect(scan.models.map(\.version) == [1])
    }
}
