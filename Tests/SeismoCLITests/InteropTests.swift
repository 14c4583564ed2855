import Foundation
import SeismoCore
import SeismoKafka
import SeismoTesting
import SeismoWire
import Testing

/// `seismo` against kcat, an independent Kafka client, on the embedded cluster.
@Suite("seismo and kcat on the embedded cluster")
struct InteropTests {
    private func seismo(_ arguments: [String], brokers: String, stdin: Data? = nil) async throws -> ProcessRunner.Output {
        try await ProcessRunner.run(
            Binaries.seismo, arguments, stdin: stdin, environment: ["SEISMO_BROKERS": brokers], timeout: .seconds(60))
    }

    private func kcat(_ arguments: [String], stdin: Data? = nil) async throws -> ProcessRunner.Output {
        let kcat = try #require(Binaries.kcat, "kcat is not installed (make deps installs it)")
        return try await ProcessRunner.run(kcat, arguments, stdin: stdin, timeout: .seconds(60))
    }

    @Test("kcat reads what seismo produce wrote: one record per partition group, keyed, with a content type, decoding to the input")
    func kcatReadsSeismoProduce() async throws {
        try await KafkaFixtures.withCluster(brokers: 3, topics: ["signals.in": 6]) { cluster in
            let exposition = """
                # TYPE http_requests_total counter
                http_requests_total{service="api",code="200"} 1027 1795300000000
                http_requests_total{service="api",code="500"} 3 1795300000000
                node_load1{instance="a"} 0.5 1795300000000
                node_load1{instance="b"} NaN 1795300000000
                """
            let produced = try await seismo(
                ["produce", "--topic", "signals.in", "--format", "prom", "-"], brokers: cluster.bootstrapServers,
                stdin: Data(exposition.utf8))
            #expect(produced.status == 0, "\(produced.stderr)")
            #expect(produced.stdout.contains("published 4 sample(s)"))

            // Envelope: partition, key length, headers, one line per record.
            let listing = try await kcat([
                "-C", "-b", cluster.bootstrapServers, "-t", "signals.in", "-e", "-q", "-f", "%p %K %h\\n",
            ])
            #expect(listing.status == 0, "\(listing.stderr)")
            let lines = listing.stdout.split(separator: "\n")
            #expect(!lines.isEmpty)
            for line in lines {
                let fields = line.split(separator: " ")
                #expect(fields[1] == "8", "record keys are 8-byte series hashes")
                #expect(fields[2] == "content-type=\(WireHeaders.signalBatchV1)")
            }

            // Payloads, partition by partition, decode to exactly the input samples.
            var samples: [Sample] = []
            for partition in 0..<6 {
                let out = try await kcat([
                    "-C", "-b", cluster.bootstrapServers, "-t", "signals.in", "-p", "\(partition)", "-e", "-q", "-f", "%R%s",
                ])
                samples += try decodeFramed(out.stdoutBytes)
            }
            let expected = ExpositionParser.parse(exposition, defaultTimestamp: .now).samples
            #expect(Set(samples) == Set(expected))
            #expect(samples.count == 4)
        }
    }

    @Test("seismo subscribe reads what kcat wrote, and reports a record it cannot decode without stopping")
    func subscribeReadsKcat() async throws {
        try await KafkaFixtures.withCluster(topics: ["mixed": 1]) { cluster in
            let batch = SignalBatch(samples: [
                Sample(labels: ["__name__": "cpu", "host": "a"], timestamp: Timestamp(milliseconds: 1_795_300_000_000), value: 0.25)
            ])
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: dir) }
            let batchFile = dir.appendingPathComponent("batch.bin")
            try Data(SignalCodec.encode(batch)).write(to: batchFile)
            let garbage = dir.appendingPathComponent("garbage.bin")
            try Data([0xFF, 0x01, 0x02, 0x03]).write(to: garbage)
            let event = AnomalyEvent(
                pipeline: "demo", detector: "latency", detectorType: "zscore", group: ["service": "checkout"] as [String: String],
                windowStart: Timestamp(milliseconds: 1_795_300_000_000), windowEnd: Timestamp(milliseconds: 1_795_300_060_000),
                observed: ["p99": 1.9], expected: 0.12, band: .init(lower: 0.08, upper: 0.16), score: 7.5, threshold: 3,
                severity: .critical, contributions: [.init(feature: "p99", weight: 1)],
                detectedAt: Timestamp(milliseconds: 1_795_300_061_000))
            let eventFile = dir.appendingPathComponent("event.json")
            try Data(AnomalyEventCodec.encode(event)).write(to: eventFile)

            // kcat -P sends each file as one record; no headers, as a foreign client would.
            for file in [batchFile, garbage, eventFile] {
                let sent = try await kcat(["-P", "-b", cluster.bootstrapServers, "-t", "mixed", "-p", "0", file.path])
                #expect(sent.status == 0, "\(sent.stderr)")
            }

            let text = try await seismo(["subscribe", "mixed", "--from-beginning", "-e"], brokers: cluster.bootstrapServers)
            #expect(text.status == 0, "\(text.stderr)")
            #expect(text.stdout.contains("cpu{host=\"a\"}  0.25"))
            #expect(text.stdout.contains("ANOMALY critical  demo/latency"))
            #expect(text.stderr.contains("mixed[0]@1: cannot decode"))

            let json = try await seismo(["subscribe", "mixed", "--from-beginning", "-e", "--json"], brokers: cluster.bootstrapServers)
            let objects = json.stdout.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) }
            #expect(objects.count == 2)
            #expect(objects.allSatisfy { $0 != nil }, "every line is JSON")
            let sample = try #require(objects.first as? [String: Any])
            #expect(sample["value"] as? Double == 0.25)
            #expect((sample["labels"] as? [String: String])?["host"] == "a")
        }
    }

    @Test("subscribe --live keeps one row per key: an alert that fired and resolved shows once, resolved")
    func subscribeLive() async throws {
        try await KafkaFixtures.withCluster(topics: ["alerts.t": 1]) { cluster in
            func alert(_ fingerprint: String, _ service: String, resolved: Bool) -> String {
                let ends = resolved ? #","ends_at":"2026-12-01T00:05:00.000Z","ends_at_ms":1796083500000"# : ""
                return fingerprint + "\t"
                    + #"{"schema":"seismo.alert.v1","status":"\#(resolved ? "resolved" : "firing")","fingerprint":"\#(fingerprint)","#
                    + #""pipeline":"t","rule":"Down","labels":{"alertname":"Down","service":"\#(service)"},"annotations":{},"#
                    + #""starts_at":"2026-12-01T00:00:00.000Z","starts_at_ms":1796083200000,"active_at_ms":1796083200000\#(ends)}"#
            }
            let lines = [
                alert("00000000000000aa", "api", resolved: false), alert("00000000000000bb", "web", resolved: false),
                alert("00000000000000aa", "api", resolved: true),
            ]
            let produced = try await kcat(
                ["-P", "-b", cluster.bootstrapServers, "-t", "alerts.t", "-K", "\t"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8))
            #expect(produced.status == 0, "\(produced.stderr)")
            let out = try await seismo(["subscribe", "alerts.t", "--from-beginning", "-e", "--live"], brokers: cluster.bootstrapServers)
            #expect(out.status == 0, "\(out.stderr)")
            // The last frame drawn: after the final screen clear.
            let frame = out.stdout.components(separatedBy: "\u{1B}[2J").last ?? ""
            #expect(frame.contains("alerts.t: 2 key(s), 3 record(s)"), "\(frame) \(out.stderr)")
            let rows = frame.split(separator: "\n").filter { $0.contains("ALERT") }
            #expect(rows.count == 2)
            #expect(rows.first?.contains("ALERT resolved") == true && rows.first?.contains("service=\"api\"") == true)
            #expect(rows.last?.contains("ALERT firing") == true && rows.last?.contains("service=\"web\"") == true)
        }
    }

    @Test("bad lines are rejected with their line numbers; the good ones are published")
    func produceRejectsBadLines() async throws {
        try await KafkaFixtures.withCluster(topics: ["p": 2]) { cluster in
            let csv = """
                timestamp,value,name=latency,service=api
                1795300000,0.1,name=latency,service=api
                not-a-time,0.2,name=latency,service=api
                1795300030,zero,name=latency,service=api
                1795300060,0.3,name=latency,service=api
                """
            let out = try await seismo(["produce", "--topic", "p", "--format", "csv", "-"], brokers: cluster.bootstrapServers, stdin: Data(csv.utf8))
            #expect(out.status == 2)
            #expect(out.stderr.contains("<stdin>:3:"))
            #expect(out.stderr.contains("<stdin>:4:"))
            #expect(out.stdout.contains("published 2 sample(s)"))
            #expect(out.stdout.contains("rejected 2 line(s)"))
            let admin = try KafkaAdmin(embedded: cluster)
            let total = try await admin.listTopics(["p"]).first!.partitions.reduce(0) { $0 + $1.highWatermark }
            #expect(total >= 1)
        }
    }

    @Test("seismo topics lists partitions and end offsets")
    func topics() async throws {
        try await KafkaFixtures.withCluster(topics: ["a": 2, "b": 1]) { cluster in
            let out = try await seismo(["topics"], brokers: cluster.bootstrapServers)
            #expect(out.status == 0, "\(out.stderr)")
            #expect(out.stdout.contains("2 topic(s), 3 partition(s), 0 record(s)"))
        }
    }

    @Test("an unreachable broker is a clear error within seconds, not a hang")
    func unreachable() async throws {
        let start = ContinuousClock.now
        let out = try await ProcessRunner.run(Binaries.seismo, ["topics", "--brokers", "127.0.0.1:1", "--connect-timeout", "2"])
        #expect(out.status != 0)
        #expect(out.stderr.contains("cannot reach Kafka at 127.0.0.1:1"))
        #expect(ContinuousClock.now - start < .seconds(120), "an error, not a hang (the bound allows for a loaded machine)")
    }

    @Test("without --brokers or SEISMO_BROKERS the error says how to name a cluster")
    func noBrokers() async throws {
        let out = try await ProcessRunner.run(Binaries.seismo, ["topics"], environment: ["SEISMO_BROKERS": ""])
        #expect(out.status != 0)
        #expect(out.stderr.contains("SEISMO_BROKERS"))
    }

    /// Splits kcat's `%R%s` output (4-byte big-endian length, then payload) and decodes each.
    private func decodeFramed(_ data: Data) throws -> [Sample] {
        var samples: [Sample] = []
        let bytes = [UInt8](data)
        var index = 0
        while index + 4 <= bytes.count {
            let length = Int(bytes[index]) << 24 | Int(bytes[index + 1]) << 16 | Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            index += 4
            samples += try SignalCodec.decode(bytes[index..<(index + length)]).samples
            index += length
        }
        return samples
    }
}
