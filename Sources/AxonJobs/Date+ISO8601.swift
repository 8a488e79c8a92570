import Foundation

extension Date {
    /// ISO 8601 in UTC, to the second.
    public var iso8601: String { ISO8601Format() }
}
