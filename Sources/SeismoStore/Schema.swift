import Foundation
import GRDB

/// The store's schema: named, forward-only migrations. Feature tables are not here: each
/// is created on first use (see `FeatureTables`), and listed in `feature_tables`.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-series") { db in
            try db.execute(
                sql: """
                    CREATE TABLE series (
                        id INTEGER PRIMARY KEY,
                        hash INTEGER NOT NULL,
                        metric TEXT NOT NULL,
                        labels TEXT NOT NULL,
                        UNIQUE (hash, labels)
                    );
                    CREATE TABLE series_label (
                        name TEXT NOT NULL,
                        value TEXT NOT NULL,
                        series_id INTEGER NOT NULL,
                        PRIMARY KEY (name, value, series_id)
                    ) WITHOUT ROWID;
                    CREATE INDEX series_label_by_series ON series_label (series_id);
                    """)
        }
        migrator.registerMigration("v1-samples") { db in
            try db.execute(
                sql: """
                    CREATE TABLE samples (
                        series_id INTEGER NOT NULL,
                        ts INTEGER NOT NULL,
                        value REAL,
                        PRIMARY KEY (series_id, ts)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v1-features") { db in
            try db.execute(
                sql: """
                    CREATE TABLE groups (
                        id INTEGER PRIMARY KEY,
                        hash INTEGER NOT NULL,
                        labels TEXT NOT NULL,
                        UNIQUE (hash, labels)
                    );
                    CREATE TABLE feature_tables (
                        name TEXT PRIMARY KEY NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v1-anomalies") { db in
            try db.execute(
                sql: """
                    CREATE TABLE anomalies (
                        id TEXT PRIMARY KEY NOT NULL,
                        pipeline TEXT NOT NULL,
                        detector TEXT NOT NULL,
                        group_labels TEXT NOT NULL,
                        window_start INTEGER NOT NULL,
                        window_end INTEGER NOT NULL,
                        score REAL,
                        threshold REAL,
                        severity TEXT NOT NULL,
                        json TEXT NOT NULL
                    ) WITHOUT ROWID;
                    CREATE INDEX anomalies_by_window_end ON anomalies (window_end);
                    """)
        }
        migrator.registerMigration("v2-alert-state") { db in
            // One JSON document per key: alerting's rule states, groups, notification log, silences.
            try db.execute(
                sql: """
                    CREATE TABLE alert_state (
                        key TEXT PRIMARY KEY NOT NULL,
                        json BLOB NOT NULL,
                        updated_ms INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-chunks") { db in
            try db.execute(
                sql: """
                    CREATE TABLE chunks (
                        id INTEGER PRIMARY KEY,
                        series_id INTEGER NOT NULL,
                        min_t INTEGER NOT NULL,
                        max_t INTEGER NOT NULL,
                        count INTEGER NOT NULL,
                        data BLOB NOT NULL
                    );
                    CREATE INDEX chunks_by_series ON chunks (series_id, max_t, min_t);
                    CREATE TABLE head_log (
                        seq INTEGER PRIMARY KEY,
                        data BLOB NOT NULL
                    );
                    CREATE TABLE store_meta (
                        key TEXT PRIMARY KEY NOT NULL,
                        value INTEGER NOT NULL
                    ) WITHOUT ROWID;
                    """)
            // Raw samples move into chunks of the default size, series by series.
            let perChunk = ChunkOptions().samplesPerChunk
            let ids = try Int64.fetchAll(db, sql: "SELECT DISTINCT series_id FROM samples")
            let samples = try db.makeStatement(sql: "SELECT ts, value FROM samples WHERE series_id = ? ORDER BY ts")
            let insert = try db.makeStatement(
                sql: "INSERT INTO chunks (series_id, min_t, max_t, count, data) VALUES (?, ?, ?, ?, ?)")
            for id in ids {
                var timestamps: [Int64] = []
                var values: [Double] = []
                let rows = try Row.fetchCursor(samples, arguments: [id])
                while let row = try rows.next() {
                    timestamps.append(row[0])
                    values.append(SampleValue.decode(row[1]))
                }
                var start = 0
                while start < timestamps.count {
                    let end = min(timestamps.count, start + perChunk)
                    let chunk = StoredChunk(timestamps: Array(timestamps[start..<end]), values: Array(values[start..<end]))
                    try insert.execute(arguments: [id, chunk.minTimestamp, chunk.maxTimestamp, chunk.count, Data(chunk.data)])
                    start = end
                }
            }
            try db.execute(sql: "DROP TABLE samples")
        }
        migrator.registerMigration("v2-rollups") { db in
            try db.execute(
                sql: """
                    CREATE TABLE rollups (
                        chunk_id INTEGER PRIMARY KEY,
                        data BLOB NOT NULL
                    );
                    """)
        }
        migrator.registerMigration("v3-rollups-right-closed") { db in
            // Rollups are right-closed 5-minute buckets (1 hour is merged when read), in
            // RollupCodec's format 1: every chunk's rollups are computed (again).
            try db.execute(sql: "DELETE FROM rollups")
            let chunks = try Row.fetchCursor(db, sql: "SELECT id, data FROM chunks")
            while let row = try chunks.next() {
                let (timestamps, values) = try Chunk.decode([UInt8](row[1] as Data))
                try SQLiteStore.writeRollups(db, chunkID: row[0], timestamps: timestamps, values: values)
            }
        }
        migrator.registerMigration("v4-chunk-times") { db in
            // Timestamps shared by the chunks of series scraped together (see ChunkTimes.swift).
            try db.execute(
                sql: """
                    CREATE TABLE chunk_times (
                        id INTEGER PRIMARY KEY,
                        max_t INTEGER NOT NULL,
                        data BLOB NOT NULL
                    );
                    CREATE INDEX chunk_times_by_max_t ON chunk_times (max_t);
                    """)
        }
        return migrator
    }

    /// Tables of the schema itself, which a feature table may not be named after.
    static let reservedTables: Set<String> = [
        "series", "series_label", "samples", "groups", "feature_tables", "anomalies", "alert_state", "grdb_migrations",
        "chunks", "head_log", "store_meta", "rollups", "chunk_times",
    ]

    /// Columns every feature table has, which a feature may not be named after.
    static let reservedColumns: Set<String> = [
        "stream", "window_start", "window_end", "group_id", "sample_count",
    ]

    /// True for `[A-Za-z_][A-Za-z0-9_]*` of at most 128 bytes, the names we accept as SQL
    /// identifiers (always quoted in SQL as well).
    static func isValidIdentifier(_ name: String) -> Bool {
        guard name.utf8.count <= 128, let first = name.utf8.first else { return false }
        guard isLetter(first) else { return false }
        return name.utf8.allSatisfy { isLetter($0) || ($0 >= 0x30 && $0 <= 0x39) }
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
    }

    /// Checks a feature table name: a valid identifier, not one of ours, not SQLite's.
    static func validateTable(_ name: String) throws(StoreError) {
        guard isValidIdentifier(name) else {
            throw StoreError(.invalidInput, "feature table name \"\(name.prefix(200))\" is not [A-Za-z_][A-Za-z0-9_]*")
        }
        let lower = name.lowercased()
        guard !reservedTables.contains(lower), !lower.hasPrefix("sqlite_") else {
            throw StoreError(.invalidInput, "feature table name \"\(name)\" is reserved")
        }
    }

    /// Checks a feature (column) name.
    static func validateFeature(_ name: String, table: String) throws(StoreError) {
        guard isValidIdentifier(name) else {
            throw StoreError(
                .invalidInput, "feature name \"\(name.prefix(200))\" of table \(table) is not [A-Za-z_][A-Za-z0-9_]*")
        }
        guard !reservedColumns.contains(name.lowercased()) else {
            throw StoreError(.invalidInput, "feature name \"\(name)\" of table \(table) is reserved")
        }
    }

    /// `"name"`: identifiers are validated first, so there is no quote to escape.
    static func quote(_ identifier: String) -> String { "\"\(identifier)\"" }
}
