import CRdKafka
import SeismoCore

/// Compression codecs librdkafka supports.
public enum KafkaCompression: String, Sendable, Hashable, CaseIterable {
    case none, gzip, snappy, lz4, zstd
}

/// Settings common to every client. `properties` passes any librdkafka configuration key
/// through unchanged (see librdkafka's CONFIGURATION.md), so TLS and SASL need no code:
/// `["security.protocol": "SASL_SSL", "sasl.mechanisms": "PLAIN", …]`.
public struct KafkaClientConfiguration: Sendable, Hashable {
    /// `host:port[,host:port…]`.
    public var bootstrapServers: String
    public var clientID: String
    /// How long to wait for a broker before an operation fails.
    public var socketTimeout: Duration
    /// librdkafka keys, applied last, so they override the typed settings.
    public var properties: [String: String]

    public init(
        bootstrapServers: String, clientID: String = "seismo", socketTimeout: Duration = .seconds(10),
        properties: [String: String] = [:]
    ) {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.socketTimeout = socketTimeout
        self.properties = properties
    }

    var rdkafkaProperties: [String: String] {
        [
            "bootstrap.servers": bootstrapServers,
            "client.id": clientID,
            "socket.timeout.ms": String(socketTimeout.milliseconds),
            "log.connection.close": "false",
        ]
    }
}

/// Producer settings. Idempotence is on by default, so retries never duplicate or
/// reorder records within a partition.
public struct KafkaProducerConfiguration: Sendable, Hashable {
    public var client: KafkaClientConfiguration
    /// How long to wait for more records before sending a batch (`linger.ms`).
    public var linger: Duration
    /// Maximum records per batch (`batch.num.messages`).
    public var batchRecords: Int
    /// Maximum bytes per batch (`batch.size`).
    public var batchBytes: Int
    public var compression: KafkaCompression
    public var idempotence: Bool
    /// How long a record may wait for acknowledgement before it fails (`message.timeout.ms`).
    public var deliveryTimeout: Duration
    /// Local queue bound in records (`queue.buffering.max.messages`); past it, sends
    /// fail with `queueFull` or wait, see `KafkaProducer.send`.
    public var queueRecords: Int
    /// Local queue bound in kilobytes (`queue.buffering.max.kbytes`).
    public var queueKilobytes: Int
    /// How `send` waits for room when the queue is full before it throws `queueFull`.
    public var queueFullTimeout: Duration
    /// `murmur2_random` matches the Java client's default partitioner, so every client
    /// puts a key on the same partition.
    public var partitioner: String

    public init(
        client: KafkaClientConfiguration, linger: Duration = .milliseconds(5), batchRecords: Int = 10_000,
        batchBytes: Int = 1_000_000, compression: KafkaCompression = .lz4, idempotence: Bool = true,
        deliveryTimeout: Duration = .seconds(30), queueRecords: Int = 100_000, queueKilobytes: Int = 1_048_576,
        queueFullTimeout: Duration = .seconds(10), partitioner: String = "murmur2_random"
    ) {
        self.client = client
        self.linger = linger
        self.batchRecords = batchRecords
        self.batchBytes = batchBytes
        self.compression = compression
        self.idempotence = idempotence
        self.deliveryTimeout = deliveryTimeout
        self.queueRecords = queueRecords
        self.queueKilobytes = queueKilobytes
        self.queueFullTimeout = queueFullTimeout
        self.partitioner = partitioner
    }

    /// Defaults for `bootstrapServers`.
    public init(bootstrapServers: String) {
        self.init(client: KafkaClientConfiguration(bootstrapServers: bootstrapServers))
    }

    var rdkafkaProperties: [String: String] {
        var p = client.rdkafkaProperties
        p["linger.ms"] = String(linger.milliseconds)
        p["batch.num.messages"] = String(batchRecords)
        p["batch.size"] = String(batchBytes)
        p["compression.codec"] = compression.rawValue
        p["enable.idempotence"] = idempotence ? "true" : "false"
        p["message.timeout.ms"] = String(deliveryTimeout.milliseconds)
        p["queue.buffering.max.messages"] = String(queueRecords)
        p["queue.buffering.max.kbytes"] = String(queueKilobytes)
        p["partitioner"] = partitioner
        return p.merging(client.properties) { _, passthrough in passthrough }
    }
}

/// Consumer settings. Offsets are only ever committed by the application
/// (`enable.auto.commit=false`), which is what the worker commit protocol needs.
public struct KafkaConsumerConfiguration: Sendable, Hashable {
    public var client: KafkaClientConfiguration
    /// The consumer group; nil for a consumer that only uses `assign` (it then commits
    /// nothing that another consumer will read).
    public var groupID: String?
    public var offsetReset: OffsetReset
    public var sessionTimeout: Duration
    public var maxPollInterval: Duration
    /// `range,roundrobin` (eager) or `cooperative-sticky` (incremental).
    public var assignmentStrategy: String

    public init(
        client: KafkaClientConfiguration, groupID: String?, offsetReset: OffsetReset = .earliest,
        sessionTimeout: Duration = .seconds(10), maxPollInterval: Duration = .seconds(300),
        assignmentStrategy: String = "range,roundrobin"
    ) {
        self.client = client
        self.groupID = groupID
        self.offsetReset = offsetReset
        self.sessionTimeout = sessionTimeout
        self.maxPollInterval = maxPollInterval
        self.assignmentStrategy = assignmentStrategy
    }

    /// Defaults for `bootstrapServers` and `groupID`.
    public init(bootstrapServers: String, groupID: String?) {
        self.init(client: KafkaClientConfiguration(bootstrapServers: bootstrapServers), groupID: groupID)
    }

    var rdkafkaProperties: [String: String] {
        var p = client.rdkafkaProperties
        // librdkafka needs a group even for manual assignment; such a consumer never
        // joins it, so a private name keeps it apart from every real group.
        p["group.id"] = groupID ?? "seismo-unjoined-\(UInt64.random(in: 0...UInt64.max))"
        p["enable.auto.commit"] = "false"
        p["enable.auto.offset.store"] = "false"
        p["auto.offset.reset"] = offsetReset.rawValue
        p["session.timeout.ms"] = String(sessionTimeout.milliseconds)
        p["max.poll.interval.ms"] = String(maxPollInterval.milliseconds)
        p["partition.assignment.strategy"] = assignmentStrategy
        p["enable.partition.eof"] = "false"
        return p.merging(client.properties) { _, passthrough in passthrough }
    }
}

/// Builds an `rd_kafka_conf_t` from key/value pairs; every rejected key is reported.
func makeConf(_ properties: [String: String]) throws(KafkaError) -> OpaquePointer {
    let conf = rd_kafka_conf_new()!
    var errbuf = [CChar](repeating: 0, count: 512)
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
        let result = rd_kafka_conf_set(conf, key, value, &errbuf, errbuf.count)
        if result != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            let detail = String(cBuffer: errbuf)
            throw KafkaError(.configuration, "invalid Kafka setting \(key)=\(value): \(detail)")
        }
    }
    return conf
}
