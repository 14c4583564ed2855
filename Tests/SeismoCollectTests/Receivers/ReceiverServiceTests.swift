import Foundation
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

/// The HTTP layer over real loopback sockets, with curl as the client.
@Suite("ReceiverService over HTTP", .serialized, .enabled(if: ProcessRunner.which("curl") != nil))
struct ReceiverServiceTests {
    /// Status code of a curl POST of `file` with `headers`.
    static func post(_ url: String, file: String, headers: [String]) async throws -> (status: Int, body: String) {
        var arguments = ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "--data-binary", "@\(file)", url]
        for header in headers { arguments += ["-H", header] }
        let out = try await ProcessRunner.run(ProcessRunner.which("curl")!, arguments, timeout: .seconds(20))
        let lines = out.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? -1, lines.dropLast().joined(separator: "\n"))
    }

    @Test("Loki JSON push, a body over the limit (413) and an unknown path (404) over a real socket")
    func http() async throws {
        let topic = TopicSpec(name: "signals.loki", partitions: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let ok = dir.appendingPathComponent("ok.json").path
        try #"{"streams":[{"stream":{"job":"curl"},"values":[["1700000000000000000","pushed by curl"]]}]}"#.write(toFile: ok, atomically: true, encoding: .utf8)
        let big = dir.appendingPathComponent("big.json").path
        try String(repeating: "x", count: 200_000).write(toFile: big, atomically: true, encoding: .utf8)
        let bad = dir.appendingPathComponent("bad.json").path
        try #"{"streams":[{"values":[[1,2]]}]}"#.write(toFile: bad, atomically: true, encoding: .utf8)

        try await KafkaFixtures.withCluster(topics: [topic.name: 1]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let spec = CollectorSpec(
                name: "loki", topic: topic.name, kind: .lokiPush(LokiPushSpec(listen: ReceiverListen(port: 0, maxBodyBytes: 100_000))))
            try await ReceiverHarness.withReceiver({ Collectors.service(spec: spec, topic: topic, producer: producer, onListening: $0) }) { port in
                let url = "http://127.0.0.1:\(port)/loki/api/v1/push"
                let json = "Content-Type: application/json"
                #expect(try await Self.post(url, file: ok, headers: [json]).status == 204)
                let tooLarge = try await Self.post(url, file: big, headers: [json])
                #expect(tooLarge.status == 413)
                let invalid = try await Self.post(url, file: bad, headers: [json])
                #expect(invalid.status == 400 && invalid.body.contains("values[0]"))
                #expect(try await Self.post("http://127.0.0.1:\(port)/nope", file: ok, headers: [json]).status == 404)
                let batches = try await TopicReader.batches(cluster.bootstrapServers, topic: topic.name, partitions: 1) { !$0.flatMap(\.logs).isEmpty }
                #expect(batches.flatMap(\.logs).map(\.body) == ["pushed by curl"])
            }
            try await producer.shutdown()
        }
    }
}
