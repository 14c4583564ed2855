import GRDB
import SeismoCore

/// Feature tables: one per `WindowRow.table`, created on first use, with the fixed key
/// columns and one REAL column per feature, added with ALTER TABLE as features appear.
/// Names are validated (`Schema.validateTable`, `validateFeature`) before they get here.
enum FeatureTables {
    /// Makes sure `table` exists with every column of `features`. `columns` is what the
    /// caller knows of its feature columns (nil: unknown); returns true when it changed.
    static func ensure(_ db: Database, table: String, features: [String], columns: inout [String]?) throws -> Bool {
        var changed = false
        if columns == nil {
            columns = try self.columns(db, table: table)
            changed = true
        }
        if columns == nil {
            var definitions = [
                "stream TEXT NOT NULL", "window_start INTEGER NOT NULL", "window_end INTEGER NOT NULL",
                "group_id INTEGER NOT NULL", "sample_count INTEGER NOT NULL",
            ]
            definitions += features.map { "\(Schema.quote($0)) REAL" }
            definitions.append("PRIMARY KEY (stream, window_start, window_end, group_id)")
            try db.execute(
                sql: """
                    CREATE TABLE \(Schema.quote(table)) (\(definitions.joined(separator: ", "))) WITHOUT ROWID;
                    CREATE INDEX \(Schema.quote(table + "__by_window_end")) ON \(Schema.quote(table)) (window_end);
                    INSERT INTO feature_tables (name) VALUES (?) ON CONFLICT (name) DO NOTHING;
                    """,
                arguments: [table])
            columns = features
            return true
        }
        let lowered = Set(columns!.map { $0.lowercased() })
        for feature in features where !lowered.contains(feature.lowercased()) {
            try db.execute(sql: "ALTER TABLE \(Schema.quote(table)) ADD COLUMN \(Schema.quote(feature)) REAL")
            columns!.append(feature)
            changed = true
        }
        return changed
    }

    /// The feature columns of `table` in table order, or nil when it does not exist.
    static func columns(_ db: Database, table: String) throws -> [String]? {
        let rows = try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?) ORDER BY cid", arguments: [table])
        guard !rows.isEmpty else { return nil }
        return rows.map { $0[0] as String }.filter { !Schema.reservedColumns.contains($0.lowercased()) }
    }

    /// Inserts `row`, or replaces the sample count and the given features of the stored row.
    static func upsert(_ db: Database, _ row: WindowRow, groupID: Int64) throws {
        let names = row.features.map { Schema.quote($0.name) }
        var sql = "INSERT INTO \(Schema.quote(row.table)) (stream, window_start, window_end, group_id, sample_count"
        for name in names { sql += ", \(name)" }
        sql += ") VALUES (?, ?, ?, ?, ?" + String(repeating: ", ?", count: names.count) + ")"
        sql += " ON CONFLICT (stream, window_start, window_end, group_id) DO UPDATE SET sample_count = excluded.sample_count"
        for name in names { sql += ", \(name) = excluded.\(name)" }
        let statement = try db.cachedStatement(sql: sql)
        var values: [DatabaseValue] = [
            row.stream.databaseValue, row.windowStart.databaseValue, row.windowEnd.databaseValue,
            groupID.databaseValue, row.sampleCount.databaseValue,
        ]
        for feature in row.features { values.append(feature.value.databaseValue) }
        statement.setUncheckedArguments(StatementArguments(values))
        try statement.execute()
    }
}
