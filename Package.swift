// swift-tools-version: 6.1
import PackageDescription

/// Seismo: an observability stream processor with anomaly detection.
/// Module map and import rules: see DESIGN.md (shared) and README.md.
let package = Package(
    name: "seismo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "seismo", targets: ["seismo"]),
        .library(name: "SeismoCore", targets: ["SeismoCore"]),
        .library(name: "SeismoWire", targets: ["SeismoWire"]),
        .library(name: "SeismoKafka", targets: ["SeismoKafka"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // Signal value types, label hashing, durations and times.
        .target(name: "SeismoCore"),
        // Encodings of signals and anomaly events on topics.
        .target(
            name: "SeismoWire",
            dependencies: [
                "SeismoCore", "CZlib",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            exclude: ["Proto"]
        ),
        // zlib, from the system (Debian: zlib1g-dev): gzip bodies (OTLP/HTTP, Loki JSON).
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // librdkafka, from the system (Debian: librdkafka-dev).
        .systemLibrary(
            name: "CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Swift API over librdkafka: producer, consumer group, admin, embedded cluster.
        .target(
            name: "SeismoKafka",
            dependencies: [
                "CRdKafka",
                "SeismoCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // OpenBLAS (Debian: libopenblas-dev): cblas and the LAPACK routines we use.
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // Matrices over BLAS/LAPACK, detectors, training, model files, evaluation.
        .target(name: "SeismoDetect", dependencies: ["SeismoCore", "COpenBLAS"]),
        // YAML pipeline spec → validated, compiled `Pipeline`; every error with file:line:column.
        .target(
            name: "SeismoPipeline",
            dependencies: ["SeismoCore", .product(name: "Yams", package: "Yams")]
        ),
        // Storage protocols (`Appender`, `Querier`) and the SQLite implementation.
        .target(
            name: "SeismoStore",
            dependencies: [
                "SeismoCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // PromQL: parser (Parser/, never imports Engine/) and engine over `Querier`.
        .target(name: "SeismoQuery", dependencies: ["SeismoCore", "SeismoStore"]),
        // Windows, watermarks, aggregators and sketches, keyed state, the worker's commit protocol.
        .target(
            name: "SeismoStream",
            dependencies: [
                "SeismoCore", "SeismoWire", "SeismoKafka", "SeismoPipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Collectors: synthetic metrics and file replay (real collectors in later issues).
        .target(
            name: "SeismoCollect",
            dependencies: [
                "SeismoCore", "SeismoWire", "SeismoKafka", "SeismoPipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // HTTP: health, readiness and Seismo's own /metrics (the Prometheus API in a later issue).
        .target(
            name: "SeismoServer",
            dependencies: [
                "SeismoCore", "SeismoStore", "SeismoQuery",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Anomaly → alert state, grouping, inhibition, silences, routing, delivery (Kafka, Alertmanager, webhooks).
        // HTTP goes through Foundation's URLSession (async-http-client would add BoringSSL to every build).
        .target(
            name: "SeismoAlert",
            dependencies: [
                "SeismoCore", "SeismoWire", "SeismoKafka", "SeismoPipeline",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The one place that wires a compiled pipeline into running services.
        .target(
            name: "SeismoRuntime",
            dependencies: [
                "SeismoCore", "SeismoWire", "SeismoKafka", "SeismoPipeline", "SeismoStream", "SeismoStore",
                "SeismoCollect", "SeismoDetect", "SeismoServer", "SeismoQuery", "SeismoAlert",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Fixtures shared by tests and benchmarks.
        .target(
            name: "SeismoTesting",
            dependencies: ["SeismoCore", "SeismoWire", "SeismoKafka", .product(name: "Hummingbird", package: "hummingbird")]
        ),
        // The command line.
        .executableTarget(
            name: "seismo",
            dependencies: [
                "SeismoCore", "SeismoWire", "SeismoKafka", "SeismoPipeline", "SeismoStore", "SeismoRuntime", "SeismoDetect",
                "SeismoQuery", "SeismoServer", "SeismoAlert",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Release-build benchmark harness (`make bench`).
        .executableTarget(
            name: "seismo-bench",
            dependencies: [
                "SeismoCore", "SeismoWire", "SeismoKafka", "SeismoTesting", "SeismoDetect", "SeismoPipeline",
                "SeismoStream", "SeismoStore", "SeismoRuntime", "SeismoCollect", "SeismoQuery", "SeismoServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks/seismo-bench"
        ),
        // NAB evaluation: writes causal anomaly scores per series (`make eval-nab`).
        .executableTarget(
            name: "seismo-eval",
            dependencies: ["SeismoDetect", "SeismoCore"],
            path: "Benchmarks/seismo-eval"
        ),

        .testTarget(name: "SeismoCoreTests", dependencies: ["SeismoCore"]),
        .testTarget(name: "SeismoWireTests", dependencies: ["SeismoWire", "SeismoTesting"]),
        .testTarget(name: "SeismoDetectTests", dependencies: ["SeismoDetect", "SeismoTesting"]),
        .testTarget(name: "SeismoPipelineTests", dependencies: ["SeismoPipeline", "SeismoTesting"]),
        .testTarget(name: "SeismoStoreTests", dependencies: ["SeismoStore"]),
        .testTarget(
            name: "SeismoQueryTests", dependencies: ["SeismoQuery", "SeismoStore", "SeismoTesting"],
            exclude: ["Scripts"]
        ),
        .testTarget(
            name: "SeismoServerTests",
            dependencies: [
                "SeismoServer", "SeismoQuery", "SeismoStore", "SeismoTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "SeismoStreamTests", dependencies: ["SeismoStream"]),
        .testTarget(
            name: "SeismoCollectTests",
            dependencies: [
                "SeismoCollect", "SeismoTesting", .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            exclude: ["Scrape/Fixtures"]
        ),
        .testTarget(
            name: "SeismoRuntimeTests",
            dependencies: [
                "SeismoRuntime", "SeismoStore", "SeismoWire", "SeismoTesting", "SeismoDetect", "SeismoPipeline", "SeismoStream",
                "SeismoAlert", "SeismoQuery", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "SeismoAlertTests",
            dependencies: [
                "SeismoAlert", "SeismoTesting", "SeismoStore",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        .testTarget(name: "SeismoKafkaTests", dependencies: ["SeismoKafka", "SeismoTesting"]),
        .testTarget(
            name: "SeismoCLITests",
            dependencies: ["SeismoWire", "SeismoKafka", "SeismoTesting", "SeismoStore"]
        ),
    ]
)
