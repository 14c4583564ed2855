import SeismoCore
import SeismoTesting
import Testing

@testable import SeismoWire

@Suite("SignalBatcher")
struct SignalBatcherTests {
    struct Row: Hashable {
        var labels: Labels
        var timestamp: Int64
        var bits: UInt64
    }

    static func rows(_ samples: [Sample]) -> [Row: Int] {
        samples.reduce(into: [:]) {
            $0[Row(labels: $1.labels, timestamp: $1.timestamp.milliseconds, bits: $1.value.bitPattern), default: 0] += 1
        }
    }

    @Test(
        "every sample lands in exactly one record, on its series' partition, within the size limit",
        arguments: [(1, 1000), (3, 7), (16, 100), (64, 1)])
    func invariants(partitions: Int32, maxPerRecord: Int) throws {
        let generator = SignalGenerator(seed: UInt64(partitions))
        let samples = generator.samples(series: 120, points: 9)
        let batcher = SignalBatcher(partitionCount: partitions, maxSamplesPerRecord: maxPerRecord, source: "test")
        let records = batcher.records(samples: samples)

        var decoded: [Sample] = []
        for record in records {
            #expect(record.sampleCount <= maxPerRecord)
            #expect(record.sampleCount > 0)
            #expect(KafkaPartitioner.murmur2(key: record.key, partitionCount: partitions) == record.partition)
            let batch = try SignalCodec.decode(record.payload)
            #expect(batch.source == "test")
            #expect(batch.sampleCount == record.sampleCount)
            #expect(batch.series.contains { RecordKey.series($0.labels) == record.key })
            for series in batch.series {
                #expect(batcher.partition(of: RecordKey.series(series.labels)) == record.partition)
            }
            decoded += batch.samples
        }
        #expect(Self.rows(decoded) == Self.rows(samples))
        // Records are full except the last of each partition.
        let partial = Dictionary(grouping: records, by: \.partition).values.map {
            $0.dropLast().filter { $0.sampleCount < maxPerRecord }.count
        }
        #expect(partial.allSatisfy { $0 == 0 })
        #expect(records.map(\.partition) == records.map(\.partition).sorted())
    }

    @Test("a series larger than a record is split across records of its partition, in order")
    func splitSeries() throws {
        let series = SeriesSamples(
            labels: ["__name__": "big"], timestamps: (0..<25).map(Int64.init), values: (0..<25).map(Double.init))
        let records = SignalBatcher(partitionCount: 4, maxSamplesPerRecord: 10).records(for: SignalBatch(series: [series]))
        #expect(records.map(\.sampleCount) == [10, 10, 5])
        #expect(Set(records.map(\.partition)).count == 1)
        let timestamps = try records.flatMap { try SignalCodec.decode($0.payload).series.flatMap { Array($0.timestamps) } }
        #expect(timestamps == (0..<25).map(Int64.init))
    }

    @Test("logs go by stream labels and spans by trace id; each counts as one toward the limit")
    func logsAndSpans() throws {
        var signals = RandomSignals(seed: 8)
        let logs = (0..<30).map { _ in signals.log() }
        let spans = (0..<30).map { _ in signals.span() }
        let batcher = SignalBatcher(partitionCount: 5, maxSamplesPerRecord: 4)
        let records = batcher.records(samples: [], logs: logs, spans: spans)
        var seenLogs: [LogRecord] = []
        var seenSpans: [Span] = []
        for record in records {
            #expect(record.logCount + record.spanCount <= 4)
            let batch = try SignalCodec.decode(record.payload)
            for log in batch.logs { #expect(batcher.partition(of: RecordKey.series(log.labels)) == record.partition) }
            for span in batch.spans { #expect(batcher.partition(of: RecordKey.trace(span.traceID)) == record.partition) }
            seenLogs += batch.logs
            seenSpans += batch.spans
        }
        #expect(Set(seenLogs) == Set(logs))
        #expect(seenLogs.count == logs.count)
        #expect(Set(seenSpans) == Set(spans))
    }

    @Test("with key labels, series of one service share a partition: murmur2 of the group key")
    func keyLabels() throws {
        let services = (0..<12).map { "svc\($0)" }
        var samples: [Sample] = []
        for service in services {
            for instance in 0..<4 {
                for metric in ["cpu", "mem", "latency"] {
                    let labels: Labels = ["__name__": metric, "service": service, "instance": "\(service)-\(instance)"]
                    samples.append(Sample(labels: labels, timestamp: Timestamp(milliseconds: 1000), value: 1))
                }
            }
        }
        let batcher = SignalBatcher(partitionCount: 8, maxSamplesPerRecord: 5, source: "t", keyLabels: ["service"])
        var partitionOf: [String: Set<Int32>] = [:]
        var decoded: [Sample] = []
        for record in batcher.records(samples: samples) {
            #expect(KafkaPartitioner.murmur2(key: record.key, partitionCount: 8) == record.partition)
            let batch = try SignalCodec.decode(record.payload)
            for series in batch.series {
                let service = try #require(series.labels["service"])
                partitionOf[service, default: []].insert(record.partition)
                let key = RecordKey.group(series.labels, ["service"])
                #expect(key == RecordKey.series(["service": service]))
                #expect(KafkaPartitioner.murmur2(key: key, partitionCount: 8) == record.partition)
            }
            decoded += batch.samples
        }
        #expect(partitionOf.count == services.count)
        #expect(partitionOf.values.allSatisfy { $0.count == 1 })
        // Twelve services over eight partitions use more than one partition.
        #expect(Set(partitionOf.values.flatMap { $0 }).count > 1)
        #expect(Self.rows(decoded) == Self.rows(samples))
    }

    @Test("without key labels the key is the whole series'")
    func defaultKey() {
        let labels: Labels = ["__name__": "cpu", "service": "a"]
        #expect(SignalBatcher(partitionCount: 3).key(of: labels) == RecordKey.series(labels))
        #expect(SignalBatcher(partitionCount: 3, keyLabels: ["service"]).key(of: labels) == RecordKey.series(["service": "a"]))
    }

    @Test("nothing in, no records out")
    func empty() {
        #expect(SignalBatcher(partitionCount: 3).records(samples: []).isEmpty)
    }
}
