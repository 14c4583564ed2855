import Foundation
import GRDB
import SeismoCore

/// The resolution a query reads samples at: raw, or one of the rollups.
///
/// A bucket of width `w` is right-closed, as PromQL's windows are: the bucket labelled `e`
/// (a multiple of `w` since the epoch) holds the samples in `(e - w, e]`. So the window
/// `(t - r, t]` of a range function is exactly the buckets labelled `t - r + w … t` whenever
/// `t` and `r` are multiples of `w`.
public enum Resolution: Int64, Sendable, Hashable, CaseIterable {
    case raw = 0
    /// 5-minute buckets (stored per chunk).
    case fiveMinutes = 300_000
    /// 1-hour buckets (merged from the 5-minute ones when read).
    case oneHour = 3_600_000

    /// The bucket width in milliseconds (0 for raw).
    public var milliseconds: Int64 { rawValue }

    /// The resolution to read for a window of `window` milliseconds evaluated every `step`
    /// milliseconds (e.g. `avg_over_time(x[7d])` in a range query with a 1 h step): the
    /// coarsest rollup whose bucket is no wider than the step and fits at least 12 times in
    /// the window; raw otherwise.
    public static func suggested(window: Int64, step: Int64) -> Resolution {
        for resolution in [Resolution.oneHour, .fiveMinutes]
        where resolution.milliseconds <= step && resolution.milliseconds * 12 <= window {
            return resolution
        }
        return .raw
    }

    /// True when windows `(t - window, t]` at `t = first, first + step, …` are whole buckets.
    public func tiles(first: Int64, step: Int64, window: Int64) -> Bool {
        let w = milliseconds
        return w > 0 && first % w == 0 && step % w == 0 && window % w == 0 && window > 0
    }
}

/// One series' buckets at a resolution (see `Resolution` for which samples a bucket holds):
/// per bucket the minimum, maximum, sum, count and last value of its samples. Staleness markers are not samples here: they are left out of every
/// aggregate (a bucket holding only markers is absent). NaN values count, make the sum NaN,
/// and are ignored by min and max unless every value is NaN (as `min_over_time` does).
public struct RollupSeries: Sendable, Hashable {
    public var labels: Labels
    public var resolution: Resolution
    /// Bucket labels (their ends), increasing; for raw, the sample timestamps.
    public var timestamps: [Int64] = []
    public var min: [Double] = []
    public var max: [Double] = []
    public var sum: [Double] = []
    public var count: [Int] = []
    public var last: [Double] = []
    /// Whether the bucket's latest sample is at its label (a window `[t - r, t]` that closes
    /// on the left, as Prometheus 2's do, then holds that one sample of the bucket `t - r`).
    public var edge: [Bool] = []

    public init(labels: Labels, resolution: Resolution) {
        self.labels = labels
        self.resolution = resolution
    }

    /// Buckets of `series` (sorted samples) at `resolution`, labelled in `[from, to]`.
    public init(_ series: StoredSeries, resolution: Resolution, from: Int64 = .min, to: Int64 = .max) {
        self.init(labels: series.labels, resolution: resolution)
        for (t, v) in zip(series.timestamps, series.values) { add(t, v) }
        keep(from: from, to: to)
    }

    public static func == (lhs: RollupSeries, rhs: RollupSeries) -> Bool {
        func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }
        return lhs.labels == rhs.labels && lhs.resolution == rhs.resolution && lhs.timestamps == rhs.timestamps
            && bits(lhs.min) == bits(rhs.min) && bits(lhs.max) == bits(rhs.max) && bits(lhs.sum) == bits(rhs.sum)
            && lhs.count == rhs.count && bits(lhs.last) == bits(rhs.last) && lhs.edge == rhs.edge
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(labels)
        hasher.combine(timestamps)
    }

    var isEmpty: Bool { timestamps.isEmpty }

    /// The buckets of width `width` that `[from, to]` meets: the first and last labels, and
    /// the earliest sample time the first one holds.
    static func span(from: Int64, to: Int64, width: Int64) -> (earliest: Int64, first: Int64, last: Int64) {
        let (first, last) = (bucket(from, width), bucket(to, width))
        return (width > 0 && first > .min + width ? first - width + 1 : first, first, last)
    }

    /// The label of the bucket holding `timestamp`: the least multiple of `width` at or after
    /// it (negative times bucket too); `Int64.max` when that is past `Int64.max`.
    public static func bucket(_ timestamp: Int64, _ width: Int64) -> Int64 {
        guard width > 0 else { return timestamp }
        let quotient = timestamp / width + (timestamp % width > 0 ? 1 : 0)
        let (label, overflow) = quotient.multipliedReportingOverflow(by: width)
        return overflow ? .max : label
    }

    /// Adds a sample later than every sample added before.
    mutating func add(_ timestamp: Int64, _ value: Double) {
        guard !StaleMarker.isStale(value) else { return }
        let label = Self.bucket(timestamp, resolution.milliseconds)
        merge(bucket: label, value, value, value, 1, value, edge: label == timestamp)
    }

    /// Merges one bucket's aggregates into the last bucket (same label) or appends it.
    /// `last` and `edge` describe the latest sample, so parts merge in time order.
    mutating func merge(
        bucket start: Int64, _ min: Double, _ max: Double, _ sum: Double, _ count: Int, _ last: Double, edge: Bool
    ) {
        guard count > 0 else { return }
        if let index = timestamps.indices.last, timestamps[index] == start {
            self.min[index] = Self.minimum(self.min[index], min)
            self.max[index] = Self.maximum(self.max[index], max)
            self.sum[index] += sum
            self.count[index] += count
            self.last[index] = last
            self.edge[index] = edge
        } else {
            timestamps.append(start)
            self.min.append(min)
            self.max.append(max)
            self.sum.append(sum)
            self.count.append(count)
            self.last.append(last)
            self.edge.append(edge)
        }
    }

    /// Keeps only buckets labelled in `[from, to]`.
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
        edge = Array(edge[start..<end])
    }

    /// The smaller of `a` and `b`, NaN only when both are (as `min_over_time` takes it).
    public static func minimum(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : (b < a ? b : a) }
    /// The larger of `a` and `b`, NaN only when both are (as `max_over_time` takes it).
    public static func maximum(_ a: Double, _ b: Double) -> Double { a.isNaN ? b : (b > a ? b : a) }
}

extension Querier {
    /// Default: computed from `select` over the buckets' whole span (exact, and no faster).
    public func selectRollups(_ matchers: [Matcher], from: Int64, to: Int64, resolution: Resolution)
        async throws(StoreError) -> [RollupSeries]
    {
        let width = resolution.milliseconds
        let (earliest, first, last) = RollupSeries.span(from: from, to: to, width: width)
        return try await select(matchers, from: earliest, to: last).map { RollupSeries($0, resolution: resolution, from: first, to: last) }
            .filter { !$0.isEmpty }
    }
}

/// The stored form of a chunk's 5-minute rollups (1-hour buckets are merged from them when
/// read). One row of `rollups` per row of `chunks`:
///
/// `[format: 1 byte = 1][bucket count: uvarint][bits]`, the bits being:
/// - the first bucket's label, in buckets after the bucket of the chunk's first sample
///   (`chunks.min_t`), as a uvarint; then per further bucket `0` when it follows the previous
///   one, else `1` and the gap minus 2 as a uvarint;
/// - the counts: the first as a uvarint, then per bucket `0` when equal to the previous count,
///   else `1` and the difference as a zigzag varint;
/// - `0` when no bucket's latest sample is at its label (`RollupSeries.edge`), else `1` and a
///   bit per bucket;
/// - min, max, last and sum, each as `0` and an XOR value stream, or `1` and `AdaptiveChunk`'s
///   values section (decimal values as integers), whichever is shorter. In an XOR stream the
///   first min is 64 bits, the first max an XOR against the first min, the first last against
///   the first max, the first sum against the first last times the first count; so a series
///   that stays flat costs about a bit per value.
enum RollupCodec {
    static let format: UInt8 = 1
    static let stored = Resolution.fiveMinutes

    static func encode(timestamps: [Int64], values: [Double]) -> [UInt8] {
        var series = RollupSeries(labels: Labels(), resolution: stored)
        for (t, v) in zip(timestamps, values) { series.add(t, v) }
        var bits = BitWriter()
        bits.write(UInt64(format), bits: 8)
        bits.writeUVarint(UInt64(series.timestamps.count))
        guard let firstSample = timestamps.first, let first = series.timestamps.first else { return bits.finished }
        let width = stored.milliseconds
        bits.writeUVarint(UInt64((first - RollupSeries.bucket(firstSample, width)) / width))
        for index in series.timestamps.indices.dropFirst() {
            let gap = (series.timestamps[index] - series.timestamps[index - 1]) / width
            bits.writeBit(gap != 1)
            if gap != 1 { bits.writeUVarint(UInt64(gap - 2)) }
        }
        bits.writeUVarint(UInt64(series.count[0]))
        for index in series.count.indices.dropFirst() {
            let difference = series.count[index] - series.count[index - 1]
            bits.writeBit(difference != 0)
            if difference != 0 { bits.writeVarint(Int64(difference)) }
        }
        let edges = series.edge.contains(true)
        bits.writeBit(edges)
        if edges { for edge in series.edge { bits.writeBit(edge) } }
        var previous: UInt64? = nil
        for (number, column) in [series.min, series.max, series.last, series.sum].enumerated() {
            if number == 3 { previous = (series.last[0] * Double(series.count[0])).bitPattern }
            var xor = BitWriter()
            var stream = previous.map(XORValueWriter.init(previous:)) ?? XORValueWriter()
            for (index, value) in column.enumerated() {
                if index == 0 && previous == nil { stream.writeFirst(value.bitPattern, to: &xor) } else { stream.write(value.bitPattern, to: &xor) }
            }
            var adaptive = BitWriter()
            AdaptiveChunk.writeValues(column[...], to: &adaptive)
            bits.writeBit(adaptive.bitCount < xor.bitCount)
            bits.append(adaptive.bitCount < xor.bitCount ? adaptive : xor)
            previous = column[0].bitPattern
        }
        return bits.finished
    }

    /// Merges the buckets stored in `data` (of a chunk whose first sample is at `minTimestamp`)
    /// into `series`, at its resolution (5 minutes or 1 hour).
    static func decode(_ data: [UInt8], minTimestamp: Int64, into series: inout RollupSeries) throws(StoreError) {
        guard series.resolution == .fiveMinutes || series.resolution == .oneHour else {
            throw StoreError(.invalidInput, "no stored rollups at resolution \(series.resolution)")
        }
        guard data.first == format else { throw StoreError(.corrupt, "rollup format \(data.first.map(String.init) ?? "none")") }
        var reader = BitReader(data, startingAt: 1)
        let count = Int(truncatingIfNeeded: try reader.readUVarint())
        guard count >= 0, count <= data.count * 8 else { throw StoreError(.corrupt, "rollup bucket count \(count)") }
        guard count > 0 else { return }
        let width = stored.milliseconds
        var labels = [Int64](repeating: 0, count: count)
        labels[0] = RollupSeries.bucket(minTimestamp, width) &+ Int64(bitPattern: try reader.readUVarint()) &* width
        for index in 1..<count {
            let gap = try reader.readBit() ? Int64(bitPattern: try reader.readUVarint()) &+ 2 : 1
            labels[index] = labels[index - 1] &+ gap &* width
        }
        var counts = [Int](repeating: 0, count: count)
        counts[0] = Int(truncatingIfNeeded: try reader.readUVarint())
        for index in 1..<count {
            counts[index] = counts[index - 1] &+ (try reader.readBit() ? Int(truncatingIfNeeded: try reader.readVarint()) : 0)
        }
        var edges = [Bool](repeating: false, count: count)
        if try reader.readBit() { for index in 0..<count { edges[index] = try reader.readBit() } }
        var columns = [[Double]](repeating: [], count: 4)
        var previous: UInt64? = nil
        for column in 0..<4 {
            if column == 3 { previous = (columns[2][0] * Double(counts[0])).bitPattern }
            if try reader.readBit() {
                try AdaptiveChunk.readValues(&reader, count: count, into: &columns[column])
            } else {
                var stream = previous.map(XORValueReader.init(previous:)) ?? XORValueReader()
                columns[column].reserveCapacity(count)
                for index in 0..<count {
                    if index == 0 && previous == nil { try stream.readFirst(&reader) } else { try stream.read(&reader) }
                    columns[column].append(Double(bitPattern: stream.bits))
                }
            }
            previous = columns[column][0].bitPattern
        }
        let target = series.resolution.milliseconds
        for index in 0..<count {
            let label = RollupSeries.bucket(labels[index], target)
            series.merge(
                bucket: label, columns[0][index], columns[1][index], columns[3][index], counts[index], columns[2][index],
                edge: edges[index] && labels[index] == label)
        }
    }
}

extension SQLiteStore {
    /// Rollups from the stored per-chunk rollups, completed with the heads' samples (raw reads
    /// chunks). Buckets labelled in `[bucket(from), bucket(to)]`, each with all its samples.
    public func selectRollups(_ matchers: [Matcher], from: Int64, to: Int64, resolution: Resolution)
        async throws(StoreError) -> [RollupSeries]
    {
        guard resolution != .raw else {
            return try await select(matchers, from: from, to: to).map { RollupSeries($0, resolution: .raw) }
        }
        let width = resolution.milliseconds
        let (earliest, first, last) = RollupSeries.span(from: from, to: to, width: width)
        let heads = self.heads.withLock { $0.heads }
        return try await read("cannot select rollups \(matchers)") { db in
            let statement = try db.cachedStatement(
                sql: """
                    SELECT r.data, c.min_t, c.max_t FROM chunks c JOIN rollups r ON r.chunk_id = c.id
                    WHERE c.series_id = ? AND c.max_t >= ? AND c.min_t <= ? ORDER BY c.min_t
                    """)
            var result: [RollupSeries] = []
            for (id, labels) in try Self.matchingSeries(db, matchers) {
                var series = RollupSeries(labels: labels, resolution: resolution)
                var newest = Int64.min
                let rows = try Row.fetchCursor(statement, arguments: [id, earliest, last])
                while let row = try rows.next() {
                    try RollupCodec.decode([UInt8](row[0] as Data), minTimestamp: row[1], into: &series)
                    newest = max(newest, row[2])
                }
                if let head = heads[id], !head.isEmpty, head.lastTimestamp >= earliest, head.firstTimestamp <= last {
                    let (timestamps, values) = try head.samples()
                    for (t, v) in zip(timestamps, values) where t > newest && t >= earliest && t <= last { series.add(t, v) }
                }
                series.keep(from: first, to: last)
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
