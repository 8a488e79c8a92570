import Logging

/// A swift-log handler writing text or JSON lines through a buffered `LogOutput`.
///
///     LoggingSystem.bootstrap { AxonLogHandler(label: $0, format: .json, level: .info) }
public struct AxonLogHandler: LogHandler {
    /// The logger's label, written on every line.
    public let label: String
    /// Text or JSON.
    public let format: LogFormat
    /// Lines below this level are dropped before any formatting.
    public var logLevel: Logger.Level
    /// Metadata attached to every line of this handler.
    public var metadata: Logger.Metadata = [:]
    /// Contextual metadata (task-local values) merged into every line.
    public var metadataProvider: Logger.MetadataProvider?
    private let output: LogOutput

    /// A handler for `label` writing `format` lines at `level` and above to `output`.
    public init(label: String, format: LogFormat = .text, level: Logger.Level = .info, output: LogOutput = .standardError) {
        self.label = label
        self.format = format
        self.logLevel = level
        self.output = output
    }

    /// One metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Formats and buffers one line; warnings and worse are written out at once. An attached
    /// error adds `error.type` (its Swift type) and `error` (its description).
    public func log(event: LogEvent) {
        // The common case (an access line: only explicit metadata) skips the merges.
        var merged = self.metadata.isEmpty && metadataProvider == nil ? (event.metadata ?? [:]) : self.metadata
        if !self.metadata.isEmpty || metadataProvider != nil {
            if let provided = metadataProvider?.get(), !provided.isEmpty { merged.merge(provided) { _, new in new } }
            if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        }
        if let error = event.error {
            merged["error.type"] = .string(String(reflecting: type(of: error)))
            merged["error"] = .string(String(describing: error))
        }
        let level = event.level, message = event.message
        // Sorted keys: stable lines that diff and grep well.
        let entries = merged.sorted { $0.key < $1.key }
        let label = self.label, format = self.format
        output.write(urgent: level >= .warning) { timestamp, buffer in
            switch format {
            case .text: Self.appendText(&buffer, timestamp, level, label, message.description, entries)
            case .json: Self.appendJSON(&buffer, timestamp, level, label, message.description, entries)
            }
        }
    }

    private static func appendText(
        _ buffer: inout [UInt8], _ timestamp: [UInt8], _ level: Logger.Level, _ label: String, _ message: String,
        _ entries: [(key: String, value: Logger.Metadata.Value)]
    ) {
        buffer.append(contentsOf: timestamp)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: level.rawValue.utf8)
        buffer.append(UInt8(ascii: " "))
        buffer.append(contentsOf: label.utf8)
        buffer.append(contentsOf: ": ".utf8)
        appendEscapingNewlines(&buffer, message)
        for (key, value) in entries {
            buffer.append(UInt8(ascii: " "))
            buffer.append(contentsOf: key.utf8)
            buffer.append(UInt8(ascii: "="))
            appendEscapingNewlines(&buffer, value.description)
        }
        buffer.append(UInt8(ascii: "\n"))
    }

    // One event is one line, even when a message or value carries a newline.
    private static func appendEscapingNewlines(_ buffer: inout [UInt8], _ text: String) {
        for byte in text.utf8 {
            if byte == UInt8(ascii: "\n") {
                buffer.append(contentsOf: "\\n".utf8)
            } else {
                buffer.append(byte)
            }
        }
    }

    private static func appendJSON(
        _ buffer: inout [UInt8], _ timestamp: [UInt8], _ level: Logger.Level, _ label: String, _ message: String,
        _ entries: [(key: String, value: Logger.Metadata.Value)]
    ) {
        buffer.append(contentsOf: #"{"timestamp":""#.utf8)
        buffer.append(contentsOf: timestamp)
        buffer.append(contentsOf: #"","level":""#.utf8)
        buffer.append(contentsOf: level.rawValue.utf8)
        buffer.append(contentsOf: #"","label":"#.utf8)
        appendJSONString(&buffer, label)
        buffer.append(contentsOf: #","message":"#.utf8)
        appendJSONString(&buffer, message)
        buffer.append(contentsOf: #","metadata":{"#.utf8)
        for (index, entry) in entries.enumerated() {
            if index > 0 { buffer.append(UInt8(ascii: ",")) }
            appendJSONString(&buffer, entry.key)
            buffer.append(UInt8(ascii: ":"))
            appendJSONValue(&buffer, entry.value)
        }
        buffer.append(contentsOf: "}}\n".utf8)
    }

    private static func appendJSONValue(_ buffer: inout [UInt8], _ value: Logger.Metadata.Value) {
        switch value {
        case .string(let text): appendJSONString(&buffer, text)
        case .stringConvertible(let convertible): appendJSONString(&buffer, convertible.description)
        case .array(let values):
            buffer.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                appendJSONValue(&buffer, element)
            }
            buffer.append(UInt8(ascii: "]"))
        case .dictionary(let dictionary):
            buffer.append(UInt8(ascii: "{"))
            for (index, entry) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { buffer.append(UInt8(ascii: ",")) }
                appendJSONString(&buffer, entry.key)
                buffer.append(UInt8(ascii: ":"))
                appendJSONValue(&buffer, entry.value)
            }
            buffer.append(UInt8(ascii: "}"))
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// Appends `text` as a JSON string: quotes, backslashes and control characters escaped (RFC 8259).
    static func appendJSONString(_ buffer: inout [UInt8], _ text: String) {
        buffer.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): buffer.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): buffer.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): buffer.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): buffer.append(contentsOf: #"\t"#.utf8)
            case 0..<0x20:
                buffer.append(contentsOf: #"\u00"#.utf8)
                buffer.append(hex[Int(byte >> 4)])
                buffer.append(hex[Int(byte & 0xF)])
            default: buffer.append(byte)
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }
}
