extension String {
    /// The string for an error message: whole when short, else its first 48 characters and its
    /// length, so an answer never echoes a megabyte a client sent.
    public var excerpt: String {
        guard utf8.count > 64 else { return self }
        return "\(prefix(48))… (\(utf8.count) bytes)"
    }
}
