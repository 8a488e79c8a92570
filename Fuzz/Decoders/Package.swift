// swift-tools-version:6.1
// The request-decoder fuzz harness, a package of its own so the root package never builds it:
// `make fuzz` builds it with `--sanitize=fuzzer --sanitize=address` in .build-fuzz.
import PackageDescription

let package = Package(
    name: "decoder-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "axon", path: "../..")],
    targets: [
        .executableTarget(name: "decoder-fuzz", dependencies: [.product(name: "AxonServer", package: "axon"), .product(name: "AxonHTTP", package: "axon")]),
    ],
    swiftLanguageModes: [.v6]
)
