@testable import AxonStore
import Checkpoint
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// Management routes beyond the walkthrough: evaluating a retained version, and
/// `limits.max_models` for models found on disk.
@Suite("Model management")
struct ManagementTests {
    static let first = #"{"model":"m","task":"regression","inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7],"epochs":5,"validation_split":0,"seed":3}"#
    static let more = #"{"inputs":[[0],[1],[2],[3]],"targets":[10,-3,50,0],"epochs":40,"validation_split":0}"#
    static let labelled = #""inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7]"#

    @Test("POST /models/{name}/evaluate evaluates a retained version on request, and names a missing one")
    func evaluateAVersion() async throws {
        let contract = try OpenAPIContract()
        try await withFreshDaemon { port in
            #expect(try await call(port, "POST", "/train?wait=true", json: Self.first).status == 200)
            let versionOne = try await call(port, "POST", "/models/m/evaluate", json: "{\(Self.labelled)}")
            #expect(versionOne.status == 200 && versionOne.object["version"] as? Int == 1, "\(versionOne.text)")
            #expect(try await call(port, "POST", "/models/m/train?wait=true", json: Self.more).status == 200)

            let current = try await call(port, "POST", "/models/m/evaluate", json: "{\(Self.labelled)}")
            #expect(current.object["version"] as? Int == 2)
            let pinned = try await call(port, "POST", "/models/m/evaluate", json: #"{"version":1,\#(Self.labelled)}"#)
            #expect(pinned.status == 200, "\(pinned.text)")
            #expect(contract.problems(pinned, method: "POST", template: "/models/{name}/evaluate").isEmpty)
            #expect(pinned.object["version"] as? Int == 1)
            // Version 1's figures, not the current version's.
            let metrics = { (response: TestResponse) in (response.object["metrics"] as? [String: Any])?["mse"] as? Double }
            #expect(metrics(pinned) != nil && metrics(pinned) == metrics(versionOne) && metrics(pinned) != metrics(current))
            let explicitCurrent = try await call(port, "POST", "/models/m/evaluate", json: #"{"version":2,\#(Self.labelled)}"#)
            #expect(metrics(explicitCurrent) == metrics(current))

            let missing = try await call(port, "POST", "/models/m/evaluate", json: #"{"version":9,\#(Self.labelled)}"#)
            #expect(missing.status == 404 && missing.envelope?.code == "version_not_found", "\(missing.text)")
            #expect(missing.envelope?.message.contains("version 9") == true)
            let zero = try await call(port, "POST", "/models/m/evaluate", json: #"{"version":0,\#(Self.labelled)}"#)
            #expect(zero.status == 400 && zero.envelope?.code == "invalid_version", "\(zero.text)")
            let text = try await call(port, "POST", "/models/m/evaluate", json: #"{"version":"1",\#(Self.labelled)}"#)
            #expect(text.status == 400, "\(text.text)")
            let unknownModel = try await call(port, "POST", "/models/nope/evaluate", json: #"{"version":1,\#(Self.labelled)}"#)
            #expect(unknownModel.status == 404 && unknownModel.envelope?.code == "model_not_found")
            // Training still refuses the key: it belongs to evaluate only.
            let trainWithVersion = try await call(port, "POST", "/models/m/train", json: #"{"version":1,\#(Self.labelled)}"#)
            #expect(trainWithVersion.status == 400 && trainWithVersion.envelope?.code == "unknown_field", "\(trainWithVersion.text)")
        }
    }

    /// Writes models `names` into `directory` through a store without a tight limit.
    func write(_ names: [String], to directory: TemporaryDirectory) async throws {
        let writer = await loadedStore(directory)
        for (k, name) in names.enumerated() {
            try await writer.install(name: name, model: StoreFixtures.model(seed: UInt64(k + 1)), metadata: StoreFixtures.metadata())
        }
    }

    @Test("at start-up the first limits.max_models models in name order serve; the rest are reported and fill freed slots")
    func maxModelsAtStartup() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await write(["d", "b", "a", "c"], to: directory)
        let log = LogCapture()
        let store = ModelStore(stateDirectory: directory.path, maxModels: 2, logger: log.logger)
        let report = await store.load()
        #expect(store.list().map(\.name) == ["a", "b"])
        #expect(report.models == 2 && report.skipped == ["c", "d"] && store.skipped == ["c", "d"])
        let warning = log.lines.first { $0.level == .warning && $0.message.contains("limits.max_models") }
        #expect(warning?.metadata["store.skipped_names"] == "c,d", "\(log.lines.map(\.message))")
        #expect(throws: StoreError.tooManyModels(limit: 2)) { try store.checkInstallable(name: "e") }
        // A skipped model is not served: predictions and rollbacks see no such model.
        #expect(store.current("c") == nil)

        // A delete frees a slot: the first skipped model takes it, from disk as it is.
        try await store.delete(name: "a")
        #expect(store.list().map(\.name) == ["b", "c"] && store.skipped == ["d"])
        #expect(store.current("c")?.version == 1)
        // Deleting a skipped model removes it from disk and from the report.
        try await store.delete(name: "d")
        #expect(store.skipped.isEmpty && store.list().map(\.name) == ["b", "c"])
        #expect(try StateDirectory(root: directory.path).modelNames().map(\.rawValue) == ["b", "c"])
    }

    @Test("GET /models lists the models that do not serve under limits.max_models")
    func maxModelsInTheListing() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        try await write(["x", "y", "z"], to: directory)
        let daemon = await loadedDaemon(stateDirectory: directory.path) { $0.limits.maxModels = 1 }
        defer { daemon.jobs.close() }
        try await withAPIServer(daemon) { port in
            let list = try await call(port, "GET", "/models")
            #expect(list.status == 200)
            #expect(try OpenAPIContract().problems(list, method: "GET", template: "/models").isEmpty)
            #expect((list.object["models"] as? [[String: Any]])?.map { $0["name"] as? String } == ["x"])
            #expect(list.object["skipped"] as? [String] == ["y", "z"])
            let predict = try await call(port, "POST", "/predict", json: #"{"model":"y","inputs":[[1,2,3,4]]}"#)
            #expect(predict.status == 404 && predict.envelope?.code == "model_not_found")
        }
    }

    @Test("watch mode skips new models beyond limits.max_models, logs each once, and fills slots freed on disk")
    func maxModelsThroughWatch() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let writer = await loadedStore(directory)
        let log = LogCapture()
        let watcher = await loadedStore(directory, maxModels: 2, logger: log.logger)
        func install(_ name: String, seed: UInt64) async throws {
            try await writer.install(name: name, model: StoreFixtures.model(seed: seed), metadata: StoreFixtures.metadata())
        }
        try await install("a", seed: 1)
        try await install("b", seed: 2)
        #expect(await watcher.refresh().added == ["a", "b"])
        try await install("c", seed: 3)
        let skipped = await watcher.refresh()
        #expect(skipped.added.isEmpty && watcher.skipped == ["c"] && watcher.current("c") == nil)
        // A new version of a skipped model keeps it skipped, without a second warning.
        try await install("c", seed: 4)
        _ = await watcher.refresh()
        #expect(watcher.skipped == ["c"] && watcher.current("c") == nil)
        let warnings = log.lines.filter { $0.level == .warning && $0.metadata["model.name"] == "c" }
        #expect(warnings.count == 1, "\(log.lines.map(\.message))")
        // A new version of a served model still swaps in.
        try await install("b", seed: 5)
        #expect(await watcher.refresh().updated == ["b"])

        // Removed on disk by another replica: the slot goes to the skipped model, at its newest version.
        try await writer.delete(name: "a")
        let filled = await watcher.refresh()
        #expect(filled.removed == ["a"] && filled.added == ["c"], "\(filled)")
        #expect(watcher.list().map(\.name) == ["b", "c"] && watcher.skipped.isEmpty)
        #expect(watcher.current("c")?.version == 2)
        // Nothing changed since: the next rescan reports nothing.
        #expect(await watcher.refresh().isEmpty)
    }
}
