extension DecimalFloat {
    /// What `scanRow` read: where it stopped, how many values it stored, and whether it stopped
    /// after the row's closing `]` (else at the first byte of a number it left to the caller).
    struct RowRun {
        var next: Int
        var count: Int
        var closed: Bool
    }

    /// Bytes `scanRow` reads in one step: the window in which it finds where numbers end.
    private static var window: Int { 64 }

    /// Bytes that must be readable past a window for `scanRow` to read it: a number it takes
    /// is at most 16 bytes, and the 8-byte loads that read it end 17 bytes past its start.
    private static var margin: Int { 24 }

    /// The numbers of a row of a JSON matrix, read in place: `values` gets each number of the
    /// common spelling (`-?d{1,7}(.d{1,8})?`, no leading zero, at most `longest` characters)
    /// that a `,` or the row's `]` follows, rounded correctly as `parseJSON` rounds it. It
    /// starts at the first byte of a number and stops after `capacity` values, after the
    /// row's `]`, at a number of any other spelling or followed by anything else (a blank, an
    /// exponent, a token cut short), or near `end`: the caller reads what is left with its
    /// general checks, so nothing is refused here.
    ///
    /// Where each number ends comes from a mask of the bytes that cannot be in one, found 64
    /// bytes at a time, not from reading the number: the next number's start does not wait
    /// for this one's digits, so the processor reads several numbers at once. One loop kept
    /// whole: every number of a training body goes through it.
    static func scanRow(
        _ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, into values: UnsafeMutablePointer<Float>, capacity: Int,
        longest: Int
    ) -> RowRun {
        var next = start
        var count = 0
        var base = start
        let widest = min(longest, 16)
        guard base &+ window &+ margin <= end else { return RowRun(next: next, count: 0, closed: false) }
        var stops = nonNumberBytes(bytes + base)
        while count < capacity {
            while stops == 0 {
                base &+= window
                guard base &+ window &+ margin <= end else { return RowRun(next: next, count: count, closed: false) }
                stops = nonNumberBytes(bytes + base)
            }
            let stop = base &+ stops.trailingZeroBitCount
            stops &= stops &- 1
            let terminator = bytes[stop]
            let length = stop &- next
            guard terminator == UInt8(ascii: ",") || terminator == UInt8(ascii: "]"), length <= widest,
                let value = length <= 8 && stop >= 8 ? tinyNumber(bytes, from: next, to: stop) : shortNumber(bytes, from: next, to: stop)
            else { break }
            values[count] = value
            count &+= 1
            next = stop &+ 1
            if terminator == UInt8(ascii: "]") { return RowRun(next: next, count: count, closed: true) }
        }
        return RowRun(next: next, count: count, closed: false)
    }

    /// `scanRow` over the last bytes of a buffer, `bytes[start ..< end]`, which it stops short
    /// of in place (it reads ahead): over a copy padded with blanks, which end a number there as
    /// the buffer's end would. `next` counts in `bytes`. The copy is on the stack: for a tail of
    /// a few hundred bytes at most.
    static func scanRowTail(
        _ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int, into values: UnsafeMutablePointer<Float>, capacity: Int,
        longest: Int
    ) -> RowRun {
        let lead = 8  // tinyNumber reads the 8 bytes before a number's end
        let tail = end - start
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: lead + tail + window + margin) { padded in
            padded.initialize(repeating: UInt8(ascii: " "))
            _ = UnsafeMutableBufferPointer(rebasing: padded[lead ..< lead + tail]).initialize(
                from: UnsafeBufferPointer(start: bytes + start, count: tail))
            var run = scanRow(padded.baseAddress!, from: lead, to: padded.count, into: values, capacity: capacity, longest: longest)
            run.next += start - lead
            return run
        }
    }

    /// The number spelled by exactly `bytes[start ..< stop]` (at most 8 bytes, the 8 before
    /// `stop` readable) when it is of the common spelling, correctly rounded; else nil. Read in
    /// one 8-byte word that ends where the number does: its digits are then where
    /// `eightDigits` wants them, the point taken out.
    @inline(__always)
    private static func tinyNumber(_ bytes: UnsafePointer<UInt8>, from start: Int, to stop: Int) -> Float? {
        let word = UInt64(littleEndian: UnsafeRawPointer(bytes + (stop &- 8)).loadUnaligned(as: UInt64.self))
        let negative = bytes[start] == UInt8(ascii: "-")
        // Bit offsets in `word`: the number's first digit, its point (or the end), the end.
        let first = UInt64(truncatingIfNeeded: 8 &- (stop &- start) &+ (negative ? 1 : 0)) &* 8
        // Bytes of the number that are not digits: '-', '.' and '/' (the only bytes from '-' to
        // '9' without bit 4: `scanRow` ends a number at any other), the sign left out. At most
        // one may remain: the point.
        let marks = ~word & 0x1010_1010_1010_1010 & (~0 &<< first)
        guard marks & (marks &- 1) == 0, first < 64 else { return nil }
        let digits = word & 0x0F0F_0F0F_0F0F_0F0F & (~0 &<< first)
        var point: UInt64 = 64
        var fractions = 0
        var mantissaDigits = digits
        if marks != 0 {
            point = UInt64(truncatingIfNeeded: marks.trailingZeroBitCount &- 4)
            guard (word &>> point) & 0xFF == UInt64(UInt8(ascii: ".")), point < 56 else { return nil }
            fractions = Int(truncatingIfNeeded: (56 &- point) &>> 3)
            // The integer digits move up one byte, over the point.
            mantissaDigits = (digits & (~0 &<< (point &+ 8))) | ((digits & ((1 &<< point) &- 1)) &<< 8)
        }
        // At least one integer digit, and no leading zero before another.
        guard point > first, point == first &+ 8 || (word &>> first) & 0xFF != UInt64(UInt8(ascii: "0")) else { return nil }
        guard let magnitude = scaled(eightDigits(mantissaDigits), fractions: fractions) else { return nil }
        return Float(bitPattern: magnitude.bitPattern | (negative ? 0x8000_0000 : 0))
    }

    /// `tinyNumber` for up to 16 bytes (17 readable from `start`), digit runs read by
    /// `leadingDigits`. Out of line: the loop that calls it keeps `tinyNumber` inlined.
    @inline(never)
    private static func shortNumber(_ bytes: UnsafePointer<UInt8>, from start: Int, to stop: Int) -> Float? {
        let negative = bytes[start] == UInt8(ascii: "-")
        let digits = start &+ (negative ? 1 : 0)
        let (integers, integer) = leadingDigits(bytes + digits)
        // No leading zeros: `0` stands alone before the fraction.
        guard integers > 0, integers < 8, integers == 1 || bytes[digits] != UInt8(ascii: "0") else { return nil }
        let point = digits &+ integers
        var mantissa = integer
        var fractions = 0
        if point != stop {
            guard bytes[point] == UInt8(ascii: ".") else { return nil }
            let (count, value) = leadingDigits(bytes + (point &+ 1))
            guard count > 0, point &+ 1 &+ count == stop else { return nil }
            mantissa = mantissa &* integerPower(count) &+ value
            fractions = count
        }
        guard let magnitude = scaled(mantissa, fractions: fractions) else { return nil }
        return Float(bitPattern: magnitude.bitPattern | (negative ? 0x8000_0000 : 0))
    }

    /// `mantissa` × 10^-`fractions` (at most 15 digits, `fractions` at most 8) rounded
    /// correctly to `Float`, or nil on a midpoint only `Float(String)` settles.
    @inline(__always)
    private static func scaled(_ mantissa: UInt64, fractions: Int) -> Float? {
        if mantissa <= 1 << 24 {
            // Both operands exact in Float (10^10 is): one correctly rounded division, Clinger's
            // fast path in single precision.
            return Float(mantissa) / floatPower(fractions)
        }
        // Exact in a double; `exact` says why the multiplication rounds right away from a
        // Float midpoint, and takes the division near one.
        let near = Double(mantissa) * inversePower(fractions)
        guard near.bitPattern & 0x1FFF_FFFF &- (0x1000_0000 &- 8) > 16 else {
            return exact(mantissa: mantissa, exponent: -fractions, negative: false)
        }
        return Float(near)
    }

    /// 10^n in `Float` for n in 0 ... 10, every one exact (a switch: a constant table).
    @inline(__always)
    private static func floatPower(_ n: Int) -> Float {
        switch n {
        case 0: 1e0
        case 1: 1e1
        case 2: 1e2
        case 3: 1e3
        case 4: 1e4
        case 5: 1e5
        case 6: 1e6
        case 7: 1e7
        case 8: 1e8
        case 9: 1e9
        default: 1e10
        }
    }

    /// A bit for each of the 64 bytes at `bytes` (bit k for byte k) that is not one of
    /// `-./0123456789`: the bytes that end a number.
    @inline(__always)
    static func nonNumberBytes(_ bytes: UnsafePointer<UInt8>) -> UInt64 {
        var mask: UInt64 = 0
        for word in 0 ..< 8 {
            let value = UInt64(littleEndian: UnsafeRawPointer(bytes + word &* 8).loadUnaligned(as: UInt64.self))
            let low = value & 0x7F7F_7F7F_7F7F_7F7F
            // Per byte, with no carry between bytes: the top bit says low >= 0x2D ('-'), and
            // low >= 0x3A (past '9'); a byte with its own top bit set is no ASCII at all.
            let inside = (low &+ 0x5353_5353_5353_5353) & ~(low &+ 0x4646_4646_4646_4646) & ~value & 0x8080_8080_8080_8080
            let outside = (~inside & 0x8080_8080_8080_8080) &>> 7
            // The eight flags (bits 0, 8, ... 56) gathered into bits 56 ... 63.
            mask |= ((outside &* 0x0102_0408_1020_4080) &>> 56) &<< UInt64(word &* 8)
        }
        return mask
    }
}
