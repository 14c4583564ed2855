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
    static let jobs = 80
    static let partitions = 16
    static let workers = 2

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
        print("\nEnd to end: topic → decode → windows → store, 10,000 series, \(workers) workers, \(partitions) partitions")
        print("(target >= 1,000,000 samples/s; window close to queryable p99 <= 1 s)")
        var rows = [
            ["raw samples stored", "samples", "seconds", "samples/s", "CPU s", "samples/CPU s", "flushes", "close→queryable p50", "p99", "max"]
        ]
        for storeRaw in [false, true] {
            let figures = try await endToEnd(storeRaw: storeRaw, registry: registry, directory: directory)
            rows.append([
                storeRaw ? "yes" : "no", "\(figures.samples)", String(format: "%.2f", figures.seconds),
                rate(Double(figures.samples) / figures.seconds), String(format: "%.2f", figures.cpuSeconds),
                rate(Double(figures.samples) / figures.cpuSeconds), "\(figures.flushes)",
                ms(figures.p50), ms(figures.p99), ms(figures.max),
            ])
        }
        printTable(rows)
    }

    struct Figures {
        var samples: Int
        var seconds: Double
        /// CPU time of this process (workers, store, producer) over the same interval: on a
        /// loaded machine, the figure that other processes do not move.
        var cpuSeconds: Double
        /// Flushes that stored window outputs (the latency sample).
        var flushes: Int
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
            signals.bench: {partitions: \(partitions), key_by: [job]}
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
        runtime: {workers: \(workers), listen: "127.0.0.1:0"}
        """
    }

    /// Runs the runtime on an empty topic until the group is stable (every worker owns
    /// partitions), then publishes the workload and waits until every sample is consumed
    /// and every closable window stored. The clock runs from the first record sent (the
    /// records are encoded before) to the last window stored: the workers consume while
    /// the producer sends.
    ///
    /// librdkafka's mock broker keeps a bounded log per partition (about 11 MB here) and
    /// prunes the oldest message sets beyond it, so the workload is spread over enough
    /// partitions to stay under that bound, and the run fails if any partition was pruned.
    static func endToEnd(storeRaw: Bool, registry: PrometheusCollectorRegistry, directory: URL) async throws -> Figures {
        let broker = try await BrokerProcess.start(topics: ["signals.bench"], partitions: partitions)
        defer { broker.stop() }
        let (records, total) = workload()

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
            latencies.values.withLock { $0.append(seconds(elapsed)) }
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
                try await waitForStableGroup(registry, workers: workers)
                let started = ContinuousClock.now
                let cpuStarted = processCPUSeconds()
                try await publish(records, to: broker.bootstrapServers)
                let published = ContinuousClock.now - started
                try await checkNotPruned(broker.bootstrapServers)
                print(
                    "  published \(total) samples in \(records.map(\.count).reduce(0, +)) records in \(ms(seconds(published))) (raw stored: \(storeRaw))")
                let deadline = ContinuousClock.now + .seconds(300)
                while ContinuousClock.now < deadline {
                    let consumed = counter(registry, "seismo_worker_samples_total") - samplesBefore
                    let stored = counter(registry, "seismo_store_window_rows_total") - rowsBefore
                    if consumed >= Double(total) && stored >= Double(expectedRows) {
                        let elapsed = seconds(ContinuousClock.now - started)
                        let sorted = latencies.values.withLock { $0 }.sorted()
                        func quantile(_ q: Double) -> Double {
                            sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
                        }
                        return Figures(
                            samples: total, seconds: elapsed, cpuSeconds: processCPUSeconds() - cpuStarted,
                            flushes: sorted.count, p50: quantile(0.5), p99: quantile(0.99), max: sorted.last ?? .nan)
                    }
                    try await Task.sleep(for: .milliseconds(20))
                }
                throw RuntimeError(
                    "end-to-end benchmark did not finish: \(counter(registry, "seismo_worker_samples_total") - samplesBefore) of \(total) samples consumed, \(counter(registry, "seismo_store_window_rows_total") - rowsBefore) of \(expectedRows) window rows stored")
            }
            let figures = try await group.next()!!
            // Printed before the runtime stops, so a slow or stuck shutdown cannot hide it.
            print(
                "  \(rate(Double(figures.samples) / figures.seconds)) samples/s over \(String(format: "%.2f", figures.seconds)) s; close→queryable p99 \(ms(figures.p99)) over \(figures.flushes) flushes")
            group.cancelAll()
            _ = try? await group.waitForAll()
            return figures
        }
    }

    /// Waits until every one of `workers` workers owns partitions and together they own all
    /// of them, so the measurement starts after the group's first rebalances.
    static func waitForStableGroup(_ registry: PrometheusCollectorRegistry, workers: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while ContinuousClock.now < deadline {
            let owned = values(registry, "seismo_worker_assigned_partitions")
            if owned.count == workers && owned.allSatisfy({ $0 > 0 }) && owned.reduce(0, +) == Double(partitions) { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RuntimeError("the consumer group did not settle: \(values(registry, "seismo_worker_assigned_partitions"))")
    }

    /// Fails when the broker dropped the start of a partition's log.
    static func checkNotPruned(_ brokers: String) async throws {
        let admin = try KafkaAdmin(configuration: KafkaClientConfiguration(bootstrapServers: brokers))
        let pruned = try await admin.listTopics(["signals.bench"]).flatMap(\.partitions).filter { $0.lowWatermark > 0 }
        guard pruned.isEmpty else {
            throw RuntimeError(
                "the broker pruned partitions \(pruned.map { "\($0.id)@\($0.lowWatermark)" }): use more partitions or less data")
        }
    }

    /// 10,000 series (a third counters) × 180 points as signal records of up to 1,000
    /// samples, in time order, encoded before the clock runs.
    static func workload() -> (records: [[ProducerRecord]], samples: Int) {
        let labels = (0..<series).map { i in
            try! Labels(validating: [
                "__name__": "bench_metric_\(i % 50)", "job": "job-\(i % jobs)", "instance": "inst-\(i)",
                "kind": i % 3 == 2 ? "counter" : "gauge",
            ])
        }
        let batcher = SignalBatcher(
            partitionCount: Int32(partitions), maxSamplesPerRecord: 1000, source: "bench", keyLabels: ["job"])
        var random = SplitMix64(seed: 3)
        var counters = [Double](repeating: 0, count: series)
        let t0: Int64 = 1_800_000_000_000
        var total = 0
        var steps: [[ProducerRecord]] = []
        for step in 0..<Self.steps {
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
            steps.append(
                batcher.records(samples: samples).map {
                    ProducerRecord(
                        topic: "signals.bench", partition: $0.partition, key: $0.key, value: $0.payload,
                        headers: [KafkaHeader(WireHeaders.contentType, WireHeaders.signalBatchV1)])
                })
        }
        return (steps, total)
    }

    /// Sends every record at once, in time order, and waits for every acknowledgement.
    static func publish(_ steps: [[ProducerRecord]], to brokers: String) async throws {
        var configuration = KafkaProducerConfiguration(bootstrapServers: brokers)
        configuration.linger = .milliseconds(5)
        let producer = try KafkaProducer(configuration: configuration)
        let reports = try await producer.send(steps.flatMap { $0 })
        if let failed = reports.first(where: { !$0.isDelivered }) {
            throw failed.error ?? KafkaError(.other, "benchmark record not delivered")
        }
        try await producer.shutdown()
    }

    /// The sum of a counter's series in the registry's exposition.
    static func counter(_ registry: PrometheusCollectorRegistry, _ name: String) -> Double {
        values(registry, name).reduce(0, +)
    }

    /// The values of a metric's series in the registry's exposition.
    static func values(_ registry: PrometheusCollectorRegistry, _ name: String) -> [Double] {
        registry.emitToString().split(separator: "\n").filter { $0.hasPrefix(name + "{") || $0.hasPrefix(name + " ") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }
    }

    /// User plus system CPU time of this process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func rate(_ x: Double) -> String { String(format: "%.2f M", x / 1e6) }
    static func ms(_ seconds: Double) -> String { String(format: "%.1f ms", seconds * 1000) }
}

/// Close-to-queryable latencies, in seconds, as the workers report them.
final class LatencyLog: Sendable {
    let values = Mutex<[Double]>([])
}
