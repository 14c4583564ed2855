import ArgumentParser
import Foundation
import Logging
import SeismoKafka
import ServiceLifecycle

/// `seismo broker`: the embedded Kafka cluster, until SIGINT or SIGTERM.
struct Broker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the embedded Kafka cluster and print its bootstrap address.",
        discussion: """
            Any Kafka client can use the printed address. Records live in memory and are gone \
            when the broker stops. Topics that clients produce to without creating them get 4 \
            partitions; create others up front with --topic NAME:PARTITIONS.
            """)

    @Option(name: .long, help: "Number of brokers.")
    var brokers = 3

    @Option(name: .long, help: "A topic to create, NAME or NAME:PARTITIONS (repeatable).")
    var topic: [String] = []

    @Option(name: .long, help: "Also write the bootstrap address to this file.")
    var addressFile: String?

    func run() async throws {
        guard brokers >= 1 else { throw ValidationError("--brokers must be at least 1") }
        var logger = Logger(label: "seismo.broker")
        logger.logLevel = .warning
        let cluster = try EmbeddedKafkaCluster(brokers: brokers, logger: logger)
        for spec in topic {
            let parts = spec.split(separator: ":", maxSplits: 1)
            guard let name = parts.first.map(String.init), !name.isEmpty,
                let partitions = parts.count == 2 ? Int32(parts[1]) : 6, partitions >= 1
            else { throw ValidationError("--topic takes NAME or NAME:PARTITIONS, got \(spec.debugDescription)") }
            try cluster.createTopic(name, partitions: partitions)
            print("created topic \(name) with \(partitions) partitions")
        }
        print("embedded Kafka cluster with \(brokers) broker(s) at \(cluster.bootstrapServers)")
        print("  export SEISMO_BROKERS=\(cluster.bootstrapServers)")
        fflush(nil)
        if let addressFile {
            try cluster.bootstrapServers.write(toFile: addressFile, atomically: true, encoding: .utf8)
        }
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: cluster)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        print("embedded Kafka cluster stopped")
    }
}
