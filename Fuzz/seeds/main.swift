// Writes the seed corpus for `make fuzz`: valid checkpoints of every shape the format allows,
// plus a few damaged ones, so the fuzzer starts from deep inside the decoder.
#if canImport(Glibc)
import Glibc
#endif

guard CommandLine.arguments.count == 2 else {
    print("usage: checkpoint-seeds <output-directory>")
    exit(2)
}
let output = CommandLine.arguments[1]

func values(_ count: Int, _ seed: Int) -> [Float] { (0..<count).map { Float(($0 * 7 + seed) % 13) - 6 } }

let metadata = Array(#"{"architecture":{"layers":[4,8,3]},"activations":["relu","softmax"],"loss":"cross_entropy","labels":["a","b","c"],"created":"2026-01-01T00:00:00Z","parent":2,"step":120}"#.utf8)
let files: [(String, CheckpointFile)] = [
    ("empty", CheckpointFile(metadata: [], tensors: [])),
    ("metadata-only", CheckpointFile(metadata: metadata, tensors: [])),
    ("golden", CheckpointFile(metadata: Array(#"{"a":1}"#.utf8), tensors: [Tensor(name: "w", shape: [2], values: [1, -2])])),
    ("scalar-and-empty", CheckpointFile(metadata: [], tensors: [
        Tensor(name: "step", shape: [], values: [42]), Tensor(name: "none", shape: [0, 3], values: []),
    ])),
    ("mlp", CheckpointFile(metadata: metadata, tensors: [
        Tensor(name: "layers.0.weight", shape: [8, 4], values: values(32, 1)),
        Tensor(name: "layers.0.bias", shape: [8], values: values(8, 2)),
        Tensor(name: "layers.1.weight", shape: [3, 8], values: values(24, 3)),
        Tensor(name: "layers.1.bias", shape: [3], values: values(3, 4)),
        Tensor(name: "normalizer.mean", shape: [4], values: values(4, 5)),
        Tensor(name: "normalizer.std", shape: [4], values: values(4, 6)),
        Tensor(name: "adam.m.layers.0.weight", shape: [8, 4], values: values(32, 7)),
    ])),
    ("rank-8", CheckpointFile(metadata: [], tensors: [
        Tensor(name: "cube", shape: [1, 2, 1, 2, 1, 2, 1, 2], values: values(16, 8)),
    ])),
]

func save(_ name: String, _ bytes: [UInt8]) {
    let path = "\(output)/\(name)"
    do {
        try DurableFile.write(bytes, to: path)
    } catch {
        print("cannot write \(path): \(error)")
        exit(1)
    }
}

for (name, file) in files {
    do {
        let bytes = try CheckpointEncoder.encode(file)
        save("\(name).axon", bytes)
        save("\(name)-truncated.bin", Array(bytes.dropLast(5)))
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x40
        save("\(name)-flipped.bin", flipped)
    } catch {
        print("cannot encode \(name): \(error)")
        exit(1)
    }
}
print("wrote \(files.count * 3) seeds to \(output)")
