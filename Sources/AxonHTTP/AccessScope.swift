/// What a route requires of the caller's bearer token.
public enum AccessScope: String, Sendable, Equatable, CustomStringConvertible {
    /// No token needed (probes, CORS preflights, and `/metrics` unless protected).
    case open
    /// The read token or the admin token: predict, evaluate, metadata, model listings.
    case read
    /// Only the admin token: train, delete, rollback, cancel jobs.
    case admin

    /// The scope name.
    public var description: String { rawValue }
}
