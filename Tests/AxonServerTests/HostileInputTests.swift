import AxonSupport
import Foundation
import Testing

@testable import AxonServer
import TestKit

/// The real axond, with its default limits, under an address-space limit: an unbounded
/// allocation aborts it (and fails this suite) instead of swapping the machine. Every hostile
/// request must be answered within `HostileInputTests.deadlineSeconds` by a named 4xx, or be
/// accepted and stay bounded; afterwards the daemon must be alive, answer `/healthz`, predict
/// exactly as before, and hold less than `HostileInputTests.rssBound` of memory.
@Suite("hostile input: the real axond under ulimit -v survives every request class of issue 11")
struct HostileInputTests {
    /// `ulimit -v` for the daemon: its idle address space is ~650 MiB (thread stacks, OpenBLAS
    /// buffers), and the defaults allow a 4 GiB job plus 512 MiB requests.
    static let addressSpaceKiB = 6 << 20
    /// Seconds a hostile request may take to be answered.
    static let deadlineSeconds = 2
    /// Resident memory the daemon may hold after the whole suite.
    static let rssBound = 1 << 30

    struct Case {
        var name: String
        var method = "POST"
        var path: String
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        /// Nil sends the head alone (with `headers` declaring a length when the case wants one).
        var body: [UInt8]?
        var status: Int
        var code: String
        /// Text the message must contain (usually the limit key).
        var mentions: String
    }

    /// Starts axond under `ulimit -v` through /bin/sh, with a fake systemd to learn its port.
    static func startDaemon(state: String) async throws -> (Subprocess, NotifySocket, Int) {
        let socket = try NotifySocket()
        let axond = try Subprocess.builtProduct("axond")
        let process = try Subprocess(
            "/bin/sh",
            ["-c", "ulimit -v \(addressSpaceKiB) && exec \"$0\" \"$@\"", axond, "serve", "--port", "0", "--state-dir", state,
             "--log-level", "warning", "--no-access-log"],
            environment: ["NOTIFY_SOCKET": socket.path])
        let ready = try await onThread { try socket.receive(until: "READY=1") }
        let listening = try #require(ready.joined().first { $0.hasPrefix("STATUS=listening on 127.0.0.1:") }, "\(ready)")
        return (process, socket, try #require(Int(listening.split(separator: ":").last ?? "")))
    }

    static func json(_ object: Any) throws -> [UInt8] {
        Array(try JSONSerialization.data(withJSONObject: object))
    }

    static func object(_ response: TestResponse) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
    }

    /// One request on a fresh connection, bounded by the deadline.
    static func send(_ port: Int, _ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8]?,
                     timeout: Int = deadlineSeconds) async throws -> TestResponse {
        try await onThread {
            let connection = try TestConnection(port: port, timeoutSeconds: timeout)
            return try connection.request(method, path, headers: headers, body: body)
        }
    }

    static func residentBytes(_ pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") })
        let kib = try #require(Int(line.split(separator: " ").dropFirst().first ?? ""))
        return kib * 1024
    }

    /// The request classes of issue 11, and the others found since, each with what it must get.
    static func cases(v2Model: String, wide: String) throws -> [Case] {
        let deep = String(repeating: #"{"a":"#, count: 300_000) + "1" + String(repeating: "}", count: 300_000)
        let v2 = #"{"inputs":[{"name":"input","shape":[1,1],"datatype":"FP32","data":[1]}],"parameters":{"x":"# + deep + "}}"
        let manyLayers = [1] + Array(repeating: 1024, count: 40) + [1]
        return [
            Case(name: "JSON nested 300,000 levels inside a V2 parameters object", path: "/v2/models/\(v2Model)/infer",
                 body: Array(v2.utf8), status: 413, code: "limit_exceeded", mentions: "limits.max_json_depth"),
            Case(name: "a CSV header of a million commas", path: "/train?model=commas", headers: [("Content-Type", "text/csv")],
                 body: Array((String(repeating: ",", count: 1_000_000) + "\n1,2\n").utf8), status: 413, code: "limit_exceeded",
                 mentions: "limits.max_features"),
            Case(name: "one very large class index", path: "/train",
                 body: try json(["model": "bigclass", "task": "classification", "inputs": [[0], [1]], "targets": [0, 2_000_000_000]]),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_classes"),
            Case(name: "40 hidden layers of 1024, batch_size 65536 and dropout", path: "/train",
                 body: try json(["model": "deep", "inputs": [[0], [1]], "targets": [0.5, 1.5], "layers": manyLayers,
                                 "batch_size": 65_536, "dropout": 0.5]),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_job_bytes"),
            Case(name: "a million layers", path: "/train",
                 body: Array((#"{"model":"layers","inputs":[[0],[1]],"targets":[0.5,1.5],"layers":[1"# + String(repeating: ",1", count: 1_000_000) + "]}").utf8),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_layers"),
            Case(name: "a few thousand rows through a very wide output layer", path: "/predict",
                 body: try json(["model": wide, "inputs": Array(repeating: [0.5], count: 3_000)]),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_request_bytes"),
            Case(name: "evaluate a few thousand rows on the wide model", path: "/models/\(wide)/evaluate",
                 body: try json(["inputs": Array(repeating: [0.5], count: 3_000),
                                 "targets": Array(repeating: Array(repeating: 0, count: 100_000), count: 1)]),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_request_bytes"),
            Case(name: "two rows labelled 0 and 65535", path: "/train",
                 body: try json(["model": "confusion", "task": "classification", "inputs": [[0], [1]], "targets": [0, 65_535]]),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_classes"),
            Case(name: "a number of a million digits", path: "/predict",
                 body: Array((#"{"model":"\#(v2Model)","inputs":[[1"# + String(repeating: "0", count: 1_000_000) + "]]}").utf8),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_number_bytes"),
            Case(name: "a model name of two megabytes", path: "/predict",
                 body: Array((#"{"model":""# + String(repeating: "m", count: 2_000_000) + #"","inputs":[[1]]}"#).utf8),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_string_bytes"),
            Case(name: "an out-of-range number of 250 digits (the answer quotes only an excerpt)", path: "/predict",
                 body: Array((#"{"model":"\#(v2Model)","inputs":[[1"# + String(repeating: "0", count: 249) + "]]}").utf8),
                 status: 400, code: "non_finite_number", mentions: "… (250 bytes)"),
            Case(name: "a declared body of a gigabyte, not sent", path: "/predict",
                 headers: [("Content-Type", "application/json"), ("Content-Length", "1000000000")], body: nil,
                 status: 413, code: "content_too_large", mentions: "limits.max_body_bytes"),
            Case(name: "a training body declared at ten gigabytes, not sent", path: "/train?model=huge",
                 headers: [("Content-Type", "text/csv"), ("Content-Length", "10000000000")], body: nil,
                 status: 413, code: "content_too_large", mentions: "limits.max_train_body_bytes"),
            Case(name: "a V2 binary header declaring two billion rows", path: "/v2/models/\(v2Model)/infer",
                 headers: [("Content-Type", "application/octet-stream"), ("Inference-Header-Content-Length", "120")],
                 body: Array(#"{"inputs":[{"name":"input","shape":[2000000000,1],"datatype":"FP32","parameters":{"binary_data_size":8}}]}"#.padding(toLength: 120, withPad: " ", startingAt: 0).utf8) + [0, 0, 0, 0, 0, 0, 0, 0],
                 status: 413, code: "limit_exceeded", mentions: "limits.max_rows_per_request"),
            Case(name: "a CSV of 1.5 million rows", path: "/train?model=rows", headers: [("Content-Type", "text/csv")],
                 body: Array(("a,b\n" + String(repeating: "1,2\n", count: 1_500_000)).utf8), status: 413, code: "limit_exceeded",
                 mentions: "limits.max_rows_per_request"),
            Case(name: "a CSV label of a megabyte", path: "/train?model=label", headers: [("Content-Type", "text/csv")],
                 body: Array(("a,b\n1,x\n2," + String(repeating: "y", count: 1_000_000) + "\n").utf8), status: 413,
                 code: "limit_exceeded", mentions: "limits.max_string_bytes"),
            Case(name: "an unknown key of a megabyte", path: "/train",
                 body: Array((#"{""# + String(repeating: "k", count: 1_000_000) + #"":1}"#).utf8), status: 413, code: "limit_exceeded",
                 mentions: "limits.max_string_bytes"),
            Case(name: "training inputs nested 300,000 levels", path: "/train",
                 body: Array((#"{"model":"n","inputs":"# + String(repeating: "[", count: 300_000) + String(repeating: "]", count: 300_000) + "}").utf8),
                 status: 400, code: "bad_request", mentions: "nested deeper than 2 levels"),
            Case(name: "a CSV text column of 50,000 distinct categories (one-hot: 50,000 x 50,000 floats)", path: "/train?model=categories", headers: [("Content-Type", "text/csv")],
                 body: Array(("c,y\n" + (0 ..< 50_000).map { "k\($0),1\n" }.joined()).utf8), status: 413, code: "limit_exceeded",
                 mentions: "limits.max_categories"),
            Case(name: "JSON object rows naming 100,000 distinct columns", path: "/train",
                 body: Array((#"{"model":"keys","targets":[1],"inputs":[{"# + (0 ..< 100_000).map { #""c\#($0)":1"# }.joined(separator: ",") + "}]}").utf8),
                 status: 413, code: "limit_exceeded", mentions: "limits.max_features"),
        ]
    }

    @Test("every hostile request is a named 4xx within the deadline (or accepted and bounded), and the daemon lives on")
    func hostileRequests() async throws {
        let state = try TemporaryDirectory()
        defer { state.remove() }
        let (process, _, port) = try await Self.startDaemon(state: state.path)
        defer { process.kill(SIGKILL) }
        let long = 60

        // A model to predict with before and after, and one with a 100,000-wide output layer.
        let base = try await Self.send(
            port, "POST", "/train?wait=true", headers: [("Content-Type", "application/json")],
            body: try Self.json(["model": "base", "inputs": [[0], [1], [2], [3], [4], [5]], "targets": [0, 1, 4, 9, 16, 25], "epochs": 20]),
            timeout: long)
        #expect(base.status == 200, "\(base.text)")
        let predict = try Self.json(["model": "base", "inputs": [[3]]])
        let before = try await Self.send(port, "POST", "/predict", headers: [("Content-Type", "application/json")], body: predict)
        #expect(before.status == 200)
        let wide = try await Self.send(
            port, "POST", "/train?wait=true", headers: [("Content-Type", "application/json")],
            body: try Self.json(["model": "wide", "inputs": [[0], [1]], "targets": [Array(repeating: 0, count: 100_000), Array(repeating: 1, count: 100_000)],
                                 "layers": [1, 4, 100_000], "epochs": 1]),
            timeout: long)
        #expect(wide.status == 200, "\(wide.text.prefix(300))")

        for hostile in try Self.cases(v2Model: "base", wide: "wide") {
            let response: TestResponse
            do {
                response = try await Self.send(port, hostile.method, hostile.path, headers: hostile.headers, body: hostile.body)
            } catch {
                Issue.record("\(hostile.name): no answer within \(Self.deadlineSeconds) s (\(error))")
                continue
            }
            let envelope = response.envelope
            #expect(response.status == hostile.status, "\(hostile.name): \(response.status) \(response.text.prefix(300))")
            #expect(envelope?.code == hostile.code, "\(hostile.name): \(response.text.prefix(300))")
            #expect(envelope?.message.contains(hostile.mentions) == true, "\(hostile.name): \(response.text.prefix(300))")
            #expect(response.body.count < 2_000, "\(hostile.name): the answer echoes the request (\(response.body.count) bytes)")
        }

        // A billion epochs on one row is accepted, and stays bounded: the loss curve keeps at
        // most jobs.history_points (+ the latest) whatever the epoch count.
        let endless = try await Self.send(
            port, "POST", "/train", headers: [("Content-Type", "application/json")],
            body: try Self.json(["model": "endless", "inputs": [[1]], "targets": [1], "epochs": 1_000_000_000, "early_stopping": false]))
        #expect(endless.status == 202, "\(endless.text)")
        let id = try #require(Self.object(endless)["id"] as? String)
        var epoch = 0
        var history = 0
        for _ in 0 ..< 400 where epoch < 3_000 {
            let job = Self.object(try await Self.send(port, "GET", "/jobs/\(id)", body: nil))
            epoch = job["epoch"] as? Int ?? 0
            history = (job["history"] as? [Any])?.count ?? 0
        }
        #expect(epoch >= 3_000, "the job did not train: epoch \(epoch)")
        #expect(history <= 1_001, "\(history) history points after \(epoch) epochs")
        let cancelled = try await Self.send(port, "DELETE", "/jobs/\(id)", body: nil)
        #expect(cancelled.status == 200 || cancelled.status == 202)

        // Alive, healthy, unchanged, bounded.
        let health = try await Self.send(port, "GET", "/healthz", body: nil)
        #expect(health.status == 200)
        let after = try await Self.send(port, "POST", "/predict", headers: [("Content-Type", "application/json")], body: predict)
        #expect(after.status == 200 && after.body == before.body, "\(after.text) != \(before.text)")
        let resident = try Self.residentBytes(process.pid)
        #expect(resident < Self.rssBound, "RSS \(resident) bytes after the suite; the bound is \(Self.rssBound)")
    }
}
