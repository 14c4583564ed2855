import SeismoCore

/// Historical rows a detector trains on: one row per window × group, in time order.
public struct TrainingSet: Sendable, Equatable {
    public var featureNames: [String]
    /// Per row, the window end in seconds since the epoch.
    public var times: [Double]
    /// Per row, the group's labels in Prometheus notation (`{}` when the stream has no `by`).
    public var groups: [String]
    /// `rows × features` values, row after row; NaN where a feature is missing.
    public var values: [Double]

    public init(featureNames: [String], times: [Double] = [], groups: [String] = [], values: [Double] = []) {
        precondition(times.count == groups.count && values.count == times.count * featureNames.count)
        self.featureNames = featureNames
        self.times = times
        self.groups = groups
        self.values = values
    }

    public var rowCount: Int { times.count }

    public mutating func append(time: Double, group: String, values row: [Double]) {
        precondition(row.count == featureNames.count)
        times.append(time)
        groups.append(group)
        values.append(contentsOf: row)
    }

    /// Rows whose time is in `range` (seconds).
    public func filtered(times range: ClosedRange<Double>) -> TrainingSet {
        var out = TrainingSet(featureNames: featureNames)
        let d = featureNames.count
        for i in 0..<rowCount where range.contains(times[i]) {
            out.append(time: times[i], group: groups[i], values: Array(values[(i * d)..<((i + 1) * d)]))
        }
        return out
    }

    /// The rows with every feature finite, as a feature table, and how many were left out.
    public func completeRows() -> (table: FeatureTable, skipped: Int) {
        let d = featureNames.count
        var kept: [Double] = []
        kept.reserveCapacity(values.count)
        var rows = 0
        for i in 0..<rowCount {
            let row = values[(i * d)..<((i + 1) * d)]
            if row.allSatisfy(\.isFinite) {
                kept.append(contentsOf: row)
                rows += 1
            }
        }
        return (FeatureTable(featureNames: featureNames, rowCount: rows, values: kept), rowCount - rows)
    }

    /// Per (group, feature), the times and values in order, groups sorted.
    public func series() -> [(group: String, feature: String, times: [Double], values: [Double])] {
        let d = featureNames.count
        var byGroup: [String: [Int]] = [:]
        for i in 0..<rowCount { byGroup[groups[i], default: []].append(i) }
        var out: [(group: String, feature: String, times: [Double], values: [Double])] = []
        for group in byGroup.keys.sorted() {
            let rows = byGroup[group]!.sorted { times[$0] < times[$1] }
            for (f, name) in featureNames.enumerated() {
                out.append((group, name, rows.map { times[$0] }, rows.map { values[$0 * d + f] }))
            }
        }
        return out
    }

    /// Per feature, the mean and population standard deviation over finite values (1 when constant or empty).
    public func standardisation() -> [(mean: Double, standardDeviation: Double)] {
        let d = featureNames.count
        return (0..<d).map { f in
            let xs = (0..<rowCount).map { values[$0 * d + f] }.filter(\.isFinite)
            guard !xs.isEmpty else { return (0, 1) }
            let mean = xs.reduce(0, +) / Double(xs.count)
            let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
            let s = variance.squareRoot()
            return (mean, s > 1e-12 && s.isFinite ? s : 1)
        }
    }

    /// `xxh64:` and 16 hex digits: xxHash64 over the feature names, then per row the time (f64 bits),
    /// the group (u32 byte count, UTF-8) and the values (f64 bits), all little-endian (the weights-file encoding).
    public var fingerprint: String {
        var w = ModelWriter()
        w.strings(featureNames)
        let d = featureNames.count
        for i in 0..<rowCount {
            w.f64(times[i])
            w.string(groups[i])
            for f in 0..<d { w.f64(values[i * d + f]) }
        }
        let hex = String(XXHash64.hash(w.bytes), radix: 16)
        return "xxh64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
