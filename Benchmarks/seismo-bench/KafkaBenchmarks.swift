import Foundation
import SeismoCore
import SeismoKafka
import SeismoTesting
import SeismoWire

/// SeismoKafka's produce and consume throughput on the embedded cluster, beside kcat's
/// own on the same cluster in the same run, with the same librdkafka settings.
enum KafkaBenchmarks {
    struct Workload {
        var name: String
        var records: Int
        var payloads: [[UInt8]]
    }

    static func run() async throws {
        guard let kcat = Binaries.kcat else {
            print("kcat not found: install it (make deps) to compare against it")
            return
        }
        print("\nSeismoKafka vs kcat on the embedded cluster (records/s; target: ours >= 0.8 x kcat)")
        // The cluster runs in its own process (`seismo broker`), so that neither client
        // shares a process with the broker's thread.
        let cluster = try await BrokerProcess.start(topics: workloads().flatMap { ["ours.\($0.name)", "kcat.\($0.name)"] })
        defer { cluster.stop() }
        print("  (embedded cluster in a separate `seismo broker` process at \(cluster.bootstrapServers))")
        let settings: [String: String] = [
            "linger.ms": "5", "batch.num.messages": "10000", "compression.codec": "lz4", "enable.idempotence": "true",
            "queue.buffering.max.messages": "200000",
        ]

        var rows = [["workload", "ours produce", "kcat produce", "ratio", "ours consume", "kcat consume", "ratio"]]
        for workload in workloads() {
            let ours = "ours.\(workload.name)"
            let theirs = "kcat.\(workload.name)"

            let ourProduce = try await produceOurs(workload, topic: ours, cluster: cluster, settings: settings)
            let kcatProduce = try await produceKcat(kcat, workload, topic: theirs, cluster: cluster, settings: settings)
            let ourConsume = try await consumeOurs(workload, topic: ours, cluster: cluster)
            let kcatConsume = try await consumeKcat(kcat, workload, topic: theirs, cluster: cluster)
            rows.append([
                workload.name, rate(ourProduce), rate(kcatProduce), ratio(ourProduce, kcatProduce),
                rate(ourConsume), rate(kcatConsume), ratio(ourConsume, kcatConsume),
            ])
        }
        printTable(rows)
    }

    static func workloads() -> [Workload] {
        var random = SeededRandom(seed: 7)
        let printable = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)
        let small = (0..<64).map { _ in (0..<100).map { _ in printable[Int(random.next() % UInt64(printable.count))] } }
        // Records carrying 1,000 samples: real encoded batches for us; kcat gets printable
        // payloads of the same size (its line mode cannot carry arbitrary bytes).
        let generator = SignalGenerator(seed: 11)
        let batchPayloads = (0..<16).map { i in SignalCodec.encode(generator.batch(series: 10, points: 100, source: "bench-\(i)")) }
        return [
            Workload(name: "100-byte", records: 300_000, payloads: small),
            Workload(name: "1000-sample", records: 5_000, payloads: batchPayloads),
        ]
    }

    static func produceOurs(
        _ workload: Workload, topic: String, cluster: BrokerProcess, settings: [String: String]
    ) async throws -> Double {
        var configuration = KafkaProducerConfiguration(
            client: KafkaClientConfiguration(bootstrapServers: cluster.bootstrapServers, properties: settings))
        configuration.queueFullTimeout = .seconds(60)
        let producer = try KafkaProducer(configuration: configuration)
        let chunk = 10_000
        let start = ContinuousClock.now
        var batches: [DeliveryBatch] = []
        var sent = 0
        while sent < workload.records {
            let count = min(chunk, workload.records - sent)
            let records = (sent..<(sent + count)).map {
                ProducerRecord(topic: topic, value: workload.payloads[$0 % workload.payloads.count])
            }
            batches.append(try await producer.sendBatch(records))
            sent += count
        }
        for batch in batches { try await batch.confirm() }
        let elapsed = ContinuousClock.now - start
        try await producer.shutdown()
        return Double(workload.records) / elapsed.seconds
    }

    static func produceKcat(
        _ kcat: String, _ workload: Workload, topic: String, cluster: BrokerProcess, settings: [String: String]
    ) async throws -> Double {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bench-\(topic).txt")
        var printable = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        printable += printable
        var data = Data()
        for i in 0..<workload.records {
            let payload = workload.payloads[i % workload.payloads.count]
            data.append(contentsOf: payload.map { $0 == 0x0A || $0 == 0x00 ? 0x61 : $0 })
            data.append(0x0A)
        }
        try data.write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var arguments = ["-P", "-b", cluster.bootstrapServers, "-t", topic, "-l"]
        for (key, value) in settings.sorted(by: { $0.key < $1.key }) { arguments += ["-X", "\(key)=\(value)"] }
        arguments.append(file.path)
        let start = ContinuousClock.now
        let out = try await ProcessRunner.run(kcat, arguments, timeout: .seconds(300))
        let elapsed = ContinuousClock.now - start
        guard out.status == 0 else { throw BenchError("kcat produce failed: \(out.stderr)") }
        return Double(workload.records) / elapsed.seconds
    }

    static func consumeOurs(_ workload: Workload, topic: String, cluster: BrokerProcess) async throws -> Double {
        let consumer = try KafkaConsumer(configuration: .init(bootstrapServers: cluster.bootstrapServers, groupID: nil))
        let start = ContinuousClock.now
        try consumer.assign(Dictionary(uniqueKeysWithValues: (0..<4).map { (TopicPartition(topic, Int32($0)), StartOffset.beginning) }))
        var count = 0
        var bytes = 0
        var polls = 0
        defer { if ProcessInfo.processInfo.environment["SEISMO_BENCH_DEBUG"] != nil { print("  polls: \(polls)") } }
        while count < workload.records {
            polls += 1
            if case .records(let records) = try await consumer.poll(maxRecords: 10_000, timeout: .seconds(5)) {
                count += records.count
                for record in records { bytes += record.value?.count ?? 0 }
            }
            if ContinuousClock.now - start > .seconds(300) { throw BenchError("consume timed out at \(count)") }
        }
        let elapsed = ContinuousClock.now - start
        await consumer.close()
        return Double(count) / elapsed.seconds
    }

    static func consumeKcat(_ kcat: String, _ workload: Workload, topic: String, cluster: BrokerProcess)
        async throws -> Double
    {
        let start = ContinuousClock.now
        let out = try await ProcessRunner.run(
            "/bin/sh", ["-c", "'\(kcat)' -C -b \(cluster.bootstrapServers) -t \(topic) -o beginning -e -q -f '%s\\n' > /dev/null"],
            timeout: .seconds(300))
        let elapsed = ContinuousClock.now - start
        guard out.status == 0 else { throw BenchError("kcat consume failed: \(out.stderr)") }
        return Double(workload.records) / elapsed.seconds
    }

    static func rate(_ value: Double) -> String { String(format: "%.0f", value) }
    static func ratio(_ ours: Double, _ theirs: Double) -> String { String(format: "%.2fx", ours / theirs) }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// Prints rows as aligned columns.
func printTable(_ rows: [[String]]) {
    guard let columns = rows.map(\.count).max() else { return }
    var widths = [Int](repeating: 0, count: columns)
    for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
    for row in rows {
        print(row.enumerated().map { i, cell in cell + String(repeating: " ", count: widths[i] - cell.count) }
            .joined(separator: "  "))
    }
}

/// `seismo broker` in a child process, with 4-partition topics created up front.
final class BrokerProcess: @unchecked Sendable {
    let process: Process
    let bootstrapServers: String

    private init(process: Process, bootstrapServers: String) {
        self.process = process
        self.bootstrapServers = bootstrapServers
    }

    static func start(topics: [String], partitions: Int = 4) async throws -> BrokerProcess {
        let seismo = ProcessInfo.processInfo.environment["SEISMO_BIN"]
            ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("seismo").path
        guard FileManager.default.isExecutableFile(atPath: seismo) else {
            throw BenchError("\(seismo) not found: build the seismo product in release mode (make bench does)")
        }
        let addressFile = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bench-\(getpid()).addr")
        try? FileManager.default.removeItem(at: addressFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: seismo)
        process.arguments = ["broker", "--brokers", "1", "--address-file", addressFile.path] + topics.flatMap { ["--topic", "\($0):\(partitions)"] }
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let address = try? String(contentsOf: addressFile, encoding: .utf8), !address.isEmpty {
                return BrokerProcess(process: process, bootstrapServers: address)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw BenchError("seismo broker did not start")
    }

    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}
