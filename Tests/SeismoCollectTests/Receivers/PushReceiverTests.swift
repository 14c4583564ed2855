import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

@Suite("Push receivers: status codes, limits, counting (in process)", .serialized)
struct PushReceiverTests {
    static let topic = TopicSpec(name: "signals.push", partitions: 3)

    static func withReceiver(
        _ routes: [any PushRoute], limits: PushLimits = PushLimits(), maxConcurrent: Int = 8,
        _ body: (PushReceiver, String) async throws -> Void
    ) async throws {
        try await KafkaFixtures.withCluster(topics: [topic.name: 3]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let receiver = PushReceiver(
                name: "test", routes: routes, publisher: SignalPublisher(source: "test", topic: topic, producer: producer),
                limits: limits, maxConcurrentRequests: maxConcurrent)
            try await body(receiver, cluster.bootstrapServers)
            try await producer.shutdown()
        }
    }

    static func write(_ series: [SeriesSamples]) -> PushRequest {
        PushRequest(
            path: "/api/v1/write", contentType: "application/x-protobuf", contentEncoding: "snappy",
            body: Snappy.compress(RemoteWrite.encode(series)))
    }

    @Test("remote write: 204 after every sample is on the topic, as sent")
    func remoteWrite() async throws {
        try await Self.withReceiver([RemoteWriteRoute()]) { receiver, bootstrap in
            var series: [SeriesSamples] = []
            for i in 0..<50 {
                series.append(SeriesSamples(labels: try Labels(validating: ["__name__": "m", "i": "\(i)"]), timestamps: [1000, 2000], values: [Double(i), .nan]))
            }
            let answer = await receiver.handle(Self.write(series))
            #expect(answer.status == 204)
            let batches = try await TopicReader.batches(bootstrap, topic: Self.topic.name, partitions: 3) {
                $0.reduce(0) { $0 + $1.sampleCount } >= 100
            }
            var expected: [Labels: [Int64: UInt64]] = [:]
            for s in series { expected[s.labels] = [1000: s.values[0].bitPattern, 2000: s.values[1].bitPattern] }
            #expect(TopicReader.samples(batches) == expected)
            #expect(batches.allSatisfy { $0.source == "test" })
            let stats = receiver.statistics
            #expect(stats.requests == 1 && stats.received == 100 && stats.published == 100 && stats.dropped == 0)
        }
    }

    @Test("remote write: bad input is answered 400/413/415 with a message, counted, and the receiver goes on")
    func remoteWriteBadInput() async throws {
        let limits = PushLimits(maxBodyBytes: 64 * 1024, maxDecodedBytes: 256 * 1024, labels: LabelLimits(maxLabels: 32))
        try await Self.withReceiver([RemoteWriteRoute()], limits: limits) { receiver, _ in
            let good = Self.write([SeriesSamples(labels: ["__name__": "ok"], timestamps: [1], values: [1])])
            var bad: [(PushRequest, Int, String)] = []
            var request = good
            request.body = [0x05, 0x10, 0x48]
            bad.append((request, 400, "snappy"))
            request.body = Snappy.compress(Array(RemoteWrite.encode([SeriesSamples(labels: ["__name__": "x"], timestamps: [1], values: [1])]).dropLast()))
            bad.append((request, 400, "WriteRequest"))
            request.body = Snappy.compress([UInt8](repeating: 0, count: 300 * 1024))
            bad.append((request, 413, "limit"))
            request.body = [UInt8](repeating: 1, count: 65 * 1024)
            bad.append((request, 413, "limit"))
            var wide: [String: String] = ["__name__": "wide"]
            for i in 0..<1000 { wide["l\(i)"] = "v" }
            request = Self.write([SeriesSamples(labels: Labels(uncheckedSorted: wide.sorted { $0.key < $1.key }.map { Label($0.key, $0.value) }), timestamps: [1], values: [1])])
            bad.append((request, 400, "32"))
            request = good
            request.contentEncoding = "gzip"
            bad.append((request, 415, "snappy"))
            request = good
            request.contentType = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
            bad.append((request, 415, "2.0"))
            for (request, status, text) in bad {
                let answer = await receiver.handle(request)
                #expect(answer.status == status, "\(text): \(answer.text)")
                #expect(answer.text.contains(text), "\(answer.text)")
            }
            #expect(await receiver.handle(good).status == 204)
            let stats = receiver.statistics
            #expect(stats.requests == bad.count + 1)
            #expect(stats.rejectedRequests == bad.count)
            #expect(stats.published == 1)
            #expect(stats.dropped == 1)  // the wide series' sample
        }
    }

    @Test("remote write: a request with some invalid series publishes the rest and answers 400 (not retried)")
    func partial() async throws {
        try await Self.withReceiver([RemoteWriteRoute()]) { receiver, bootstrap in
            let ok = SeriesSamples(labels: ["__name__": "ok"], timestamps: [5], values: [5])
            var bytes = RemoteWrite.encode([ok])
            bytes += RemoteWrite.encode([SeriesSamples(labels: Labels(uncheckedSorted: [Label("job", "no-name")]), timestamps: [5], values: [1])])
            let answer = await receiver.handle(PushRequest(path: "/api/v1/write", contentEncoding: "snappy", body: Snappy.compress(bytes)))
            #expect(answer.status == 400)
            #expect(answer.text.contains("1 sample(s) rejected"))
            let batches = try await TopicReader.batches(bootstrap, topic: Self.topic.name, partitions: 3) { $0.reduce(0) { $0 + $1.sampleCount } >= 1 }
            #expect(TopicReader.samples(batches) == [ok.labels: [5: (5.0).bitPattern]])
        }
    }

    @Test("a Kafka queue that is full is answered 503, so the client retries")
    func overloaded() async throws {
        // No broker at all, a one-record queue: the first record waits, the second does not fit.
        let producer = try KafkaProducer(
            configuration: .init(client: .init(bootstrapServers: "127.0.0.1:1"), deliveryTimeout: .milliseconds(500), queueRecords: 1))
        let receiver = PushReceiver(
            name: "test", routes: [RemoteWriteRoute()],
            publisher: SignalPublisher(source: "test", topic: TopicSpec(name: "t", partitions: 8), producer: producer, maxSignalsPerRecord: 1))
        var series: [SeriesSamples] = []
        for i in 0..<20 { series.append(SeriesSamples(labels: try Labels(validating: ["__name__": "m", "i": "\(i)"]), timestamps: [1], values: [1])) }
        let answer = await receiver.handle(Self.write(series))
        #expect(answer.status == 503)
        #expect(answer.text.contains("queue is full"))
        #expect(receiver.statistics.failedRequests == 1 && receiver.statistics.dropped == 20)
        try? await producer.shutdown(timeout: .seconds(2))
    }

    @Test("OTLP: JSON and protobuf are accepted and answered in kind; bad bodies get a google.rpc.Status")
    func otlp() async throws {
        try await Self.withReceiver(OTLP.Signal.allCases.map { OTLPRoute($0) }) { receiver, bootstrap in
            let json = """
                {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
                  "scopeSpans":[{"spans":[{"traceId":"0102030405060708090a0b0c0d0e0f10","spanId":"1112131415161718","name":"a",
                  "startTimeUnixNano":"1000","endTimeUnixNano":"3000"},{"traceId":"","spanId":"","name":"bad"}]}]}]}
                """
            let answer = await receiver.handle(PushRequest(path: "/v1/traces", contentType: "application/json", body: Array(json.utf8)))
            #expect(answer.status == 200)
            #expect(answer.contentType == "application/json")
            #expect(answer.text.contains("\"rejectedSpans\":\"1\""))
            let batches = try await TopicReader.batches(bootstrap, topic: Self.topic.name, partitions: 3) { $0.contains { !$0.spans.isEmpty } }
            let spans = batches.flatMap(\.spans)
            #expect(spans.map(\.name) == ["a"] && spans.first?.durationNanos == 2000 && spans.first?.service == "shop")

            let proto = await receiver.handle(PushRequest(path: "/v1/logs", contentType: "application/x-protobuf", body: [0x0A, 0x05, 0x01]))
            #expect(proto.status == 400)
            #expect(proto.contentType == "application/x-protobuf")
            #expect(proto.body.first == 0x08 && proto.body.dropFirst().first == 3)  // code 3 INVALID_ARGUMENT
            let media = await receiver.handle(PushRequest(path: "/v1/metrics", contentType: "text/plain", body: []))
            #expect(media.status == 415)

            // Content-Encoding: gzip is inflated; a damaged stream is 400, another encoding 415.
            let gzipped = await receiver.handle(
                PushRequest(path: "/v1/traces", contentType: "application/json", contentEncoding: "gzip", body: Gzip.compress(Array(json.utf8))))
            #expect(gzipped.status == 200)
            #expect(gzipped.text.contains("\"rejectedSpans\":\"1\""))
            let damaged = await receiver.handle(
                PushRequest(path: "/v1/traces", contentType: "application/json", contentEncoding: "gzip", body: Array(Gzip.compress(Array(json.utf8)).dropLast(12))))
            #expect(damaged.status == 400)
            #expect(damaged.text.contains("gzip"))
            let brotli = await receiver.handle(
                PushRequest(path: "/v1/traces", contentType: "application/json", contentEncoding: "br", body: Array(json.utf8)))
            #expect(brotli.status == 415)
            let unknown = await receiver.handle(PushRequest(path: "/v1/profiles", contentType: "application/json", body: []))
            #expect(unknown.status == 404)
        }
    }

    @Test("Loki push: snappy protobuf and JSON are published; invalid streams answered 400")
    func loki() async throws {
        try await Self.withReceiver([LokiPushRoute()]) { receiver, bootstrap in
            let logs = [LogRecord(labels: ["job": "promtail"], unixNanos: 1_700_000_000_000_000_000, body: "hello")]
            let proto = await receiver.handle(
                PushRequest(path: "/loki/api/v1/push", contentType: "application/x-protobuf", body: Snappy.compress(LokiPush.encodeProtobuf(logs))))
            #expect(proto.status == 204)
            let json = #"{"streams":[{"stream":{"job":"curl"},"values":[["1700000000000000001","from json"]]}]}"#
            #expect(await receiver.handle(PushRequest(path: "/loki/api/v1/push", contentType: "application/json", body: Array(json.utf8))).status == 204)
            let bad = #"{"streams":[{"stream":{"0bad":"x"},"values":[["1","y"]]}]}"#
            let answer = await receiver.handle(PushRequest(path: "/loki/api/v1/push", contentType: "application/json", body: Array(bad.utf8)))
            #expect(answer.status == 400)
            let batches = try await TopicReader.batches(bootstrap, topic: Self.topic.name, partitions: 3) { $0.reduce(0) { $0 + $1.logs.count } >= 2 }
            #expect(Set(batches.flatMap(\.logs).map(\.body)) == ["hello", "from json"])
            #expect(receiver.statistics.dropped == 1)
        }
    }

    @Test("more requests at once than allowed are answered 503")
    func concurrency() async throws {
        let producer = try KafkaProducer(
            configuration: .init(client: .init(bootstrapServers: "127.0.0.1:1"), deliveryTimeout: .milliseconds(1500)))
        let receiver = PushReceiver(
            name: "test", routes: [RemoteWriteRoute()],
            publisher: SignalPublisher(source: "test", topic: TopicSpec(name: "t", partitions: 1), producer: producer), maxConcurrentRequests: 1)
        let request = Self.write([SeriesSamples(labels: ["__name__": "m"], timestamps: [1], values: [1])])
        let answers = await withTaskGroup(of: PushResponse.self) { group in
            for _ in 0..<4 { group.addTask { await receiver.handle(request) } }
            return await group.reduce(into: []) { $0.append($1) }
        }
        // One waits for a broker that never answers (then fails: 503); the others are refused at once (503).
        #expect(answers.map(\.status) == [503, 503, 503, 503])
        #expect(answers.filter { $0.text.contains("requests in progress") }.count == 3)
        #expect(receiver.statistics.failedRequests == 4)
        try? await producer.shutdown(timeout: .seconds(2))
    }
}
