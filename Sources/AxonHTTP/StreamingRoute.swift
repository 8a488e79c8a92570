/// Receives one request's body chunk by chunk, in order, as it arrives, then answers it.
///
/// `receive` runs on the connection's libmicrohttpd thread, between reads of the socket: the
/// body is never stored whole, and its parsing overlaps its arrival. Keep each call to work
/// proportional to its chunk. The calls never overlap, and `finish` runs (from a `Task`) only
/// after the last one returned, so a sink may keep its state in plain stored properties.
public protocol BodySink: AnyObject, Sendable {
    /// One chunk of the body, valid only during the call. Throwing stops the body: the rest is
    /// read and dropped, and the error answers the request.
    func receive(_ chunk: UnsafeBufferPointer<UInt8>) throws

    /// The answer, once the whole body went through `receive`.
    func finish() async throws -> Response
}

/// A route whose body is read by a `BodySink` as it arrives, within a body limit of its own
/// (training data: gigabytes, where a prediction gets `limits.max_body_bytes`).
public struct StreamingRoute: Sendable {
    /// Largest body the route takes; a longer one is answered 413 naming `limitKey`.
    public var maxBodyBytes: UInt64
    /// The configuration key of `maxBodyBytes`, for the 413.
    public var limitKey: String
    /// Makes the sink for one request from its head (headers, query, route parameters), on the
    /// libmicrohttpd thread; throwing refuses the request before a byte of its body is read.
    public var open: @Sendable (Request) throws -> any BodySink

    /// A route taking bodies up to `maxBodyBytes` (`limitKey`) into the sinks `open` makes.
    public init(maxBodyBytes: UInt64, limitKey: String, open: @escaping @Sendable (Request) throws -> any BodySink) {
        self.maxBodyBytes = maxBodyBytes
        self.limitKey = limitKey
        self.open = open
    }

    /// 413: the body is longer than the route takes.
    var tooLarge: APIError {
        APIError(
            status: .contentTooLarge, code: "content_too_large",
            message: "request body exceeds the limit of \(maxBodyBytes) bytes for this route (\(limitKey))")
    }
}
