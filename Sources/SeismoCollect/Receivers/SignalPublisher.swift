import Logging
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire

/// Publishes pushed signals to one topic and waits for the broker's acknowledgement, so a
/// receiver answers success only for what Kafka holds.
///
/// Never waits for room: when the producer's local queue is full the publish fails at once
/// with `.overloaded` (the receiver answers 503 and the client retries later), and the
/// records already enqueued from that call are still delivered (a retry may then repeat
/// them: at-least-once).
public final class SignalPublisher: Sendable {
    public let topic: TopicSpec
    private let producer: KafkaProducer
    private let batcher: SignalBatcher

    public init(source: String, topic: TopicSpec, producer: KafkaProducer, maxSignalsPerRecord: Int = 1000) {
        self.topic = topic
        self.producer = producer
        batcher = SignalBatcher(
            partitionCount: Int32(clamping: max(1, topic.partitions)), maxSamplesPerRecord: max(1, maxSignalsPerRecord),
            source: source, keyLabels: topic.keyLabels)
    }

    /// Publishes `batch` and waits for every record's acknowledgement. Returns the number of
    /// signals published (samples + log records + spans).
    @discardableResult
    public func publish(_ batch: SignalBatch) async throws(CollectError) -> Int {
        let encoded = batcher.records(for: batch)
        guard !encoded.isEmpty else { return 0 }
        let header = KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)
        let now = Timestamp.now.milliseconds
        let records = encoded.map {
            ProducerRecord(topic: topic.name, partition: $0.partition, key: $0.key, value: $0.payload, headers: [header], timestamp: now)
        }
        let delivery: DeliveryBatch
        do {
            delivery = try producer.enqueue(records)
        } catch {
            if error.code == .queueFull {
                throw CollectError(.overloaded, "the Kafka producer queue is full; retry later", context: topic.name)
            }
            throw CollectError(.publish, "cannot enqueue: \(error)", context: topic.name)
        }
        for report in await delivery.reports() {
            if let error = report.error {
                throw CollectError(.publish, "not delivered: \(error)", context: topic.name)
            }
        }
        return encoded.reduce(0) { $0 + $1.sampleCount + $1.logCount + $1.spanCount }
    }
}
