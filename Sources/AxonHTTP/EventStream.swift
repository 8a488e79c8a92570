import CHTTPShim
#if canImport(Glibc)
import Glibc
#endif

/// The body of a streamed response (`text/event-stream`), written from any thread while the
/// shim sends it. Writes are buffered up to a capacity; the connection sleeps while nothing is
/// buffered, so an idle stream costs neither a thread nor polling.
public final class EventStream: @unchecked Sendable {
    /// What became of a write.
    public enum WriteResult: Sendable, Equatable {
        /// Buffered for sending.
        case written
        /// Refused: the client reads more slowly than events come and the buffer is full.
        case full
        /// The stream has ended: finished, the client went away, or the server is draining.
        case closed
    }

    // Thread safety lives in the shim: every hs_stream call takes the stream's own lock.
    let handle: OpaquePointer

    /// A stream buffering at most `capacity` unsent bytes (at least one).
    public init(capacity: Int) {
        var out: OpaquePointer?
        let created = hs_stream_create(max(1, capacity), &out)
        guard created == 0, let out else { fatalError("hs_stream_create failed: \(created)") }
        handle = out
    }

    deinit {
        hs_stream_release(handle)
    }

    /// Appends `bytes`; `force` writes them even past the capacity (a final event).
    @discardableResult
    public func write(_ bytes: [UInt8], force: Bool = false) -> WriteResult {
        let result = bytes.withUnsafeBytes { hs_stream_write(handle, $0.baseAddress, $0.count, force ? 1 : 0) }
        switch result {
        case 0: return .written
        case -ENOBUFS: return .full
        default: return .closed
        }
    }

    /// Appends `text` as UTF-8.
    @discardableResult
    public func write(_ text: String, force: Bool = false) -> WriteResult {
        write(Array(text.utf8), force: force)
    }

    /// Ends the body once what is buffered has been sent.
    public func finish() {
        hs_stream_finish(handle)
    }

    /// Whether writes can still reach the client.
    public var isOpen: Bool { hs_stream_is_open(handle) != 0 }
}
