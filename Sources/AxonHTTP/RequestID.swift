import Synchronization

/// Request ids: the client's `X-Request-Id` when it is safe to echo, else a generated one.
public enum RequestID {
    private static let counter = Atomic<UInt64>(0)
    // A per-process random prefix keeps ids unique across restarts and replicas.
    private static let prefix: String = {
        var generator = SystemRandomNumberGenerator()
        let value = UInt32.random(in: .min ... .max, using: &generator)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }()

    /// Longest client-supplied id that is echoed; longer ones are replaced.
    public static let maximumLength = 128

    private static let prefixBytes = Array(prefix.utf8)
    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// A new process-unique id such as `3fa9c01e-1b`.
    public static func generate() -> String {
        let n = counter.add(1, ordering: .relaxed).newValue
        // Formatted by hand into one buffer: this runs for every request without an id.
        let digits = max(1, (64 - n.leadingZeroBitCount + 3) / 4)
        return String(unsafeUninitializedCapacity: prefixBytes.count + 1 + digits) { buffer in
            var i = 0
            for byte in prefixBytes {
                buffer[i] = byte
                i += 1
            }
            buffer[i] = UInt8(ascii: "-")
            i += 1
            for shift in stride(from: (digits - 1) * 4, through: 0, by: -4) {
                buffer[i] = hexDigits[Int((n >> UInt64(shift)) & 0xF)]
                i += 1
            }
            return i
        }
    }

    /// The client's id when it is 1...128 visible ASCII characters (safe to log and echo), else nil.
    public static func sanitized(_ candidate: String?) -> String? {
        guard let candidate, !candidate.isEmpty, candidate.utf8.count <= maximumLength else { return nil }
        guard candidate.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else { return nil }
        return candidate
    }
}
