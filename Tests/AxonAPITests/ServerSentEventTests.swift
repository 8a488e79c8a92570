import AxonAPI
import Testing

@Suite("Server-Sent Events: the server's encoding and the clients' parser")
struct ServerSentEventTests {
    /// A stream as axond sends it: a comment, three events, a heartbeat, a final event.
    static let stream = Array(
        """
        : every job's events and model changes from now on

        id: 1
        event: queued
        data: {"job":"job-1","status":"queued"}

        id: 2
        event: started
        data: {"job":"job-1","status":"running"}

        : heartbeat

        id: 3
        event: epoch
        data: {"epoch":0,"train_loss":0.69}

        event: model
        data: {"change":"installed","model":"m","version":1}

        id: 4
        event: succeeded
        data: {"id":"job-1","status":"succeeded"}


        """.utf8)

    static let expected = [
        ServerSentEvent(id: "1", name: "queued", data: #"{"job":"job-1","status":"queued"}"#),
        ServerSentEvent(id: "2", name: "started", data: #"{"job":"job-1","status":"running"}"#),
        ServerSentEvent(id: "3", name: "epoch", data: #"{"epoch":0,"train_loss":0.69}"#),
        // No id line: the last id persists, as the format says.
        ServerSentEvent(id: "3", name: "model", data: #"{"change":"installed","model":"m","version":1}"#),
        ServerSentEvent(id: "4", name: "succeeded", data: #"{"id":"job-1","status":"succeeded"}"#),
    ]

    @Test("a stream read in one piece gives its events in order, without the comments")
    func wholeStream() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Self.stream) == Self.expected)
        #expect(parser.lastEventID == "4")
    }

    @Test("a stream cut at every byte gives the same events as in one piece")
    func everySplit() throws {
        for cut in 0 ... Self.stream.count {
            var parser = ServerSentEventParser()
            let events = try parser.feed(Self.stream[..<cut]) + parser.feed(Self.stream[cut...])
            #expect(events == Self.expected, "cut at \(cut)")
        }
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for byte in Self.stream { events += try parser.feed([byte]) }
        #expect(events == Self.expected)
    }

    @Test("CR LF and lone CR end lines as LF does, also when a CR LF is cut between chunks")
    func lineEndings() throws {
        for ending in ["\r\n", "\r"] {
            let text = String(decoding: Self.stream, as: UTF8.self).replacingNewlines(with: ending)
            let bytes = Array(text.utf8)
            for cut in 0 ... bytes.count {
                var parser = ServerSentEventParser()
                #expect(try parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...]) == Self.expected, "\(ending.debugDescription) cut at \(cut)")
            }
        }
    }

    @Test("data lines join with newlines; a field without a colon or space is read as the format says")
    func fields() throws {
        var parser = ServerSentEventParser()
        let events = try parser.feed(Array("\u{FEFF}data:a\ndata: b\ndata\nevent:x\nretry: 5\nunknown: y\n\ndata: only\n\n".utf8))
        #expect(events == [ServerSentEvent(id: nil, name: "x", data: "a\nb\n"), ServerSentEvent(id: nil, name: "message", data: "only")])
        // An event without data is not dispatched, and its name does not leak into the next one.
        #expect(try parser.feed(Array("event: lost\nid: 9\n\ndata: z\n\n".utf8)) == [ServerSentEvent(id: "9", name: "message", data: "z")])
    }

    @Test("an event larger than maxEventBytes is refused; comments do not count toward it")
    func bounded() throws {
        var parser = ServerSentEventParser(maxEventBytes: 64)
        #expect(try parser.feed(Array((": " + String(repeating: "h", count: 40) + "\n").utf8) + Array((": " + String(repeating: "h", count: 40) + "\n").utf8)).isEmpty)
        #expect(try parser.feed(Array("data: small\n\n".utf8)) == [ServerSentEvent(id: nil, data: "small")])
        #expect(throws: ServerSentEventError.eventTooLarge(limit: 64)) {
            _ = try parser.feed(Array(("data: " + String(repeating: "x", count: 100) + "\n\n").utf8))
        }
    }

    @Test("what the server encodes, the parser reads back: id, name and multi-line data")
    func roundTrip() throws {
        let encoded = ServerSentEvent.encode(id: 7, name: "epoch", data: Array(#"{"epoch":4}"#.utf8))
        #expect(String(decoding: encoded, as: UTF8.self) == "id: 7\nevent: epoch\ndata: {\"epoch\":4}\n\n")
        let unnumbered = ServerSentEvent.encode(id: nil, name: "model", data: Array("two\nlines".utf8))
        #expect(String(decoding: unnumbered, as: UTF8.self) == "event: model\ndata: two\ndata: lines\n\n")
        var parser = ServerSentEventParser()
        #expect(try parser.feed(encoded + unnumbered) == [
            ServerSentEvent(id: "7", name: "epoch", data: #"{"epoch":4}"#), ServerSentEvent(id: "7", name: "model", data: "two\nlines"),
        ])
    }
}

extension String {
    func replacingNewlines(with ending: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: ending)
    }
}
