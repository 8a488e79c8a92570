// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "axon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "axond", targets: ["axond"]),
        .executable(name: "axon-bench", targets: ["axon-bench"]),
        .library(name: "AxonServer", targets: ["AxonServer"]),
        .library(name: "ModelKit", targets: ["ModelKit"]),
        .library(name: "Checkpoint", targets: ["Checkpoint"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // System libraries, found through pkg-config; `make deps` installs the Debian packages.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "CBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "CHTTPShim", dependencies: ["CMicroHTTPD"]),
        .target(name: "CModelKit"),
        .target(name: "ModelKit", dependencies: ["CBLAS", "CModelKit"]),
        .target(name: "Checkpoint", dependencies: ["ModelKit"]),
        .target(
            name: "AxonServer",
            dependencies: [
                "CHTTPShim", "Checkpoint", "ModelKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "axond",
            dependencies: [
                "AxonServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "axon-bench",
            dependencies: [
                "AxonServer", "ModelKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Second process for the checkpoint crash-safety and watch tests.
        .executableTarget(name: "checkpoint-stress", dependencies: ["Checkpoint", "ModelKit", "StressFixture"]),
        // What checkpoint-stress writes, shared with the tests that verify it.
        .target(name: "StressFixture", dependencies: ["Checkpoint"]),
        .testTarget(name: "ModelKitTests", dependencies: ["ModelKit"]),
        // Subprocesses, temporary directories and failures, shared by the test targets.
        .target(name: "TestKit", path: "Tests/TestKit"),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "ModelKit", "StressFixture", "TestKit"]),
        .testTarget(
            name: "AxonServerTests",
            dependencies: [
                "AxonServer", "CHTTPShim", "TestKit",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
