import AxonHTTP
import ModelKit

/// What a `limits.*` number counts, for the message of a refused request.
public enum LimitUnit: Sendable {
    /// Rows, classes, layers and other plain counts.
    case count
    /// Bytes of memory or body, written with a binary prefix as well.
    case bytes
    /// Floating-point operations.
    case flops
}

extension APIError {
    /// 413 `limit_exceeded`: what a request asks for would need more than a `limits.*` key
    /// allows. The message names what was measured, what the request needs, the key and its
    /// limit, so the client can shrink the request or the operator raise the key:
    /// `this predict request needs 1.5 GiB (1610612736 bytes); limits.max_request_bytes is 512 MiB (536870912 bytes)`.
    public static func limitExceeded(key: String, limit: Int, needed: Int, what: String, unit: LimitUnit = .count) -> APIError {
        APIError(
            status: .contentTooLarge, code: "limit_exceeded",
            message: "\(what) needs \(unit.format(needed)); \(key) is \(unit.format(limit))")
    }
}

extension APIError {
    /// 413 `limit_exceeded` unless `cost` fits both budgets: its bytes within `bytes.limit`
    /// (the key `bytes.key`) and its floating-point operations within `flops.limit`.
    static func checkBudget(
        _ cost: ComputeCost, bytes: (key: String, limit: Int), flops: (key: String, limit: Int), what: @autoclosure () -> String
    ) throws(APIError) {
        guard cost.bytes <= bytes.limit else {
            throw .limitExceeded(key: bytes.key, limit: bytes.limit, needed: cost.bytes, what: what(), unit: .bytes)
        }
        guard cost.flops <= flops.limit else {
            throw .limitExceeded(key: flops.key, limit: flops.limit, needed: cost.flops, what: what(), unit: .flops)
        }
    }
}

extension LimitUnit {
    /// `12`, `1.5 GiB (1610612736 bytes)` or `3.2e+12 floating-point operations`.
    func format(_ value: Int) -> String {
        switch self {
        case .count:
            return String(value)
        case .flops:
            return value < 1_000_000 ? "\(value) floating-point operations" : "\(Self.scientific(Double(value))) floating-point operations"
        case .bytes:
            let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
            var scaled = Double(value)
            var unit = -1
            while scaled >= 1024, unit + 1 < units.count {
                scaled /= 1024
                unit += 1
            }
            guard unit >= 0 else { return "\(value) bytes" }
            let rounded = (scaled * 10).rounded() / 10
            let text = rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
            return "\(text) \(units[unit]) (\(value) bytes)"
        }
    }

    /// Two significant digits and an exponent: `3.2e+12`.
    private static func scientific(_ value: Double) -> String {
        var exponent = 0
        var mantissa = value
        while mantissa >= 10 {
            mantissa /= 10
            exponent += 1
        }
        let rounded = (mantissa * 10).rounded() / 10
        return "\(rounded)e+\(exponent)"
    }
}
