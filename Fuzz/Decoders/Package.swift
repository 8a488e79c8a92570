// swift-tools-version:6.1
// The libFuzzer harnesses of the decoders, a package of its own so the root package never builds
// them: `make fuzz` builds both with `--sanitize=fuzzer --sanitize=address` in .build-fuzz,
// against the root package's products.
//   decoder-fuzz      the request decoders (AxonServer's RequestDecoders)
//   checkpoint-fuzz   the checkpoint decoder (Checkpoint's CheckpointDecoder), which also
//                     writes its own seed corpus
import PackageDescription

let package = Package(
    name: "decoder-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "axon", path: "../..")],
    targets: [
        .executableTarget(name: "decoder-fuzz", dependencies: [.product(name: "AxonServer", package: "axon"), .product(name: "AxonHTTP", package: "axon")]),
        .executableTarget(name: "checkpoint-fuzz", dependencies: [.product(name: "Checkpoint", package: "axon")]),
    ],
    swiftLanguageModes: [.v6]
)
