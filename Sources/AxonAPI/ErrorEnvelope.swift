import Foundation

/// The JSON error envelope every error response uses: `{"error": {"code": "...", "message": "..."}}`.
public struct ErrorEnvelope: Codable, Sendable, Equatable {
    /// The error body.
    public struct Body: Codable, Sendable, Equatable {
        /// Machine-readable code.
        public var code: String
        /// Human-readable message.
        public var message: String

        /// A body from its fields.
        public init(code: String, message: String) {
            self.code = code
            self.message = message
        }
    }

    /// The error.
    public var error: Body

    /// An envelope for `code` and `message`.
    public init(code: String, message: String) {
        error = Body(code: code, message: message)
    }

    /// The encoded envelope bytes.
    public func encoded() -> [UInt8] {
        // Two String fields always encode; the fallback only satisfies the type checker.
        (try? APIJSON.encode(self)) ?? Array(#"{"error":{"code":"internal","message":"internal server error"}}"#.utf8)
    }
}
