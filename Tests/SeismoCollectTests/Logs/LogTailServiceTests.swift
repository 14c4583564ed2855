import Foundation
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoTesting
import SeismoWire
import Testing

@testable import SeismoCollect

@Suite("Log tailing: rotation, truncation, positions across restarts", .serialized)
struct LogTailServiceTests {
    static let topic = TopicSpec(name: "signals.logs", partitions: 2)

    final class Dir: @unchecked Sendable {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-logs-\(UUID().uuidString)")
        init() { try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true) }
        deinit { try? FileManager.default.removeItem(at: url) }
        func path(_ name: String) -> String { url.appendingPathComponent(name).path }
        func append(_ name: String, _ text: String) throws {
            let path = path(name)
            if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.seekToEnd()
            try handle.write(contentsOf: Data(text.utf8))
            try handle.close()
        }
    }

    /// Bodies on the topic, in order per file.
    static func bodies(_ bootstrap: String, count: Int) async throws -> [String] {
        let batches = try await TopicReader.batches(bootstrap, topic: topic.name, partitions: 2, timeout: .seconds(10)) {
            $0.reduce(0) { $0 + $1.logs.count } >= count
        }
        return batches.flatMap(\.logs).sorted { $0.unixNanos < $1.unixNanos || ($0.unixNanos == $1.unixNanos && $0.body < $1.body) }.map(\.body)
    }

    static func service(_ spec: LogsSpec, _ producer: KafkaProducer) -> LogTailService {
        LogTailService(name: "logs", spec: spec, publisher: SignalPublisher(source: "logs", topic: topic, producer: producer))
    }

    @Test("rotation by rename and by truncation, and a restart, give every line exactly once")
    func everyLineOnce() async throws {
        let dir = Dir()
        try await KafkaFixtures.withCluster(topics: [Self.topic.name: 2]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let spec = LogsSpec(
                paths: [dir.path("*.log")], format: .logfmt, labels: ["job": "app"], timestampField: "n", messageField: "msg",
                positionsPath: dir.path("positions.json"))
            var expected: [String] = []
            var n = 0
            func lines(_ file: String, _ count: Int, partialTail: String? = nil) throws {
                var text = ""
                for _ in 0..<count {
                    n += 1
                    text += "n=\(n) msg=line-\(n)\n"
                    expected.append("line-\(n)")
                }
                if let partialTail { text += partialTail }
                try dir.append(file, text)
            }

            let first = Self.service(spec, producer)
            var session = try first.open()
            try lines("app.log", 3, partialTail: "n=4 msg=li")  // the last line is not complete yet
            #expect(await first.poll(&session))
            try dir.append("app.log", "ne-4\n")
            n = 4
            expected.append("line-4")
            _ = await first.poll(&session)
            // Rotation by rename: the old file gets one more line after the rename, then a new file appears.
            try FileManager.default.moveItem(atPath: dir.path("app.log"), toPath: dir.path("app.log.1"))
            try lines("app.log.1", 1)
            try lines("app.log", 2)
            _ = await first.poll(&session)
            _ = await first.poll(&session)
            // Rotation by truncation (copytruncate).
            try "".write(toFile: dir.path("app.log"), atomically: false, encoding: .utf8)
            try lines("app.log", 1)
            _ = await first.poll(&session)
            // A graceful stop, more lines while stopped, and a restart from the persisted positions.
            try lines("app.log", 2)
            first.close(&session)
            try lines("app.log", 2)
            let second = Self.service(spec, producer)
            var again = try second.open()
            _ = await second.poll(&again)
            _ = await second.poll(&again)
            second.close(&again)

            let got = try await Self.bodies(cluster.bootstrapServers, count: expected.count)
            #expect(got == expected)
            #expect(first.statistics.rotations >= 2)
            #expect(first.statistics.parseErrors == 0)
            #expect(first.statistics.published + second.statistics.published == expected.count)
            try await producer.shutdown()
        }
    }

    @Test("multi-line entries are joined and a restart does not split or repeat them")
    func multilineRestart() async throws {
        let dir = Dir()
        try await KafkaFixtures.withCluster(topics: [Self.topic.name: 2]) { cluster in
            let producer = try KafkaProducer(configuration: .init(bootstrapServers: cluster.bootstrapServers))
            let spec = LogsSpec(paths: [dir.path("*.log")], multilineStart: "^ERR|^INFO", positionsPath: dir.path("pos.json"))
            let a = Self.service(spec, producer)
            var session = try a.open()
            try dir.append("x.log", "INFO one\nERR two\n  at f()\n")
            _ = await a.poll(&session)  // "INFO one" is complete; "ERR two…" may continue
            a.close(&session)
            try dir.append("x.log", "  at g()\nINFO three\n")
            let b = Self.service(spec, producer)
            var resumed = try b.open()
            _ = await b.poll(&resumed)
            _ = await b.poll(&resumed)  // idle: the pending entry is complete
            b.close(&resumed)
            let batches = try await TopicReader.batches(cluster.bootstrapServers, topic: Self.topic.name, partitions: 2) {
                $0.reduce(0) { $0 + $1.logs.count } >= 3
            }
            let bodies = batches.flatMap(\.logs).map(\.body)
            #expect(Set(bodies) == ["INFO one", "ERR two\n  at f()\n  at g()", "INFO three"])
            #expect(bodies.count == 3)
            try await producer.shutdown()
        }
    }

    @Test("a positions file that is not JSON stops the collector with a clear error")
    func badPositions() throws {
        let dir = Dir()
        try "not json".write(toFile: dir.path("pos.json"), atomically: true, encoding: .utf8)
        let producer = try KafkaProducer(configuration: .init(bootstrapServers: "127.0.0.1:1"))
        let service = Self.service(LogsSpec(paths: [dir.path("*.log")], positionsPath: dir.path("pos.json")), producer)
        #expect(throws: CollectError.self) { try service.open() }
    }
}
