/// Undoes `Transfer-Encoding: chunked` (RFC 9112, 7.1) on bytes as they arrive, cut anywhere:
/// libmicrohttpd sends an event stream, whose length is not known up front, this way.
struct ChunkedDecoder {
    private enum State {
        case size
        case data(remaining: Int)
        case dataEnd
        case trailer
        case done
    }

    /// A chunk-size line (with any extensions) or trailer line may be at most this long.
    static let maxLineBytes = 4096

    private var state = State.size
    private var line: [UInt8] = []

    /// Whether the last chunk and the trailer have been read.
    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    /// The payload bytes that `input` carries; bytes after the end are ignored.
    mutating func decode(_ input: ArraySlice<UInt8>) throws(CLIError) -> [UInt8] {
        var out: [UInt8] = []
        var index = input.startIndex
        while index < input.endIndex {
            switch state {
            case .done:
                return out
            case .data(let remaining):
                let take = min(remaining, input.endIndex - index)
                out += input[index ..< index + take]
                index += take
                state = remaining == take ? .dataEnd : .data(remaining: remaining - take)
            case .size, .dataEnd, .trailer:
                let byte = input[index]
                index += 1
                guard byte == UInt8(ascii: "\n") else {
                    if byte != UInt8(ascii: "\r") { line.append(byte) }
                    guard line.count <= Self.maxLineBytes else { throw .badResponse("a chunk header of the response is too long") }
                    continue
                }
                try endLine()
            }
        }
        return out
    }

    private mutating func endLine() throws(CLIError) {
        defer { line.removeAll(keepingCapacity: true) }
        switch state {
        case .size:
            let digits = line.prefix { $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
            guard !digits.isEmpty, digits.count <= 15, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16) else {
                throw .badResponse("the response has a malformed chunk size \"\(String(decoding: line.prefix(40), as: UTF8.self))\"")
            }
            state = size == 0 ? .trailer : .data(remaining: size)
        case .dataEnd:
            guard line.isEmpty else { throw .badResponse("a chunk of the response is longer than its size") }
            state = .size
        case .trailer:
            if line.isEmpty { state = .done }
        case .data, .done:
            break
        }
    }
}
