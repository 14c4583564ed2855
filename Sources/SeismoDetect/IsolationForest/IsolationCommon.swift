#if canImport(Glibc)
import SeismoCore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Pieces shared by ``IsolationForest`` and ``ExtendedIsolationForest``.
enum Isolation {
    /// c(n): the average path length of an unsuccessful search in a binary search tree of `n` points
    /// (Liu et al. 2008), used to normalise path lengths and to credit leaves holding several points.
    static func averagePathLength(_ n: Int) -> Double {
        if n <= 1 { return 0 }
        if n == 2 { return 1 }
        let m = Double(n - 1)
        return 2 * (log(m) + 0.577_215_664_901_532_9) - 2 * m / Double(n)
    }

    /// The default depth limit, ceil(log2 ψ).
    static func depthLimit(subsample: Int) -> Int {
        var depth = 0
        while (1 << depth) < max(subsample, 2) { depth += 1 }
        return depth
    }

    /// Checks a table for fitting or scoring; `expectedFeatures` is the model's feature count when scoring.
    static func validate(_ table: FeatureTable, expectedFeatures: Int? = nil, minimumRows: Int) throws {
        guard table.values.count == table.rowCount * table.featureCount else {
            throw DetectError(
                .dimensionMismatch,
                "table has \(table.values.count) values for \(table.rowCount) rows × \(table.featureCount) features")
        }
        if let expected = expectedFeatures, expected != table.featureCount {
            throw DetectError(
                .dimensionMismatch, "model has \(expected) features, table has \(table.featureCount)")
        }
        guard table.featureCount > 0 else { throw DetectError(.invalidData, "table has no features") }
        guard table.rowCount >= minimumRows else {
            throw DetectError(.invalidData, "need at least \(minimumRows) rows, got \(table.rowCount)")
        }
        if let bad = table.values.firstIndex(where: { !$0.isFinite }) {
            throw DetectError(
                .invalidData,
                "non-finite value at row \(bad / table.featureCount), feature \(table.featureNames[bad % table.featureCount])")
        }
    }

    /// Checks the parameters common to both forests.
    static func validate(treeCount: Int, subsampleSize: Int, maxDepth: Int?, falsePositiveRate: Double) throws {
        guard treeCount >= 1 else { throw DetectError(.invalidParameter, "treeCount must be ≥ 1, got \(treeCount)") }
        guard subsampleSize >= 2 else {
            throw DetectError(.invalidParameter, "subsampleSize must be ≥ 2, got \(subsampleSize)")
        }
        if let depth = maxDepth, depth < 1 || depth > 64 {
            throw DetectError(.invalidParameter, "maxDepth must be in 1...64, got \(depth)")
        }
        guard falsePositiveRate > 0, falsePositiveRate < 1 else {
            throw DetectError(.invalidParameter, "falsePositiveRate must be in (0, 1), got \(falsePositiveRate)")
        }
    }

    /// `count` distinct row indices drawn without replacement (partial Fisher–Yates).
    static func subsample(rows: Int, count: Int, rng: inout SplitMix64) -> [Int] {
        var all = Array(0..<rows)
        for i in 0..<count {
            let j = i + rng.next(below: rows - i)
            all.swapAt(i, j)
        }
        return Array(all[0..<count])
    }

    /// The raw score below which a fraction `1 − falsePositiveRate` of `scores` falls (linear interpolation).
    static func calibrate(_ scores: [Double], falsePositiveRate: Double) -> Double {
        let sorted = scores.sorted()
        let position = (1 - falsePositiveRate) * Double(sorted.count - 1)
        let lower = Int(position)
        let upper = min(lower + 1, sorted.count - 1)
        let fraction = position - Double(lower)
        let q = sorted[lower] + (sorted[upper] - sorted[lower]) * fraction
        return max(q, .leastNormalMagnitude)
    }

    /// Turns per-feature weights into the strongest `limit` contributions, normalised to sum to 1.
    static func explanation(_ weights: [Double], names: [String], limit: Int) -> [FeatureContribution] {
        let total = weights.reduce(0, +)
        guard total > 0, limit > 0 else { return [] }
        return weights.indices
            .filter { weights[$0] > 0 }
            .sorted { weights[$0] > weights[$1] || (weights[$0] == weights[$1] && $0 < $1) }
            .prefix(limit)
            .map { FeatureContribution(feature: names[$0], weight: weights[$0] / total) }
    }
}
