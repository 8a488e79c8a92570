extension DecimalFloat {
    /// A JSON number (RFC 8259: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`) at
    /// `start` and where it stops, rounded correctly to `Float` by the fast path of
    /// `parse(_:from:to:)`; nil when the bytes there are not such a number, or not one the
    /// fast path rounds exactly (the caller then reads the token with `JSONScanner`'s
    /// checks and `Float(String)`). Kept out of line: `parseJSONWide` inlines only its own
    /// common case.
    @inline(never)
    static func parseJSON(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (value: Float, end: Int)? {
        var i = start
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i &+= 1
        }
        guard i < end else { return nil }
        var mantissa = UInt64(bytes[i] &- UInt8(ascii: "0"))
        guard mantissa <= 9 else { return nil }
        i &+= 1
        var significant = mantissa == 0 ? 0 : 1
        if mantissa == 0 {
            // No leading zeros: `0` stands alone before the fraction.
            if i < end, bytes[i] &- UInt8(ascii: "0") <= 9 { return nil }
        } else {
            while i < end {
                let digit = bytes[i] &- UInt8(ascii: "0")
                guard digit <= 9 else { break }
                significant &+= 1
                mantissa = mantissa &* 10 &+ UInt64(digit)
                i &+= 1
            }
        }
        var exponent = 0
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i &+= 1
            guard scanFraction(bytes, &i, end, &mantissa, &significant, &exponent) > 0 else { return nil }
        }
        guard significant <= 19 else { return nil }
        if i < end, bytes[i] | 0x20 == UInt8(ascii: "e") {
            guard let (value, stop) = exponentPart(bytes, from: i &+ 1, to: end) else { return nil }
            exponent &+= value
            i = stop
        }
        guard let value = exact(mantissa: mantissa, exponent: exponent, negative: negative) else { return nil }
        return (value, i)
    }
}

extension DecimalFloat {
    /// `10^n` for n in 0...8, for appending up to eight fraction digits to a mantissa (a
    /// switch: a constant table, as for `power`).
    @inline(__always)
    static func integerPower(_ n: Int) -> UInt64 {
        switch n {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        default: 100_000_000
        }
    }

    /// How many of the 8 bytes at `bytes` (all readable) are digits before the first that is
    /// not, and their value: eight bytes tested and converted at once (SWAR).
    @inline(__always)
    static func leadingDigits(_ bytes: UnsafePointer<UInt8>) -> (count: Int, value: UInt64) {
        let word = UInt64(littleEndian: UnsafeRawPointer(bytes).loadUnaligned(as: UInt64.self))
        let low = word & 0x0F0F_0F0F_0F0F_0F0F
        // A byte is a digit when its high nibble is 3 and its low nibble at most 9.
        let other = ((word & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030) | ((low &+ 0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0)
        let marks = (other | ((other & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F)) & 0x8080_8080_8080_8080
        let count = marks == 0 ? 8 : marks.trailingZeroBitCount &>> 3
        guard count > 0 else { return (0, 0) }
        // The digits moved to the top bytes (zeros before them).
        return (count, eightDigits(low &<< UInt64((8 &- count) &* 8)))
    }

    /// The value of eight digits, one a byte (0 ... 9, the first in the lowest byte): combined
    /// pairwise, then in fours, then in eights, a multiplication each.
    @inline(__always)
    static func eightDigits(_ digits: UInt64) -> UInt64 {
        var value = ((digits & 0x0F0F_0F0F_0F0F_0F0F) &* 2561) &>> 8
        value = ((value & 0x00FF_00FF_00FF_00FF) &* 6_553_601) &>> 16
        return ((value & 0x0000_FFFF_0000_FFFF) &* 42_949_672_960_001) &>> 32
    }

    /// `parseJSON` for the common spelling (at most 7 integer and 7 fraction digits), reading
    /// each run of digits 8 bytes at a time; anything else, or fewer than 24 bytes left in the
    /// chunk, goes to `parseJSON`. Same results.
    @inline(__always)
    static func parseJSONWide(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (value: Float, end: Int)? {
        guard start &+ 24 <= end else { return parseJSON(bytes, from: start, to: end) }
        // Branch-free where the data decides (signs and integer parts vary row to row).
        let negative = bytes[start] == UInt8(ascii: "-")
        var i = start &+ (negative ? 1 : 0)
        let (integers, integer) = leadingDigits(bytes + i)
        // No leading zeros: `0` stands alone before the fraction.
        guard integers > 0, integers < 8, integers == 1 || bytes[i] != UInt8(ascii: "0") else {
            return integers == 8 ? parseJSON(bytes, from: start, to: end) : nil
        }
        var mantissa = integer
        i &+= integers
        var exponent = 0
        if bytes[i] == UInt8(ascii: ".") {
            let (count, value) = leadingDigits(bytes + (i &+ 1))
            guard count > 0, count < 8 else { return count == 0 ? nil : parseJSON(bytes, from: start, to: end) }
            mantissa = mantissa &* integerPower(count) &+ value
            exponent = -count
            i &+= 1 &+ count
        }
        if bytes[i] | 0x20 == UInt8(ascii: "e") {
            guard let (value, stop) = exponentPart(bytes, from: i &+ 1, to: end) else { return nil }
            exponent &+= value
            i = stop
        }
        guard let value = exact(mantissa: mantissa, exponent: exponent, negative: negative) else { return nil }
        return (value, i)
    }
}
