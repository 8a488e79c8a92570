// swift-tools-version:6.1
import PackageDescription

// Products of the package dependencies that several targets use.
let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")
let logging: Target.Dependency = .product(name: "Logging", package: "swift-log")
let serviceLifecycle: Target.Dependency = .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")

let package = Package(
    name: "axon",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "axond", targets: ["axond"]),
        .executable(name: "axon", targets: ["axon"]),
        .executable(name: "axon-bench", targets: ["axon-bench"]),
        .library(name: "AxonServer", targets: ["AxonServer"]),
        .library(name: "AxonAPI", targets: ["AxonAPI"]),
        .library(name: "AxonHTTP", targets: ["AxonHTTP"]),
        .library(name: "AxonStore", targets: ["AxonStore"]),
        .library(name: "AxonJobs", targets: ["AxonJobs"]),
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
        // The API's wire types (requests, responses, events, the error envelope), shared by the
        // server and its clients; Foundation only.
        .target(name: "AxonAPI"),
        // Small utilities the layers above share: a pthread-mutex box, a parallel map, excerpts.
        .target(name: "AxonSupport"),
        // The model store: checkpoints on disk, the served versions in memory, the training lock.
        // No HTTP and no metrics library: it reports through `StoreObserver`.
        .target(name: "AxonStore", dependencies: ["AxonSupport", "Checkpoint", "ModelKit", logging]),
        // Training jobs: the queue (a state machine that returns what to do), the runner that
        // trains one job on its own thread and installs the result, and the journal of job
        // records. No HTTP: a job fails with a `JobFailure`; events and metrics go out through
        // `JobObserver` and `JobMetrics`.
        .target(name: "AxonJobs", dependencies: ["AxonAPI", "AxonStore", "AxonSupport", "Checkpoint", "ModelKit", logging]),
        // The Swift side of the shim: router, requests, responses, the error boundary, auth, CORS
        // and readiness. No models: it reports what it observes through `HTTPObserver`.
        .target(name: "AxonHTTP", dependencies: ["AxonAPI", "AxonSupport", "CHTTPShim", logging, serviceLifecycle]),
        .target(
            name: "AxonServer",
            dependencies: [
                "AxonAPI", "AxonHTTP", "AxonJobs", "AxonStore", "AxonSupport", "CHTTPShim", "Checkpoint", "ModelKit",
                logging, serviceLifecycle,
                .product(name: "Metrics", package: "swift-metrics"), .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            // The web console's HTML, CSS and JavaScript, compiled into the binary as byte arrays.
            resources: [.embedInCode("Console/Assets")]
        ),
        .executableTarget(name: "axond", dependencies: ["AxonServer", argumentParser]),
        // The command-line client: a client of the HTTP API only.
        .executableTarget(name: "axon", dependencies: ["AxonAPI", argumentParser]),
        .executableTarget(name: "axon-bench", dependencies: ["AxonServer", "Checkpoint", "ModelKit", argumentParser]),
        // Second process for the checkpoint crash-safety and watch tests.
        .executableTarget(name: "checkpoint-stress", dependencies: ["Checkpoint", "ModelKit", "StressFixture"]),
        // What checkpoint-stress writes, shared with the tests that verify it.
        .target(name: "StressFixture", dependencies: ["Checkpoint"]),
        .testTarget(name: "ModelKitTests", dependencies: ["ModelKit"]),
        // Subprocesses, temporary directories and failures, shared by the test targets.
        .target(name: "TestKit", path: "Tests/TestKit"),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "ModelKit", "StressFixture", "TestKit"]),
        .testTarget(name: "AxonAPITests", dependencies: ["AxonAPI"]),
        // Runs the built axon against the built axond (both subprocesses).
        .testTarget(name: "AxonCLITests", dependencies: ["axon", "AxonAPI", "TestKit"]),
        .testTarget(
            name: "AxonServerTests",
            dependencies: [
                "AxonAPI", "AxonHTTP", "AxonJobs", "AxonServer", "AxonStore", "AxonSupport", "CHTTPShim", "TestKit",
                logging, serviceLifecycle,
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
