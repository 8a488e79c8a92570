/// Reads format v1 back into a `CheckpointFile`, trusting nothing in the input.
///
/// Order of checks: header identity, declared length against the limit and the real length,
/// the whole-file CRC-32C, then every structural field with overflow-checked arithmetic. Output
/// arrays are allocated only after the whole tensor table has been validated.
public enum CheckpointDecoder {
    /// Decodes a complete checkpoint held in `bytes`.
    public static func decode(
        _ bytes: [UInt8],
        limits: CheckpointLimits = .standard
    ) throws(CheckpointError) -> CheckpointFile {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(CheckpointError) in try decode(buffer, limits: limits) }
        }
        return try result.get()
    }

    /// Decodes a complete checkpoint held in `buffer`.
    public static func decode(
        _ buffer: UnsafeRawBufferPointer,
        limits: CheckpointLimits = .standard
    ) throws(CheckpointError) -> CheckpointFile {
        var header = try readHeader(buffer, limits: limits)
        try verifyChecksum(buffer, fileLength: header.fileLength)
        typealias O = CheckpointFormat.Offset
        // Bounded by the file length, which fits in memory, so later sums cannot overflow.
        let bound = UInt64(header.fileLength)
        header.metadataLength = Int(buffer.u32(at: O.metadataLength))
        header.tensorCount = Int(buffer.u32(at: O.tensorCount))
        header.tableOffset = try smallInt(buffer.u64(at: O.tableOffset), field: "tableOffset", bound: bound)
        header.payloadOffset = try smallInt(buffer.u64(at: O.payloadOffset), field: "payloadOffset", bound: bound)
        header.payloadLength = try smallInt(buffer.u64(at: O.payloadLength), field: "payloadLength", bound: bound)
        return try readBody(buffer, header: header, limits: limits)
    }

    /// The fixed header fields; the layout fields are read only after the checksum passed, so
    /// that damage there reports as a checksum mismatch.
    struct Header {
        var fileLength: Int
        var metadataLength = 0
        var tensorCount = 0
        var tableOffset = 0
        var payloadOffset = 0
        var payloadLength = 0
    }

    /// One validated tensor-table entry.
    private struct Entry {
        var name: String
        var shape: [Int]
        var offset: Int
        var length: Int
    }

    static func readHeader(
        _ buffer: UnsafeRawBufferPointer,
        limits: CheckpointLimits
    ) throws(CheckpointError) -> Header {
        typealias O = CheckpointFormat.Offset
        let count = UInt64(buffer.count)
        let magic = CheckpointFormat.magic
        let magicPrefix = min(buffer.count, magic.count)
        for index in 0..<magicPrefix where buffer[index] != magic[index] {
            throw .badMagic(found: Array(buffer[0..<magicPrefix]))
        }
        guard buffer.count >= CheckpointFormat.headerLength else {
            throw .truncated(expected: UInt64(CheckpointFormat.headerLength), got: count)
        }
        let version = buffer.u16(at: O.version)
        guard version == CheckpointFormat.version else { throw .unsupportedVersion(found: version) }
        let headerLength = buffer.u16(at: O.headerLength)
        guard headerLength == CheckpointFormat.headerLength else {
            throw .unsupportedHeaderLength(found: headerLength)
        }
        let flags = buffer.u32(at: O.flags)
        guard flags == 0 else { throw .unsupportedFlags(found: flags) }

        let fileLength = buffer.u64(at: O.fileLength)
        guard fileLength <= limits.maxFileBytes else {
            throw .limitExceeded(field: .fileBytes, limit: limits.maxFileBytes, value: fileLength)
        }
        let minimum = UInt64(CheckpointFormat.headerLength + CheckpointFormat.trailerLength)
        guard fileLength >= minimum else {
            throw .invalidLayout(field: "fileLength", expected: minimum, found: fileLength)
        }
        guard count >= fileLength else { throw .truncated(expected: fileLength, got: count) }
        guard count == fileLength else { throw .trailingBytes(expected: fileLength, got: count) }

        return Header(fileLength: Int(fileLength))
    }

    static func verifyChecksum(_ buffer: UnsafeRawBufferPointer, fileLength: Int) throws(CheckpointError) {
        let covered = fileLength - CheckpointFormat.trailerLength
        let stored = buffer.u32(at: covered)
        let computed = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<covered]))
        guard stored == computed else { throw .checksumMismatch(expected: stored, computed: computed) }
    }

    static func readBody(
        _ buffer: UnsafeRawBufferPointer,
        header: Header,
        limits: CheckpointLimits
    ) throws(CheckpointError) -> CheckpointFile {
        try requireZero(buffer, from: CheckpointFormat.Offset.reserved, to: CheckpointFormat.headerLength)

        guard UInt64(header.metadataLength) <= limits.maxMetadataBytes else {
            throw .limitExceeded(
                field: .metadataBytes, limit: limits.maxMetadataBytes, value: UInt64(header.metadataLength))
        }
        guard UInt64(header.tensorCount) <= limits.maxTensors else {
            throw .limitExceeded(field: .tensors, limit: limits.maxTensors, value: UInt64(header.tensorCount))
        }
        // Both lengths are below 2^32 and the file fits in memory, so these sums cannot overflow.
        let metadataEnd = CheckpointFormat.metadataOffset + header.metadataLength
        let tableOffset = Int(CheckpointFormat.align(UInt64(metadataEnd), to: CheckpointFormat.tableAlignment)!)
        try expect(header.tableOffset, equals: tableOffset, field: "tableOffset")
        guard header.payloadOffset >= tableOffset,
            header.payloadOffset <= header.fileLength - CheckpointFormat.trailerLength
        else {
            throw .invalidLayout(field: "payloadOffset", expected: UInt64(tableOffset), found: UInt64(header.payloadOffset))
        }
        try expect(
            header.payloadLength,
            equals: header.fileLength - CheckpointFormat.trailerLength - header.payloadOffset,
            field: "payloadLength")
        try requireZero(buffer, from: metadataEnd, to: tableOffset)

        let metadataBytes = UnsafeRawBufferPointer(rebasing: buffer[CheckpointFormat.metadataOffset..<metadataEnd])
        guard String(validating: metadataBytes, as: UTF8.self) != nil else { throw .metadataNotUTF8 }

        let entries = try readTable(buffer, header: header, tableOffset: tableOffset, limits: limits)

        // Validation is complete; only now allocate what the file asks for.
        let metadata = Array(metadataBytes)
        var tensors: [Tensor] = []
        tensors.reserveCapacity(entries.count)
        let payload = buffer.baseAddress! + header.payloadOffset
        for entry in entries {
            let count = entry.length / 4
            let values = [Float](unsafeUninitializedCapacity: count) { out, initialized in
                let source = payload + entry.offset
                #if _endian(little)
                if count > 0 {
                    UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: source, byteCount: entry.length)
                }
                #else
                for index in 0..<count {
                    let bits = UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * index, as: UInt32.self))
                    (out.baseAddress! + index).initialize(to: Float(bitPattern: bits))
                }
                #endif
                initialized = count
            }
            tensors.append(Tensor(name: entry.name, shape: entry.shape, values: values))
        }
        return CheckpointFile(metadata: metadata, tensors: tensors)
    }

    /// The tensor table, every entry validated against the limits, the payload and the
    /// entries before it.
    private static func readTable(
        _ buffer: UnsafeRawBufferPointer,
        header: Header,
        tableOffset: Int,
        limits: CheckpointLimits
    ) throws(CheckpointError) -> [Entry] {
        var cursor = tableOffset
        var entries: [Entry] = []
        entries.reserveCapacity(header.tensorCount)
        var names = Set<String>()
        var totalElements: UInt64 = 0
        var previousEnd: UInt64 = 0
        let payloadLength = UInt64(header.payloadLength)

        for index in 0..<header.tensorCount {
            let entry = try readEntry(
                buffer, at: cursor, index: UInt64(index), tableEnd: header.payloadOffset, limits: limits)
            let (total, totalOverflow) = totalElements.addingReportingOverflow(entry.elements)
            guard !totalOverflow, total <= limits.maxElements else {
                throw .limitExceeded(
                    field: .elements, limit: limits.maxElements, value: totalOverflow ? UInt64.max : total)
            }
            totalElements = total
            let end = try placement(of: entry, payloadLength: payloadLength, previousEnd: previousEnd)
            guard names.insert(entry.name).inserted else { throw .duplicateTensor(name: entry.name) }
            previousEnd = end
            entries.append(Entry(name: entry.name, shape: entry.shape, offset: Int(entry.offset), length: Int(entry.length)))
            cursor += entry.entryLength
        }

        let payloadOffset = Int(CheckpointFormat.align(UInt64(cursor), to: CheckpointFormat.payloadAlignment)!)
        try expect(header.payloadOffset, equals: payloadOffset, field: "payloadOffset")
        try requireZero(buffer, from: cursor, to: payloadOffset)
        // Tensors are ordered and non-overlapping, so equal sums mean no unreferenced gaps.
        guard totalElements * 4 == payloadLength else {
            throw .unreferencedPayload(used: totalElements * 4, payloadLength: payloadLength)
        }
        return entries
    }

    /// A table entry as read, checked on its own but not yet against the payload.
    private struct RawEntry {
        var name: String
        var shape: [Int]
        var elements: UInt64
        var offset: UInt64
        var length: UInt64
        var entryLength: Int
    }

    /// Reads the entry at `cursor` (the `index`-th), checking its fixed fields, name and shape.
    private static func readEntry(
        _ buffer: UnsafeRawBufferPointer, at cursor: Int, index position: UInt64, tableEnd: Int, limits: CheckpointLimits
    ) throws(CheckpointError) -> RawEntry {
        guard tableEnd - cursor >= CheckpointFormat.tableEntryFixedLength else {
            throw .tensorTableOverrun(index: position)
        }
        let nameLength = Int(buffer.u16(at: cursor))
        let dtype = buffer[cursor + 2]
        let rank = Int(buffer[cursor + 3])
        let reserved = buffer.u32(at: cursor + 4)
        let offset = buffer.u64(at: cursor + 8)
        let length = buffer.u64(at: cursor + 16)
        guard UInt64(rank) <= limits.maxRank else {
            throw .limitExceeded(field: .rank, limit: limits.maxRank, value: UInt64(rank))
        }
        guard UInt64(nameLength) <= limits.maxNameBytes else {
            throw .limitExceeded(field: .nameBytes, limit: limits.maxNameBytes, value: UInt64(nameLength))
        }
        let entryLength = CheckpointFormat.tableEntryLength(rank: rank, nameLength: nameLength)
        guard tableEnd - cursor >= entryLength else { throw .tensorTableOverrun(index: position) }
        guard reserved == 0 else { throw .reservedNotZero(offset: UInt64(cursor + 4)) }

        let nameOffset = cursor + CheckpointFormat.tableEntryFixedLength + 8 * rank
        let nameBytes = UnsafeRawBufferPointer(rebasing: buffer[nameOffset..<(nameOffset + nameLength)])
        guard nameLength > 0, let name = String(validating: nameBytes, as: UTF8.self) else {
            throw .invalidTensorName(index: position)
        }
        try requireZero(buffer, from: nameOffset + nameLength, to: cursor + entryLength)
        guard dtype == CheckpointFormat.dtypeFloat32 else { throw .unsupportedDType(tensor: name, code: dtype) }

        let (shape, elements) = try readShape(
            buffer, at: cursor + CheckpointFormat.tableEntryFixedLength, rank: rank, limits: limits)
        return RawEntry(name: name, shape: shape, elements: elements, offset: offset, length: length, entryLength: entryLength)
    }

    /// The `rank` dimensions stored at `start`, and their product, within `maxElements`.
    private static func readShape(
        _ buffer: UnsafeRawBufferPointer, at start: Int, rank: Int, limits: CheckpointLimits
    ) throws(CheckpointError) -> (shape: [Int], elements: UInt64) {
        var elements: UInt64 = 1
        var shape: [Int] = []
        shape.reserveCapacity(rank)
        for axis in 0..<rank {
            let dimension = buffer.u64(at: start + 8 * axis)
            // Checked on its own too: after a zero dimension the product stays 0 however
            // large the next one is, and `Int(dimension)` must never trap.
            guard dimension <= limits.maxElements, dimension <= UInt64(Int.max) else {
                throw .limitExceeded(field: .elements, limit: limits.maxElements, value: dimension)
            }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow, product <= limits.maxElements else {
                throw .limitExceeded(
                    field: .elements, limit: limits.maxElements, value: overflow ? UInt64.max : product)
            }
            elements = product
            shape.append(Int(dimension))
        }
        return (shape, elements)
    }

    /// Checks that `entry`'s bytes are its elements' worth, inside the payload, aligned, and
    /// after the previous tensor's; returns where they end.
    private static func placement(
        of entry: RawEntry, payloadLength: UInt64, previousEnd: UInt64
    ) throws(CheckpointError) -> UInt64 {
        let (name, offset, length) = (entry.name, entry.offset, entry.length)
        // elements <= maxElements, which a sane limit keeps far below UInt64.max / 4.
        let (expectedLength, lengthOverflow) = entry.elements.multipliedReportingOverflow(by: 4)
        guard !lengthOverflow, length == expectedLength else {
            throw .tensorLengthMismatch(tensor: name, expected: expectedLength, found: length)
        }
        let (end, endOverflow) = offset.addingReportingOverflow(length)
        guard !endOverflow, end <= payloadLength, offset % 4 == 0 else {
            throw .tensorOutOfBounds(tensor: name, offset: offset, length: length, payloadLength: payloadLength)
        }
        guard offset >= previousEnd else {
            throw .tensorsOverlap(tensor: name, offset: offset, previousEnd: previousEnd)
        }
        return end
    }

    private static func smallInt(_ value: UInt64, field: String, bound: UInt64) throws(CheckpointError) -> Int {
        guard value <= bound else { throw .invalidLayout(field: field, expected: bound, found: value) }
        return Int(value)
    }

    private static func expect(_ found: Int, equals expected: Int, field: String) throws(CheckpointError) {
        guard found == expected else {
            throw .invalidLayout(field: field, expected: UInt64(expected), found: UInt64(found))
        }
    }

    private static func requireZero(_ buffer: UnsafeRawBufferPointer, from start: Int, to end: Int) throws(CheckpointError) {
        var offset = start
        while offset < end {
            guard buffer[offset] == 0 else { throw .reservedNotZero(offset: UInt64(offset)) }
            offset += 1
        }
    }
}

extension UnsafeRawBufferPointer {
    /// Little-endian loads at offsets the caller has already bounds-checked.
    func u16(at offset: Int) -> UInt16 { UInt16(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self)) }
    func u32(at offset: Int) -> UInt32 { UInt32(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self)) }
    func u64(at offset: Int) -> UInt64 { UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
}
