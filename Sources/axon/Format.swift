import Foundation

/// How `axon` writes numbers for people.
enum Format {
    /// A loss or metric: 4 significant digits ("0.4123", "1.235e-05").
    static func number(_ value: Double?) -> String {
        guard let value else { return "-" }
        return String(format: "%.4g", value)
    }

    /// A throughput: "950 rows/s", "12.3k rows/s", "4.1M rows/s".
    static func rate(_ value: Double?) -> String {
        guard let value, value.isFinite else { return "- rows/s" }
        switch value {
        case ..<1000: return String(format: "%.0f rows/s", value)
        case ..<1_000_000: return String(format: "%.1fk rows/s", value / 1000)
        default: return String(format: "%.1fM rows/s", value / 1_000_000)
        }
    }

    /// A duration: "0.08s", "4.2s", "42s", "3m05s", "1h02m".
    static func duration(_ seconds: Double?) -> String {
        guard let seconds, seconds.isFinite, seconds >= 0 else { return "-" }
        if seconds < 1 { return String(format: "%.2fs", seconds) }
        if seconds < 10 { return String(format: "%.1fs", seconds) }
        let whole = Int(seconds.rounded())
        if whole < 60 { return "\(whole)s" }
        if whole < 3600 { return String(format: "%dm%02ds", whole / 60, whole % 60) }
        return String(format: "%dh%02dm", whole / 3600, whole % 3600 / 60)
    }

    /// Rows of cells as columns padded to their widest cell, two spaces apart.
    static func table(_ rows: [[String]]) -> [String] {
        var widths: [Int] = []
        for row in rows {
            for (k, cell) in row.enumerated() {
                if k == widths.count { widths.append(0) }
                widths[k] = max(widths[k], cell.count)
            }
        }
        return rows.map { row in
            row.enumerated().map { k, cell in
                k == row.count - 1 ? cell : cell.padding(toLength: widths[k], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
    }
}
