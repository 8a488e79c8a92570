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
    }

    /// Parses `body` (CSV when `csv`, else JSON) handed over in chunks of at most `chunkBytes`,
    /// as libmicrohttpd hands a streamed upload to the training routes.
    public static func parse(
        _ body: UnsafeBufferPointer<UInt8>, csv: Bool, target: String?, chunkBytes: Int, limits: ServerLimits = ServerLimits()
    ) throws -> Parsed {
        var train = TrainRequest()
        var chunks: [UnsafeBufferPointer<UInt8>] = []
        var start = 0
        while start < body.count {
            let end = min(body.count, start + max(chunkBytes, 1))
            chunks.append(UnsafeBufferPointer(rebasing: body[start ..< end]))
            start = end
        }
        if csv {
            var reader = CSVTrainingReader(target: target, limits: limits, expectedBytes: body.count)
            for chunk in chunks { try reader.consume(chunk) }
            try reader.finish(into: &train)
        } else {
            var reader = JSONTrainingReader(limits: limits)
            for chunk in chunks { try reader.consume(chunk) }
            train = try reader.finish()
        }
        let shape = train.inputShape ?? [0, 0]
        return Parsed(rows: shape.first ?? 0, columns: shape.count > 1 ? shape[1] : 0, isTable: train.table != nil)
    }
}
