import ArgumentParser
import Foundation
import ModelKit

/// `axon-bench predict`: in-process inference speed of a 64-128-64-10 classifier, one row at a
/// time through the direct path and in batches through BLAS (no HTTP).
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure predict(row:into:) latency and predict(rows:) throughput; print one JSON line per mode.")

    @Option(help: "Layer sizes of the (randomly initialized) network.")
    var arch = "64-128-64-10"

    @Option(help: "Rows per batch for predict(rows:).")
    var batch = 32

    @Option(help: "Seconds to run each mode.")
    var seconds = 1.0

    @Option(help: "OpenBLAS threads.")
    var threads = 1

    mutating func run() throws {
        let sizes = arch.split(separator: "-").compactMap { Int($0) }
        let configuration = try ModelConfiguration(layerSizes: sizes, outputActivation: .softmax, loss: .softmaxCrossEntropy)
        let model = Model(configuration: configuration, seed: 1)
        BLAS.setThreadCount(threads)
        var generator = RandomGenerator(seed: 2)
        let inputs = try Matrix(rows: batch, columns: sizes[0], values: (0 ..< batch * sizes[0]).map { _ in generator.nextUnitFloat() })
        let row = inputs.row(0)
        var output = [Float](repeating: 0, count: configuration.outputCount)
        let clock = ContinuousClock()

        var calls = 0
        var start = clock.now
        while clock.now - start < .seconds(seconds) {
            for _ in 0 ..< 1000 {
                try row.withUnsafeBufferPointer { (input) throws(DataError) in
                    try output.withUnsafeMutableBufferPointer { (destination) throws(DataError) in
                        try model.predict(row: input, into: destination)
                    }
                }
            }
            calls += 1000
        }
        var elapsed = clock.now - start
        print(#"{"kind": "predict", "framework": "axon", "mode": "row", "arch": "\#(arch)", "rows_per_s": \#(Double(calls) / elapsed.inSeconds), "us_per_call": \#(elapsed.inSeconds / Double(calls) * 1e6)}"#)

        calls = 0
        start = clock.now
        while clock.now - start < .seconds(seconds) {
            for _ in 0 ..< 100 { _ = try model.predict(rows: inputs) }
            calls += 100
        }
        elapsed = clock.now - start
        print(#"{"kind": "predict", "framework": "axon", "mode": "batch", "arch": "\#(arch)", "batch": \#(batch), "rows_per_s": \#(Double(calls * batch) / elapsed.inSeconds), "us_per_call": \#(elapsed.inSeconds / Double(calls) * 1e6)}"#)
    }
}

extension Duration {
    /// The duration in seconds as a Double.
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
