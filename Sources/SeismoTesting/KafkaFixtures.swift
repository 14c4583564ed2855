import SeismoKafka

/// Helpers for tests that need a running cluster.
public enum KafkaFixtures {
    /// Starts an embedded cluster with `topics` created, runs `body`, then stops it.
    public static func withCluster<T>(
        brokers: Int = 1, topics: [String: Int32] = [:],
        _ body: (EmbeddedKafkaCluster) async throws -> T
    ) async throws -> T {
        let cluster = try EmbeddedKafkaCluster(brokers: brokers)
        defer { cluster.stop() }
        for (topic, partitions) in topics.sorted(by: { $0.key < $1.key }) {
            try cluster.createTopic(topic, partitions: partitions)
        }
        return try await body(cluster)
    }

    /// Polls `consumer` until `condition` holds for everything seen so far, or `timeout`.
    /// Returns every record seen and whether the condition was met.
    public static func consume(
        _ consumer: KafkaConsumer, timeout: Duration = .seconds(60),
        until condition: ([ConsumerRecord]) -> Bool
    ) async throws -> (records: [ConsumerRecord], satisfied: Bool) {
        var seen: [ConsumerRecord] = []
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if case .records(let records) = try await consumer.poll(timeout: .milliseconds(200)) {
                seen += records
            }
            if condition(seen) { return (seen, true) }
        }
        return (seen, false)
    }
}
