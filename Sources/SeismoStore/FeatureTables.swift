import GRDB
import GRDBSQLite
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

    /// The upsert of a row of `table` with features `names`: inserts the row, or replaces
    /// the sample count and these features of the stored row.
    static func upsertSQL(table: String, names: [String]) -> String {
        let quoted = names.map(Schema.quote)
        var sql = "INSERT INTO \(Schema.quote(table)) (stream, window_start, window_end, group_id, sample_count"
        for name in quoted { sql += ", \(name)" }
        sql += ") VALUES (?, ?, ?, ?, ?" + String(repeating: ", ?", count: quoted.count) + ")"
        sql += " ON CONFLICT (stream, window_start, window_end, group_id) DO UPDATE SET sample_count = excluded.sample_count"
        for name in quoted { sql += ", \(name) = excluded.\(name)" }
        return sql
    }

    /// Runs `statement` (from `upsertSQL` for the row's table and features) for `row`.
    static func upsert(_ db: Database, _ statement: Statement, _ row: WindowRow, groupID: Int64) throws {
        let handle = statement.sqliteStatement
        var stream = row.stream
        let code = stream.withUTF8 { bytes in
            sqlite3_bind_text(handle, 1, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
            sqlite3_bind_int64(handle, 2, row.windowStart)
            sqlite3_bind_int64(handle, 3, row.windowEnd)
            sqlite3_bind_int64(handle, 4, groupID)
            sqlite3_bind_int64(handle, 5, Int64(row.sampleCount))
            for (index, feature) in row.features.enumerated() {
                // NaN is stored as NULL, and read back as NaN.
                if feature.value.isNaN {
                    sqlite3_bind_null(handle, Int32(6 + index))
                } else {
                    sqlite3_bind_double(handle, Int32(6 + index), feature.value)
                }
            }
            let code = sqlite3_step(handle)
            sqlite3_reset(handle)
            return code
        }
        guard code == SQLITE_DONE else {
            throw DatabaseError(
                resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(db.sqliteConnection)))
        }
    }
}

/// SQLite's SQLITE_TRANSIENT destructor: SQLite copies the bound bytes.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
