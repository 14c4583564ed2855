import ArgumentParser
import Foundation
import Logging
import SeismoCore
import SeismoPipeline
import SeismoRuntime
import SeismoWire

/// `seismo run`: the whole pipeline in one process.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a pipeline: collectors, stream workers, store, detectors and the HTTP endpoint.",
        discussion: """
            With no kafka.brokers in the pipeline (and no --brokers), the embedded Kafka cluster \
            starts in-process and its bootstrap address is printed, so any Kafka client can read \
            the pipeline's topics. SIGINT or SIGTERM stops it gracefully: collectors stop, complete \
            windows are flushed and stored, and offsets are committed.
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Option(name: .long, help: "Directory of the SQLite store.")
    var dataDir = "./data"

    @Option(name: .long, help: "Kafka bootstrap servers; overrides kafka.brokers.")
    var brokers: String?

    @Option(name: .long, help: "Stream workers (consumers); overrides runtime.workers.")
    var workers: Int?

    @Option(name: .long, help: "HTTP address host:port; overrides runtime.listen (port 0 picks one).")
    var listen: String?

    @Flag(name: .long, help: "Do not start the pipeline's collectors.")
    var noCollectors = false

    @Option(name: .long, help: "Write the embedded cluster's bootstrap address to this file.")
    var addressFile: String?

    @Option(name: .long, help: "Root of the model files; trained detectors load the promoted version and follow promotions.")
    var models = "./models"

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "notice"

    func run() async throws {
        let setup = try ServiceCommandSetup(pipeline: pipeline, logLevel: logLevel)
        let (spec, logger, registry) = (setup.pipeline, setup.logger, setup.registry)

        var options = RunOptions(
            dataDirectory: dataDir,
            brokers: brokers.map { $0.split(separator: ",").map(String.init) },
            workers: workers, listen: listen, withoutCollectors: noCollectors)
        options.modelsDirectory = models
        let runtime = try await PipelineRuntime.prepare(
            spec, options: options, registry: registry, logger: logger,
            onListening: { host, port in
                print("http: http://\(host):\(port)/metrics  /healthz  /readyz")
                print("      http://\(host):\(port)/api/v1/query (Prometheus API: a Grafana Prometheus data source at http://\(host):\(port))")
                fflush(nil)
            },
            onAnomaly: { event in
                print(Run.line(for: event))
                fflush(nil)
            })

        if runtime.embedded {
            print("embedded Kafka cluster at \(runtime.bootstrapServers)")
            if let addressFile { try runtime.bootstrapServers.write(toFile: addressFile, atomically: true, encoding: .utf8) }
        } else {
            print("Kafka at \(runtime.bootstrapServers)")
        }
        print("pipeline \(spec.name): \(spec.streams.count) stream(s), \(spec.detectors.count) detector(s), store \(runtime.storePath)")
        print("  anomalies: seismo subscribe --brokers \(runtime.bootstrapServers) \(spec.outputs.anomalyTopic)")
        print("             kcat -C -b \(runtime.bootstrapServers) -t \(spec.outputs.anomalyTopic) -u")
        if let alerting = spec.alerting {
            print("  alerts:    seismo subscribe --brokers \(runtime.bootstrapServers) \(alerting.topic)   (seismo alerts list)")
        }
        if let stream = spec.streams.first, let feature = stream.featureNames.first {
            print("  query:     seismo query '\(stream.name):\(feature)' --data-dir \(dataDir) --from now-1h")
        }
        fflush(nil)
        try await runtime.run(logger: logger)
        print("pipeline \(spec.name) stopped")
    }

    /// One terminal line per anomaly.
    static func line(for event: AnomalyEvent) -> String {
        let group = event.group.keys.sorted().map { "\($0)=\(event.group[$0]!)" }.joined(separator: ",")
        let top = event.contributions.first.map { " top=\($0.feature)" } ?? ""
        let observed = event.observed.keys.sorted().map { "\($0)=\(format(event.observed[$0]!))" }.joined(separator: " ")
        let expected = event.expected.map { " expected=\(format($0))" } ?? ""
        return "ANOMALY \(event.severity.rawValue) \(event.detector) {\(group)} window=\(event.windowStart)+\(DurationParser.format(milliseconds: event.windowEnd.milliseconds - event.windowStart.milliseconds)) score=\(format(event.score))\(top) \(observed)\(expected)"
    }

    static func format(_ x: Double) -> String {
        if x == x.rounded() && abs(x) < 1e12 { return String(Int64(x)) }
        return String(format: "%.4g", x)
    }
}
