import AxonSupport
import AxonHTTP
/// Reads a JSON training body as it arrives, chunk by chunk, into a `TrainRequest`: the rows
/// of `inputs` and `targets` go straight into their storage as their numbers and strings are
/// read, so the body is never held whole; only a token cut by a chunk boundary is carried over.
///
/// The settings (every member but `inputs` and `targets`) are small: each is collected whole,
/// at most `limits.max_string_bytes` + 1 MiB, and read by `JSONScanner` exactly as before, with
/// the same checks and messages. Numbers in the rows are read by `DecimalFloat.parseJSON`,
/// rounded to `Float` correctly; any other spelling goes through `JSONScanner`'s number checks.
///
/// Bounded like the whole-body reader: nesting by `limits.max_json_depth`, each string by
/// `limits.max_string_bytes`, each number by `limits.max_number_bytes`, rows and their width by
/// `RowBudget` and `limits.max_features`, checked before a row is stored.
struct JSONTrainingReader {
    private enum State {
        case begin
        case key(first: Bool)
        case colon
        case value
        case setting
        case rows
        case next
        case end
    }

    /// What a token cut by a chunk boundary is.
    private enum Partial {
        case none
        /// A string; `escaped`: its last byte so far is an unpaired backslash.
        case string(escaped: Bool)
        case scalar
    }

    let limits: ServerLimits
    private let allowingVersion: Bool
    private(set) var train = TrainRequest()
    private var state = State.begin
    /// Body bytes before the current chunk.
    private var offset = 0
    private var key = ""
    /// A token cut by a chunk boundary, or the bytes of a setting being collected.
    private var carry: [UInt8] = []
    private var partial = Partial.none
    private var setting = ValueBoundary()
    private var rows: JSONRowsReader?

    /// Content-Length, when known: the rows are reserved once their size per row is seen.
    private let expectedBytes: Int?

    /// A reader for a training body; `allowingVersion` also takes the evaluate route's `version`.
    init(limits: ServerLimits, allowingVersion: Bool = false, expectedBytes: Int? = nil) {
        self.limits = limits
        self.allowingVersion = allowingVersion
        self.expectedBytes = expectedBytes
    }

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    /// Whether `byte` can continue a number or a literal (`true`, `false`, `null`).
    @inline(__always)
    static func continuesScalar(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "+")
            || byte == UInt8(ascii: ".") || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }

    /// A 400 for a byte the grammar does not allow at `place`.
    func syntaxError(expected: String, at place: String, found byte: UInt8?, position: Int) -> APIError {
        let found = byte.map { $0 >= 0x20 && $0 < 0x7F ? "'\(Character(Unicode.Scalar($0)))'" : "byte 0x\(String($0, radix: 16))" } ?? "end of body"
        return .badRequest("malformed JSON at \(place) (byte \(position)): expected \(expected), found \(found)", code: "invalid_json")
    }

    /// Reads the next chunk of the body.
    mutating func consume(_ chunk: UnsafeBufferPointer<UInt8>) throws(APIError) {
        guard let base = chunk.baseAddress, !chunk.isEmpty else { return }
        let end = chunk.count
        var i = 0
        if case .none = partial {} else {
            guard let next = try resumeToken(base, end) else {
                offset &+= end
                return
            }
            i = next
        }
        while i < end {
            if case .setting = state {
                i = try collectSetting(base, from: i, to: end)
                continue
            }
            if case .rows = state {
                let (next, cut) = try rows!.consume(base, from: i, to: end, offset: offset)
                if cut {
                    // The chunk ends inside a token of the rows: carried over to the next one.
                    _ = base[next] == UInt8(ascii: "\"") ? try token(base, from: next, to: end) : try scalar(base, from: next, to: end)
                    break
                }
                i = next
                if rows!.isClosed { try closeRows() }
                continue
            }
            let byte = base[i]
            if Self.isWhitespace(byte) {
                i &+= 1
                continue
            }
            if case .value = state {
                i &+= try startValue(byte, at: offset &+ i)
                continue
            }
            if byte == UInt8(ascii: "\"") {
                guard let (token, next) = try token(base, from: i, to: end) else { break }
                try acceptToken(token, at: offset &+ i)
                i = next
                continue
            }
            try acceptByte(byte, at: offset &+ i)
            i &+= 1
        }
        offset &+= end
    }

    /// A string token starting at `base[start]` whole in this chunk (its bytes and the index
    /// after it), or nil when the chunk ends first: it is then carried over.
    mutating func token(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) throws(APIError) -> (UnsafeBufferPointer<UInt8>, Int)? {
        var k = start &+ 1
        while k < end {
            let byte = base[k]
            if byte == UInt8(ascii: "\"") { return (UnsafeBufferPointer(start: base + start, count: k &+ 1 &- start), k &+ 1) }
            k &+= byte == UInt8(ascii: "\\") ? 2 : 1
        }
        carry.removeAll(keepingCapacity: true)
        try carryOver(base, from: start, to: end)
        partial = .string(escaped: k > end)
        return nil
    }

    /// A number or literal starting at `base[start]` whole in this chunk, or nil when the chunk
    /// ends inside it: it is then carried over.
    mutating func scalar(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) throws(APIError) -> (UnsafeBufferPointer<UInt8>, Int)? {
        var k = start
        while k < end, Self.continuesScalar(base[k]) { k &+= 1 }
        if k < end { return (UnsafeBufferPointer(start: base + start, count: k &- start), k) }
        carry.removeAll(keepingCapacity: true)
        try carryOver(base, from: start, to: end)
        partial = .scalar
        return nil
    }

    /// Adds `base[from ..< to]` to the carried token, refusing a token longer than any may be.
    private mutating func carryOver(_ base: UnsafePointer<UInt8>, from: Int, to: Int) throws(APIError) {
        let bound = max(limits.maxStringBytes, limits.maxNumberBytes) &+ 2
        guard carry.count &+ (to &- from) <= bound else {
            throw .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: carry.count &+ (to &- from),
                what: "the token at byte \(offset &+ from - carry.count) (at least)", unit: .bytes)
        }
        carry.append(contentsOf: UnsafeBufferPointer(start: base + from, count: to &- from))
    }

    /// Completes a token cut by the previous chunk's end; returns the index after it, or nil
    /// when this chunk ends inside it too.
    private mutating func resumeToken(_ base: UnsafePointer<UInt8>, _ end: Int) throws(APIError) -> Int? {
        var k = 0
        switch partial {
        case .none: return 0
        case .string(let escaped):
            k = escaped ? 1 : 0
            while k < end, base[k] != UInt8(ascii: "\"") { k &+= base[k] == UInt8(ascii: "\\") ? 2 : 1 }
            guard k < end else {
                try carryOver(base, from: 0, to: end)
                partial = .string(escaped: k > end)
                return nil
            }
            k &+= 1
        case .scalar:
            while k < end, Self.continuesScalar(base[k]) { k &+= 1 }
            guard k < end else {
                try carryOver(base, from: 0, to: end)
                return nil
            }
        }
        try carryOver(base, from: 0, to: k)
        partial = .none
        let position = offset &- (carry.count &- k)
        let bytes = carry
        try bytes.withUnsafeBufferPointer { (token) throws(APIError) in
            if case .rows = state {
                try rows!.acceptToken(token, at: position)
                if rows!.isClosed { try closeRows() }
            } else {
                try acceptToken(token, at: position)
            }
        }
        return k
    }

    /// A string token outside the rows: a key.
    private mutating func acceptToken(_ token: UnsafeBufferPointer<UInt8>, at position: Int) throws(APIError) {
        guard case .key = state else {
            throw syntaxError(expected: "',' or '}'", at: "$", found: UInt8(ascii: "\""), position: position)
        }
        var scanner = JSONScanner(token, limits: JSONLimits(limits), at: 0, depth: 1)
        key = try scanner.readString(at: "$")
        state = .colon
    }

    /// A byte outside the rows and strings.
    private mutating func acceptByte(_ byte: UInt8, at position: Int) throws(APIError) {
        switch state {
        case .begin:
            guard byte == UInt8(ascii: "{") else {
                throw byte == UInt8(ascii: "[") || byte == UInt8(ascii: "\"") || Self.continuesScalar(byte)
                    ? .badRequest("$ must be an object, got \(byte == UInt8(ascii: "[") ? "an array" : "a scalar")")
                    : syntaxError(expected: "'{'", at: "$", found: byte, position: position)
            }
            state = .key(first: true)
        case .key(let first):
            guard first, byte == UInt8(ascii: "}") else {
                throw syntaxError(expected: first ? "a key or '}'" : "a key", at: "$", found: byte, position: position)
            }
            state = .end
        case .colon:
            guard byte == UInt8(ascii: ":") else { throw syntaxError(expected: "':'", at: "$." + key, found: byte, position: position) }
            state = .value
        case .next:
            switch byte {
            case UInt8(ascii: ","): state = .key(first: false)
            case UInt8(ascii: "}"): state = .end
            default: throw syntaxError(expected: "',' or '}'", at: "$", found: byte, position: position)
            }
        case .end:
            throw syntaxError(expected: "end of body", at: "$", found: byte, position: position)
        case .value, .setting, .rows:
            preconditionFailure("handled by their readers")
        }
    }

    /// The first byte of `key`'s value: the rows of `inputs` or `targets` are read as they
    /// come (their `[` consumed: returns 1), anything else is collected whole for
    /// `TrainRequest.read` (returns 0: the byte is the value's first).
    private mutating func startValue(_ byte: UInt8, at position: Int) throws(APIError) -> Int {
        if byte == UInt8(ascii: "["), key == "inputs" || key == "targets" {
            train.seenKeys.append(key)
            guard limits.maxJSONDepth >= 3 else {
                throw .limitExceeded(key: "limits.max_json_depth", limit: limits.maxJSONDepth, needed: 3, what: "the rows of \(key): their nesting")
            }
            rows = JSONRowsReader(field: key == "inputs" ? .inputs : .targets, limits: limits, expectedBytes: expectedBytes)
            state = .rows
            return 1
        }
        setting = ValueBoundary()
        carry.removeAll(keepingCapacity: true)
        state = .setting
        return 0
    }

    /// The rows of `inputs` or `targets` are closed: their values go into the request.
    private mutating func closeRows() throws(APIError) {
        try rows!.finish(into: &train)
        rows = nil
        state = .next
    }

    /// Collects a setting's bytes until its value ends, then reads it with `JSONScanner`.
    private mutating func collectSetting(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) throws(APIError) -> Int {
        let stop = setting.scan(base, from: start, to: end)
        // As `TrainRequest.read` would refuse it, before a million layers are collected.
        if key == "layers", setting.elements > limits.maxLayers {
            throw .limitExceeded(key: "limits.max_layers", limit: limits.maxLayers, needed: setting.elements, what: "layers (at least)")
        }
        let bound = limits.maxStringBytes &+ (1 << 20)
        guard carry.count &+ (stop &- start) <= bound else {
            throw .limitExceeded(
                key: "limits.max_string_bytes", limit: limits.maxStringBytes, needed: carry.count &+ (stop &- start),
                what: "the value of \(key.excerpt) (at least; a setting may take limits.max_string_bytes + 1 MiB)", unit: .bytes)
        }
        carry.append(contentsOf: UnsafeBufferPointer(start: base + start, count: stop &- start))
        guard setting.isComplete else { return stop }
        try readSetting()
        return stop
    }

    /// Reads the collected value of `key` exactly as the whole-body parser does.
    private mutating func readSetting() throws(APIError) {
        let bytes = carry
        let key = key
        try bytes.withUnsafeBufferPointer { (value) throws(APIError) in
            var scanner = JSONScanner(value, limits: JSONLimits(limits), at: 0, depth: 1)
            if allowingVersion, key == "version" {
                train.seenKeys.append(key)
                let version = try scanner.readUnsigned(at: key)
                guard version > 0 else { throw .badRequest("version must be a positive integer, got 0", code: "invalid_version") }
                train.version = version
            } else {
                try train.read(key, from: &scanner, limits: limits)
            }
            try scanner.expectEnd()
        }
        carry.removeAll(keepingCapacity: true)
        state = .next
    }

    /// Ends the body: it must have closed its object.
    mutating func finish() throws(APIError) -> TrainRequest {
        if case .setting = state, setting.endsAtEndOfBody {
            try readSetting()
        }
        guard case .end = state else {
            if case .none = partial {
                throw syntaxError(expected: "more JSON", at: "$", found: nil, position: offset)
            }
            throw syntaxError(expected: "the rest of a token", at: "$", found: nil, position: offset)
        }
        return train
    }
}
