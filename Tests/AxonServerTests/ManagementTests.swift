import Checkpoint
import Foundation
import Testing

@testable import AxonServer

/// Management routes beyond the walkthrough: evaluating a retained version, and
/// `limits.max_models` for models found on disk.
@Suite("Model management")
struct ManagementTests {
    static let first = #"{"model":"m","task":"regression","inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7],"epochs":5,"validation_split":0,"seed":3}"#
    static let more = #"{"inputs":[[0],[1],[2],[3]],"targets":[10,-3,50,0],"epochs":40,"validation_split":0}"#
    static let labelled = #""inputs":[[0],[1],[2],[3]],"targets":[1,3,5,7]"#

    @Test("POST /models/{name}/evaluate evaluates a retained version on request, and names a missing one")
    func evaluateAVersion() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let daemon = await loadedDaemon(stateDirectory: directory.path)
        defer { daemon.jobs.close() }
        let contract = try OpenAPIContract()
        try await withAPIServer(daemon) { port in
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
}
