import ArgumentParser
import Foundation
import Logging
import SeismoPipeline
import SeismoRuntime

/// `seismo collect`: only the pipeline's collectors (the per-node DaemonSet role).
struct Collect: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run only a pipeline's collectors, publishing to Kafka (the per-node role).",
        discussion: """
            Scrapes, host metrics and probes run as in `seismo run`, without workers or store. \
            With no kafka.brokers in the pipeline (and no --brokers), the embedded Kafka cluster \
            starts in-process and its bootstrap address is printed. SIGINT or SIGTERM stops the \
            collectors and flushes what they produced.
            """)

    @Argument(help: "The pipeline file.")
    var pipeline: String

    @Option(name: .long, help: "Kafka bootstrap servers; overrides kafka.brokers.")
    var brokers: String?

    @Option(name: .long, help: "Serve /metrics on host:port (port 0 picks one).")
    var listen: String?

    @Option(name: .long, help: "Log level: trace, debug, info, notice, warning, error.")
    var logLevel = "notice"

    func run() async throws {
        let setup = try ServiceCommandSetup(pipeline: pipeline, logLevel: logLevel)
        let (spec, logger, registry) = (setup.pipeline, setup.logger, setup.registry)
        let runtime = try await CollectorRuntime.prepare(
            spec, brokers: brokers.map { $0.split(separator: ",").map(String.init) }, listen: listen, registry: registry,
            logger: logger,
            onListening: { host, port in
                print("http: http://\(host):\(port)/metrics")
                fflush(nil)
            })
        print(runtime.embedded ? "embedded Kafka cluster at \(runtime.bootstrapServers)" : "Kafka at \(runtime.bootstrapServers)")
        for collector in runtime.collectors { print("collector \(collector.name) → \(collector.topic.name)") }
        fflush(nil)
        try await runtime.run(logger: logger)
    }
}
