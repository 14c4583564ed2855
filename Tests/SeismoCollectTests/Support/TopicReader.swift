import SeismoCore
import SeismoKafka
import SeismoTesting
import SeismoWire

/// Reads a topic from the beginning in tests.
enum TopicReader {
    /// Every batch on `topic` once `done` holds for what was read (or after `timeout`).
    static func batches(
        _ bootstrap: String, topic: String, partitions: Int32, timeout: Duration = .seconds(20),
        until done: @escaping ([SignalBatch]) -> Bool
    ) async throws -> [SignalBatch] {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: bootstrap, groupID: nil))
        var assignment: [TopicPartition: StartOffset] = [:]
        for partition in 0..<partitions { assignment[TopicPartition(topic, partition)] = .beginning }
        try consumer.assign(assignment)
        let (records, _) = try await KafkaFixtures.consume(consumer, timeout: timeout) { records in
            done(records.compactMap { try? SignalCodec.decode($0.value ?? []) })
        }
        await consumer.close()
        return try records.map { try SignalCodec.decode($0.value ?? []) }
    }

    /// Samples of `batches` by series, as (timestamp, value bits).
    static func samples(_ batches: [SignalBatch]) -> [Labels: [Int64: UInt64]] {
        var out: [Labels: [Int64: UInt64]] = [:]
        for batch in batches {
            for series in batch.series {
                for (t, v) in zip(series.timestamps, series.values) { out[series.labels, default: [:]][t] = v.bitPattern }
            }
        }
        return out
    }
}
