import SeismoKafka
import SeismoTesting
import Testing

@Suite("KafkaProducer")
struct ProducerTests {
    @Test("send waits for the broker and reports each record's partition and offset, in order")
    func sendReportsOffsets() async throws {
        try await KafkaFixtures.withCluster(topics: ["t": 1]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let records = (0..<5).map { ProducerRecord(topic: "t", value: Array("v\($0)".utf8)) }
            let reports = try await producer.send(records)
            #expect(reports.count == 5)
            #expect(reports.allSatisfy { $0.isDelivered })
            #expect(reports.map(\.offset) == [0, 1, 2, 3, 4])
            #expect(reports.allSatisfy { $0.partition == 0 && $0.topic == "t" })
            try await producer.shutdown()
        }
    }

    @Test("records with one key always land on one partition")
    func keyedRecordsShareAPartition() async throws {
        try await KafkaFixtures.withCluster(topics: ["keyed": 6]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            var partitionsByKey: [String: Set<Int32>] = [:]
            for round in 0..<3 {
                let records = (0..<20).map {
                    ProducerRecord(topic: "keyed", key: Array("series-\($0)".utf8), value: Array("\(round)".utf8))
                }
                let reports = try await producer.send(records)
                for (record, report) in zip(records, reports) {
                    partitionsByKey[String(decoding: record.key!, as: UTF8.self), default: []].insert(report.partition)
                }
            }
            #expect(partitionsByKey.values.allSatisfy { $0.count == 1 })
            #expect(Set(partitionsByKey.values.flatMap { $0 }).count > 1, "keys spread over partitions")
            try await producer.shutdown()
        }
    }

    @Test("headers, keys, null values and timestamps arrive as sent")
    func recordFieldsRoundTrip() async throws {
        try await KafkaFixtures.withCluster(topics: ["h": 1]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let sent = ProducerRecord(
                topic: "h", key: [0, 1, 2], value: nil,
                headers: [KafkaHeader("content-type", "application/json"), KafkaHeader("empty", nil as [UInt8]?)],
                timestamp: 1_700_000_000_123)
            try await producer.sendBatch([sent]).confirm()
            let consumer = try KafkaConsumer(
                configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: nil))
            try consumer.assign([TopicPartition("h", 0): .beginning])
            let (records, ok) = try await KafkaFixtures.consume(consumer) { $0.count >= 1 }
            #expect(ok)
            let record = try #require(records.first)
            #expect(record.key == [0, 1, 2])
            #expect(record.value == nil)
            #expect(record.timestamp == 1_700_000_000_123)
            #expect(record.header("content-type") == "application/json")
            #expect(record.headers.contains(KafkaHeader("empty", nil as [UInt8]?)))
            await consumer.close()
            try await producer.shutdown()
        }
    }

    @Test("a full local queue is a queueFull error, and the records that fit are still delivered")
    func queueFull() async throws {
        try await KafkaFixtures.withCluster(topics: ["q": 1]) { cluster in
            var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
            configuration.queueRecords = 10
            configuration.linger = .milliseconds(500)
            configuration.queueFullTimeout = .milliseconds(50)
            let producer = try KafkaProducer(configuration: configuration)
            let records = (0..<50).map { ProducerRecord(topic: "q", value: [UInt8($0)]) }
            let thrown = #expect(throws: KafkaError.self) { try producer.enqueue(records) }
            #expect(thrown?.code == .queueFull)
            try await producer.flush(timeout: .seconds(10))
            // With time to drain, send waits for room instead of failing.
            var patient = configuration
            patient.queueFullTimeout = .seconds(20)
            let second = try KafkaProducer(configuration: patient)
            let reports = try await second.send(records)
            #expect(reports.allSatisfy { $0.isDelivered })
            try await second.shutdown()
            try await producer.shutdown()
        }
    }

    @Test("records that cannot be delivered in time fail with timedOut")
    func deliveryTimeout() async throws {
        try await KafkaFixtures.withCluster(brokers: 1, topics: ["down": 1]) { cluster in
            var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
            configuration.deliveryTimeout = .milliseconds(1500)
            let producer = try KafkaProducer(configuration: configuration)
            try cluster.setBroker(1, up: false)
            let reports = try await producer.send([ProducerRecord(topic: "down", value: [1])])
            #expect(reports.first?.error?.code == .timedOut)
            try? await producer.shutdown(timeout: .seconds(1))
        }
    }

    @Test("any librdkafka setting passes through; an unknown one is a configuration error")
    func configurationPassthrough() throws {
        var client = KafkaClientConfiguration(bootstrapServers: "127.0.0.1:9")
        client.properties = ["statistics.interval.ms": "1000", "security.protocol": "plaintext"]
        _ = try KafkaProducer(configuration: KafkaProducerConfiguration(client: client))
        client.properties = ["no.such.setting": "1"]
        let error = #expect(throws: KafkaError.self) {
            try KafkaProducer(configuration: KafkaProducerConfiguration(client: client))
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("no.such.setting") == true)
    }

    @Test("sending after shutdown is a closed error")
    func closed() async throws {
        try await KafkaFixtures.withCluster(topics: ["c": 1]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            try await producer.shutdown()
            let error = #expect(throws: KafkaError.self) { try producer.enqueue([ProducerRecord(topic: "c", value: [1])]) }
            #expect(error?.code == .closed)
        }
    }
}
