import Foundation
import Logging
import SeismoCollect
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import ServiceLifecycle

/// Push receivers and log tailing, end to end into a topic on a `seismo broker` process:
/// every figure counts only what the broker acknowledged.
enum ReceiverBenchmarks {
    static func run() async throws {
        print("\nReceivers, end to end into the topic (broker acknowledged)")
        let cluster = try await BrokerProcess.start(topics: ["bench.rw", "bench.otlp", "bench.logs"])
        defer { cluster.stop() }
        var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
        configuration.queueRecords = 200_000
        let producer = try KafkaProducer(configuration: configuration)
        var rows = [["what", "figure", "target", ""]]
        rows += try await remoteWrite(producer)
        rows.append(try await otlpSpans(producer))
        rows.append(try await logLines(producer))
        try await producer.shutdown()
        printTable(rows)
    }

    static func verdict(_ figure: Double, _ target: Double) -> String { figure >= target ? "ok" : "BELOW TARGET" }

    /// Snappy + protobuf WriteRequests of 2,000 series × 1 sample (8 labels each), decoded,
    /// validated, batched and produced by 4 concurrent clients (the receiver's `handle`, as
    /// its HTTP route calls it). Rows: the same 2,000 series in every request (what
    /// Prometheus sends: the target), every series new (a cold series cache, which also
    /// clears itself every 100 requests), and both streams again with the cache off.
    static func remoteWrite(_ producer: KafkaProducer) async throws -> [[String]] {
        let requestCount = 400
        var steady: [[UInt8]] = []
        for r in 0..<16 { steady.append(remoteWriteBody(request: r, distinct: false)) }
        var cold: [[UInt8]] = []
        for r in 0..<requestCount { cold.append(remoteWriteBody(request: r, distinct: true)) }
        return [
            try await remoteWrite(producer, RemoteWriteRoute(), steady, requestCount, "steady series", target: 500_000),
            try await remoteWrite(producer, RemoteWriteRoute(), cold, requestCount, "every series new", target: nil),
            try await remoteWrite(producer, RemoteWriteRoute(seriesCache: nil), steady, requestCount, "steady, no series cache", target: nil),
            try await remoteWrite(producer, RemoteWriteRoute(seriesCache: nil), cold, requestCount, "every series new, no cache", target: nil),
        ]
    }

    /// One WriteRequest of 2,000 series; with `distinct`, series no other request has.
    static func remoteWriteBody(request r: Int, distinct: Bool) -> [UInt8] {
        var series: [SeriesSamples] = []
        for s in 0..<2000 {
            let instance = distinct ? "10.\(r % 256).\(s / 256).\(s % 256):9100" : "10.0.\(s % 50).\(s % 7):9100"
            // Sorted by name, as remote write sends them.
            let labels = Labels(uncheckedSorted: [
                Label("__name__", "http_requests_total"), Label("code", ["200", "404", "500"][s % 3]),
                Label("handler", "/api/v\(s % 40)"), Label("instance", instance), Label("job", distinct ? "api-\(r / 256)" : "api"),
                Label("method", s % 2 == 0 ? "GET" : "POST"), Label("namespace", "prod"), Label("pod", "api-\(s / 40)"),
            ])
            series.append(SeriesSamples(labels: labels, timestamps: [1_795_392_000_000 + Int64(r) * 15_000], values: [Double(s * r)]))
        }
        return Snappy.compress(RemoteWrite.encode(series))
    }

    static func remoteWrite(
        _ producer: KafkaProducer, _ route: RemoteWriteRoute, _ bodies: [[UInt8]], _ requestCount: Int, _ what: String, target: Double?
    ) async throws -> [String] {
        let receiver = PushReceiver(
            name: "bench", routes: [route],
            publisher: SignalPublisher(source: "bench", topic: TopicSpec(name: "bench.rw", partitions: 4), producer: producer))
        let start = ContinuousClock.now
        let cpuStarted = PipelineBenchmarks.processCPUSeconds()
        let failures = try await concurrently(clients: 4, requests: requestCount) { index in
            let answer = await receiver.handle(
                PushRequest(path: "/api/v1/write", contentType: "application/x-protobuf", contentEncoding: "snappy", body: bodies[index % bodies.count]))
            return answer.status == 204
        }
        let seconds = (ContinuousClock.now - start).seconds
        let cpu = PipelineBenchmarks.processCPUSeconds() - cpuStarted
        let published = receiver.statistics.published
        let rate = Double(published) / seconds
        return [
            "remote-write ingest, \(what) (\(failures) failed requests, \(String(format: "%.2f", cpu)) CPU s in \(String(format: "%.2f", seconds)) s)",
            String(format: "%.0f samples/s", rate), target.map { String(format: "%.0f samples/s", $0) } ?? "-",
            target.map { verdict(rate, $0) } ?? "",
        ]
    }

    /// OTLP/HTTP protobuf trace exports of 1,000 spans each (6 attributes), by 4 clients.
    static func otlpSpans(_ producer: KafkaProducer) async throws -> [String] {
        let receiver = PushReceiver(
            name: "bench", routes: [OTLPRoute(.traces)],
            publisher: SignalPublisher(source: "bench", topic: TopicSpec(name: "bench.otlp", partitions: 4), producer: producer))
        var random = SystemRandomNumberGenerator()
        var bodies: [[UInt8]] = []
        for _ in 0..<8 {
            var context = OTLP.Context()
            context.resource = [OTLP.KeyValue("service.name", .string("checkout")), OTLP.KeyValue("host.name", .string("node-7"))]
            var spans: [OTLP.SpanData] = []
            for i in 0..<1000 {
                var span = OTLP.SpanData()
                span.traceID = (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) }
                span.spanID = (0..<8).map { _ in UInt8.random(in: 1...255, using: &random) }
                span.name = "GET /api/v\(i % 20)"
                span.kind = 2
                span.startTimeUnixNano = 1_795_392_000_000_000_000 + UInt64(i) * 1_000_000
                span.endTimeUnixNano = span.startTimeUnixNano + 2_500_000
                span.attributes = [
                    OTLP.KeyValue("http.method", .string("GET")), OTLP.KeyValue("http.status_code", .int(200)),
                    OTLP.KeyValue("http.route", .string("/api/v\(i % 20)")), OTLP.KeyValue("net.peer.ip", .string("10.1.2.3")),
                    OTLP.KeyValue("user_agent.original", .string("curl/8.0")), OTLP.KeyValue("retry", .bool(false)),
                ]
                spans.append(span)
            }
            bodies.append(OTLPProtobuf.encodeTraces([OTLP.SpanGroup(context: context, spans: spans)]))
        }
        let start = ContinuousClock.now
        let prepared = bodies
        let failures = try await concurrently(clients: 4, requests: 300) { index in
            await receiver.handle(PushRequest(path: "/v1/traces", contentType: "application/x-protobuf", body: prepared[index % prepared.count])).status == 200
        }
        let rate = Double(receiver.statistics.published) / (ContinuousClock.now - start).seconds
        return ["OTLP spans, protobuf (\(failures) failed requests)", String(format: "%.0f spans/s", rate), "100000 spans/s", verdict(rate, 100_000)]
    }

    /// 400,000 logfmt lines in 4 files, tailed, parsed (labels from a field) and published.
    static func logLines(_ producer: KafkaProducer) async throws -> [String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bench-logs-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let perFile = 100_000
        let levels = ["info", "warn", "error", "debug"]
        for f in 0..<4 {
            var text = ""
            text.reserveCapacity(perFile * 100)
            for i in 0..<perFile {
                text += "ts=2026-11-22T10:00:\(String(format: "%02d", i % 60)).000Z level=\(levels[i % 4]) msg=\"request served\" path=/api/v\(i % 30) status=200 ms=\(i % 97)\n"
            }
            try text.write(to: dir.appendingPathComponent("app-\(f).log"), atomically: true, encoding: .utf8)
        }
        let spec = LogsSpec(
            paths: [dir.appendingPathComponent("*.log").path], format: .logfmt, labels: ["job": "bench"], labelFields: ["level"],
            timestampField: "ts", messageField: "msg", levelField: "level", pollInterval: .milliseconds(20))
        let service = LogTailService(
            name: "bench", spec: spec, publisher: SignalPublisher(source: "bench", topic: TopicSpec(name: "bench.logs", partitions: 4), producer: producer),
            maxBytesPerPoll: 8 << 20)
        let group = ServiceGroup(services: [service], gracefulShutdownSignals: [], logger: Logger(label: "bench"))
        let total = perFile * 4
        let start = ContinuousClock.now
        let elapsed = try await withThrowingTaskGroup(of: Duration?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            while service.statistics.published < total, ContinuousClock.now - start < .seconds(120) {
                try await Task.sleep(for: .milliseconds(5))
            }
            let elapsed = ContinuousClock.now - start
            await group.triggerGracefulShutdown()
            for try await _ in tasks {}
            return elapsed
        }
        let rate = Double(service.statistics.published) / elapsed.seconds
        return ["log lines tailed+parsed+published", String(format: "%.0f lines/s", rate), "100000 lines/s", verdict(rate, 100_000)]
    }

    /// Runs `requests` calls of `body` over `clients` concurrent tasks; returns how many failed.
    static func concurrently(clients: Int, requests: Int, _ body: @escaping @Sendable (Int) async -> Bool) async throws -> Int {
        await withTaskGroup(of: Int.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var failed = 0
                    var index = client
                    while index < requests {
                        if await !body(index) { failed += 1 }
                        index += clients
                    }
                    return failed
                }
            }
            return await group.reduce(0, +)
        }
    }
}
