import AxonServer
import Checkpoint
import Foundation
import ModelKit
import Testing

@Suite("ModelStore")
struct StoreTests {
    @Test("install persists first, then serves the new version")
    func installServes() async throws {
        let directory = try StoreTemporaryDirectory()
        let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        await store.load()
        #expect(store.current("iris") == nil)
        let first = try await store.install(name: "iris", model: StoreFixtures.model(seed: 1), metadata: StoreFixtures.metadata())
        #expect(first.version == 1)
        #expect(store.current("iris")?.version == 1)
        let second = try await store.install(
            name: "iris", model: StoreFixtures.model(seed: 2), metadata: StoreFixtures.metadata(parent: 1))
        #expect(second.version == 2)
        #expect(store.current("iris") === second)
        #expect(store.current("iris")?.parentVersion == 1)
        let disk = StateDirectory(root: directory.path)
        #expect(try disk.currentMarker(of: ModelName("iris")) == 2)
        #expect(try disk.versions(of: ModelName("iris")) == [1, 2])
        #expect(store.list().map(\.name) == ["iris"])
    }

    @Test("a new store on the same directory predicts bit for bit the same")
    func restartIsBitIdentical() async throws {
        let directory = try StoreTemporaryDirectory()
        let (model, state, training) = try StoreFixtures.trained()
        let metadata = StoreFixtures.metadata(training: training)
        let rows = try StoreFixtures.rows(50, seed: 99)
        do {
            let store = ModelStore(stateDirectory: directory.path, logger: quietLogger)
            await store.load()
            try await store.install(name: "digits", model: model, metadata: metadata, optimizerState: state)
        }
        let restarted = ModelStore(stateDirectory: directory.path, logger: quietLogger)
        let report = await restarted.load()
        #expect(report.models == 1)
        let loaded = try #require(restarted.current("digits"))
        #expect(loaded.version == 1)
        #expect(loaded.model == model)
        #expect(loaded.metadata == metadata)
        #expect(loaded.hasOptimizerState)
        #expect(try StoreFixtures.predictionBits(loaded.model, rows) == StoreFixtures.predictionBits(model, rows))
        #expect(try await restarted.optimizerState(name: "digits", version: 1) == state)
    }
}
