import Foundation
import GRDB
import Logging
import SeismoCore
import ServiceLifecycle

/// What one retention pass removed.
public struct RetentionReport: Sendable, Hashable {
    public var samples: Int
    public var series: Int
    public var windowRows: Int
    public var anomalies: Int

    public init(samples: Int = 0, series: Int = 0, windowRows: Int = 0, anomalies: Int = 0) {
        self.samples = samples
        self.series = series
        self.windowRows = windowRows
        self.anomalies = anomalies
    }
}

extension SQLiteStore {
    /// Deletes, in one transaction, samples with a timestamp before `samples`, feature rows
    /// and anomalies whose window ended before `windows` and `anomalies` (milliseconds;
    /// nil keeps everything of that kind), then series left without samples.
    ///
    /// Samples go by whole chunks: heads holding a sample before the cutoff are cut first,
    /// chunks ending before it are deleted, and the one chunk per series that spans it is
    /// re-encoded without its older samples, so a query sees exactly the samples from the cutoff.
    @discardableResult
    public func deleteOlderThan(samples: Int64?, windows: Int64?, anomalies: Int64?) async throws(StoreError)
        -> RetentionReport
    {
        try await writeWithHeads("cannot delete old rows") { db, changes in
            var report = RetentionReport()
            if let cutoff = samples {
                var toCut: [(Int64, SeriesHead)] = []
                changes.forEachHead { id, head in if head.firstTimestamp < cutoff { toCut.append((id, head)) } }
                try self.cutHeads(db, toCut, &changes)
                let times = ChunkTimesReader(db)
                // Per series, so each statement is a range of the (series, max_t) index.
                let ids = try Int64.fetchAll(db, sql: "SELECT id FROM series")
                let count = try db.cachedStatement(
                    sql: "SELECT coalesce(sum(count), 0) FROM chunks WHERE series_id = ? AND max_t < ?")
                let delete = try db.cachedStatement(sql: "DELETE FROM chunks WHERE series_id = ? AND max_t < ?")
                let deleteRollups = try db.cachedStatement(
                    sql: "DELETE FROM rollups WHERE chunk_id IN (SELECT id FROM chunks WHERE series_id = ? AND max_t < ?)")
                let spanning = try db.cachedStatement(
                    sql: "SELECT id, data FROM chunks WHERE series_id = ? AND max_t >= ? AND min_t < ?")
                let update = try db.cachedStatement(
                    sql: "UPDATE chunks SET min_t = ?, max_t = ?, count = ?, data = ? WHERE id = ?")
                for id in ids {
                    report.samples += try Int.fetchOne(count, arguments: [id, cutoff]) ?? 0
                    try deleteRollups.execute(arguments: [id, cutoff])
                    try delete.execute(arguments: [id, cutoff])
                    for row in try Row.fetchAll(spanning, arguments: [id, cutoff, cutoff]) {
                        let (timestamps, values) = try Chunk.decode([UInt8](row[1] as Data), times: times)
                        let keep = timestamps.partitioningIndex { $0 >= cutoff }
                        report.samples += keep
                        let chunk = StoredChunk(timestamps: Array(timestamps[keep...]), values: Array(values[keep...]))
                        try update.execute(arguments: [
                            chunk.minTimestamp, chunk.maxTimestamp, chunk.count, Data(chunk.data), row[0] as Int64,
                        ])
                        try Self.writeRollups(
                            db, chunkID: row[0], timestamps: Array(timestamps[keep...]), values: Array(values[keep...]))
                    }
                }
                // Chunks naming a time set end where it ends (see ChunkTimes.swift).
                try db.execute(sql: "DELETE FROM chunk_times WHERE max_t < ?", arguments: [cutoff])
                changes.retentionCutoff = max(changes.retentionCutoff, cutoff)
                try db.execute(
                    sql: """
                        INSERT INTO store_meta (key, value) VALUES ('retention_cutoff', ?)
                        ON CONFLICT (key) DO UPDATE SET value = excluded.value
                        """,
                    arguments: [changes.retentionCutoff])
                var withHead = Set<Int64>()
                changes.forEachHead { id, _ in withHead.insert(id) }
                let orphans = try Int64.fetchAll(
                    db,
                    sql: "SELECT id FROM series WHERE NOT EXISTS (SELECT 1 FROM chunks WHERE series_id = series.id)"
                ).filter { !withHead.contains($0) }
                let deleteLabels = try db.cachedStatement(sql: "DELETE FROM series_label WHERE series_id = ?")
                let deleteSeries = try db.cachedStatement(sql: "DELETE FROM series WHERE id = ?")
                for id in orphans {
                    try deleteLabels.execute(arguments: [id])
                    try deleteSeries.execute(arguments: [id])
                    changes.removed.insert(id)
                }
                report.series = orphans.count
                if !orphans.isEmpty {
                    // Ids of deleted series must not be reused from memory; a commit that
                    // ran before this one must not put them back (see `Caches`).
                    self.caches.withLock { caches in
                        caches.generation += 1
                        caches.series = [:]
                    }
                }
            }
            if let cutoff = windows {
                let tables = try String.fetchAll(db, sql: "SELECT name FROM feature_tables")
                for table in tables where Schema.isValidIdentifier(table) {
                    try db.execute(sql: "DELETE FROM \(Schema.quote(table)) WHERE window_end < ?", arguments: [cutoff])
                    report.windowRows += db.changesCount
                }
            }
            if let cutoff = anomalies {
                try db.execute(sql: "DELETE FROM anomalies WHERE window_end < ?", arguments: [cutoff])
                report.anomalies = db.changesCount
            }
            return report
        }
    }
}

/// Retention as a `Service`: every `interval` on `clock`, deletes what is older than the
/// configured ages (relative to `now()`, milliseconds since the epoch). A failed pass is
/// logged and retried at the next tick. Stops on graceful shutdown or cancellation.
public struct RetentionService<C: Clock>: Service where C.Duration == Duration {
    /// How long each kind of row is kept; nil keeps it forever.
    public struct Policy: Sendable, Hashable {
        public var samples: Duration?
        public var windows: Duration?
        public var anomalies: Duration?

        public init(samples: Duration? = nil, windows: Duration? = nil, anomalies: Duration? = nil) {
            self.samples = samples
            self.windows = windows
            self.anomalies = anomalies
        }
    }

    let store: SQLiteStore
    let policy: Policy
    let interval: Duration
    let clock: C
    let now: @Sendable () -> Int64
    let logger: Logger
    let onPass: @Sendable (Result<RetentionReport, StoreError>) -> Void

    /// - Parameters:
    ///   - now: the current time in milliseconds since the epoch (the wall clock by default).
    ///   - onPass: called after every pass, with what it deleted or why it failed.
    public init(
        store: SQLiteStore, policy: Policy, interval: Duration, clock: C,
        now: @escaping @Sendable () -> Int64 = { Timestamp.now.milliseconds },
        logger: Logger = Logger(label: "seismo.store.retention"),
        onPass: @escaping @Sendable (Result<RetentionReport, StoreError>) -> Void = { _ in }
    ) {
        self.store = store
        self.policy = policy
        self.interval = interval
        self.clock = clock
        self.now = now
        self.logger = logger
        self.onPass = onPass
    }

    /// Runs one pass now.
    @discardableResult
    public func runOnce() async throws(StoreError) -> RetentionReport {
        let now = self.now()
        func cutoff(_ age: Duration?) -> Int64? {
            guard let age else { return nil }
            let (seconds, attoseconds) = age.components
            return now - (seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        }
        return try await store.deleteOlderThan(
            samples: cutoff(policy.samples), windows: cutoff(policy.windows), anomalies: cutoff(policy.anomalies))
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
                do throws(StoreError) {
                    let report = try await runOnce()
                    logger.debug(
                        "retention pass",
                        metadata: [
                            "samples": "\(report.samples)", "series": "\(report.series)",
                            "windowRows": "\(report.windowRows)", "anomalies": "\(report.anomalies)",
                        ])
                    onPass(.success(report))
                } catch {
                    if Task.isCancelled { return }  // shutting down: the pass was interrupted
                    logger.error("retention pass failed: \(error)")
                    onPass(.failure(error))
                }
            }
        }
    }
}
