import Checkpoint

/// The checkpoint for commit `seq` of `model`: `checkpoint-stress` writes it and CheckpointTests
/// recomputes it to verify what survived a SIGKILL. One definition, so the two cannot drift.
public func stressCheckpoint(model: String, seq: UInt64, floats: Int) -> CheckpointFile {
    // Cheap to build (the child must spend its time writing, not computing), yet every block
    // of 1,024 values differs between commits, so a mixed-up or torn file cannot match.
    var values = [Float](repeating: Float(seq % 1000) / 7, count: floats)
    for index in stride(from: 0, to: floats, by: 1024) { values[index] = Float(seq &* 31 &+ UInt64(index)) }
    let bias = (0..<8).map { Float(seq % 97) + Float($0) }
    let metadata = #"{"model":"\#(model)","seq":\#(seq)}"#
    return CheckpointFile(
        metadata: Array(metadata.utf8),
        tensors: [
            Tensor(name: "weight", shape: [floats], values: values),
            Tensor(name: "bias", shape: [8], values: bias),
        ])
}
