/// Decimal numbers read straight from body bytes into `Float`, rounded exactly as
/// `Float(String)` rounds them (correctly, to nearest even), without building a `String`.
///
/// The fast path covers the forms training data is written in: an optional sign, digits with
/// an optional fraction, an optional exponent. When at most 19 significant digits make a
/// mantissa below 2^53 and the decimal exponent is within ±22, both operands of
/// `mantissa × 10^exponent` (or `÷`) are exact doubles and the one operation rounds correctly
/// (Clinger's fast path). Rounding that double to `Float` is then the correct `Float` unless
/// the double landed exactly on a midpoint between two floats (a second rounding could then
/// go the wrong way): those, and every other spelling, return nil and the caller asks
/// `Float(String)`. Results of the fast path are finite and normal: |value| lies within
/// 1e-22 ... 2^53 × 1e22, or is zero.
enum DecimalFloat {
    /// 10^exponent for 0 ... 22: every one exact in `Double`. A switch over constants, which
    /// the optimizer turns into a load from a constant table; a `static let` tuple read with
    /// `withUnsafeBytes(of:)` was copied onto the stack at every call (23 stores a number).
    @inline(__always)
    static func power(_ exponent: Int) -> Double {
        switch exponent {
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
        case 10: 1e10
        case 11: 1e11
        case 12: 1e12
        case 13: 1e13
        case 14: 1e14
        case 15: 1e15
        case 16: 1e16
        case 17: 1e17
        case 18: 1e18
        case 19: 1e19
        case 20: 1e20
        case 21: 1e21
        default: 1e22
        }
    }

    /// 10^-exponent for 0 ... 22, each the double nearest (not exact: the division by `power`
    /// stays the reference). A switch for the same reason as `power`.
    @inline(__always)
    static func inversePower(_ exponent: Int) -> Double {
        switch exponent {
        case 0: 1e-0
        case 1: 1e-1
        case 2: 1e-2
        case 3: 1e-3
        case 4: 1e-4
        case 5: 1e-5
        case 6: 1e-6
        case 7: 1e-7
        case 8: 1e-8
        case 9: 1e-9
        case 10: 1e-10
        case 11: 1e-11
        case 12: 1e-12
        case 13: 1e-13
        case 14: 1e-14
        case 15: 1e-15
        case 16: 1e-16
        case 17: 1e-17
        case 18: 1e-18
        case 19: 1e-19
        case 20: 1e-20
        case 21: 1e-21
        default: 1e-22
        }
    }

    /// Reads the digits after a decimal point into `mantissa` (counting the significant ones
    /// and lowering `exponent` by one each) and returns how many there were; both number
    /// paths share it.
    @inline(__always)
    static func scanFraction(
        _ bytes: UnsafePointer<UInt8>, _ i: inout Int, _ end: Int, _ mantissa: inout UInt64, _ significant: inout Int,
        _ exponent: inout Int
    ) -> Int {
        let fractionStart = i
        while i < end {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { break }
            if mantissa != 0 || digit != 0 { significant &+= 1 }
            mantissa = mantissa &* 10 &+ UInt64(digit)
            exponent &-= 1
            i &+= 1
        }
        return i &- fractionStart
    }

    /// The number at the start of `bytes[start ..< end]` and where it stops, or nil when the
    /// bytes there are not a number this path rounds exactly (the caller then reads the whole
    /// token with `Float(String)`). It stops at the first byte that cannot continue the
    /// number; whether that byte ends the token is the caller's business.
    @inline(__always)
    static func parse(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (value: Float, end: Int)? {
        var i = start
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i &+= 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        let integerStart = i
        while i < end {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { break }
            // Leading zeros are not significant; they cannot overflow the mantissa.
            if mantissa != 0 || digit != 0 { significant &+= 1 }
            mantissa = mantissa &* 10 &+ UInt64(digit)
            i &+= 1
        }
        var digits = i &- integerStart
        if i < end, bytes[i] == UInt8(ascii: ".") {
            i &+= 1
            digits &+= scanFraction(bytes, &i, end, &mantissa, &significant, &exponent)
        }
        // Past 19 digits the mantissa wrapped: not exact.
        guard digits > 0, significant <= 19 else { return nil }
        if i < end, bytes[i] | 0x20 == UInt8(ascii: "e") {
            guard let (value, stop) = exponentPart(bytes, from: i &+ 1, to: end) else { return nil }
            exponent &+= value
            i = stop
        }
        guard let value = exact(mantissa: mantissa, exponent: exponent, negative: negative) else { return nil }
        return (value, i)
    }

    /// The exponent after an `e`: optional sign, then digits (at most 6: far outside the fast
    /// range, and `value` never overflows). Nil without a digit.
    @inline(__always)
    static func exponentPart(_ bytes: UnsafePointer<UInt8>, from start: Int, to end: Int) -> (value: Int, end: Int)? {
        var i = start
        var negative = false
        if i < end, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
            negative = bytes[i] == UInt8(ascii: "-")
            i &+= 1
        }
        let digitsStart = i
        var value = 0
        while i < end {
            let digit = bytes[i] &- UInt8(ascii: "0")
            guard digit <= 9 else { break }
            value = value &* 10 &+ Int(digit)
            i &+= 1
            if i &- digitsStart > 6 { return nil }
        }
        guard i > digitsStart else { return nil }
        return (negative ? -value : value, i)
    }

    /// `mantissa × 10^exponent` as the correctly rounded Float, or nil outside the fast path.
    @inline(__always)
    static func exact(mantissa: UInt64, exponent: Int, negative: Bool) -> Float? {
        guard mantissa <= 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
        if exponent < 0 {
            // A multiplication instead of the division: off from the exact quotient by under
            // 4 units in the last place of the double (two roundings of 2^-53 each), so when
            // the double lies more than 8 units from a Float midpoint, the exact quotient is
            // on the same side of it and rounds to the same Float.
            let near = Double(mantissa) * inversePower(-exponent)
            if near.bitPattern & 0x1FFF_FFFF &- (0x1000_0000 &- 8) > 16 {
                let magnitude = Float(near)
                return Float(bitPattern: magnitude.bitPattern | (negative ? 0x8000_0000 : 0))
            }
        }
        let exact = Double(mantissa)
        var double = exponent < 0 ? exact / power(-exponent) : exact * power(exponent)
        // A double whose 29 bits below Float's precision read 1000...0 sits on a Float midpoint.
        guard double.bitPattern & 0x1FFF_FFFF != 0x1000_0000 else { return nil }
        if negative { double = -double }
        return Float(double)
    }

    /// `token` (a whole field, without blanks or quotes) as a number, the way `Float(String)`
    /// reads it: nil when it is not a number. A number outside Float's range (`1e99`) is
    /// `.infinity` (`Float(String)` refuses it, `Double(String)` does not), for the caller to
    /// refuse as not finite.
    static func number(_ token: UnsafeBufferPointer<UInt8>) -> Float? {
        guard let base = token.baseAddress, !token.isEmpty else { return nil }
        if let (value, end) = parse(base, from: 0, to: token.count), end == token.count { return value }
        // Only a sign, a digit, a dot, or the i/n of inf and nan can start what Float(String) takes.
        let first = token[0] == UInt8(ascii: "-") || token[0] == UInt8(ascii: "+") ? (token.count > 1 ? token[1] : 0) : token[0]
        switch first | 0x20 {
        case UInt8(ascii: "0") ... UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "i"), UInt8(ascii: "n"): break
        default: return nil
        }
        let text = String(decoding: token, as: UTF8.self)
        return Float(text) ?? (Double(text) != nil ? .infinity : nil)
    }
}
