import Foundation
import GRDB
import SeismoCore

extension SQLiteStore {
    /// The alert state document stored under `key`, if any.
    public func alertState(key: String) async throws(StoreError) -> [UInt8]? {
        try await read("cannot read alert state \(key)") { db in
            try Row.fetchOne(db, sql: "SELECT json FROM alert_state WHERE key = ?", arguments: [key]).map { row in
                let data: [UInt8] = Array(row["json"] as Data)
                return data
            }
        }
    }

    /// Replaces the alert state document stored under `key`.
    public func saveAlertState(key: String, _ json: [UInt8]) async throws(StoreError) {
        try await write("cannot write alert state \(key)") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO alert_state (key, json, updated_ms) VALUES (?, ?, ?)",
                arguments: [key, Data(json), Timestamp.now.milliseconds])
        }
    }
}
