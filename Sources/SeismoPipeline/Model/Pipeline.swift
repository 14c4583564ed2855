import SeismoCore

/// A validated, compiled pipeline: everything `seismo run` needs, with every name resolved
/// and every default filled in. Built by `PipelineLoader` from YAML; never partially valid.
public struct Pipeline: Sendable, Hashable {
    /// The pipeline's name (`[a-z0-9_-]+`); it names topics, tables and model folders.
    public var name: String
    public var kafka: KafkaSettings
    public var collectors: [CollectorSpec]
    public var streams: [StreamSpec]
    public var outputs: OutputSpec
    public var detectors: [DetectorSpec]
    public var runtime: RuntimeSettings
    /// The `alerts:` section; nil when the pipeline does not alert.
    public var alerting: AlertingSpec? = nil

    public init(
        name: String, kafka: KafkaSettings, collectors: [CollectorSpec] = [], streams: [StreamSpec] = [],
        outputs: OutputSpec, detectors: [DetectorSpec] = [], runtime: RuntimeSettings = RuntimeSettings()
    ) {
        self.name = name
        self.kafka = kafka
        self.collectors = collectors
        self.streams = streams
        self.outputs = outputs
        self.detectors = detectors
        self.runtime = runtime
    }

    /// The stream called `name`.
    public func stream(named name: String) -> StreamSpec? { streams.first { $0.name == name } }

    /// The topic called `name`.
    public func topic(named name: String) -> TopicSpec? { kafka.topics.first { $0.name == name } }
}

/// Where Kafka is and which topics the pipeline uses.
public struct KafkaSettings: Sendable, Hashable {
    /// Bootstrap servers; empty means "start the embedded cluster".
    public var brokers: [String]
    /// librdkafka properties passed through unchanged (`linger.ms`, `security.protocol`, …).
    public var properties: [String: String]
    /// Every topic the pipeline reads or writes, signal topics first, then the anomaly and
    /// dead-letter topics.
    public var topics: [TopicSpec]
    /// The consumer group of the workers; defaults to `seismo.<pipeline>`.
    public var consumerGroup: String

    public init(brokers: [String] = [], properties: [String: String] = [:], topics: [TopicSpec] = [], consumerGroup: String) {
        self.brokers = brokers
        self.properties = properties
        self.topics = topics
        self.consumerGroup = consumerGroup
    }

    /// True when no brokers are configured and `seismo run` starts the embedded cluster.
    public var usesEmbeddedCluster: Bool { brokers.isEmpty }
}

/// A topic, its partition count, and how its records are keyed.
public struct TopicSpec: Sendable, Hashable {
    public var name: String
    public var partitions: Int
    /// The labels whose values key (and so partition) a series. `nil` keys by the whole
    /// series. A stream may only group by a superset of its topic's key labels, so that one
    /// window group never spans partitions.
    public var keyLabels: [String]?

    public init(name: String, partitions: Int, keyLabels: [String]? = nil) {
        self.name = name
        self.partitions = partitions
        self.keyLabels = keyLabels
    }
}

/// What is stored, for how long, and where outputs go.
public struct OutputSpec: Sendable, Hashable {
    /// Store every raw sample the streams select.
    public var storeRaw: Bool
    public var rawRetention: Duration
    /// Store each window's aggregates and features, as series named `<stream>:<feature>`
    /// and as rows of the feature table.
    public var storeAggregates: Bool
    public var aggregateRetention: Duration
    /// The feature table's name (one row per window × group, one column per feature).
    public var featureTable: String
    /// Anomaly events are produced here (default `anomalies.<pipeline>`).
    public var anomalyTopic: String
    public var anomalyRetention: Duration
    /// Records that cannot be processed go here with the reason (default `deadletter.<pipeline>`).
    public var deadLetterTopic: String

    public init(
        storeRaw: Bool = true, rawRetention: Duration = .seconds(7 * 86_400),
        storeAggregates: Bool = true, aggregateRetention: Duration = .seconds(30 * 86_400),
        featureTable: String, anomalyTopic: String, anomalyRetention: Duration = .seconds(90 * 86_400),
        deadLetterTopic: String
    ) {
        self.storeRaw = storeRaw
        self.rawRetention = rawRetention
        self.storeAggregates = storeAggregates
        self.aggregateRetention = aggregateRetention
        self.featureTable = featureTable
        self.anomalyTopic = anomalyTopic
        self.anomalyRetention = anomalyRetention
        self.deadLetterTopic = deadLetterTopic
    }
}

/// Process-level settings of `seismo run`.
public struct RuntimeSettings: Sendable, Hashable {
    /// Worker count (consumers in the group); `nil` means one per core.
    public var workers: Int?
    /// `host:port` of the HTTP endpoint (`/healthz`, `/readyz`, `/metrics`).
    public var listen: String
    /// How often retention runs.
    public var retentionInterval: Duration

    public init(workers: Int? = nil, listen: String = "127.0.0.1:9464", retentionInterval: Duration = .seconds(300)) {
        self.workers = workers
        self.listen = listen
        self.retentionInterval = retentionInterval
    }
}
