import SeismoKafka
import SeismoTesting
import Testing

@Suite("KafkaAdmin and the embedded cluster")
struct AdminTests {
    @Test("created topics are listed with their partitions and end offsets")
    func createAndList() async throws {
        try await KafkaFixtures.withCluster(brokers: 3) { cluster in
            let admin = try KafkaAdmin(embedded: cluster)
            try await admin.createTopics([NewTopic(name: "signals", partitions: 6), NewTopic(name: "alerts", partitions: 2)])
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            _ = try await producer.send((0..<4).map { ProducerRecord(topic: "alerts", partition: 1, value: [UInt8($0)]) })
            let topics = try await admin.listTopics()
            #expect(topics.map(\.name) == ["alerts", "signals"])
            #expect(topics[1].partitions.count == 6)
            #expect(topics[0].partitions.map(\.highWatermark) == [0, 4])
            #expect(topics[0].partitions.allSatisfy { $0.lowWatermark == 0 })
            try await producer.shutdown()
        }
    }

    @Test("creating an existing topic fails unless ifNotExists")
    func createExisting() async throws {
        try await KafkaFixtures.withCluster(topics: ["x": 1]) { cluster in
            let admin = try KafkaAdmin(embedded: cluster)
            await #expect(throws: KafkaError.self) { try await admin.createTopics([NewTopic(name: "x", partitions: 1)]) }
            try await admin.createTopics([NewTopic(name: "x", partitions: 1)], ifNotExists: true)
        }
    }

    @Test("listing a topic that does not exist is an unknownTopic error")
    func unknownTopic() async throws {
        try await KafkaFixtures.withCluster { cluster in
            let admin = try KafkaAdmin(embedded: cluster)
            let error = await #expect(throws: KafkaError.self) { try await admin.listTopics(["nope"]) }
            #expect(error?.code == .unknownTopic)
        }
    }

    @Test("an unreachable broker is reported within seconds")
    func unreachable() async throws {
        let admin = try KafkaAdmin(
            configuration: KafkaClientConfiguration(bootstrapServers: "127.0.0.1:1", socketTimeout: .seconds(2)))
        let start = ContinuousClock.now
        let error = await #expect(throws: KafkaError.self) { try await admin.checkConnectivity(timeout: .seconds(2)) }
        #expect(error?.code == .brokerUnreachable)
        // Generous: the point is "an error, not a hang", and CI machines can be loaded.
        #expect(ContinuousClock.now - start < .seconds(120), "an error, not a hang (the bound allows for a loaded machine)")
    }
}
