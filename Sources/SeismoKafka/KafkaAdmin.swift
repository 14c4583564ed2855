import CRdKafka
import Glibc
import Logging
import SeismoCore

/// Cluster administration: topics, their offsets, and consumer groups' commits.
public final class KafkaAdmin: @unchecked Sendable {
    private let owner: HandleOwner
    private let handle: OpaquePointer
    private let embedded: EmbeddedKafkaCluster?
    private let timeout: Duration
    private let configuration: KafkaClientConfiguration

    /// Connects to the cluster in `configuration`. With `embedded`, topics are created
    /// directly in that in-process cluster (the mock broker does not serve CreateTopics).
    public init(
        configuration: KafkaClientConfiguration, embedded: EmbeddedKafkaCluster? = nil,
        logger: Logger = Logger(label: "seismo.kafka.admin")
    ) throws(KafkaError) {
        owner = HandleOwner(logger: logger)
        self.embedded = embedded
        timeout = configuration.socketTimeout
        self.configuration = configuration
        handle = try makeHandle(type: RD_KAFKA_PRODUCER, properties: configuration.rdkafkaProperties, owner: owner)
    }

    /// Connects to an embedded cluster.
    public convenience init(embedded: EmbeddedKafkaCluster) throws(KafkaError) {
        try self.init(configuration: KafkaClientConfiguration(bootstrapServers: embedded.bootstrapServers), embedded: embedded)
    }

    deinit { rd_kafka_destroy(handle) }

    /// Fails with `.brokerUnreachable` unless a broker answers a metadata request within
    /// `timeout`.
    public func checkConnectivity(timeout: Duration = .seconds(5)) async throws(KafkaError) {
        try await runBlocking { [self] () throws(KafkaError) in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle, 0, nil, &metadata, Int32(timeout.milliseconds))
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(
                    .brokerUnreachable,
                    "no Kafka broker at \(configuration.bootstrapServers) answered within \(timeout) (\(String(cString: rd_kafka_err2str(err)!)))",
                    rdkafkaCode: err.rawValue)
            }
        }
    }

    /// Creates topics. Existing topics are an error unless `ifNotExists`.
    public func createTopics(_ topics: [NewTopic], ifNotExists: Bool = false) async throws(KafkaError) {
        if let embedded {
            let existing = Set(try await listTopics().map(\.name))
            for topic in topics {
                if existing.contains(topic.name) {
                    if ifNotExists { continue }
                    throw KafkaError(.configuration, "topic \(topic.name) already exists")
                }
                try embedded.createTopic(topic.name, partitions: topic.partitions, replicationFactor: topic.replicationFactor)
            }
            return
        }
        var newTopics: [OpaquePointer?] = []
        defer { for topic in newTopics { rd_kafka_NewTopic_destroy(topic) } }
        var errbuf = [CChar](repeating: 0, count: 512)
        for topic in topics {
            guard let newTopic = rd_kafka_NewTopic_new(topic.name, topic.partitions, topic.replicationFactor, &errbuf, errbuf.count)
            else { throw KafkaError(.configuration, "topic \(topic.name): \(String(cBuffer: errbuf))") }
            newTopics.append(newTopic)
            for (key, value) in topic.config.sorted(by: { $0.key < $1.key }) {
                let err = rd_kafka_NewTopic_set_config(newTopic, key, value)
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(rdkafka: err, "topic \(topic.name) config \(key)")
                }
            }
        }
        let events = EventQueue(handle: handle)
        let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
        defer { rd_kafka_AdminOptions_destroy(options) }
        _ = rd_kafka_AdminOptions_set_request_timeout(options, Int32(timeout.milliseconds), &errbuf, errbuf.count)
        newTopics.withUnsafeMutableBufferPointer { buffer in
            rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, events.queue)
        }
        guard let event = await events.next(timeout: timeout + .seconds(1)) else {
            throw KafkaError(.timedOut, "CreateTopics not answered within \(timeout)")
        }
        defer { rd_kafka_event_destroy(event) }
        let err = rd_kafka_event_error(event)
        guard err == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(rdkafka: err, "create topics") }
        var count = 0
        let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
        for i in 0..<count {
            guard let result = results?[i] else { continue }
            let topicErr = rd_kafka_topic_result_error(result)
            if topicErr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && ifNotExists { continue }
            if topicErr != RD_KAFKA_RESP_ERR_NO_ERROR {
                let name = String(cString: rd_kafka_topic_result_name(result))
                throw KafkaError(rdkafka: topicErr, "create topic \(name)")
            }
        }
    }

    /// Every topic (or those named) with its partitions, leaders and watermark offsets.
    public func listTopics(_ names: [String]? = nil) async throws(KafkaError) -> [TopicDescription] {
        try await runBlocking { [self] () throws(KafkaError) -> [TopicDescription] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let err = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(timeout.milliseconds))
            guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                throw KafkaError(rdkafka: err, "list topics")
            }
            defer { rd_kafka_metadata_destroy(metadata) }
            var topics: [TopicDescription] = []
            for t in 0..<Int(metadata.pointee.topic_cnt) {
                let topic = metadata.pointee.topics[t]
                let name = String(cString: topic.topic)
                if let names, !names.contains(name) { continue }
                if name.hasPrefix("__") && names == nil { continue }
                var partitions: [PartitionDescription] = []
                for p in 0..<Int(topic.partition_cnt) {
                    let partition = topic.partitions[p]
                    var low: Int64 = -1
                    var high: Int64 = -1
                    let werr = rd_kafka_query_watermark_offsets(
                        handle, name, partition.id, &low, &high, Int32(timeout.milliseconds))
                    guard werr == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        throw KafkaError(rdkafka: werr, "offsets of \(name)[\(partition.id)]")
                    }
                    partitions.append(
                        PartitionDescription(id: partition.id, leader: partition.leader, lowWatermark: low, highWatermark: high))
                }
                topics.append(TopicDescription(name: name, partitions: partitions.sorted { $0.id < $1.id }))
            }
            if let names {
                let found = Set(topics.map(\.name))
                if let missing = names.first(where: { !found.contains($0) }) {
                    throw KafkaError(.unknownTopic, "topic \(missing) does not exist")
                }
            }
            return topics.sorted { $0.name < $1.name }
        }
    }

    /// The number of partitions of `topic`. Asking for a topic's metadata makes brokers
    /// that auto-create topics (the embedded cluster does, with 4 partitions) create it.
    public func partitionCount(of topic: String, wait: Duration = .seconds(3)) async throws(KafkaError) -> Int32 {
        try await runBlocking { [self] () throws(KafkaError) -> Int32 in
            guard let topicHandle = rd_kafka_topic_new(handle, topic, nil) else {
                throw KafkaError(.configuration, "invalid topic name \(topic.debugDescription)")
            }
            defer { rd_kafka_topic_destroy(topicHandle) }
            let deadline = ContinuousClock.now + wait
            var lastError = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
            repeat {
                var metadata: UnsafePointer<rd_kafka_metadata>?
                let err = rd_kafka_metadata(handle, 0, topicHandle, &metadata, Int32(timeout.milliseconds))
                guard err == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                    throw KafkaError(rdkafka: err, "metadata of \(topic)")
                }
                defer { rd_kafka_metadata_destroy(metadata) }
                if metadata.pointee.topic_cnt == 1 {
                    let described = metadata.pointee.topics[0]
                    if described.err == RD_KAFKA_RESP_ERR_NO_ERROR, described.partition_cnt > 0 {
                        return described.partition_cnt
                    }
                    lastError = described.err
                }
                usleep(100_000)
            } while ContinuousClock.now < deadline
            throw KafkaError(
                .unknownTopic,
                "topic \(topic) does not exist and the cluster did not create it (\(String(cString: rd_kafka_err2str(lastError)!)))",
                rdkafkaCode: lastError.rawValue)
        }
    }

    /// The offsets `group` has committed on every partition of `topics` (nil where the
    /// group has committed nothing).
    public func committedOffsets(group: String, topics: [String]) async throws(KafkaError) -> [TopicPartition: Int64?] {
        let partitions = try await listTopics(topics).flatMap { topic in
            topic.partitions.map { TopicPartition(topic.name, $0.id) }
        }
        let consumer = try KafkaConsumer(
            configuration: KafkaConsumerConfiguration(client: configuration, groupID: group),
            logger: owner.logger)
        let committed = try await consumer.committed(partitions, timeout: timeout)
        await consumer.close()
        return committed
    }
}
