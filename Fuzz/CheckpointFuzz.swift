// libFuzzer entry for the checkpoint decoder. Built outside SwiftPM by `make fuzz`, compiled
// together with Sources/Checkpoint so the normal build never sees the sanitizer flags.

/// Limits small enough that the fuzzer spends its time on structure, not on huge allocations.
let fuzzLimits = CheckpointLimits(
    maxFileBytes: 1 << 20, maxMetadataBytes: 1 << 16, maxTensors: 256, maxElements: 1 << 18)

/// Decodes `input`; an accepted input must re-encode to the very same bytes, because v1 has
/// exactly one encoding of every checkpoint.
func checkRoundTrip(_ input: UnsafeRawBufferPointer) {
    guard let file = try? CheckpointDecoder.decode(input, limits: fuzzLimits) else { return }
    do {
        let again = try CheckpointEncoder.encode(file, limits: fuzzLimits)
        precondition(again.elementsEqual(input), "decoded checkpoint re-encodes to different bytes")
    } catch {
        preconditionFailure("decoded checkpoint does not re-encode: \(error)")
    }
}

/// Every input is decoded twice: as given, and with its CRC-32C trailer recomputed. Random
/// mutations almost never carry a valid checksum, so without the second pass the fuzzer would
/// stop at `checksumMismatch` and never reach the metadata and tensor-table parser.
@_cdecl("LLVMFuzzerTestOneInput")
public func checkpointFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = UnsafeRawBufferPointer(start: data, count: size)
    checkRoundTrip(input)
    if size >= CheckpointFormat.headerLength + CheckpointFormat.trailerLength {
        var resealed = Array(input)
        let covered = size - CheckpointFormat.trailerLength
        let crc = resealed.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<covered])) }
        for index in 0..<4 { resealed[covered + index] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(index))) }
        resealed.withUnsafeBytes { checkRoundTrip($0) }
    }
    return 0
}
