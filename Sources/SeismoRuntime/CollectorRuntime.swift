import Foundation
import Logging
import Prometheus
import SeismoCollect
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoServer
import ServiceLifecycle
import UnixSignals

/// Only a pipeline's collectors, publishing to Kafka: the per-node (DaemonSet) role of
/// `seismo collect`. No workers, no store. With no brokers the embedded cluster starts,
/// so a single machine can try it; `/metrics` is served when a listen address is given.
public struct CollectorRuntime: Sendable {
    public let bootstrapServers: String
    public let embedded: Bool
    /// The collectors, in the pipeline's order.
    public let collectors: [CollectorService]
    private let services: [any Service]

    /// Prepares the cluster (or checks the brokers), the producer and the collectors.
    /// `listen` (`host:port`) adds the HTTP endpoint with `/metrics`, `/healthz`, `/readyz`.
    public static func prepare(
        _ pipeline: Pipeline, brokers: [String]?, listen: String?, registry: PrometheusCollectorRegistry, logger: Logger,
        onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    ) async throws -> CollectorRuntime {
        guard !pipeline.collectors.isEmpty else { throw RuntimeError("pipeline \(pipeline.name) declares no collectors") }
        var services: [any Service] = []
        let brokers = brokers ?? pipeline.kafka.brokers
        let bootstrap: String
        if brokers.isEmpty {
            var clusterLogger = logger
            clusterLogger.logLevel = max(logger.logLevel, .warning)
            let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: clusterLogger)
            for topic in pipeline.kafka.topics { try cluster.createTopic(topic.name, partitions: Int32(topic.partitions)) }
            bootstrap = cluster.bootstrapServers
            services.append(cluster)
        } else {
            bootstrap = brokers.joined(separator: ",")
        }
        var configuration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        configuration.client = KafkaClientConfiguration(
            bootstrapServers: bootstrap, clientID: "seismo-collect-\(pipeline.name)", properties: pipeline.kafka.properties)
        configuration.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        services.append(producer)
        if let listen {
            guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
                throw RuntimeError("listen address must be host:port, got \(listen)")
            }
            let host = String(listen[..<colon])
            let server = OpsServer(
                host: host.isEmpty ? "0.0.0.0" : host, port: port, registry: registry, readiness: AlwaysReady(), logger: logger)
            services.append(server.application(onListening: onListening) as any Service)
        }
        var collectors: [CollectorService] = []
        for spec in pipeline.collectors {
            guard let topic = pipeline.topic(named: spec.topic) else {
                throw RuntimeError("collector \(spec.name) publishes to undeclared topic \(spec.topic)")
            }
            collectors.append(CollectorService.make(spec: spec, topic: topic, producer: producer, logger: logger))
        }
        return CollectorRuntime(
            bootstrapServers: bootstrap, embedded: brokers.isEmpty, collectors: collectors,
            services: services + collectors.map { $0 as any Service })
    }

    /// Runs until SIGINT or SIGTERM: collectors stop first, then the producer flushes.
    public func run(logger: Logger, signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger))
        try await group.run()
    }
}

private struct AlwaysReady: ReadinessProbe {
    func notReadyReason() async -> String? { nil }
}
