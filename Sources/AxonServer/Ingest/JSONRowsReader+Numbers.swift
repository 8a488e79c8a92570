import AxonHTTP
import ModelKit

/// The fast paths of `JSONRowsReader`: runs of numbers read in place by
/// `DecimalFloat.scanRow`, with the state machine's own checks at every row.
extension JSONRowsReader {
    /// The fast path: numeric rows read in place, one after another while `,[` joins them.
    /// Returns where it stopped: at the end of the chunk, or at anything the general path reads
    /// (a string, a number cut by the chunk's end or not of the common spelling, a blank
    /// between rows). Each row's values gather in `scratch` and are appended to `values` when
    /// the row ends or the run stops: outside it, `values` holds every value read, as for the
    /// general path.
    @inline(__always)
    mutating func numericRun(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int, offset: Int) throws(APIError) -> Int {
        var pending = scratch
        scratch = []
        if pending.count < Self.scratchValues { pending = [Float](repeating: 0, count: Self.scratchValues) }
        defer { scratch = pending }
        return try pending.withUnsafeMutableBufferPointer { (buffer) throws(APIError) -> Int in
            var i = start
            while true {
                i = try numericCells(base, from: i, to: end, buffer: buffer)
                // The next row starts at once, through the same checks as on the general path
                // (the row budget, the limits).
                guard position == .afterElement, i &+ 1 < end, base[i] == UInt8(ascii: ","), base[i &+ 1] == UInt8(ascii: "[") else {
                    return i
                }
                try acceptByte(UInt8(ascii: ","), at: offset &+ i)
                try acceptByte(UInt8(ascii: "["), at: offset &+ i &+ 1)
                i &+= 2
            }
        }
    }

    /// The cells of the current row from `start` (`position` is `.cell` or `.afterCell`):
    /// runs of the common spelling through `DecimalFloat.scanRow`, any other number whole in
    /// the chunk through `parseJSONWide`, and the blanks and commas between them. Returns after
    /// the row's `]` (`position` is then `.afterElement`), at the chunk's end, or at the first
    /// byte the general path must read.
    @inline(__always)
    private mutating func numericCells(
        _ base: UnsafePointer<UInt8>, from start: Int, to end: Int, buffer: UnsafeMutableBufferPointer<Float>
    ) throws(APIError) -> Int {
        var i = start
        var count = 0
        var expecting = position == .cell
        var closed = false
        // Cells this row may still take: row 0 within limits.max_features, later rows within row 0's width.
        let room = min((rows == 0 ? limits.maxFeatures : width) &- cells, buffer.count)
        let longest = limits.maxNumberBytes
        while i < end {
            let byte = base[i]
            if byte <= 0x20, JSONTrainingReader.isWhitespace(byte) {
                i &+= 1
                continue
            }
            if expecting {
                let run = DecimalFloat.scanRow(base, from: i, to: end, into: buffer.baseAddress! + count, capacity: room &- count, longest: longest)
                count &+= run.count
                i = run.next
                closed = run.closed
                if closed { break }
                if run.count > 0 {
                    // Its last number ended at a comma: a cell comes next, not the first.
                    first = false
                    continue
                }
                guard count < room, let (value, stop) = DecimalFloat.parseJSONWide(base, from: i, to: end),
                    stop < end, stop &- i <= longest, !JSONTrainingReader.continuesScalar(base[stop])
                else { break }
                buffer[count] = value
                count &+= 1
                expecting = false
                i = stop
            } else if byte == UInt8(ascii: ",") {
                expecting = true
                first = false
                i &+= 1
            } else {
                closed = byte == UInt8(ascii: "]")
                if closed { i &+= 1 }
                break
            }
        }
        if count > 0 { values.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0 ..< count])) }
        cells &+= count
        guard closed else {
            position = expecting ? .cell : .afterCell
            return i
        }
        try endArrayRow()
        return i
    }

    /// Values `numericRun` gathers before appending them.
    static let scratchValues = 4096

    /// The fast path of a `targets` list of numbers after its first: runs of numbers read by
    /// `DecimalFloat.scanRow` as if the list were one row, each value a row of its own and
    /// admitted as `startRow` admits one. Returns after the list's `]` (`isClosed` is then
    /// set) or where the general path goes on.
    mutating func numericTargets(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) throws(APIError) -> Int {
        var pending = scratch
        scratch = []
        if pending.count < Self.scratchValues { pending = [Float](repeating: 0, count: Self.scratchValues) }
        defer { scratch = pending }
        return try pending.withUnsafeMutableBufferPointer { (buffer) throws(APIError) -> Int in
            var i = start
            while true {
                while i < end, JSONTrainingReader.isWhitespace(base[i]) { i &+= 1 }
                let run = DecimalFloat.scanRow(
                    base, from: i, to: end, into: buffer.baseAddress!, capacity: buffer.count, longest: limits.maxNumberBytes)
                guard run.count > 0 else { return i }
                try admitTargets(run.count)
                values.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0 ..< run.count]))
                rows &+= run.count
                i = run.next
                if run.closed {
                    isClosed = true
                    return i
                }
            }
        }
    }

    /// Before `count` more number targets are stored: `startRow`'s checks for each of them
    /// (both bounds grow with the rows, so the last decides), the first that crosses a limit
    /// refused as `startRow` refuses it.
    private mutating func admitTargets(_ count: Int) throws(APIError) {
        let after = rows &+ count
        if after <= limits.maxRowsPerRequest,
            ModelConfiguration.trainingDataBytes(rows: after, inputs: 0, outputs: 1) <= limits.maxJobBytes
        {
            return
        }
        let before = rows
        for row in before ..< after {
            rows = row
            try startRow(at: 0)
        }
        rows = before
    }
}
