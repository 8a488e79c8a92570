import ArgumentParser
import ModelKit

/// Benchmarks for ModelKit, printing the same JSON keys as the peer scripts in
/// `../shared/peers` so that one script can compare them side by side; and the checkpoint
/// load benchmark (`axon-bench checkpoint`).
@main
struct AxonBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "axon-bench",
        abstract: "Benchmarks ModelKit against the same data and settings as the peer frameworks, and checkpoint loading.",
        subcommands: [Train.self, Predict.self, Ingest.self, CheckpointLoad.self])
}
