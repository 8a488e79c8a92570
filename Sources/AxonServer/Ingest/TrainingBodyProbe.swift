#if canImport(Glibc)
import Glibc
#endif

/// Training bodies read exactly as `POST /train` reads them, without a server: for
/// `axon-bench ingest`, which times the parse alone (body bytes to the rows in memory).
public enum TrainingBodyProbe {
    /// What a parse produced.
    public struct Parsed: Sendable {
        /// Data rows read.
        public var rows: Int
        /// Input columns of each row.
        public var columns: Int
        /// Whether the rows became a table (text or missing cells) rather than a matrix.
        public var isTable: Bool
        /// Body bytes read.
        public var bytes: Int
    }

    /// What went wrong reading the file itself.
    public struct FileError: Error, CustomStringConvertible {
        /// The path and the errno.
        public var description: String
    }

    /// Parses the body in the file at `path` (CSV when `csv`, else JSON), read with `read(2)`
    /// into one buffer of `chunkBytes` and handed over chunk by chunk, as libmicrohttpd hands a
    /// streamed upload to the training routes: nothing but the rows and one chunk is held.
    public static func parse(file path: String, csv: Bool, target: String?, chunkBytes: Int, limits: ServerLimits = ServerLimits()) throws -> Parsed {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileError(description: "\(path): errno \(errno)") }
        defer { close(descriptor) }
        var status = stat()
        let expected = fstat(descriptor, &status) == 0 ? Int(status.st_size) : nil
        var body = TrainingBodyReader(csv: csv, target: target, limits: limits, expectedBytes: expected)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: max(chunkBytes, 1))
        defer { buffer.deallocate() }
        var total = 0
        while true {
            let count = read(descriptor, buffer.baseAddress, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw FileError(description: "\(path): errno \(errno)") }
            if count == 0 { break }
            total += count
            try body.consume(UnsafeBufferPointer(rebasing: buffer[0 ..< count]))
        }
        let train = try body.finish()
        let shape = train.inputShape ?? [0, 0]
        return Parsed(rows: shape.first ?? 0, columns: shape.count > 1 ? shape[1] : 0, isTable: train.table != nil, bytes: total)
    }
}
