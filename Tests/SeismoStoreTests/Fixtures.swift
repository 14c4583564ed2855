import SeismoCore
import Testing

@testable import SeismoStore

/// `try! Matcher(…)` for literals in tests.
func m(_ text: String) -> Matcher { try! Matcher(parsing: text) }

/// All samples of every series, for comparing whole stores.
func everything(_ store: SQLiteStore) async throws -> [StoredSeries] {
    try await store.select([], from: .min, to: .max)
}

/// A window row of table `features`.
func windowRow(
    table: String = "features", end: Int64, group: Labels, _ features: [(String, Double)], count: Int = 10
) -> WindowRow {
    WindowRow(
        table: table, stream: "http", windowStart: end - 60_000, windowEnd: end, group: group,
        features: features.map { (name: $0.0, value: $0.1) }, sampleCount: count)
}

func anomaly(_ id: String, end: Int64, score: Double = 0.9) -> AnomalyRecord {
    AnomalyRecord(
        id: id, pipeline: "web", detector: "iforest", group: ["service": "api"], windowStart: end - 60_000,
        windowEnd: end, score: score, threshold: 0.7, severity: "warning", json: #"{"id":"\#(id)"}"#)
}

/// Error code of a failing store call.
func code(_ body: () async throws(StoreError) -> Void) async -> StoreError.Code? {
    do {
        try await body()
        return nil
    } catch {
        return error.code
    }
}
