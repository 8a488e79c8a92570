import Foundation
import ModelKit

/// A numeric CSV as written by the peers' `data.py`: one header line (`f0,...,label`), then
/// rows of floats whose last column is the label or target.
struct CSVTable {
    /// Every column but the last.
    let features: Matrix
    /// The last column.
    let labels: [Float]

    var rowCount: Int { labels.count }
    var featureCount: Int { features.columns }

    /// Errors reading the file; each names the line so the file can be fixed.
    enum ReadError: Error, CustomStringConvertible {
        case empty(path: String)
        case badNumber(path: String, line: Int)
        case ragged(path: String, line: Int, expected: Int, got: Int)

        var description: String {
            switch self {
            case .empty(let path): "\(path): no header or no rows"
            case .badNumber(let path, let line): "\(path):\(line): not a number"
            case .ragged(let path, let line, let expected, let got): "\(path):\(line): \(got) columns, header has \(expected)"
            }
        }
    }

    /// Parses the file with `strtof` over the raw bytes: the synthetic set has ten million
    /// numbers, which `Float(String)` on split substrings would take several seconds for.
    init(contentsOf url: URL) throws {
        var bytes = [UInt8](try Data(contentsOf: url))
        bytes.append(0)
        let path = url.path
        var values = [Float]()
        var columns = 0
        var rows = 0
        try bytes.withUnsafeMutableBufferPointer { buffer in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let end = base + buffer.count - 1
            guard var cursor = UnsafeMutablePointer(strchr(base, 10)) else { throw ReadError.empty(path: path) }
            columns = 1 + UnsafeBufferPointer(start: UnsafePointer(base), count: cursor - base).filter { $0 == 44 }.count
            cursor += 1
            var line = 2
            while cursor < end {
                if cursor.pointee == 10 || cursor.pointee == 13 { cursor += 1; continue }
                for column in 0 ..< columns {
                    var next: UnsafeMutablePointer<CChar>? = nil
                    let value = strtof(cursor, &next)
                    guard let next, next != cursor else { throw ReadError.badNumber(path: path, line: line) }
                    values.append(value)
                    cursor = next
                    let separator = cursor.pointee
                    if column < columns - 1 {
                        guard separator == 44 else { throw ReadError.ragged(path: path, line: line, expected: columns, got: column + 1) }
                        cursor += 1
                    } else if separator != 10, separator != 13, separator != 0 {
                        throw ReadError.ragged(path: path, line: line, expected: columns, got: columns + 1)
                    }
                }
                rows += 1
                line += 1
            }
        }
        guard rows > 0, columns >= 2 else { throw ReadError.empty(path: path) }
        let featureCount = columns - 1
        var features = [Float]()
        features.reserveCapacity(rows * featureCount)
        var labels = [Float]()
        labels.reserveCapacity(rows)
        for row in 0 ..< rows {
            features.append(contentsOf: values[row * columns ..< row * columns + featureCount])
            labels.append(values[row * columns + featureCount])
        }
        self.features = try Matrix(rows: rows, columns: featureCount, values: features)
        self.labels = labels
    }
}
