import AxonHTTP
import AxonSupport
#if canImport(Glibc)
import Glibc
#endif

/// Numbers: integers exact over `UInt64`, any other number through a 64-bit mantissa (Clinger's
/// fast path) or `strtod`, NaN, Infinity and overlong tokens refused naming where they are.
extension JSONScanner {
    /// Reads a non-negative integer (e.g. a version or a seed), within `UInt64`.
    mutating func readUnsigned(at path: @autoclosure () -> String) throws(APIError) -> UInt64 {
        skipWhitespace()
        // Plain digits are read exactly over the whole UInt64 range (through a Double, integers
        // above 2^53 would lose their last digits); other spellings (1e3, 5.0, -0) take the
        // number path below.
        var end = index
        var exact: UInt64 = 0
        var fits = true
        while end < bytes.count, bytes[end] >= UInt8(ascii: "0"), bytes[end] <= UInt8(ascii: "9"), fits {
            let (times10, overflow) = exact.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times10.addingReportingOverflow(UInt64(bytes[end] - UInt8(ascii: "0")))
            fits = !overflow && !carry
            exact = sum
            end += 1
        }
        let plain = fits && end > index && (bytes[index] != UInt8(ascii: "0") || end == index + 1)
            && (end == bytes.count || (bytes[end] != UInt8(ascii: ".") && bytes[end] | 0x20 != UInt8(ascii: "e")))
        if plain {
            index = end
            return exact
        }
        let value = try readNumber(at: path())
        guard value >= 0, value < 18_446_744_073_709_551_616.0, value.rounded() == value else {
            throw .badRequest("\(path()) must be an integer in 0...\(UInt64.max), got \(value)")
        }
        return UInt64(value)
    }

    /// Reads a number, rejecting NaN/Infinity tokens with a message that says so, and (unless
    /// `float32` is false, for a value that is only skipped) one outside the 32-bit float range.
    mutating func readNumber(at path: @autoclosure () -> String, float32: Bool = true) throws(APIError) -> Double {
        switch scanNumber(float32: float32) {
        case .success(let value): return value
        case .failure(let failure): throw numberError(failure, at: path())
        }
    }

    /// Why `scanNumber` found no acceptable number; the scanner's index is left where the
    /// message about it should point.
    enum NumberFailure: Error {
        case endOfBody
        case nonFinite(negative: Bool, nan: Bool)
        case notANumber
        case noFractionDigit
        case noExponentDigit
        case tooLong(Range<Int>)
        case outOfFloatRange(Range<Int>)
    }

    /// The error a number's failure answers, naming `path`.
    func numberError(_ failure: NumberFailure, at path: String) -> APIError {
        switch failure {
        case .endOfBody: syntaxError(expected: "a number", at: path)
        case .nonFinite(let negative, let nan):
            .badRequest("\(path) is \(negative ? "-" : "")\(nan ? "NaN" : "Infinity"); only finite numbers are accepted", code: "non_finite_number")
        case .notANumber: typeError(path, expected: "a number")
        case .noFractionDigit: syntaxError(expected: "a digit after '.'", at: path)
        case .noExponentDigit: syntaxError(expected: "a digit in the exponent", at: path)
        case .tooLong(let range):
            .limitExceeded(
                key: "limits.max_number_bytes", limit: limits.maxNumberBytes, needed: range.count,
                what: "the number at \(path.excerpt) (\(token(range)))")
        case .outOfFloatRange(let range):
            .badRequest("\(path) is \(token(range)), outside the 32-bit float range", code: "non_finite_number")
        }
    }

    /// Scans a number without naming where it is: the hot path of every tensor, where building
    /// the element's path for each number would cost more than parsing it. Callers turn a
    /// failure into an error with `numberError(_:at:)`.
    @inline(__always)
    mutating func scanNumber(float32: Bool = true) -> Result<Double, NumberFailure> {
        skipWhitespace()
        let start = index
        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        if let failure = numberStartFailure(negative: negative, start: start) { return .failure(failure) }
        // Digits accumulate into a 64-bit mantissa; beyond 19 digits or a large exponent the
        // token goes to strtod, which rounds correctly in every case.
        var significand = Significand()
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            scanDigits(into: &significand, fraction: false)
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            scanDigits(into: &significand, fraction: true)
            guard index > fractionStart else { return .failure(.noFractionDigit) }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            guard let exponent = scanExponent() else { return .failure(.noExponentDigit) }
            significand.exponent += exponent
        }
        guard index - start <= limits.maxNumberBytes else { return .failure(.tooLong(start ..< index)) }
        let result = significand.value(negative: negative) ?? slowParse(start ..< index)
        guard !float32 || result.isFinite && abs(result) <= Double(Float.greatestFiniteMagnitude) else {
            return .failure(.outOfFloatRange(start ..< index))
        }
        return .success(result)
    }

    /// Checks the first byte of a number after its sign: nil for a digit, else why it is none
    /// (with `index` back at `start` when the value is no number at all).
    @inline(__always)
    private mutating func numberStartFailure(negative: Bool, start: Int) -> NumberFailure? {
        guard index < bytes.count else { return .endOfBody }
        let first = bytes[index]
        if first == UInt8(ascii: "N") || first == UInt8(ascii: "I") || first == UInt8(ascii: "i")
            || first == UInt8(ascii: "n") && !negative && !isNullAhead()
        {
            return .nonFinite(negative: negative, nan: first == UInt8(ascii: "N") || first == UInt8(ascii: "n"))
        }
        guard first >= UInt8(ascii: "0"), first <= UInt8(ascii: "9") else {
            index = start
            return .notANumber
        }
        return nil
    }

    /// Reads a run of digits into `significand`; in a fraction each one kept lowers its
    /// exponent.
    @inline(__always)
    private mutating func scanDigits(into significand: inout Significand, fraction: Bool) {
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            if significand.digits < 19 {
                significand.mantissa = significand.mantissa &* 10 &+ UInt64(bytes[index] &- UInt8(ascii: "0"))
                if significand.mantissa != 0 { significand.digits += 1 }
                if fraction { significand.exponent -= 1 }
            } else {
                significand.exact = false
            }
            index += 1
        }
    }

    /// The exponent after the `e` at `index` (both consumed), or nil without a digit. It
    /// stops growing past 100,000: far outside any double, and strtod says what it is.
    @inline(__always)
    private mutating func scanExponent() -> Int? {
        index += 1
        var negative = false
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            negative = bytes[index] == UInt8(ascii: "-")
            index += 1
        }
        let exponentStart = index
        var value = 0
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
            if value < 100_000 { value = value * 10 + Int(bytes[index] - UInt8(ascii: "0")) }
            index += 1
        }
        guard index > exponentStart else { return nil }
        return negative ? -value : value
    }

    /// The bytes of a token for an error message: a short excerpt, never megabytes.
    private func token(_ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self).excerpt
    }

    private func isNullAhead() -> Bool {
        index + 4 <= bytes.count && bytes[index + 1] == UInt8(ascii: "u") && bytes[index + 2] == UInt8(ascii: "l")
    }

    private func slowParse(_ range: Range<Int>) -> Double {
        let length = range.count
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: length + 1) { buffer in
            for k in 0 ..< length { buffer[k] = CChar(bitPattern: bytes[range.lowerBound + k]) }
            buffer[length] = 0
            return strtod(buffer.baseAddress!, nil)
        }
    }
}

/// The digits of a number as `JSONScanner.scanNumber` reads them: at most 19 significant
/// ones in `mantissa`, `exact` while no more came.
private struct Significand {
    var mantissa: UInt64 = 0
    var digits = 0
    var exponent = 0
    var exact = true

    /// The number when both operands are exact in a double, after one correctly rounded
    /// operation (Clinger's fast path); nil otherwise.
    @inline(__always)
    func value(negative: Bool) -> Double? {
        guard exact, mantissa < 1 << 53, exponent >= -22, exponent <= 22 else { return nil }
        let magnitude = exponent < 0 ? Double(mantissa) / DecimalFloat.power(-exponent) : Double(mantissa) * DecimalFloat.power(exponent)
        return negative ? -magnitude : magnitude
    }
}
