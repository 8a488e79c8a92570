import AxonAPI
import Testing

@testable import axon

@Suite("axon's parts: chunked bodies, server URLs, typed rows, the progress line")
struct ClientPartsTests {
    static let chunked = Array("7\r\nid: 1\ne\r\n17;ext=1\r\nvent: queued\ndata: {}\n\n\r\n0\r\nTrailer: x\r\n\r\nleftover".utf8)
    static let payload = "id: 1\nevent: queued\ndata: {}\n\n"

    @Test("a chunked body cut at every byte decodes to its payload and stops at the last chunk")
    func chunkedEverySplit() throws {
        for cut in 0 ... Self.chunked.count {
            var decoder = ChunkedDecoder()
            let bytes = try decoder.decode(Self.chunked[..<cut]) + decoder.decode(Self.chunked[cut...])
            #expect(String(decoding: bytes, as: UTF8.self) == Self.payload, "cut at \(cut)")
            #expect(decoder.isDone)
        }
    }

    @Test("malformed chunk sizes and overlong chunks are bad responses, not crashes")
    func chunkedMalformed() {
        for body in ["zz\r\n", "\r\n", "ffffffffffffffffffff\r\nx", "2\r\nabc\r\n", String(repeating: "1", count: 5000)] {
            var decoder = ChunkedDecoder()
            #expect(throws: CLIError.self, "\(body.prefix(20))") { _ = try decoder.decode(Array(body.utf8)[...]) }
        }
    }

    @Test("server URLs: host, port, IPv6, a path prefix; https, other schemes and credentials are refused")
    func serverURLs() throws {
        let plain = try ServerURL("http://127.0.0.1:8080")
        #expect(plain == ServerURL(host: "127.0.0.1", port: 8080, basePath: ""))
        #expect(plain.hostHeader == "127.0.0.1:8080")
        #expect(try ServerURL("HTTP://models.example/axon/") == ServerURL(host: "models.example", port: 80, basePath: "/axon"))
        let six = try ServerURL("http://[::1]:9000")
        #expect(six.host == "::1" && six.port == 9000 && six.hostHeader == "[::1]:9000")
        for bad in ["https://127.0.0.1", "127.0.0.1:8080", "ftp://x", "http://:80", "http://x:0", "http://x:70000", "http://u:p@x", "http://x/?a=1", "http://[::1"] {
            #expect(throws: CLIError.self, "\(bad)") { _ = try ServerURL(bad) }
        }
        #expect(URLText.encode("a b/é") == "a%20b%2F%C3%A9")
        #expect(URLText.query([("model", "iris"), ("layers", "16,8")]) == "?model=iris&layers=16%2C8")
    }

    @Test("typed rows: numbers, text, missing; quotes hold commas and line breaks")
    func rows() throws {
        #expect(try CSVText.records("5.1,3.5,1.4,0.2") == [["5.1", "3.5", "1.4", "0.2"]])
        #expect(try CSVText.records("a,\"b,c\",\"say \"\"hi\"\"\"\r\n\n1,\"two\nlines\",\n") == [["a", "b,c", "say \"hi\""], ["1", "two\nlines", ""]])
        #expect(throws: CLIError.self) { _ = try CSVText.records("\"open") }
        #expect(["1", "-2.5", "1e3", ".5", " 7 ", "", "red", "nan", "inf", "0x10", "1e", "+"].map(CSVText.cell) == [
            .number(1), .number(-2.5), .number(1000), .number(0.5), .number(7), .missing, .text("red"), .text("nan"), .text("inf"),
            .text("0x10"), .text("1e"), .text("+"),
        ])
    }

    @Test("the terminal progress line fits the terminal and keeps its bar's width while the figures vary")
    func progressLine() {
        var job = JobSnapshot(id: "j", model: "m", kind: "train", status: .running, createdAt: "t", epochs: 200, epoch: 0, rows: 10, history: [])
        job.etaSeconds = 75
        let early = TerminalDisplay.line(JobProgress(job, JobSnapshot.Epoch(epoch: 9, trainLoss: 1.5, validationLoss: 1.25, samplesPerSecond: 12_345)), done: 10, width: 120)
        #expect(early == "epoch  10/200 [#.............................] loss 1.5  val 1.25  12.3k rows/s  ETA 1m15s")
        let late = TerminalDisplay.line(JobProgress(job, JobSnapshot.Epoch(epoch: 199, trainLoss: 0.012344, validationLoss: nil, samplesPerSecond: 999)), done: 200, width: 120)
        #expect(late == "epoch 200/200 [##############################] loss 0.01234  999 rows/s")
        for width in [20, 60, 80, 100] {
            #expect(TerminalDisplay.line(JobProgress(job, JobSnapshot.Epoch(epoch: 9, trainLoss: 1.5, validationLoss: 1.25, samplesPerSecond: 1)), done: 10, width: width).count < width)
        }
    }

    @Test("a continue job counts its own epochs: from its record, or from the first epoch it shows")
    func epochCounter() {
        var fresh = EpochCounter(JobSnapshot(id: "j", model: "m", kind: "train", status: .running, createdAt: "t", epochs: 5, epoch: 0, rows: 1, history: []))
        #expect(fresh.done(0) == 1 && fresh.done(4) == 5)
        var known = EpochCounter(JobSnapshot(
            id: "j", model: "m", kind: "continue", status: .running, createdAt: "t", epochs: 50, epoch: 3, rows: 1,
            history: (200 ... 202).map { JobSnapshot.Epoch(epoch: $0, trainLoss: nil, validationLoss: nil, samplesPerSecond: nil) }))
        #expect(known.done(202) == 3 && known.done(249) == 50)
        var learned = EpochCounter(JobSnapshot(id: "j", model: "m", kind: "continue", status: .queued, createdAt: "t", epochs: 50, epoch: 0, rows: 1, history: []))
        #expect(learned.done(200) == 1 && learned.done(210) == 11)
    }

    @Test("exit statuses: job 1, refused 2, unreachable 3, auth 4, not found 5, usage 64, unreadable 66")
    func exitCodes() {
        #expect(CLIError.jobFailed("x").exitCode == 1)
        #expect(CLIError.server(status: 400, code: "bad_request", message: "x").exitCode == 2)
        #expect(CLIError.server(status: 503, code: "draining", message: "x").exitCode == 2)
        #expect(CLIError.badResponse("x").exitCode == 2)
        #expect(CLIError.unreachable("x").exitCode == 3)
        #expect(CLIError.server(status: 401, code: "missing_token", message: "x").exitCode == 4)
        #expect(CLIError.server(status: 403, code: "forbidden", message: "x").exitCode == 4)
        #expect(CLIError.server(status: 404, code: "model_not_found", message: "x").exitCode == 5)
        #expect(CLIError.usage("x").exitCode == 64)
        #expect(CLIError.unreadable("x").exitCode == 66)
        let proxyPage = HTTPResponse(status: 502, headers: [], body: Array("<html>\nBad Gateway</html>".utf8))
        #expect(CLIError.from(proxyPage) == .server(status: 502, code: "http_502", message: "<html> Bad Gateway</html>"))
    }
}
