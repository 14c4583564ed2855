import Foundation
import GRDB
import SeismoCore

/// The store's benchmark (`make bench`): raw-sample append throughput into a fresh
/// file-backed store, and the commit latency of window flushes.
public enum StoreBenchmark {
    /// What one run measured.
    public struct Figures: Sendable, CustomStringConvertible {
        public var series: Int
        public var samples: Int
        /// Samples per commit (one scrape of every series, split into commits of at most 10,000).
        public var batchSize: Int
        /// Raw samples appended and committed per second, series creation included.
        public var samplesPerSecond: Double
        /// The same, once every series exists (the steady state).
        public var steadySamplesPerSecond: Double
        /// Median commit time of one batch in the steady state, in milliseconds.
        public var medianBatchCommitMs: Double
        /// Median commit time of 1,000 window rows (5 features each), in milliseconds.
        public var medianWindowFlushMs: Double
        /// The same with `asSeries: true` (plus 5,000 samples).
        public var medianWindowFlushAsSeriesMs: Double
        /// Time of one `select` of one series over the whole range, in milliseconds.
        public var selectOneSeriesMs: Double

        public var description: String {
            func f(_ x: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", x) }
            return """
                store: \(samples) samples, \(series) series, \(batchSize) per commit
                  append      \(f(samplesPerSecond / 1000, 0))k samples/s overall, \(f(steadySamplesPerSecond / 1000, 0))k samples/s steady, batch commit median \(f(medianBatchCommitMs, 2)) ms
                  windows     1,000 rows: median \(f(medianWindowFlushMs, 2)) ms; as series too: \(f(medianWindowFlushAsSeriesMs, 2)) ms
                  select      one series: \(f(selectOneSeriesMs, 2)) ms
                """
        }
    }

    /// Writes `series × samplesPerSeries` samples (one per series per scrape, 15 s apart)
    /// into a new store at `path` (removed first), then flushes 20 window batches.
    public static func run(path: String, series: Int = 10_000, samplesPerSeries: Int = 100) async throws(StoreError)
        -> Figures
    {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let store = try SQLiteStore(path: path)
        let clock = ContinuousClock()
        let labels: [Labels] = (0..<series).map { index in
            [
                "__name__": "bench_metric_\(index % 100)", "job": "bench", "instance": "host-\(index / 100)",
                "shard": "\(index % 7)",
            ]
        }
        let batchSize = min(series, 10_000)
        var appender = store.appender()
        var commitTimes: [Duration] = []
        var firstScrape = Duration.zero
        let start = clock.now
        for scrape in 0..<samplesPerSeries {
            let timestamp = Int64(scrape) * 15_000
            let scrapeStart = clock.now
            var first = 0
            while first < series {
                let last = min(series, first + batchSize)
                for index in first..<last {
                    appender.append(labels[index], timestamp: timestamp, value: Double(index &+ scrape))
                }
                let commitStart = clock.now
                try await appender.commit()
                if scrape > 0 { commitTimes.append(clock.now - commitStart) }
                first = last
            }
            if scrape == 0 { firstScrape = clock.now - scrapeStart }
        }
        let total = clock.now - start
        let samples = series * samplesPerSeries

        var flushes: [Duration] = []
        var seriesFlushes: [Duration] = []
        let features = ["mean", "p50", "p99", "max", "count"]
        for round in 0..<20 {
            for asSeries in [false, true] {
                let windowEnd = Int64(round + (asSeries ? 100 : 0)) * 60_000
                for group in 0..<1_000 {
                    appender.append(
                        WindowRow(
                            table: "bench_features", stream: "bench", windowStart: windowEnd - 60_000,
                            windowEnd: windowEnd, group: ["instance": "host-\(group)", "job": "bench"],
                            features: features.enumerated().map { ($1, Double($0 + group)) }, sampleCount: 60),
                        asSeries: asSeries)
                }
                let flushStart = clock.now
                try await appender.commit()
                if asSeries { seriesFlushes.append(clock.now - flushStart) } else { flushes.append(clock.now - flushStart) }
            }
        }

        let selectStart = clock.now
        let selected = try await store.select(
            [try! Matcher(.equal, "__name__", "bench_metric_1"), try! Matcher(.equal, "instance", "host-0")],
            from: 0, to: .max)
        let selectTime = clock.now - selectStart
        precondition(selected.count == 1 && selected[0].values.count == samplesPerSeries, "benchmark select")

        func ms(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }
        func median(_ xs: [Duration]) -> Double { xs.isEmpty ? 0 : ms(xs.sorted()[xs.count / 2]) }
        let steadySamples = samples - series
        return Figures(
            series: series, samples: samples, batchSize: batchSize,
            samplesPerSecond: Double(samples) / (ms(total) / 1000),
            steadySamplesPerSecond: steadySamples > 0 ? Double(steadySamples) / (ms(total - firstScrape) / 1000) : 0,
            medianBatchCommitMs: median(commitTimes), medianWindowFlushMs: median(flushes),
            medianWindowFlushAsSeriesMs: median(seriesFlushes), selectOneSeriesMs: ms(selectTime))
    }
}

extension StoreBenchmark {
    /// What ingesting `NodeExporterData` measured.
    public struct IngestFigures: Sendable {
        public var samples: Int
        /// Seconds to append and commit every sample (about 10,000 per commit, whole scrapes).
        public var seconds: Double
        /// Seconds of the final head flush (cutting every open head into a chunk).
        public var flushSeconds: Double
        /// The database file after flush, WAL checkpoint and VACUUM.
        public var fileBytes: Int
        /// Bytes of chunk payload alone (shared time sets included).
        public var chunkBytes: Int
        public var chunks: Int
        /// Bytes per table and index after the vacuum (SQLite's `dbstat`), largest first.
        public var tables: [(name: String, bytes: Int)] = []
    }

    /// Appends `data` into a new file-backed store at `path` (removed first), flushes the
    /// heads, checkpoints and vacuums, and measures the file.
    public static func ingest(
        _ data: NodeExporterData, path: String, options: SQLiteStore.Options = SQLiteStore.Options(),
        chunks: ChunkOptions = ChunkOptions()
    )
        async throws(StoreError) -> IngestFigures
    {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        let clock = ContinuousClock()
        let series = data.labels.count
        let scrapesPerCommit = max(1, 10_000 / series)
        let store = try SQLiteStore(path: path, options: options, chunks: chunks)
        var appender = store.appender()
        let start = clock.now
        for scrape in 0..<data.scrapes {
            let base = scrape * series
            for index in 0..<series {
                appender.append(data.labels[index], timestamp: data.timestamp(scrape: scrape, series: index), value: data.values[base + index])
            }
            if (scrape + 1) % scrapesPerCommit == 0 || scrape == data.scrapes - 1 { try await appender.commit() }
        }
        let ingested = clock.now - start
        try await store.flushHeads()
        let flushed = clock.now - start - ingested
        let (payload, count) = try await store.read("cannot measure the store") { db in
            let row = try Row.fetchOne(
                db,
                sql: """
                    SELECT coalesce(sum(length(data)), 0) + (SELECT coalesce(sum(length(data)), 0) FROM chunk_times), count(*)
                    FROM chunks
                    """)!
            return (row[0] as Int, row[1] as Int)
        }
        do {
            try await store.writer.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                try db.execute(sql: "VACUUM")
                try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
            }
        } catch {
            throw StoreError(error, "cannot vacuum the store")
        }
        let tables = (try? await store.read("cannot size the tables") { db in
            try Row.fetchAll(db, sql: "SELECT name, sum(pgsize) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC")
                .map { (name: $0[0] as String, bytes: $0[1] as Int) }
        }) ?? []
        var bytes = 0
        for suffix in ["", "-wal"] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path + suffix)
            bytes += (attributes?[.size] as? NSNumber)?.intValue ?? 0
        }
        func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
        return IngestFigures(
            samples: data.sampleCount, seconds: seconds(ingested), flushSeconds: seconds(flushed), fileBytes: bytes,
            chunkBytes: payload, chunks: count, tables: tables)
    }
}
