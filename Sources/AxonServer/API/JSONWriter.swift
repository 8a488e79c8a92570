/// Writes a JSON body into one byte array reserved up front: the inference routes answer with
/// it instead of `JSONEncoder`, appending keys, strings and floats in place.
struct JSONWriter {
    /// The bytes written so far.
    private(set) var bytes: [UInt8]

    /// A writer whose buffer holds `capacity` bytes before it grows.
    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends raw, already valid JSON text.
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte of punctuation.
    mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends `"text"` with the escapes JSON requires.
    mutating func string(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case UInt8(ascii: "\\"): bytes.append(UInt8(ascii: "\\")); bytes.append(byte)
            case 0x0A: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "\\")); bytes.append(UInt8(ascii: "t"))
            case 0 ..< 0x20:
                let hex: [UInt8] = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 15)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends an integer.
    mutating func integer<T: BinaryInteger>(_ value: T) {
        // Small strings live inline: no heap allocation for the digits.
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Appends the shortest text that reads back as exactly `value`. Callers guarantee it is
    /// finite (`Model` outputs are checked before writing): JSON has no NaN or Infinity.
    mutating func float(_ value: Float) {
        precondition(value.isFinite, "JSON cannot carry a non-finite number")
        // Swift's description is the shortest round-tripping text ("1.0", "1e-05"), valid JSON
        // for every finite value, and short enough to stay inline without a heap allocation.
        bytes.append(contentsOf: value.description.utf8)
    }

    /// Appends `[v0,v1,...]` for `count` floats at `values`.
    mutating func floatArray(_ values: UnsafeBufferPointer<Float>) {
        bytes.append(UInt8(ascii: "["))
        for (k, value) in values.enumerated() {
            if k > 0 { bytes.append(UInt8(ascii: ",")) }
            float(value)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Appends `,"key":`, or `"key":` when `first`.
    mutating func key(_ name: StaticString, first: Bool = false) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        raw(name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
    }
}
