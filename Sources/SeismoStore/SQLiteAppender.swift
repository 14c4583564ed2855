import GRDB
import SeismoCore

/// The store's `Appender`: buffers rows in memory; `commit()` writes them all in one write
/// transaction. Cheap to create; make one per worker (it is a value: copies buffer apart).
public struct SQLiteAppender: Appender {
    let store: SQLiteStore
    var batch = Batch()

    init(store: SQLiteStore) { self.store = store }

    public mutating func append(_ labels: Labels, timestamp: Int64, value: Double) {
        batch.samples.append(PendingSample(labels: labels, timestamp: timestamp, value: value))
    }

    public mutating func append(_ row: WindowRow, asSeries: Bool) {
        batch.rows.append(PendingRow(row: row, asSeries: asSeries))
    }

    public mutating func append(_ anomaly: AnomalyRecord) {
        batch.anomalies.append(anomaly)
    }

    public var pendingCount: Int { batch.samples.count + batch.rows.count + batch.anomalies.count }

    public mutating func commit() async throws(StoreError) {
        guard pendingCount > 0 else { return }
        try await store.commit(batch)
        batch = Batch()
    }

    public mutating func rollback() { batch = Batch() }
}

struct PendingSample: Sendable {
    var labels: Labels
    var timestamp: Int64
    var value: Double
}

struct PendingRow: Sendable {
    var row: WindowRow
    var asSeries: Bool
}

struct Batch: Sendable {
    var samples: [PendingSample] = []
    var rows: [PendingRow] = []
    var anomalies: [AnomalyRecord] = []
}

/// What a committed transaction learnt, merged into `Caches` after the commit.
private struct Learnt: Sendable {
    var generation: Int
    var series: [SeriesKey: Int64] = [:]
    var groups: [SeriesKey: Int64] = [:]
    var tables: [String: [String]] = [:]
}

extension SQLiteStore {
    func commit(_ batch: Batch) async throws(StoreError) {
        var samples = batch.samples
        for pending in batch.rows {
            try Self.validate(pending.row)
            if pending.asSeries {
                for feature in pending.row.features {
                    let labels: Labels
                    do {
                        labels = try pending.row.group.setting(
                            Labels.metricName, to: "\(pending.row.stream):\(feature.name)")
                    } catch {
                        throw StoreError(
                            .invalidInput,
                            "series of feature \(feature.name) of stream \(pending.row.stream): \(error)")
                    }
                    samples.append(PendingSample(labels: labels, timestamp: pending.row.windowEnd, value: feature.value))
                }
            }
        }
        let rows = batch.rows.map(\.row)
        let anomalies = batch.anomalies
        let learnt = try await writeWithHeads(
            "cannot commit \(samples.count) samples, \(rows.count) window rows, \(anomalies.count) anomalies"
        ) { [samples] db, changes in
            try self.writeBatch(db, samples: samples, rows: rows, anomalies: anomalies, changes: &changes)
        }
        caches.withLock { caches in
            guard caches.generation == learnt.generation else { return }
            caches.series.merge(learnt.series) { _, new in new }
            caches.groups.merge(learnt.groups) { _, new in new }
            caches.tables.merge(learnt.tables) { _, new in new }
        }
    }

    private static func validate(_ row: WindowRow) throws(StoreError) {
        try Schema.validateTable(row.table)
        var seen = Set<String>()
        for feature in row.features {
            try Schema.validateFeature(feature.name, table: row.table)
            guard seen.insert(feature.name.lowercased()).inserted else {
                throw StoreError(.invalidInput, "feature \(feature.name) appears twice in a row of table \(row.table)")
            }
        }
    }

    private func writeBatch(
        _ db: Database, samples: [PendingSample], rows: [WindowRow], anomalies: [AnomalyRecord],
        changes: inout HeadChanges
    ) throws -> Learnt {
        // Ids from the cache in one lock; misses are resolved in SQL below.
        var ids = [Int64](repeating: 0, count: samples.count)
        var groupIDs = [Int64](repeating: 0, count: rows.count)
        var learnt = caches.withLock { caches in
            for index in samples.indices { ids[index] = caches.series[SeriesKey(samples[index].labels)] ?? 0 }
            for index in rows.indices { groupIDs[index] = caches.groups[SeriesKey(rows[index].group)] ?? 0 }
            return Learnt(generation: caches.generation)
        }
        for index in samples.indices where ids[index] == 0 {
            let labels = samples[index].labels
            if let id = learnt.series[SeriesKey(labels)] {
                ids[index] = id
            } else {
                let id = try Self.seriesID(db, labels)
                learnt.series[SeriesKey(labels)] = id
                ids[index] = id
            }
        }
        try Self.insertSamples(db, samples: samples, ids: ids, into: &changes, store: self)

        if !rows.isEmpty {
            for index in rows.indices where groupIDs[index] == 0 {
                let group = rows[index].group
                if let id = learnt.groups[SeriesKey(group)] {
                    groupIDs[index] = id
                } else {
                    let id = try Self.groupID(db, group)
                    learnt.groups[SeriesKey(group)] = id
                    groupIDs[index] = id
                }
            }
            let known = caches.withLock { $0.tables }
            // Rows of one flush mostly share table and features: one statement for a run of them.
            var current: (table: String, names: [String], statement: Statement)?
            for (index, row) in rows.enumerated() {
                let names = row.features.map(\.name)
                if current == nil || current!.table != row.table || current!.names != names {
                    var columns = learnt.tables[row.table] ?? known[row.table]
                    if try FeatureTables.ensure(db, table: row.table, features: names, columns: &columns) {
                        learnt.tables[row.table] = columns
                    }
                    let sql = FeatureTables.upsertSQL(table: row.table, names: names)
                    current = (row.table, names, try db.cachedStatement(sql: sql))
                }
                try FeatureTables.upsert(db, current!.statement, row, groupID: groupIDs[index])
            }
        }

        if !anomalies.isEmpty {
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO anomalies (id, pipeline, detector, group_labels, window_start, window_end,
                        score, threshold, severity, json)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET pipeline = excluded.pipeline, detector = excluded.detector,
                        group_labels = excluded.group_labels, window_start = excluded.window_start,
                        window_end = excluded.window_end, score = excluded.score, threshold = excluded.threshold,
                        severity = excluded.severity, json = excluded.json
                    """)
            for anomaly in anomalies {
                try statement.execute(arguments: [
                    anomaly.id, anomaly.pipeline, anomaly.detector, LabelText.encode(anomaly.group),
                    anomaly.windowStart, anomaly.windowEnd, anomaly.score, anomaly.threshold, anomaly.severity,
                    anomaly.json,
                ])
            }
        }
        return learnt
    }

    /// The id of series `labels`, creating it (and its label index rows) when absent. Two
    /// writers creating the same series end with one row: the insert does nothing on
    /// conflict with the unique (hash, labels), and the id is then read back.
    static func seriesID(_ db: Database, _ labels: Labels) throws -> Int64 {
        let hash = Int64(bitPattern: labels.stableHash)
        let text = LabelText.encode(labels)
        let insert = try db.cachedStatement(
            sql: "INSERT INTO series (hash, metric, labels) VALUES (?, ?, ?) ON CONFLICT (hash, labels) DO NOTHING")
        try insert.execute(arguments: [hash, labels.name ?? "", text])
        if db.changesCount > 0 {
            let id = db.lastInsertedRowID
            let index = try db.cachedStatement(sql: "INSERT INTO series_label (name, value, series_id) VALUES (?, ?, ?)")
            for pair in labels.pairs {
                try index.execute(arguments: [pair.name, pair.value, id])
            }
            return id
        }
        let select = try db.cachedStatement(sql: "SELECT id FROM series WHERE hash = ? AND labels = ?")
        guard let id = try Int64.fetchOne(select, arguments: [hash, text]) else {
            throw StoreError(.corrupt, "series \(labels) was neither inserted nor found")
        }
        return id
    }

    /// The id of group `labels`, creating it when absent.
    static func groupID(_ db: Database, _ labels: Labels) throws -> Int64 {
        let hash = Int64(bitPattern: labels.stableHash)
        let text = LabelText.encode(labels)
        let insert = try db.cachedStatement(
            sql: "INSERT INTO groups (hash, labels) VALUES (?, ?) ON CONFLICT (hash, labels) DO NOTHING")
        try insert.execute(arguments: [hash, text])
        if db.changesCount > 0 { return db.lastInsertedRowID }
        let select = try db.cachedStatement(sql: "SELECT id FROM groups WHERE hash = ? AND labels = ?")
        guard let id = try Int64.fetchOne(select, arguments: [hash, text]) else {
            throw StoreError(.corrupt, "group \(labels) was neither inserted nor found")
        }
        return id
    }

    /// Sorts samples by (series, time), ties in append order so the last one wins, and puts
    /// them into heads and chunks.
    private static func insertSamples(
        _ db: Database, samples: [PendingSample], ids: [Int64], into changes: inout HeadChanges, store: SQLiteStore
    ) throws {
        guard !samples.isEmpty else { return }
        var order = Array(samples.indices)
        order.sort {
            if ids[$0] != ids[$1] { return ids[$0] < ids[$1] }
            if samples[$0].timestamp != samples[$1].timestamp { return samples[$0].timestamp < samples[$1].timestamp }
            return $0 < $1
        }
        let sorted = order.map { IdentifiedSample(id: ids[$0], timestamp: samples[$0].timestamp, value: samples[$0].value) }
        try store.writeSamples(db, sorted, &changes)
    }
}
