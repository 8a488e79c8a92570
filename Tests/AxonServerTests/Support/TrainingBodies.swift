import AxonHTTP
import Testing

@testable import AxonServer

/// What reading a training body produced, comparable: the inputs' bit patterns, the shape, the
/// column names, the table (described, not compared: a missing cell is NaN, which equals
/// nothing) and the targets; or the error.
struct ReadOutcome: Equatable, CustomStringConvertible {
    var inputs: [UInt32] = []
    var shape: [Int]?
    var names: [String]?
    var table: String?
    var targets = ""
    var error: String?

    init() {}

    init(error: String) { self.error = error }

    init(_ request: TrainRequest) {
        inputs = request.inputs.map(\.bitPattern)
        shape = request.inputShape
        names = request.columnNames
        table = request.table.map { "\($0)" }
        targets = request.targets.map { "\($0)" } ?? "nil"
    }

    var description: String { error ?? "shape \(shape ?? []) inputs \(inputs.count) table \(table ?? "-") targets \(targets)" }
}

/// Hands `body` to `consume` in the chunks that `cuts` (ascending offsets) make, as the shim
/// hands over an upload.
func feed(_ body: [UInt8], cuts: [Int], to consume: (UnsafeBufferPointer<UInt8>) throws(APIError) -> Void) throws(APIError) {
    try body.withUnsafeBufferPointer { (bytes) throws(APIError) in
        var start = 0
        for cut in cuts + [bytes.count] where cut >= start {
            try consume(UnsafeBufferPointer(rebasing: bytes[start ..< cut]))
            start = cut
        }
    }
}

/// Expects `read(bytes, cuts)` to give the same for `body` whole, cut once at every offset,
/// and handed over one byte at a time.
func expectSameWhateverTheChunks<T: Equatable>(
    _ body: String, sourceLocation: SourceLocation = #_sourceLocation, read: ([UInt8], [Int]) -> T
) {
    let bytes = Array(body.utf8)
    let whole = read(bytes, [])
    for cut in 0 ... bytes.count {
        #expect(read(bytes, [cut]) == whole, "cut at \(cut) of \(body.debugDescription)", sourceLocation: sourceLocation)
    }
    #expect(read(bytes, Array(0 ... bytes.count)) == whole, "one byte at a time: \(body.debugDescription)", sourceLocation: sourceLocation)
}
