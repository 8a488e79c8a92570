/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// `2026-11-29T10:52:47.123456Z info axond: request http.method=GET ...`, for people.
    case text
    /// One JSON object per line: `timestamp`, `level`, `label`, `message`, `metadata`, for machines.
    case json
}
