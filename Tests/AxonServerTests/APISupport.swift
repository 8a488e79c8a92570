import AxonServer
import Checkpoint
import Foundation
import TestKit
import Testing

/// The repository root (for `examples/` and `openapi.json`).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Reads a file shipped in the repository.
func repositoryFile(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: repositoryRoot.appendingPathComponent(path)))
}

/// A daemon over `stateDirectory` whose store has loaded and whose job records are restored
/// (as `Daemon.run` does), with its router. `daemon.jobs.close()` hands the records on.
func loadedDaemon(stateDirectory: String, configure: (inout DaemonConfiguration) -> Void = { _ in }) async -> Daemon {
    var configuration = DaemonConfiguration()
    configuration.stateDirectory = stateDirectory
    configure(&configuration)
    let daemon = Daemon(configuration: configuration, logger: quietLogger)
    await daemon.store.load()
    daemon.jobs.restore(stateDirectory: stateDirectory)
    return daemon
}

/// Runs `body` with a daemon over a fresh temporary state directory, set up by `configure` and
/// then `prepare`, and the port of its live server (127.0.0.1:0); its jobs close afterwards.
func withFreshDaemon<T>(
    configure: (inout DaemonConfiguration) -> Void = { _ in }, prepare: (Daemon) async throws -> Void = { _ in },
    _ body: (Daemon, Int) async throws -> T
) async throws -> T {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let daemon = await loadedDaemon(stateDirectory: directory.path, configure: configure)
    defer { daemon.jobs.close() }
    try await prepare(daemon)
    return try await withAPIServer(daemon) { port in try await body(daemon, port) }
}

/// `withFreshDaemon` for a body that needs only the port.
func withFreshDaemon<T>(
    configure: (inout DaemonConfiguration) -> Void = { _ in }, prepare: (Daemon) async throws -> Void = { _ in },
    _ body: (Int) async throws -> T
) async throws -> T {
    try await withFreshDaemon(configure: configure, prepare: prepare) { _, port in try await body(port) }
}

/// Runs `body` against a live daemon (temporary state directory, 127.0.0.1:0) that serves one
/// stored 4 -> 8 -> 3 classifier named "m" (`StoreFixtures.model(seed: 5)`).
func withStoredClassifier(_ body: (Int) async throws -> Void) async throws {
    try await withFreshDaemon(prepare: { daemon in
        try await daemon.store.install(name: "m", model: StoreFixtures.model(seed: 5), metadata: ModelMetadata())
    }, body)
}

/// Runs `body` against a live server for `daemon` on 127.0.0.1:0 with an 8 MiB body limit.
func withAPIServer<T>(_ daemon: Daemon, _ body: (Int) async throws -> T) async throws -> T {
    try await withServer(router: daemon.makeRouter(), configuration: testConfiguration(maxBodyBytes: 8 << 20)) { _, port in
        try await body(port)
    }
}

/// One request on a fresh connection, off the cooperative pool.
func call(
    _ port: Int, _ method: String, _ path: String, json: String? = nil, body: [UInt8]? = nil, contentType: String? = nil
) async throws -> TestResponse {
    let bytes = json.map { Array($0.utf8) } ?? body
    var headers: [(String, String)] = []
    if let type = contentType ?? (json != nil ? "application/json" : nil) { headers.append(("Content-Type", type)) }
    let sent = headers
    return try await onThread { try TestConnection(port: port).request(method, path, headers: sent, body: bytes) }
}

extension TestResponse {
    /// The body as a JSON object (empty when it is not one).
    var object: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:]
    }
}

/// A minimal JSON Schema check against `openapi.json`: types, required keys, items and
/// `$ref`s. Enough to catch a response that drifted from the published contract.
struct OpenAPIContract {
    let document: [String: Any]

    init() throws {
        let data = Data(try repositoryFile("openapi.json"))
        document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Problems of `response` against the spec for `method` `template` (empty when it conforms).
    func problems(_ response: TestResponse, method: String, template: String) -> [String] {
        guard let paths = document["paths"] as? [String: Any], let item = paths[template] as? [String: Any] else {
            return ["no path \(template) in openapi.yaml"]
        }
        guard let operation = item[method.lowercased()] as? [String: Any], let responses = operation["responses"] as? [String: Any] else {
            return ["no \(method) \(template) in openapi.yaml"]
        }
        guard var answer = responses[String(response.status)] as? [String: Any] ?? responses["default"] as? [String: Any] else {
            return ["status \(response.status) of \(method) \(template) is not documented"]
        }
        answer = resolve(answer)
        guard let content = answer["content"] as? [String: Any], let media = content["application/json"] as? [String: Any],
            let schema = media["schema"] as? [String: Any]
        else { return ["\(method) \(template) \(response.status) has no application/json schema"] }
        guard let value = try? JSONSerialization.jsonObject(with: Data(response.body), options: [.fragmentsAllowed]) else {
            return ["body is not JSON"]
        }
        var found: [String] = []
        check(value, against: schema, at: "$", problems: &found)
        return found
    }

    private func resolve(_ schema: [String: Any]) -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        var node: Any = document
        for part in reference.dropFirst(2).split(separator: "/") {
            node = (node as? [String: Any])?[String(part)] ?? [:]
        }
        return resolve(node as? [String: Any] ?? [:])
    }

    private func check(_ value: Any, against raw: [String: Any], at path: String, problems: inout [String]) {
        let schema = resolve(raw)
        if let options = schema["oneOf"] as? [[String: Any]] ?? schema["anyOf"] as? [[String: Any]] {
            for option in options {
                var trial: [String] = []
                check(value, against: option, at: path, problems: &trial)
                if trial.isEmpty { return }
            }
            problems.append("\(path) matches none of the alternatives")
            return
        }
        let types: [String] = (schema["type"] as? [String]) ?? (schema["type"] as? String).map { [$0] } ?? []
        if !types.isEmpty, !types.contains(where: { matches(value, $0) }) {
            problems.append("\(path) is not \(types.joined(separator: " or ")): \(value)")
            return
        }
        if let object = value as? [String: Any] {
            for key in schema["required"] as? [String] ?? [] where object[key] == nil {
                problems.append("\(path).\(key) is required but missing")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, child) in object {
                if let property = properties[key] as? [String: Any] {
                    check(child, against: property, at: "\(path).\(key)", problems: &problems)
                } else if let extra = schema["additionalProperties"] as? [String: Any] {
                    check(child, against: extra, at: "\(path).\(key)", problems: &problems)
                } else if schema["additionalProperties"] as? Bool == false {
                    problems.append("\(path).\(key) is not in the schema")
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] as? [String: Any] {
            for (k, element) in array.enumerated() { check(element, against: items, at: "\(path)[\(k)]", problems: &problems) }
        }
    }

    /// Booleans and numbers both bridge to NSNumber here, so they are not told apart.
    private func matches(_ value: Any, _ type: String) -> Bool {
        switch type {
        case "object": return value is [String: Any]
        case "array": return value is [Any]
        case "string": return value is String
        case "null": return value is NSNull
        case "boolean": return value is Bool
        case "integer":
            guard let number = value as? NSNumber else { return false }
            return number.doubleValue.rounded() == number.doubleValue
        case "number": return value is NSNumber
        default: return true
        }
    }
}

/// Expects the error envelope: `status`, `code`, and a message containing each of `mentions`.
func expectError(_ response: TestResponse, _ status: Int, _ code: String, mentions: [String] = []) {
    #expect(response.status == status, "\(response.text)")
    #expect(response.envelope?.code == code, "\(response.text)")
    for text in mentions { #expect(response.envelope?.message.contains(text) == true, "\(response.text) lacks \(text)") }
}
