import GRDB
import SeismoCore

extension SQLiteStore {
    public func select(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [StoredSeries] {
        // Heads before chunks: a head cut in between is then read twice (and de-duplicated),
        // never missed.
        let heads = self.heads.withLock { $0.heads }
        return try await read("cannot select \(matchers)") { db in
            var result: [StoredSeries] = []
            let times = ChunkTimesReader(db)
            for (id, labels) in try Self.matchingSeries(db, matchers) {
                let (timestamps, values) = try Self.samples(db, id: id, head: heads[id], from: from, to: to, times: times)
                if !timestamps.isEmpty {
                    result.append(StoredSeries(labels: labels, timestamps: timestamps, values: values))
                }
            }
            return result
        }
    }

    public func series(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [Labels] {
        let heads = self.heads.withLock { $0.heads }
        return try await read("cannot list series \(matchers)") { db in
            // A chunk inside the range has samples in it; one that only overlaps it is decoded.
            let inside = try db.cachedStatement(
                sql: "SELECT 1 FROM chunks WHERE series_id = ? AND min_t >= ? AND max_t <= ? LIMIT 1")
            var result: [Labels] = []
            let times = ChunkTimesReader(db)
            for (id, labels) in try Self.matchingSeries(db, matchers) {
                if try Bool.fetchOne(inside, arguments: [id, from, to]) != nil
                    || !(try Self.samples(db, id: id, head: heads[id], from: from, to: to, times: times).timestamps.isEmpty)
                {
                    result.append(labels)
                }
            }
            return result
        }
    }

    public func labelNames(_ matchers: [Matcher]) async throws(StoreError) -> [String] {
        try await read("cannot list label names") { db in
            if matchers.isEmpty {
                return try String.fetchAll(db, sql: "SELECT DISTINCT name FROM series_label ORDER BY name")
            }
            var names = Set<String>()
            for (_, labels) in try Self.matchingSeries(db, matchers) {
                for pair in labels.pairs { names.insert(pair.name) }
            }
            return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        }
    }

    public func labelValues(_ name: String, matching matchers: [Matcher]) async throws(StoreError) -> [String] {
        try await read("cannot list values of label \(name)") { db in
            if matchers.isEmpty {
                return try String.fetchAll(
                    db, sql: "SELECT DISTINCT value FROM series_label WHERE name = ? ORDER BY value", arguments: [name])
            }
            // `Label` compares bytes, where `String` would merge canonically equal spellings.
            var values = Set<Label>()
            for (_, labels) in try Self.matchingSeries(db, matchers) {
                if let value = labels[name] { values.insert(Label(name, value)) }
            }
            return values.sorted().map(\.value)
        }
    }

    public func featureRows(table: String, from: Int64, to: Int64) async throws(StoreError) -> [WindowRow] {
        try Schema.validateTable(table)
        return try await read("cannot read feature table \(table)") { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM feature_tables WHERE name = ?", arguments: [table]) != nil,
                let columns = try FeatureTables.columns(db, table: table)
            else { return [] }
            let featureSQL = columns.map { ", t.\(Schema.quote($0))" }.joined()
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT t.stream, t.window_start, t.window_end, t.sample_count, g.labels\(featureSQL)
                    FROM \(Schema.quote(table)) t JOIN groups g ON g.id = t.group_id
                    WHERE t.window_end BETWEEN ? AND ?
                    """,
                arguments: [from, to])
            var groups: [String: Labels] = [:]
            var result: [WindowRow] = []
            while let row = try rows.next() {
                let text: String = row[4]
                let group: Labels
                if let known = groups[text] {
                    group = known
                } else {
                    group = try LabelText.decode(text)
                    groups[text] = group
                }
                var features: [(name: String, value: Double)] = []
                features.reserveCapacity(columns.count)
                for (index, column) in columns.enumerated() {
                    features.append((column, row[5 + index] as Double? ?? .nan))
                }
                result.append(
                    WindowRow(
                        table: table, stream: row[0], windowStart: row[1], windowEnd: row[2], group: group,
                        features: features, sampleCount: row[3]))
            }
            result.sort { lhs, rhs in
                if lhs.windowEnd != rhs.windowEnd { return lhs.windowEnd < rhs.windowEnd }
                if lhs.group != rhs.group { return lhs.group.pairs.lexicographicallyPrecedes(rhs.group.pairs) }
                if lhs.stream != rhs.stream { return lhs.stream.utf8.lexicographicallyPrecedes(rhs.stream.utf8) }
                return lhs.windowStart < rhs.windowStart
            }
            return result
        }
    }

    public func anomalies(from: Int64, to: Int64, limit: Int) async throws(StoreError) -> [AnomalyRecord] {
        try await read("cannot read anomalies") { db in
            let rows = try Row.fetchCursor(
                db,
                sql: """
                    SELECT id, pipeline, detector, group_labels, window_start, window_end, score, threshold,
                        severity, json
                    FROM anomalies WHERE window_end BETWEEN ? AND ?
                    ORDER BY window_end DESC, id LIMIT ?
                    """,
                arguments: [from, to, max(0, limit)])
            var result: [AnomalyRecord] = []
            while let row = try rows.next() {
                result.append(
                    AnomalyRecord(
                        id: row[0], pipeline: row[1], detector: row[2], group: try LabelText.decode(row[3]),
                        windowStart: row[4], windowEnd: row[5], score: row[6] as Double? ?? .nan,
                        threshold: row[7] as Double? ?? .nan, severity: row[8], json: row[9]))
            }
            return result
        }
    }

    /// Series matching every matcher, sorted by labels. Candidates come from the label
    /// index for the matchers that cannot match an absent label (equality on a non-empty
    /// value, or a regex that does not match ""); every matcher is then evaluated on the
    /// candidates' labels, so regex and negative matchers keep Prometheus semantics.
    static func matchingSeries(_ db: Database, _ matchers: [Matcher]) throws -> [(id: Int64, labels: Labels)] {
        var candidates: Set<Int64>?
        for matcher in matchers where !matcher.matchesEmpty {
            let ids: Set<Int64>
            if matcher.kind == .equal {
                ids = Set(
                    try Int64.fetchAll(
                        db.cachedStatement(sql: "SELECT series_id FROM series_label WHERE name = ? AND value = ?"),
                        arguments: [matcher.name, matcher.value]))
            } else {
                // A value scan of one label name; values are few next to series.
                let values = try String.fetchAll(
                    db.cachedStatement(sql: "SELECT DISTINCT value FROM series_label WHERE name = ?"),
                    arguments: [matcher.name])
                var matched = Set<Int64>()
                let postings = try db.cachedStatement(
                    sql: "SELECT series_id FROM series_label WHERE name = ? AND value = ?")
                for value in values where matcher.matches(value) {
                    matched.formUnion(try Int64.fetchAll(postings, arguments: [matcher.name, value]))
                }
                ids = matched
            }
            candidates = candidates.map { $0.intersection(ids) } ?? ids
            if candidates!.isEmpty { return [] }
        }
        var result: [(id: Int64, labels: Labels)] = []
        if let candidates {
            let statement = try db.cachedStatement(sql: "SELECT labels FROM series WHERE id = ?")
            for id in candidates {
                guard let text = try String.fetchOne(statement, arguments: [id]) else { continue }
                let labels = try LabelText.decode(text)
                if matchers.matches(labels) { result.append((id, labels)) }
            }
        } else {
            let rows = try Row.fetchCursor(db, sql: "SELECT id, labels FROM series")
            while let row = try rows.next() {
                let labels = try LabelText.decode(row[1])
                if matchers.matches(labels) { result.append((row[0], labels)) }
            }
        }
        result.sort { $0.labels.pairs.lexicographicallyPrecedes($1.labels.pairs) }
        return result
    }
}
