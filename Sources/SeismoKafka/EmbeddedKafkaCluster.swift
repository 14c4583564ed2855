import CRdKafka
import Logging
import ServiceLifecycle
import Synchronization

/// An in-process Kafka cluster: librdkafka's mock cluster, listening on loopback.
///
/// Any Kafka client (kcat, confluent-kafka, kafka-python, the Java client) can connect to
/// `bootstrapServers`. Records live in memory and are gone when the cluster stops. Topics
/// a client produces to without creating them are created with `defaultPartitions`.
///
/// As a `Service`, it runs until graceful shutdown and then stops.
public final class EmbeddedKafkaCluster: Service, @unchecked Sendable {
    private let owner: HandleOwner
    private let handle: OpaquePointer
    private let cluster: OpaquePointer
    private let stopped = Atomic<Bool>(false)

    /// The loopback `host:port,…` list of the brokers.
    public let bootstrapServers: String
    /// The number of brokers.
    public let brokerCount: Int

    /// Starts `brokers` brokers on ephemeral loopback ports.
    public init(brokers: Int = 3, logger: Logger = Logger(label: "seismo.kafka.embedded")) throws(KafkaError) {
        precondition(brokers >= 1, "an embedded cluster needs at least one broker")
        owner = HandleOwner(logger: logger)
        // The mock cluster hangs off a client handle; this one never connects anywhere.
        handle = try makeHandle(type: RD_KAFKA_PRODUCER, properties: ["log_level": "3"], owner: owner)
        guard let cluster = rd_kafka_mock_cluster_new(handle, Int32(brokers)) else {
            rd_kafka_destroy(handle)
            throw KafkaError(.other, "cannot start the embedded Kafka cluster")
        }
        self.cluster = cluster
        bootstrapServers = String(cString: rd_kafka_mock_cluster_bootstraps(cluster))
        brokerCount = brokers
    }

    deinit { stop() }

    /// Creates `topic` with `partitions` partitions. Creating an existing topic is an error.
    public func createTopic(_ topic: String, partitions: Int32, replicationFactor: Int32 = 1) throws(KafkaError) {
        guard !stopped.load(ordering: .acquiring) else { throw KafkaError(.closed, "embedded cluster is stopped") }
        guard partitions >= 1 else { throw KafkaError(.configuration, "a topic needs at least one partition") }
        let err = rd_kafka_mock_topic_create(cluster, topic, partitions, min(replicationFactor, Int32(brokerCount)))
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "create topic \(topic)") }
    }

    /// Takes a broker down (connections refused) or brings it back, to test failover.
    public func setBroker(_ id: Int32, up: Bool) throws(KafkaError) {
        let err = up ? rd_kafka_mock_broker_set_up(cluster, id) : rd_kafka_mock_broker_set_down(cluster, id)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "set broker \(id)") }
    }

    /// Stops the brokers and frees the cluster. Idempotent.
    public func stop() {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        rd_kafka_mock_cluster_destroy(cluster)
        rd_kafka_destroy(handle)
    }

    /// Runs until graceful shutdown, then stops.
    public func run() async throws {
        try? await gracefulShutdown()
        stop()
    }
}
