/// Finds where one JSON value ends in bytes that arrive in pieces, without reading it: the
/// extent of a setting that `JSONTrainingReader` collects whole and then reads with
/// `JSONScanner`, which checks everything inside it. Strings (with their escapes) and nesting
/// are followed; a number or literal ends at the first byte that cannot continue it.
struct ValueBoundary {
    private var started = false
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var scalar = false
    /// The value has ended.
    private(set) var isComplete = false
    /// Elements of an array value seen so far (its commas at the top level, plus one).
    private(set) var elements = 0

    /// A number or literal still open: the body's end ends it.
    var endsAtEndOfBody: Bool { scalar && !isComplete }

    /// Scans `base[start ..< end]`; returns the index just after the value when it ends in
    /// this range, else `end`.
    mutating func scan(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        while i < end {
            let byte = base[i]
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    if depth == 0 { return finished(at: i &+ 1) }
                }
                i &+= 1
                continue
            }
            if !started {
                started = true
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth = 1
                    elements = 1
                default: scalar = true
                }
                i &+= 1
                continue
            }
            if scalar {
                if JSONTrainingReader.continuesScalar(byte) {
                    i &+= 1
                    continue
                }
                return finished(at: i)
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): depth &+= 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth &-= 1
                if depth == 0 { return finished(at: i &+ 1) }
            case UInt8(ascii: ","): if depth == 1 { elements &+= 1 }
            default: break
            }
            i &+= 1
        }
        return end
    }

    private mutating func finished(at index: Int) -> Int {
        isComplete = true
        return index
    }
}
