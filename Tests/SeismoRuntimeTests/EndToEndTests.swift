import Foundation
import SeismoCore
import SeismoStore
import SeismoTesting
import SeismoWire
import Testing

/// `seismo run` as a user runs it: kcat publishes, the pipeline processes, the store and the
/// anomaly topic hold what the definitions say — also across `kill -9` and poison records.
@Suite("seismo run, end to end", .serialized)
struct EndToEndTests {
    private func kcat(_ arguments: [String]) async throws -> ProcessRunner.Output {
        let kcat = try #require(Binaries.kcat, "kcat is not installed (make deps installs it)")
        return try await ProcessRunner.run(kcat, arguments, timeout: .seconds(60))
    }

    private func checkRows(_ rows: [WindowRow]) {
        let expected = PipelineFixture.expectedRows()
        let byKey = Dictionary(uniqueKeysWithValues: rows.map { ("\($0.group["service"] ?? "")@\($0.windowStart)", $0) })
        for row in expected {
            guard let stored = byKey["\(row.service)@\(row.windowStart)"] else {
                Issue.record("no stored window for service \(row.service) at \(row.windowStart)")
                continue
            }
            #expect(stored.windowEnd == row.windowStart + 60_000)
            #expect(stored.group == (try! Labels(validating: ["service": row.service])))
            for (feature, value) in row.values {
                let got = stored[feature: feature] ?? .nan
                #expect(abs(got - value) <= 1e-9 * max(1, abs(value)), "\(feature) of \(row.service)@\(row.windowStart): \(got) ≠ \(value)")
            }
        }
    }

    @Test("kcat in, stored aggregates equal independently computed values, kcat reads the anomaly")
    func endToEnd() async throws {
        let fixture = try PipelineFixture(name: "e2e")
        defer { fixture.remove() }
        let (broker, brokers) = try await PipelineFixture.startBroker(in: fixture.directory, topics: ["signals.e2e:2"])
        defer { broker.signal(SIGKILL) }

        try await fixture.publish(steps: 0..<PipelineFixture.steps, brokers: brokers)
        let dataDir = fixture.directory.appendingPathComponent("data").path
        let run = try fixture.run(pipeline: try fixture.writePipeline(consumerGroup: "e2e"), brokers: brokers, dataDir: dataDir)
        let expectedCount = PipelineFixture.expectedRows().count
        let rows = try await fixture.waitForRows(expectedCount, store: "\(dataDir)/e2e.sqlite", while: run)
        #expect(rows.count == expectedCount, "stdout: \(run.stdout)\nstderr: \(run.stderr.suffix(3000))")
        checkRows(rows)

        // Seismo's own endpoint: health, readiness and the worker, store and consumer metrics.
        let base = try #require(
            run.stdout.split(separator: "\n").first { $0.hasPrefix("http: ") }
                .map { String($0.split(separator: " ")[1].dropLast("/metrics".count)) })
        let curl = try #require(ProcessRunner.which("curl"), "curl is not installed (make deps installs it)")
        let ready = try await ProcessRunner.run(curl, ["-sf", "\(base)/readyz"])
        #expect(ready.status == 0 && ready.stdout == "ready\n")
        var metrics = try await ProcessRunner.run(curl, ["-sf", "\(base)/metrics"])
        for _ in 0..<50 where !metrics.stdout.contains("seismo_consumer_lag{") {
            // Lag is reported once a second, from the consumer's last fetch.
            try await Task.sleep(for: .milliseconds(100))
            metrics = try await ProcessRunner.run(curl, ["-sf", "\(base)/metrics"])
        }
        #expect(metrics.status == 0)
        for name in [
            "seismo_worker_records_total", "seismo_worker_samples_total", "seismo_worker_window_outputs_total",
            "seismo_worker_late_samples_total", "seismo_worker_dead_letters_total", "seismo_consumer_lag",
            "seismo_worker_flush_duration_seconds", "seismo_store_write_duration_seconds", "seismo_anomalies_total",
        ] {
            #expect(metrics.stdout.contains(name), "/metrics lacks \(name)")
        }
        let recordsIn = metrics.stdout.split(separator: "\n").filter { $0.hasPrefix("seismo_worker_samples_total{") }
            .compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
        #expect(recordsIn == Double(PipelineFixture.steps * 8), "every published sample counted once")

        // The anomaly, read by an independent client.
        let consumed = try await kcat(["-C", "-b", brokers, "-t", "anomalies.e2e", "-o", "beginning", "-e", "-q", "-f", "%h\t%s\n"])
        #expect(consumed.status == 0, "\(consumed.stderr)")
        let lines = consumed.stdout.split(separator: "\n")
        #expect(lines.count == 1, "exactly one anomaly: \(consumed.stdout)")
        let parts = try #require(lines.first?.split(separator: "\t", maxSplits: 1))
        #expect(parts[0].contains("content-type=application/json"))
        let event = try JSONSerialization.jsonObject(with: Data(parts[1].utf8)) as! [String: Any]
        #expect(event["schema"] as? String == "seismo.anomaly.v1")
        #expect(event["pipeline"] as? String == "e2e")
        #expect(event["detector"] as? String == "latency_z")
        #expect((event["group"] as? [String: String]) == ["service": "a"])
        let spikeWindow = PipelineFixture.t0 + Int64(PipelineFixture.spikeStep / 6) * 60_000
        #expect(event["window_start"] as? String == Timestamp(milliseconds: spikeWindow).description)
        #expect((event["window_start_ms"] as? NSNumber)?.int64Value == spikeWindow)
        #expect((event["score"] as? Double ?? 0) > 1)
        #expect((event["observed"] as? [String: Double])?["latency_avg"] != nil)
        #expect(event["expected"] as? Double != nil)
        #expect(run.stdout.contains("ANOMALY"), "seismo run prints anomalies as they happen")

        // The store answers `seismo query`.
        let query = try await ProcessRunner.run(
            Binaries.seismo,
            ["query", "lat:latency_max{service=\"a\"}", "--data-dir", dataDir, "--from", "\(PipelineFixture.t0 / 1000)",
             "--to", "\(PipelineFixture.t0 / 1000 + 3600)"])
        #expect(query.status == 0, "\(query.stderr)")
        #expect(query.stdout.contains("5"), "the spike's window max is stored as a series")

        // Detector verdicts are series too, served by the Prometheus query API beside the data.
        let scores = try await ProcessRunner.run(
            curl,
            ["-s", "\(base)/api/v1/query", "--data-urlencode",
             "query=max_over_time(seismo_anomaly_score{detector=\"latency_z\",service=\"a\",pipeline=\"e2e\"}[2h])",
             "--data-urlencode", "time=\(PipelineFixture.t0 / 1000 + 3600)"])
        let answer = try JSONSerialization.jsonObject(with: Data(scores.stdout.utf8)) as? [String: Any]
        let result = ((answer?["data"] as? [String: Any])?["result"] as? [[String: Any]]) ?? []
        #expect(result.count == 1, "\(scores.stdout)")
        let maxScore = Double((result.first?["value"] as? [Any])?.last as? String ?? "") ?? 0
        #expect(maxScore > 1, "the spike's score is stored as seismo_anomaly_score: \(scores.stdout)")

        run.signal(SIGTERM)
        #expect(try await run.wait(timeout: .seconds(30)) == 0, "graceful shutdown: \(run.stderr.suffix(2000))")
    }

    @Test("poison records go to the dead-letter topic with the reason, and the stream goes on")
    func poisonRecords() async throws {
        let fixture = try PipelineFixture(name: "poison")
        defer { fixture.remove() }
        let (broker, brokers) = try await PipelineFixture.startBroker(in: fixture.directory, topics: ["signals.poison:2"])
        defer { broker.signal(SIGKILL) }

        try await fixture.publish(steps: 0..<PipelineFixture.steps, brokers: brokers, poison: 3)
        let dataDir = fixture.directory.appendingPathComponent("data").path
        let run = try fixture.run(pipeline: try fixture.writePipeline(consumerGroup: "poison"), brokers: brokers, dataDir: dataDir)
        let rows = try await fixture.waitForRows(PipelineFixture.expectedRows().count, store: "\(dataDir)/poison.sqlite", while: run)
        checkRows(rows)

        // The dead letters are produced within the flush that stores the rows: read until they
        // are there. Like every output they are delivered at least once: a rebalance before the
        // offsets were committed replays the records, and their dead letters come again.
        var dead = try await kcat(["-C", "-b", brokers, "-t", "deadletter.poison", "-o", "beginning", "-e", "-q", "-f", "%h\t%s\n"])
        let deadline = ContinuousClock.now + .seconds(60)
        while Set(dead.stdout.split(separator: "\n")).count < 3, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            dead = try await kcat(["-C", "-b", brokers, "-t", "deadletter.poison", "-o", "beginning", "-e", "-q", "-f", "%h\t%s\n"])
        }
        let lines = dead.stdout.split(separator: "\n")
        let distinct = Set(lines)
        #expect(distinct.count == 3, "\(dead.stdout) \(dead.stderr)")
        for line in distinct {
            #expect(line.contains("seismo-error=undecodable signals"))
            #expect(line.contains("seismo-source-topic=signals.poison"))
        }
        let payloads = Set(distinct.compactMap { $0.split(separator: "\t").last.map(String.init) })
        #expect(payloads == Set((0..<3).map { "this is not a signal batch \($0)" }))
        run.signal(SIGTERM)
        #expect(try await run.wait(timeout: .seconds(30)) == 0)
    }

    @Test("kill -9 mid-stream and restart: the store holds exactly the rows of an uninterrupted run")
    func crashAndReplay() async throws {
        let fixture = try PipelineFixture(name: "crash")
        defer { fixture.remove() }
        let (broker, brokers) = try await PipelineFixture.startBroker(in: fixture.directory, topics: ["signals.crash:2"])
        defer { broker.signal(SIGKILL) }
        let expectedCount = PipelineFixture.expectedRows().count
        let half = PipelineFixture.steps / 2

        // Interrupted: half the stream, kill -9 once some windows are stored, the rest, restart.
        let crashedDir = fixture.directory.appendingPathComponent("crashed").path
        let crashedPipeline = try fixture.writePipeline(consumerGroup: "crashed")
        try await fixture.publish(steps: 0..<half, brokers: brokers)
        let first = try fixture.run(pipeline: crashedPipeline, brokers: brokers, dataDir: crashedDir)
        _ = try await fixture.waitForRows(10, store: "\(crashedDir)/crash.sqlite", while: first)
        first.signal(SIGKILL)
        try await first.wait()
        try await fixture.publish(steps: half..<PipelineFixture.steps, brokers: brokers)
        let second = try fixture.run(pipeline: crashedPipeline, brokers: brokers, dataDir: crashedDir)
        let crashedRows = try await fixture.waitForRows(expectedCount, store: "\(crashedDir)/crash.sqlite", while: second)

        // Uninterrupted, from the same topic, in another consumer group.
        let cleanDir = fixture.directory.appendingPathComponent("clean").path
        let clean = try fixture.run(pipeline: try fixture.writePipeline(consumerGroup: "clean"), brokers: brokers, dataDir: cleanDir)
        let cleanRows = try await fixture.waitForRows(expectedCount, store: "\(cleanDir)/crash.sqlite", while: clean)
        // Let both finish their last flush.
        try await Task.sleep(for: .seconds(2))
        for process in [second, clean] {
            process.signal(SIGTERM)
            #expect(try await process.wait(timeout: .seconds(30)) == 0)
        }

        #expect(crashedRows.count == expectedCount)
        checkRows(crashedRows)
        let crashed = try SQLiteStore(path: "\(crashedDir)/crash.sqlite")
        let uninterrupted = try SQLiteStore(path: "\(cleanDir)/crash.sqlite")
        let all = [try Matcher(.regexMatch, "__name__", ".+")]
        #expect(try await crashed.select(all, from: 0, to: .max) == uninterrupted.select(all, from: 0, to: .max))
        #expect(
            Set(try await crashed.featureRows(table: "crash_features", from: 0, to: .max))
                == Set(try await uninterrupted.featureRows(table: "crash_features", from: 0, to: .max)))
        let crashedAnomalies = try await crashed.anomalies(from: 0, to: .max, limit: 1000)
        let cleanAnomalies = try await uninterrupted.anomalies(from: 0, to: .max, limit: 1000)
        #expect(crashedAnomalies.map(\.id) == cleanAnomalies.map(\.id))
        #expect(crashedAnomalies.map(\.score) == cleanAnomalies.map(\.score))
        #expect(cleanAnomalies.count == 1)
        _ = cleanRows
    }
}
