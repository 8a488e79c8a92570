import AxonStore
import AxonServer
import Checkpoint
import Foundation
import TestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `read_only`: a state directory mounted read-only (KServe's /mnt/models) serves what it
/// holds, every write route answers 405 `read_only`, and nothing in the directory changes.
@Suite("Read-only serving")
struct ReadOnlyTests {
    static let row = #"{"instances": [[0.5, -1.0, 2.0, 0.25]]}"#

    /// A state directory with what a writable start-up would change: model "m" (versions 1
    /// and 2, version 1 corrupt: reading it would quarantine it), model "fallback" whose
    /// CURRENT names a version that is gone (a writable start-up rewrites it), and stale
    /// temporaries and trash (a writable start-up removes them).
    static func populate(_ path: String) async throws {
        let writer = ModelStore(stateDirectory: path, logger: quietLogger)
        await writer.load()
        try await writer.install(name: "m", model: StoreFixtures.model(seed: 1), metadata: ModelMetadata())
        try await writer.install(name: "m", model: StoreFixtures.model(seed: 2), metadata: ModelMetadata())
        try await writer.install(name: "fallback", model: StoreFixtures.model(seed: 3), metadata: ModelMetadata())
        let models = "\(path)/models"
        let first = "\(models)/m/\(StateDirectory.fileName(version: 1))"
        var bytes = try Array(Data(contentsOf: URL(fileURLWithPath: first)))
        bytes[bytes.count / 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: first))
        try Data("9\n".utf8).write(to: URL(fileURLWithPath: "\(models)/fallback/CURRENT"))
        let temporary = "\(models)/m/.00000003.axon\(DurableFile.temporaryMarker)x1"
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: temporary))
        let trash = "\(models)/\(StateDirectory.trashPrefix)gone-1"
        try FileManager.default.createDirectory(atPath: trash, withIntermediateDirectories: true)
        // An hour old: past the age at which a writable start-up removes leftovers.
        for old in [temporary, trash] {
            var times = [timespec(tv_sec: time(nil) - 3600, tv_nsec: 0), timespec(tv_sec: time(nil) - 3600, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, old, &times, 0) == 0)
        }
    }

    /// Every entry under `path` with its inode, size, mode and modification time: equal
    /// fingerprints mean nothing was created, removed, renamed or written.
    static func fingerprint(_ path: String) throws -> [String: String] {
        var entries: [String: String] = [:]
        let enumerator = try #require(FileManager.default.enumerator(atPath: path))
        for case let relative as String in enumerator {
            entries[relative] = try stamp("\(path)/\(relative)")
        }
        entries["."] = try stamp(path)
        return entries
    }

    private static func stamp(_ path: String) throws -> String {
        var info = stat()
        guard lstat(path, &info) == 0 else { throw TestFailure("lstat \(path): errno \(errno)") }
        return "ino=\(info.st_ino) size=\(info.st_size) mode=\(info.st_mode) mtime=\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
    }

    @Test("serves what it finds, refuses every write with 405 read_only, and changes nothing in the directory")
    func servesAndRefusesWithoutWriting() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await Self.populate(directory.path)
        let expected = try await {
            let writer = ModelStore(stateDirectory: directory.path, logger: quietLogger, readOnly: true)
            await writer.load()
            return try #require(writer.current("m")).model
        }()
        let before = try Self.fingerprint(directory.path)

        // As `Daemon.run` starts in read-only mode: the store loads, no job journal opens.
        var configuration = DaemonConfiguration()
        configuration.stateDirectory = directory.path
        configuration.readOnly = true
        let daemon = Daemon(configuration: configuration, logger: quietLogger)
        await daemon.store.load()
        #expect(daemon.store.isReadOnly)
        #expect(daemon.store.current("m")?.version == 2)
        // Served from its only intact version; CURRENT still names the missing one on disk.
        #expect(daemon.store.current("fallback")?.version == 1)
        try await withAPIServer(daemon) { port in
            daemon.readiness.markReady()
            #expect(try await call(port, "GET", "/readyz").status == 200)
            #expect(try await call(port, "GET", "/v2/health/ready").status == 200)
            let predicted = try await call(port, "POST", "/v1/models/m:predict", json: Self.row)
            #expect(predicted.status == 200, "\(predicted.text)")
            let scores = try #require((predicted.object["predictions"] as? [[Double]])?.first)
            let reference = try expected.predict(row: [0.5, -1.0, 2.0, 0.25])
            #expect(scores.map(Float.init) == reference, "\(scores) vs \(reference)")
            #expect(try await call(port, "POST", "/v1/models/fallback:predict", json: Self.row).status == 200)
            // Reading the corrupt version: refused, and (unlike a writable store) not quarantined.
            let corrupt = try await call(port, "POST", "/v1/models/m/versions/1:predict", json: Self.row)
            expectError(corrupt, 409, "version_unreadable")
            #expect(try await call(port, "GET", "/models").status == 200)
            #expect(try await call(port, "GET", "/models/m/versions").status == 200)
            #expect(try await call(port, "GET", "/jobs").object["jobs"] as? [Any] != nil)
            #expect(try await call(port, "GET", "/metrics").status == 200)

            // Paths that serve nothing else carry no Allow (libmicrohttpd sends no empty field).
            let writes: [(String, String, String, String?, String?)] = [
                ("POST", "/train", "/train", JobWaitTests.short, nil),
                ("POST", "/train?wait=true", "/train", JobWaitTests.short, nil),
                ("POST", "/models/m/train", "/models/{name}/train", #"{"epochs": 1}"#, nil),
                ("POST", "/models/m/rollback", "/models/{name}/rollback", #"{"version": 1}"#, nil),
                ("DELETE", "/models/m", "/models/{name}", nil, "GET, HEAD"),
                ("DELETE", "/jobs/nope", "/jobs/{id}", nil, "GET, HEAD"),
            ]
            let contract = try OpenAPIContract()
            for (method, path, template, json, allow) in writes {
                let refused = try await call(port, method, path, json: json)
                expectError(refused, 405, "read_only", mentions: ["\(method) \(path.prefix { $0 != "?" })", "read-only", "read_only"])
                #expect(refused.header("Allow") == allow, "\(method) \(path): \(refused.headers)")
                #expect(contract.problems(refused, method: method, template: template) == [], "\(method) \(template)")
            }
            // Still serving, same version.
            #expect(try await call(port, "POST", "/v1/models/m:predict", json: Self.row).status == 200)
            #expect(daemon.store.current("m")?.version == 2)
        }
        // The store refuses on its own too (a write that would reach it some other way).
        await #expect(throws: StoreError.readOnly(operation: "deleting model \"m\"")) { try await daemon.store.delete(name: "m") }
        await #expect(throws: StoreError.self) {
            try await daemon.store.install(name: "n", model: StoreFixtures.model(seed: 4), metadata: ModelMetadata())
        }
        await #expect(throws: StoreError.self) { try await daemon.store.rollback(name: "m", to: 1) }
        // A watch rescan changes nothing either.
        await daemon.store.refresh()
        daemon.jobs.close()

        #expect(try Self.fingerprint(directory.path) == before)
        // The same directory opened writable would have changed: the fixture does exercise
        // every repair the read-only store skips.
        let writable = await loadedStore(directory)
        _ = try? await writable.model(name: "m", version: 1)
        #expect(try Self.fingerprint(directory.path) != before)
    }

    @Test("read_only needs an existing state directory: it is never created")
    func readOnlyNeedsExistingDirectory() throws {
        #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.load(
                file: nil, environment: ["AXON_READ_ONLY": "true", "AXON_STATE_DIR": "/nonexistent/axon-state"])
        }
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let configuration = try ConfigurationLoader.load(
            file: nil, environment: [:],
            overrides: [
                ConfigurationOverride(key: "read_only", value: "true", source: "flag --read-only"),
                ConfigurationOverride(key: "state_dir", value: directory.path, source: "flag --state-dir"),
            ])
        #expect(configuration.readOnly)
    }

    /// The real axond on a state directory that the kernel mounts read-only: a private mount
    /// namespace (`unshare -m`) bind-mounts it over itself and remounts that read-only, checks
    /// that a write there fails, then runs axond in it. Root only (tests run as root here and
    /// in CI; mount namespaces need CAP_SYS_ADMIN); the test above covers other users.
    @Test("the real axond on a read-only bind mount serves, refuses training and exits 0 on SIGTERM", .enabled(if: geteuid() == 0))
    func realDaemonOnReadOnlyMount() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await Self.populate(directory.path)
        let before = try Self.fingerprint(directory.path)
        let axond = try Subprocess.builtProduct("axond")
        let script = """
            set -e
            mount --bind "$1" "$1"
            mount -o remount,bind,ro "$1"
            if touch "$1/probe" 2>/dev/null; then echo "state directory is writable"; exit 97; fi
            shift
            exec "$@"
            """
        let process = try Subprocess(
            "unshare",
            ["--mount", "--propagation", "private", "sh", "-c", script, "sh", directory.path, axond, "serve", "--read-only",
             "--port", "0", "--state-dir", directory.path, "--log-level", "notice", "--no-access-log"])
        var output = ""
        var port: Int?
        for _ in 0 ..< 100 where port == nil {
            output += try await onThread { try process.readSome() }
            if let range = output.range(of: #"http\.address=127\.0\.0\.1:[0-9]+"#, options: .regularExpression) {
                port = Int(output[range].split(separator: ":").last ?? "")
            }
            if output.contains("writable") || output.contains("mount:") { break }
        }
        let serving = try #require(port, "axond did not report its address: \(output)")
        var ready = false
        for _ in 0 ..< 1000 where !ready {
            ready = (try? await call(serving, "GET", "/readyz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(ready)
        #expect(try await call(serving, "POST", "/v1/models/m:predict", json: Self.row).status == 200)
        #expect(try await call(serving, "POST", "/v2/models/fallback/infer", json: #"{"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}"#).status == 200)
        expectError(try await call(serving, "POST", "/train?wait=true", json: JobWaitTests.short), 405, "read_only")
        expectError(try await call(serving, "DELETE", "/models/m"), 405, "read_only")
        process.kill(SIGTERM)
        #expect(try await onThread { try process.wait() } == 0)
        #expect(try Self.fingerprint(directory.path) == before)
    }
}
