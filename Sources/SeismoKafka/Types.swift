/// A topic and partition.
public struct TopicPartition: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var topic: String
    public var partition: Int32

    public init(_ topic: String, _ partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public static func < (lhs: TopicPartition, rhs: TopicPartition) -> Bool {
        lhs.topic != rhs.topic ? lhs.topic < rhs.topic : lhs.partition < rhs.partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// One record header. Kafka allows repeated keys and null values.
public struct KafkaHeader: Hashable, Sendable {
    public var key: String
    public var value: [UInt8]?

    public init(_ key: String, _ value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is UTF-8 text.
    public init(_ key: String, _ text: String) {
        self.init(key, Array(text.utf8))
    }
}

/// A record to produce.
public struct ProducerRecord: Sendable, Hashable {
    public var topic: String
    /// An explicit partition; nil lets the configured partitioner pick one from the key.
    public var partition: Int32?
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch; nil lets librdkafka stamp the send time.
    public var timestamp: Int64?

    public init(
        topic: String, partition: Int32? = nil, key: [UInt8]? = nil, value: [UInt8]?,
        headers: [KafkaHeader] = [], timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }
}

/// What the broker said about one produced record.
public struct DeliveryReport: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    /// The record's offset, or -1 when it was not delivered.
    public var offset: Int64
    /// Nil when the record was acknowledged.
    public var error: KafkaError?

    public var isDelivered: Bool { error == nil }
}

/// A consumed record.
public struct ConsumerRecord: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var offset: Int64
    public var key: [UInt8]?
    public var value: [UInt8]?
    public var headers: [KafkaHeader]
    /// Milliseconds since the epoch, or nil when the record has none.
    public var timestamp: Int64?

    /// A record as a consumer would return it (tests, replays).
    public init(
        topic: String, partition: Int32, offset: Int64, key: [UInt8]? = nil, value: [UInt8]?, headers: [KafkaHeader] = [],
        timestamp: Int64? = nil
    ) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestamp = timestamp
    }

    public var topicPartition: TopicPartition { TopicPartition(topic, partition) }

    /// The first header named `key`, as UTF-8 text.
    public func header(_ key: String) -> String? {
        headers.first { $0.key == key }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// One partition's consumer lag.
public struct PartitionLag: Sendable, Hashable {
    public var topicPartition: TopicPartition
    /// The next offset the consumer will read, or nil before its first fetch.
    public var position: Int64?
    /// The partition's high watermark, as last seen by the consumer.
    public var highWatermark: Int64?
    /// `highWatermark - position`, when both are known.
    public var lag: Int64? {
        guard let position, let highWatermark else { return nil }
        return max(0, highWatermark - position)
    }
}

/// A topic to create.
public struct NewTopic: Sendable, Hashable {
    public var name: String
    public var partitions: Int32
    public var replicationFactor: Int32
    /// Topic configs such as `retention.ms` or `cleanup.policy`.
    public var config: [String: String]

    public init(name: String, partitions: Int32, replicationFactor: Int32 = 1, config: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.config = config
    }
}

/// A topic as the cluster describes it.
public struct TopicDescription: Sendable, Hashable {
    public var name: String
    public var partitions: [PartitionDescription]
}

/// A partition with its leader and offsets.
public struct PartitionDescription: Sendable, Hashable {
    public var id: Int32
    public var leader: Int32
    /// The first offset still stored.
    public var lowWatermark: Int64
    /// The offset the next record will get (the end offset).
    public var highWatermark: Int64
}

/// Where a consumer starts when its group has no committed offset.
public enum OffsetReset: String, Sendable, Hashable {
    case earliest
    case latest
}
