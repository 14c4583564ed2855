import Foundation
import Logging
import Prometheus
import SeismoAlert
import SeismoCollect
import SeismoCore
import SeismoDetect
import SeismoKafka
import SeismoPipeline
import SeismoQuery
import SeismoServer
import SeismoStore
import SeismoStream
import SeismoWire
import ServiceLifecycle
import Synchronization
import UnixSignals

/// Options of `seismo run` that are not part of the pipeline file.
public struct RunOptions: Sendable {
    /// Where the SQLite store lives (`<dataDir>/<pipeline>.sqlite`).
    public var dataDirectory: String
    /// Overrides `kafka.brokers` (e.g. a broker started by `seismo broker`).
    public var brokers: [String]?
    /// Overrides `runtime.workers`.
    public var workers: Int?
    /// Overrides `runtime.listen`; port 0 picks a free port.
    public var listen: String?
    /// Do not start the pipeline's collectors (the signals come from elsewhere).
    public var withoutCollectors: Bool
    /// Embedded cluster size.
    public var embeddedBrokers: Int
    /// Longest time between flushes (and commits) of a worker.
    public var flushInterval: Duration
    /// See `WorkerConfiguration.onFlush`.
    public var onFlush: (@Sendable (Duration, Int) -> Void)?
    /// Root of the model files (`<root>/<pipeline>/<detector>/CURRENT`); nil: trained detectors score nothing.
    public var modelsDirectory: String?
    /// How often the promoted models are checked for a change.
    public var modelPollInterval: Duration

    public init(
        dataDirectory: String = "./data", brokers: [String]? = nil, workers: Int? = nil, listen: String? = nil,
        withoutCollectors: Bool = false, embeddedBrokers: Int = 1, flushInterval: Duration = .milliseconds(500)
    ) {
        self.dataDirectory = dataDirectory
        self.brokers = brokers
        self.workers = workers
        self.listen = listen
        self.withoutCollectors = withoutCollectors
        self.embeddedBrokers = embeddedBrokers
        self.flushInterval = flushInterval
        onFlush = nil
        modelsDirectory = "./models"
        modelPollInterval = .seconds(2)
    }
}

/// A compiled pipeline wired into running services: the embedded cluster (when no brokers
/// are configured), the store and its retention, the HTTP endpoint, the workers and the
/// collectors, in the order they start. A `ServiceGroup` runs them and stops them in
/// reverse order, so collectors stop first and workers flush and commit before the
/// producer and the cluster go away.
public struct PipelineRuntime: Sendable {
    public let pipeline: Pipeline
    /// The bootstrap servers the pipeline talks to.
    public let bootstrapServers: String
    /// True when this process runs the embedded cluster.
    public let embedded: Bool
    public let storePath: String
    /// The services, in start order.
    public let services: [any Service]
    /// Called with `host, port` once the HTTP endpoint listens.
    public let server: OpsServer
    private let onListening: @Sendable (String, Int) async -> Void

    /// Prepares everything that must exist before the services start: the cluster, the
    /// topics, the store. `onAnomaly` sees each anomaly once it is stored and acknowledged.
    public static func prepare(
        _ pipeline: Pipeline, options: RunOptions, registry: PrometheusCollectorRegistry, logger: Logger,
        onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in },
        onAnomaly: @escaping @Sendable (AnomalyEvent) -> Void = { _ in }
    ) async throws -> PipelineRuntime {
        var services: [any Service] = []
        let brokers = options.brokers ?? pipeline.kafka.brokers
        let bootstrap: String
        var cluster: EmbeddedKafkaCluster?
        if brokers.isEmpty {
            var clusterLogger = logger
            clusterLogger.logLevel = max(logger.logLevel, .warning)
            let embedded = try EmbeddedKafkaCluster(brokers: options.embeddedBrokers, logger: clusterLogger)
            for topic in pipeline.kafka.topics {
                try embedded.createTopic(topic.name, partitions: Int32(topic.partitions))
            }
            bootstrap = embedded.bootstrapServers
            cluster = embedded
            services.append(embedded)
        } else {
            bootstrap = brokers.joined(separator: ",")
            let admin = try KafkaAdmin(configuration: client(bootstrap, pipeline, id: "seismo-admin"))
            try await admin.checkConnectivity()
            let existing = Set(try await admin.listTopics().map(\.name))
            let missing = pipeline.kafka.topics.filter { !existing.contains($0.name) }
            if !missing.isEmpty {
                do {
                    try await admin.createTopics(
                        missing.map { NewTopic(name: $0.name, partitions: Int32($0.partitions)) }, ifNotExists: true)
                } catch {
                    // Some brokers (librdkafka's mock cluster among them) refuse CreateTopics;
                    // they create topics on first use instead.
                    logger.warning(
                        "could not create topics \(missing.map(\.name).joined(separator: ", ")): \(error); relying on the broker's auto-creation")
                }
            }
        }

        try FileManager.default.createDirectory(atPath: options.dataDirectory, withIntermediateDirectories: true)
        let storePath = (options.dataDirectory as NSString).appendingPathComponent("\(pipeline.name).sqlite")
        let store = try SQLiteStore(path: storePath)

        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: bootstrap)
        producerConfiguration.client = client(bootstrap, pipeline, id: "seismo-\(pipeline.name)")
        producerConfiguration.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        services.append(producer)

        var alertService: AlertService<ContinuousClock>?
        var onScored: (@Sendable ([WindowOutput], [AnomalyEvent], ForecastLookup) -> Void)?
        let engine = Engine(querier: store)
        if let alerting = pipeline.alerting {
            let problems = QueryRuleEvaluator.problems(in: alerting)
            guard problems.isEmpty else { throw RuntimeError("alerts: " + problems.joined(separator: "; ")) }
            let service = AlertService(
                configuration: .init(
                    pipeline: pipeline.name, spec: alerting, deadLetterTopic: pipeline.outputs.deadLetterTopic,
                    externalURL: "http://\(options.listen ?? pipeline.runtime.listen)"),
                clock: ContinuousClock(), persistence: StoreAlertPersistence(store: store, key: pipeline.name),
                publisher: KafkaAlertPublisher(producer: producer), evaluator: QueryRuleEvaluator(engine: engine),
                logger: logger)
            let feed = AlertFeed(pipeline: pipeline, spec: alerting)
            onScored = { outputs, events, forecasts in service.submit(feed.input(outputs, events, forecasts: forecasts)) }
            alertService = service
            services.append(service)
        }
        let sink = try PipelineSink(
            pipeline: pipeline, store: store, producer: producer, logger: logger,
            models: options.modelsDirectory.map(ModelRepository.init(root:)), onAnomaly: onAnomaly,
            onScored: onScored)
        if sink.hasTrainedDetectors {
            // Streaming scoring: one OpenBLAS thread per worker (each worker scores its own windows).
            try BLAS.setThreadCount(BLAS.scoringThreadCount)
            if options.modelsDirectory != nil {
                services.append(
                    ModelReloadService(interval: options.modelPollInterval, clock: ContinuousClock()) { [sink] in
                        sink.reloadModels()
                    })
            }
        }
        // Retention counts back from the newest data stored, as Prometheus does, so replayed
        // or synthetic history is kept for its full retention whatever the wall clock says.
        services.append(
            RetentionService(
                store: store,
                policy: .init(
                    samples: pipeline.outputs.storeRaw ? pipeline.outputs.rawRetention : nil,
                    windows: pipeline.outputs.storeAggregates ? pipeline.outputs.aggregateRetention : nil,
                    anomalies: pipeline.outputs.anomalyRetention),
                interval: pipeline.runtime.retentionInterval, clock: ContinuousClock(),
                now: { [sink] in sink.newestEventTime }, logger: logger))
        let signalTopics = Set(pipeline.streams.map(\.topic))
        var workerConfiguration = WorkerConfiguration(
            pipeline: pipeline.name, topics: pipeline.kafka.topics.filter { signalTopics.contains($0.name) },
            streams: pipeline.streams, storeRaw: pipeline.outputs.storeRaw,
            deadLetterTopic: pipeline.outputs.deadLetterTopic, flushInterval: options.flushInterval)
        workerConfiguration.onFlush = options.onFlush
        let workerCount = max(1, options.workers ?? pipeline.runtime.workers ?? ProcessInfo.processInfo.activeProcessorCount)
        var workers: [StreamWorker] = []
        if !workerConfiguration.topics.isEmpty {
            for id in 0..<workerCount {
                var consumerConfiguration = KafkaConsumerConfiguration(
                    bootstrapServers: bootstrap, groupID: pipeline.kafka.consumerGroup)
                consumerConfiguration.client = client(bootstrap, pipeline, id: "seismo-\(pipeline.name)-worker-\(id)")
                let consumer = try KafkaConsumer(configuration: consumerConfiguration, logger: logger)
                workers.append(
                    StreamWorker(
                        id: id, configuration: workerConfiguration, consumer: consumer, producer: producer, sink: sink,
                        logger: logger))
            }
        }

        let listen = options.listen ?? pipeline.runtime.listen
        let (host, port) = try splitHostPort(listen)
        let server = OpsServer(
            host: host, port: port, registry: registry,
            readiness: Readiness(workers: workers, cluster: cluster),
            api: PrometheusAPI(querier: store, engine: engine), logger: logger,
            alerts: alertService.map { AlertServiceAPI(service: $0) })

        var collectors: [any Service] = []
        if !options.withoutCollectors {
            for spec in pipeline.collectors {
                guard let topic = pipeline.topic(named: spec.topic) else {
                    throw RuntimeError("collector \(spec.name) publishes to undeclared topic \(spec.topic)")
                }
                collectors.append(
                    Collectors.service(spec: spec, topic: topic, producer: producer, logger: logger))
            }
        }

        return PipelineRuntime(
            pipeline: pipeline, bootstrapServers: bootstrap, embedded: cluster != nil, storePath: storePath,
            services: services, workers: workers, collectors: collectors, server: server, onListening: onListening)
    }

    private init(
        pipeline: Pipeline, bootstrapServers: String, embedded: Bool, storePath: String, services: [any Service],
        workers: [StreamWorker], collectors: [any Service], server: OpsServer,
        onListening: @escaping @Sendable (String, Int) async -> Void
    ) {
        self.pipeline = pipeline
        self.bootstrapServers = bootstrapServers
        self.embedded = embedded
        self.storePath = storePath
        self.server = server
        self.onListening = onListening
        self.services = services + [server.application(onListening: onListening) as any Service] + workers + collectors
    }

    /// Runs every service until SIGINT or SIGTERM (or until `ServiceGroup` is cancelled).
    public func run(logger: Logger, signals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: signals, logger: logger))
        try await group.run()
    }

    private static func client(_ bootstrap: String, _ pipeline: Pipeline, id: String) -> KafkaClientConfiguration {
        KafkaClientConfiguration(
            bootstrapServers: bootstrap, clientID: id, properties: pipeline.kafka.properties)
    }

    private static func splitHostPort(_ text: String) throws(RuntimeError) -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port)
        else { throw RuntimeError("listen address must be host:port, got \(text)") }
        let host = String(text[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }
}

/// `/readyz`: ready once every worker consumes.
private struct Readiness: ReadinessProbe {
    let workers: [StreamWorker]
    let cluster: EmbeddedKafkaCluster?

    func notReadyReason() async -> String? {
        let waiting = workers.filter { !$0.isConsuming }
        return waiting.isEmpty ? nil : "\(waiting.count) worker(s) not yet consuming"
    }
}
