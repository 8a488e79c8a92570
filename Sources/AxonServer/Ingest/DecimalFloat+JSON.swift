extension DecimalFloat {
    /// A JSON number (RFC 8259: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`) at
    /// `start` and where it stops, rounded correctly to `Float` by the fast path of
    /// `parse(_:from:to:)`; nil when the bytes there are not such a number, or not one the
    /// fast path rounds exactly (the caller then reads the token with `JSONScanner`'s
    /// checks and `Float(String)`).
    @inline(__always)
    static func parseJSON(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (value: Float, end: Int)? {
        var i = start
        if i < end, bytes[i] == UInt8(ascii: "-") { i &+= 1 }
        guard i < end else { return nil }
        let first = bytes[i] &- UInt8(ascii: "0")
        guard first <= 9 else { return nil }
        // No leading zeros: `0` stands alone before the fraction.
        if first == 0, i &+ 1 < end, bytes[i &+ 1] &- UInt8(ascii: "0") <= 9 { return nil }
        guard let (value, stop) = parse(bytes, from: start, to: end) else { return nil }
        // A fraction needs a digit after the dot (`1.` is not JSON; `parse` takes it).
        var k = i
        while k < stop, bytes[k] != UInt8(ascii: ".") { k &+= 1 }
        if k < stop, k &+ 1 >= stop || bytes[k &+ 1] &- UInt8(ascii: "0") > 9 { return nil }
        return (value, stop)
    }
}
