/// Turns a `CheckpointFile` into the bytes of format v1.
public enum CheckpointEncoder {
    /// Encodes `file`, refusing anything the decoder with the same `limits` would reject, so a
    /// file this writes can always be read back.
    public static func encode(
        _ file: CheckpointFile,
        limits: CheckpointLimits = .standard
    ) throws(CheckpointError) -> [UInt8] {
        let layout = try plan(file, limits: limits)
        var bytes = [UInt8](repeating: 0, count: layout.fileLength)
        bytes.withUnsafeMutableBytes { out in
            write(file, layout: layout, into: out)
        }
        return bytes
    }

    /// Byte positions of every section, computed once before any allocation.
    struct Layout {
        var tableOffset: Int
        var payloadOffset: Int
        var payloadLength: Int
        var fileLength: Int
        var entryLengths: [Int]
    }

    static func plan(_ file: CheckpointFile, limits: CheckpointLimits) throws(CheckpointError) -> Layout {
        let metadataLength = UInt64(file.metadata.count)
        guard metadataLength <= limits.maxMetadataBytes, metadataLength <= UInt64(UInt32.max) else {
            throw .limitExceeded(field: .metadataBytes, limit: limits.maxMetadataBytes, value: metadataLength)
        }
        guard String(validating: file.metadata, as: UTF8.self) != nil else { throw .metadataNotUTF8 }
        let tensorCount = UInt64(file.tensors.count)
        guard tensorCount <= limits.maxTensors, tensorCount <= UInt64(UInt32.max) else {
            throw .limitExceeded(field: .tensors, limit: limits.maxTensors, value: tensorCount)
        }

        var names = Set<String>()
        var entryLengths: [Int] = []
        entryLengths.reserveCapacity(file.tensors.count)
        var tableLength = 0
        var totalElements: UInt64 = 0
        for (index, tensor) in file.tensors.enumerated() {
            let elements = try checkTensor(tensor, index: index, limits: limits, names: &names)
            totalElements += UInt64(elements)
            guard totalElements <= limits.maxElements else {
                throw .limitExceeded(field: .elements, limit: limits.maxElements, value: totalElements)
            }
            let entryLength = CheckpointFormat.tableEntryLength(rank: tensor.shape.count, nameLength: tensor.name.utf8.count)
            entryLengths.append(entryLength)
            tableLength += entryLength
        }

        // Every term is bounded by the limits above, far below Int.max on 64-bit hosts.
        let tableOffset = Int(CheckpointFormat.align(
            UInt64(CheckpointFormat.metadataOffset) + metadataLength, to: CheckpointFormat.tableAlignment)!)
        let payloadOffset = Int(CheckpointFormat.align(
            UInt64(tableOffset + tableLength), to: CheckpointFormat.payloadAlignment)!)
        let payloadLength = Int(totalElements) * 4
        let fileLength = payloadOffset + payloadLength + CheckpointFormat.trailerLength
        guard UInt64(fileLength) <= limits.maxFileBytes else {
            throw .limitExceeded(field: .fileBytes, limit: limits.maxFileBytes, value: UInt64(fileLength))
        }
        return Layout(
            tableOffset: tableOffset, payloadOffset: payloadOffset, payloadLength: payloadLength,
            fileLength: fileLength, entryLengths: entryLengths)
    }

    /// Checks `tensor`'s name (present, within the limit, not taken) and rank, and that its
    /// shape holds exactly its values; returns their count.
    private static func checkTensor(
        _ tensor: Tensor, index: Int, limits: CheckpointLimits, names: inout Set<String>
    ) throws(CheckpointError) -> Int {
        let nameLength = tensor.name.utf8.count
        guard nameLength > 0 else { throw .invalidTensorName(index: UInt64(index)) }
        guard UInt64(nameLength) <= limits.maxNameBytes else {
            throw .limitExceeded(field: .nameBytes, limit: limits.maxNameBytes, value: UInt64(nameLength))
        }
        guard UInt64(tensor.shape.count) <= min(limits.maxRank, UInt64(UInt8.max)) else {
            throw .limitExceeded(field: .rank, limit: limits.maxRank, value: UInt64(tensor.shape.count))
        }
        guard names.insert(tensor.name).inserted else { throw .duplicateTensor(name: tensor.name) }
        var elements = 1
        for dimension in tensor.shape {
            guard dimension >= 0 else { throw .negativeDimension(tensor: tensor.name, shape: tensor.shape) }
            let (product, overflow) = elements.multipliedReportingOverflow(by: dimension)
            guard !overflow else {
                throw .shapeMismatch(tensor: tensor.name, shape: tensor.shape, values: tensor.values.count)
            }
            elements = product
        }
        guard elements == tensor.values.count else {
            throw .shapeMismatch(tensor: tensor.name, shape: tensor.shape, values: tensor.values.count)
        }
        return elements
    }

    static func write(_ file: CheckpointFile, layout: Layout, into out: UnsafeMutableRawBufferPointer) {
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            out.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
        }
        typealias O = CheckpointFormat.Offset
        for (index, byte) in CheckpointFormat.magic.enumerated() { out[O.magic + index] = byte }
        put(CheckpointFormat.version, at: O.version)
        put(UInt16(CheckpointFormat.headerLength), at: O.headerLength)
        put(UInt32(0), at: O.flags)
        put(UInt64(layout.fileLength), at: O.fileLength)
        put(UInt32(file.metadata.count), at: O.metadataLength)
        put(UInt32(file.tensors.count), at: O.tensorCount)
        put(UInt64(layout.tableOffset), at: O.tableOffset)
        put(UInt64(layout.payloadOffset), at: O.payloadOffset)
        put(UInt64(layout.payloadLength), at: O.payloadLength)

        file.metadata.withUnsafeBytes { metadata in
            if metadata.count > 0 {
                (out.baseAddress! + CheckpointFormat.metadataOffset)
                    .copyMemory(from: metadata.baseAddress!, byteCount: metadata.count)
            }
        }

        var entry = layout.tableOffset
        var dataOffset = 0
        for (index, tensor) in file.tensors.enumerated() {
            let name = Array(tensor.name.utf8)
            let byteLength = tensor.values.count * 4
            put(UInt16(name.count), at: entry)
            out[entry + 2] = CheckpointFormat.dtypeFloat32
            out[entry + 3] = UInt8(tensor.shape.count)
            put(UInt64(dataOffset), at: entry + 8)
            put(UInt64(byteLength), at: entry + 16)
            for (axis, dimension) in tensor.shape.enumerated() {
                put(UInt64(dimension), at: entry + CheckpointFormat.tableEntryFixedLength + 8 * axis)
            }
            let nameOffset = entry + CheckpointFormat.tableEntryFixedLength + 8 * tensor.shape.count
            for (position, byte) in name.enumerated() { out[nameOffset + position] = byte }

            let target = out.baseAddress! + layout.payloadOffset + dataOffset
            tensor.values.withUnsafeBufferPointer { values in
                #if _endian(little)
                if byteLength > 0 { target.copyMemory(from: values.baseAddress!, byteCount: byteLength) }
                #else
                for (position, value) in values.enumerated() {
                    target.storeBytes(
                        of: value.bitPattern.littleEndian, toByteOffset: 4 * position, as: UInt32.self)
                }
                #endif
            }
            entry += layout.entryLengths[index]
            dataOffset += byteLength
        }

        let checksummed = layout.fileLength - CheckpointFormat.trailerLength
        let crc = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: out[0..<checksummed]))
        put(crc, at: checksummed)
    }
}
