import Foundation
import GRDB
import SeismoCore

/// The resolution a query reads samples at: raw, or one of the stored rollups.
public enum Resolution: Int64, Sendable, Hashable, CaseIterable {
    case raw = 0
    /// 5-minute buckets, aligned to multiples of 5 minutes since the epoch.
    case fiveMinutes = 300_000
    /// 1-hour buckets, aligned to whole hours since the epoch.
    case oneHour = 3_600_000

    /// The bucket width in milliseconds (0 for raw).
    public var milliseconds: Int64 { rawValue }

    /// The resolution to read for a window of `window` milliseconds evaluated every `step`
    /// milliseconds (e.g. `avg_over_time(x[7d])` in a range query with a 1 h step): the
    /// coarsest rollup whose bucket is no wider than the step and fits at least 12 times in
    /// the window, so that buckets cut by a window edge hold at most 1/12 of it; raw otherwise.
    /// Results are exact only when window edges fall on bucket edges.
    public static func suggested(window: Int64, step: Int64) -> Resolution {
        for resolution in [Resolution.oneHour, .fiveMinutes]
        where resolution.milliseconds <= step && resolution.milliseconds * 12 <= window {
            return resolution
        }
        return .raw
    }
}

/// One series' buckets at a resolution: per bucket the minimum, maximum, sum, count and last
/// value of its samples. Staleness markers are not samples here: they are left out of every
/// aggregate (a bucket holding only markers is absent). NaN values count, make the sum NaN,
/// and are ignored by min and max unless every value is NaN (as `min_over_time` does).
public struct RollupSeries: Sendable, Hashable {
    public var labels: Labels
    public var resolution: Resolution
    /// Bucket starts, increasing (for raw, the sample timestamps).
    public var timestamps: [Int64] = []
    public var min: [Double] = []
    public var max: [Double] = []
    public var sum: [Double] = []
    public var count: [Int] = []
    public var last: [Double] = []

    public init(labels: Labels, resolution: Resolution) {
        self.labels = labels
        self.resolution = resolution
    }

    /// Buckets of `series` (sorted samples) at `resolution`, starting in `[from, to]`.
    public init(_ series: StoredSeries, resolution: Resolution, from: Int64 = .min, to: Int64 = .max) {
        self.init(labels: series.labels, resolution: resolution)
        for (t, v) in zip(series.timestamps, series.values) { add(t, v) }
        keep(from: from, to: to)
    }

    public static func == (lhs: RollupSeries, rhs: RollupSeries) -> Bool {
        func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }
        return lhs.labels == rhs.labels && lhs.resolution == rhs.resolution && lhs.timestamps == rhs.timestamps
            && bits(lhs.min) == bits(rhs.min) && bits(lhs.max) == bits(rhs.max) && bits(lhs.sum) == bits(rhs.sum)
            && lhs.count == rhs.count && bits(lhs.last) == bits(rhs.last)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(labels)
        hasher.combine(timestamps)
    }

    var isEmpty: Bool { timestamps.isEmpty }

    /// The bucket start of `timestamp` (floor division, so negative times bucket too).
    static func bucket(_ timestamp: Int64, _ width: Int64) -> Int64 {
        guard width > 0 else { return timestamp }
        let quotient = timestamp / width
        return (timestamp % width < 0 ? quotient - 1 : quotient) * width
    }

    /// Adds a sample later than every sample added before.
    mutating func add(_ timestamp: Int64, _ value: Double) {
        guard !StaleMarker.isStale(value) else { return }
        merge(bucket: Self.bucket(timestamp, resolution.milliseconds), value, value, value, 1, value)
    }

    /// Merges one bucket's aggregates into the last bucket (same start) or appends it.
    mutating func merge(bucket start: Int64, _ min: Double, _ max: Double, _ sum: Double, _ count: Int, _ last: Double) {
        guard count > 0 else { return }
        if let index = timestamps.indices.last, timestamps[index] == start {
            self.min[index] = Self.minimum(self.min[index], min)
            self.max[index] = Self.maximum(self.max[index], max)
            self.sum[index] += sum
            self.count[index] += count
            self.last[index] = last
        } else {
            timestamps.append(start)
            self.min.append(min)
            self.max.append(max)
            self.sum.append(sum)
            self.count.append(count)
            self.last.append(last)
        }
    }

    /// Keeps only buckets starting in `[from, to]`.
    mutating func keep(from: Int64, to: Int64) {
        let start = timestamps.partitioningIndex { $0 >= from }
        let end = timestamps.partitioningIndex { $0 > to }
        guard start > 0 || end < timestamps.count else { return }
        timestamps = Array(timestamps[start..<end])
        min = Array(min[start..<end])
        max = Array(max[start..<end])
        sum = Array(sum[start..<end])
        count = Array(count[start..<end])
        last = Array(last[start..<end])
    }

    static func minimum(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : (b < a ? b : a) }
    static func maximum(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : (b > a ? b : a) }
}

extension Querier {
    /// Default: computed from `select` over the buckets' whole span (exact, and no faster).
    public func selectRollups(_ matchers: [Matcher], from: Int64, to: Int64, resolution: Resolution)
        async throws(StoreError) -> [RollupSeries]
    {
        let width = resolution.milliseconds
        let first = RollupSeries.bucket(from, width)
        let end = width > 0 && to < .max - width ? RollupSeries.bucket(to, width) + width - 1 : to
        return try await select(matchers, from: first, to: end).map { RollupSeries($0, resolution: resolution, from: first, to: to) }
            .filter { !$0.isEmpty }
    }
}

/// The stored form of a chunk's rollups: for 5 m then 1 h, the bucket count (uvarint), the
/// first bucket index (varint) and the index deltas (uvarint), then min, max, sum and last as
/// XOR value streams and the counts as uvarints. One row of `rollups` per row of `chunks`.
enum RollupCodec {
    static let stored: [Resolution] = [.fiveMinutes, .oneHour]

    static func encode(timestamps: [Int64], values: [Double]) -> [UInt8] {
        var bits = BitWriter()
        for resolution in stored {
            var series = RollupSeries(labels: Labels(), resolution: resolution)
            for (t, v) in zip(timestamps, values) { series.add(t, v) }
            let width = resolution.milliseconds
            bits.writeUVarint(UInt64(series.timestamps.count))
            var previous: Int64 = 0
            for (index, start) in series.timestamps.enumerated() {
                let bucket = start / width
                if index == 0 { bits.writeVarint(bucket) } else { bits.writeUVarint(UInt64(bucket - previous)) }
                previous = bucket
            }
            for column in [series.min, series.max, series.sum, series.last] {
                var stream = XORValueWriter()
                for (index, value) in column.enumerated() {
                    if index == 0 { stream.writeFirst(value.bitPattern, to: &bits) } else { stream.write(value.bitPattern, to: &bits) }
                }
            }
            for count in series.count { bits.writeUVarint(UInt64(count)) }
        }
        return bits.finished
    }

    /// Merges the buckets at `resolution` stored in `data` into `series`.
    static func decode(_ data: [UInt8], resolution: Resolution, into series: inout RollupSeries) throws(StoreError) {
        var reader = BitReader(data)
        for stored in stored {
            let count = Int(truncatingIfNeeded: try reader.readUVarint())
            guard count >= 0, count <= data.count * 8 else { throw StoreError(.corrupt, "rollup bucket count \(count)") }
            var starts: [Int64] = []
            var bucket: Int64 = 0
            for index in 0..<count {
                bucket = index == 0 ? try reader.readVarint() : bucket &+ Int64(bitPattern: try reader.readUVarint())
                starts.append(bucket &* stored.milliseconds)
            }
            var columns: [[Double]] = []
            for _ in 0..<4 {
                var stream = XORValueReader()
                var column: [Double] = []
                for index in 0..<count {
                    if index == 0 { try stream.readFirst(&reader) } else { try stream.read(&reader) }
                    column.append(Double(bitPattern: stream.bits))
                }
                columns.append(column)
            }
            var counts: [Int] = []
            for _ in 0..<count { counts.append(Int(truncatingIfNeeded: try reader.readUVarint())) }
            if stored == resolution {
                for index in 0..<count {
                    series.merge(
                        bucket: starts[index], columns[0][index], columns[1][index], columns[2][index], counts[index],
                        columns[3][index])
                }
                return
            }
        }
        throw StoreError(.invalidInput, "no stored rollups at resolution \(resolution)")
    }
}

extension SQLiteStore {
    /// Rollups from the stored per-chunk rollups, completed with the heads' samples (raw reads
    /// chunks). Buckets start in `[bucket(from), to]`; a bucket cut by `from` or `to` still
    /// aggregates all its samples.
    public func selectRollups(_ matchers: [Matcher], from: Int64, to: Int64, resolution: Resolution)
        async throws(StoreError) -> [RollupSeries]
    {
        guard resolution != .raw else {
            return try await select(matchers, from: from, to: to).map { RollupSeries($0, resolution: .raw) }
        }
        let width = resolution.milliseconds
        let first = RollupSeries.bucket(from, width)
        let heads = self.heads.withLock { $0.heads }
        return try await read("cannot select rollups \(matchers)") { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT r.data, c.max_t FROM chunks c JOIN rollups r ON r.chunk_id = c.id
                    WHERE c.series_id = ? AND c.max_t >= ? AND c.min_t <= ? ORDER BY c.min_t
                    """)
            let last = to < .max - width ? RollupSeries.bucket(to, width) + width - 1 : .max
            var result: [RollupSeries] = []
            for (id, labels) in try Self.matchingSeries(db, matchers) {
                var series = RollupSeries(labels: labels, resolution: resolution)
                var newest = Int64.min
                let rows = try Row.fetchCursor(statement, arguments: [id, first, last])
                while let row = try rows.next() {
                    try RollupCodec.decode([UInt8](row[0] as Data), resolution: resolution, into: &series)
                    newest = max(newest, row[1])
                }
                if let head = heads[id], !head.isEmpty, head.lastTimestamp >= first, head.firstTimestamp <= last {
                    let (timestamps, values) = try head.samples()
                    for (t, v) in zip(timestamps, values) where t > newest && t >= first && t <= last { series.add(t, v) }
                }
                series.keep(from: first, to: to)
                if !series.isEmpty { result.append(series) }
            }
            return result
        }
    }

    /// Writes (or rewrites) the rollups of chunk `chunkID`.
    static func writeRollups(_ db: Database, chunkID: Int64, timestamps: [Int64], values: [Double]) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO rollups (chunk_id, data) VALUES (?, ?) ON CONFLICT (chunk_id) DO UPDATE SET data = excluded.data")
        try statement.execute(arguments: [chunkID, Data(RollupCodec.encode(timestamps: timestamps, values: values))])
    }
}
