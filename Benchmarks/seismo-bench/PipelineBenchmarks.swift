import Foundation
import Logging
import Metrics
import Prometheus
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoRuntime
import SeismoStore
import SeismoStream
import SeismoWire
import Synchronization

/// The running pipeline: windows alone, the store alone, then `seismo run`'s runtime end to
/// end — records on a topic to stored window outputs — for 10,000 series.
enum PipelineBenchmarks {
    static let series = 10_000
    static let steps = 180  // 30 minutes at 10 s
    static let jobs = 20

    static func run() async throws {
        print("\nStream windows alone (one core; 10,000 series, 1m tumbling by job, count/sum/avg/p99/rate)")
        for perCall in [1, 4] {
            let result = StreamWindowsBenchmark.run(series: series, samples: 2_000_000, samplesPerCall: perCall)
            print("  \(perCall) sample(s) per series per record: \(rate(result.samplesPerSecond)) samples/s")
        }

        print("\nSQLite store alone (10,000 series x 100 samples, 10,000 per commit)")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("seismo-bench-store-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await StoreBenchmark.run(path: directory.appendingPathComponent("store.sqlite").path)
        print("  \(store)".replacingOccurrences(of: "\n", with: "\n  "))

        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        print("\nEnd to end: topic → decode → windows → store, 10,000 series, 2 workers (target >= 1,000,000 samples/s;")
        print("window close to queryable p99 <= 1 s)")
        var rows = [["raw samples stored", "samples", "seconds", "samples/s", "close→queryable p50", "p99", "max"]]
        for storeRaw in [false, true] {
            let figures = try await endToEnd(storeRaw: storeRaw, registry: registry, directory: directory)
            rows.append([
                storeRaw ? "yes" : "no", "\(figures.samples)", String(format: "%.2f", figures.seconds),
                rate(Double(figures.samples) / figures.seconds), ms(figures.p50), ms(figures.p99), ms(figures.max),
            ])
        }
        printTable(rows)
    }

    struct Figures {
        var samples: Int
        var seconds: Double
        var p50: Double
        var p99: Double
        var max: Double
    }

    static func pipelineYAML(group: String, storeRaw: Bool) -> String {
        """
        pipeline: bench
        kafka:
          consumer_group: \(group)
          topics:
            signals.bench: {partitions: 4, key_by: [job]}
        streams:
          - name: s
            topic: signals.bench
            window: {type: tumbling, size: 1m}
            by: [job]
            aggregations:
              n: {fn: count}
              total: {fn: sum}
              mean: {fn: avg}
              p99: {fn: quantile, q: 0.99, relative_error: 0.01}
              requests: {fn: rate, selector: '{kind="counter"}'}
        outputs:
          raw: {store: \(storeRaw)}
          feature_table: bench_features
        runtime: {workers: 2, listen: "127.0.0.1:0"}
        """
    }

    /// Publishes the workload, then runs the runtime until every sample is consumed and
    /// every closable window stored; the clock starts at the first sample consumed.
    static func endToEnd(storeRaw: Bool, registry: PrometheusCollectorRegistry, directory: URL) async throws -> Figures {
        let broker = try await BrokerProcess.start(topics: ["signals.bench"])
        defer { broker.stop() }
        let total = try await publish(to: broker.bootstrapServers)
        print("  published \(total) samples (raw stored: \(storeRaw))")

        let path = directory.appendingPathComponent("bench-\(storeRaw).yaml").path
        try pipelineYAML(group: "bench-\(UUID())", storeRaw: storeRaw).write(toFile: path, atomically: true, encoding: .utf8)
        let pipeline = try PipelineLoader.load(path: path)
        let logger = {
            var logger = Logger(label: "bench")
            logger.logLevel = ProcessInfo.processInfo.environment["SEISMO_BENCH_LOG"].flatMap { Logger.Level(rawValue: $0) } ?? .error
            return logger
        }()
        let latencies = LatencyLog()
        var options = RunOptions(
            dataDirectory: directory.appendingPathComponent("data-\(storeRaw)").path,
            brokers: [broker.bootstrapServers], withoutCollectors: true)
        options.onFlush = { elapsed, _ in
            latencies.values.withLock { $0.append(Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)) }
        }
        let runtime = try await PipelineRuntime.prepare(pipeline, options: options, registry: registry, logger: logger)
        let expectedRows = (steps - 1) / 6 * jobs
        let samplesBefore = counter(registry, "seismo_worker_samples_total")
        let rowsBefore = counter(registry, "seismo_store_window_rows_total")

        return try await withThrowingTaskGroup(of: Figures?.self) { group in
            group.addTask {
                try await runtime.run(logger: logger, signals: [])
                return nil
            }
            group.addTask {
                var started: ContinuousClock.Instant?
                let deadline = ContinuousClock.now + .seconds(300)
                while ContinuousClock.now < deadline {
                    let consumed = counter(registry, "seismo_worker_samples_total") - samplesBefore
                    if started == nil && consumed > 0 { started = .now }
                    let stored = counter(registry, "seismo_store_window_rows_total") - rowsBefore
                    if consumed >= Double(total) && stored >= Double(expectedRows), let started {
                        let elapsed = ContinuousClock.now - started
                        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                        let sorted = latencies.values.withLock { $0 }.sorted()
                        func quantile(_ q: Double) -> Double {
                            sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
                        }
                        return Figures(
                            samples: total, seconds: seconds, p50: quantile(0.5), p99: quantile(0.99), max: sorted.last ?? .nan)
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                throw RuntimeError("end-to-end benchmark did not finish: \(counter(registry, "seismo_worker_samples_total") - samplesBefore) of \(total) samples")
            }
            let figures = try await group.next()!!
            group.cancelAll()
            _ = try? await group.waitForAll()
            return figures
        }
    }

    /// 10,000 series (a third counters) × 180 points, one record per 1,000 samples, in time order.
    static func publish(to brokers: String) async throws -> Int {
        let labels = (0..<series).map { i in
            try! Labels(validating: [
                "__name__": "bench_metric_\(i % 50)", "job": "job-\(i % jobs)", "instance": "inst-\(i)",
                "kind": i % 3 == 2 ? "counter" : "gauge",
            ])
        }
        let batcher = SignalBatcher(partitionCount: 4, maxSamplesPerRecord: 1000, source: "bench", keyLabels: ["job"])
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: configuration)
        var random = SplitMix64(seed: 3)
        var counters = [Double](repeating: 0, count: series)
        let t0: Int64 = 1_800_000_000_000
        var total = 0
        for step in 0..<steps {
            var samples: [Sample] = []
            samples.reserveCapacity(series)
            for i in 0..<series {
                let value: Double
                if i % 3 == 2 {
                    counters[i] += Double(random.next() % 100)
                    value = counters[i]
                } else {
                    value = 100 + Double(random.next() % 1000) / 10
                }
                samples.append(Sample(labels: labels[i], timestamp: Timestamp(milliseconds: t0 + Int64(step) * 10_000), value: value))
            }
            total += samples.count
            let records = batcher.records(samples: samples).map {
                ProducerRecord(
                    topic: "signals.bench", partition: $0.partition, key: $0.key, value: $0.payload,
                    headers: [KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)])
            }
            _ = try await producer.send(records)
        }
        try await producer.shutdown()
        return total
    }

    /// The sum of a counter's series in the registry's exposition.
    static func counter(_ registry: PrometheusCollectorRegistry, _ name: String) -> Double {
        registry.emitToString().split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    static func rate(_ x: Double) -> String { String(format: "%.2f M", x / 1e6) }
    static func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
}

/// Close-to-queryable latencies, in seconds, as the workers report them.
final class LatencyLog: Sendable {
    let values = Mutex<[Double]>([])
}
