#if canImport(Glibc)
import SeismoCore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Isolation forest (Liu, Ting, Zhou 2008) over multivariate feature rows.
///
/// Each tree is grown on a subsample of ψ rows drawn without replacement, splitting on a random
/// non-constant feature at a threshold uniform between its minimum and maximum, down to depth
/// ceil(log2 ψ). A row's raw score is 2^(−E(h)/c(ψ)), where h is the depth of the leaf it lands in
/// plus c(leaf size). The same data and seed give the same model.
public struct IsolationForest: AnomalyDetector {
    /// Number of trees (default 100).
    public var treeCount: Int
    /// Rows per tree, ψ (default 256; capped at the table's row count).
    public var subsampleSize: Int
    /// Depth limit; `nil` means ceil(log2 ψ).
    public var maxDepth: Int?
    /// Fraction of training rows allowed above the calibrated threshold (default 1%).
    public var falsePositiveRate: Double
    /// How many features each explanation lists (default 3).
    public var explanationCount: Int

    public init(
        treeCount: Int = 100, subsampleSize: Int = 256, maxDepth: Int? = nil, falsePositiveRate: Double = 0.01,
        explanationCount: Int = 3
    ) {
        self.treeCount = treeCount
        self.subsampleSize = subsampleSize
        self.maxDepth = maxDepth
        self.falsePositiveRate = falsePositiveRate
        self.explanationCount = explanationCount
    }

    /// Grows the forest on `table` and calibrates the threshold on it.
    public func fit(_ table: FeatureTable, seed: UInt64) throws -> IsolationForestModel {
        try Isolation.validate(
            treeCount: treeCount, subsampleSize: subsampleSize, maxDepth: maxDepth, falsePositiveRate: falsePositiveRate)
        try Isolation.validate(table, minimumRows: 2)
        let psi = min(subsampleSize, table.rowCount)
        let depthLimit = maxDepth ?? Isolation.depthLimit(subsample: psi)
        var builder = Builder(x: table.values, features: table.featureCount, depthLimit: depthLimit)
        var seeds = SplitMix64(seed: seed)
        for _ in 0..<treeCount {
            var rng = SplitMix64(seed: seeds.next())
            var rows = Isolation.subsample(rows: table.rowCount, count: psi, rng: &rng)
            let root = builder.trees.appendLeaf(size: psi, depth: 0)
            builder.trees.roots.append(root)
            builder.deepest = 0
            builder.grow(root, &rows, 0..<psi, depth: 0, rng: &rng)
            builder.trees.depth.append(Int32(builder.deepest))
        }
        builder.trees.pack()
        var model = IsolationForestModel(
            featureNames: table.featureNames, subsampleSize: psi, threshold: 1, trees: builder.trees,
            explanationCount: max(0, explanationCount))
        model.threshold = Isolation.calibrate(try model.rawScores(table), falsePositiveRate: falsePositiveRate)
        return model
    }

    private struct Builder {
        let x: [Double]
        let features: Int
        let depthLimit: Int
        var trees = IsolationTrees()
        var deepest = 0

        /// Splits `node` (already appended as a leaf over `rows[range]`) unless it must stay a leaf.
        /// Children are appended next to each other, so `right == left + 1`.
        mutating func grow(
            _ node: Int32, _ rows: inout [Int], _ range: Range<Int>, depth: Int, rng: inout SplitMix64
        ) {
            deepest = max(deepest, depth)
            guard depth < depthLimit, range.count > 1 else { return }
            // Draw features without replacement until one is not constant on this node (as scikit-learn does).
            var candidates = Array(0..<features)
            var split: (feature: Int, low: Double, high: Double)?
            while !candidates.isEmpty {
                let f = candidates.remove(at: rng.next(below: candidates.count))
                var low = Double.infinity
                var high = -Double.infinity
                for i in range {
                    let v = x[rows[i] * features + f]
                    low = min(low, v)
                    high = max(high, v)
                }
                if high > low {
                    split = (f, low, high)
                    break
                }
            }
            guard let (feature, low, high) = split else { return }
            var threshold = low + (high - low) * rng.nextUnit()
            if threshold >= high { threshold = low }
            // Partition: values ≤ threshold to the front.
            var boundary = range.lowerBound
            for i in range where x[rows[i] * features + feature] <= threshold {
                rows.swapAt(i, boundary)
                boundary += 1
            }
            let left = trees.appendLeaf(size: boundary - range.lowerBound, depth: depth + 1)
            let right = trees.appendLeaf(size: range.upperBound - boundary, depth: depth + 1)
            trees.makeSplit(node, feature: feature, threshold: threshold, left: left, right: right)
            grow(left, &rows, range.lowerBound..<boundary, depth: depth + 1, rng: &rng)
            grow(right, &rows, boundary..<range.upperBound, depth: depth + 1, rng: &rng)
        }
    }
}

/// The trees of a forest in flat arrays, one entry per node, all trees concatenated.
///
/// A leaf has `feature == -1` and carries `pathLength` = depth + c(size). Siblings are adjacent
/// (`right == left + 1`), which lets scoring use the branch-free ``PackedNode`` layout.
struct IsolationTrees: Sendable, Equatable {
    /// The scoring layout of one node, 16 bytes: go to `left + (x[feature] > threshold ? 1 : 0)`.
    /// A leaf points to itself with threshold +∞, so every row can take exactly `depth[t]` steps.
    struct PackedNode: Sendable, Equatable {
        var threshold: Double
        var feature: Int32
        var left: Int32
    }

    var feature: [Int32] = []
    var threshold: [Double] = []
    var left: [Int32] = []
    var right: [Int32] = []
    /// Training rows that reached the node.
    var size: [Int32] = []
    var pathLength: [Double] = []
    /// Index of each tree's root node.
    var roots: [Int32] = []
    /// Depth of each tree's deepest leaf.
    var depth: [Int32] = []
    var packed: [PackedNode] = []

    mutating func pack() {
        packed = feature.indices.map { i in
            feature[i] < 0
                ? PackedNode(threshold: .infinity, feature: 0, left: Int32(i))
                : PackedNode(threshold: threshold[i], feature: feature[i], left: left[i])
        }
    }

    mutating func appendLeaf(size n: Int, depth: Int) -> Int32 {
        let index = Int32(feature.count)
        feature.append(-1)
        threshold.append(0)
        left.append(-1)
        right.append(-1)
        size.append(Int32(n))
        pathLength.append(Double(depth) + Isolation.averagePathLength(n))
        return index
    }

    mutating func makeSplit(_ node: Int32, feature f: Int, threshold t: Double, left l: Int32, right r: Int32) {
        let i = Int(node)
        feature[i] = Int32(f)
        threshold[i] = t
        left[i] = l
        right[i] = r
    }
}

/// A fitted ``IsolationForest``: scores rows on the shared scale (raw score / threshold; above 1 is anomalous).
public struct IsolationForestModel: AnomalyModel, Equatable {
    /// Feature names, in the column order rows must have.
    public let featureNames: [String]
    /// The subsample size ψ the trees were grown with.
    public let subsampleSize: Int
    /// The raw score that maps to 1 on the shared scale; calibrated at fit time, may be overridden.
    public var threshold: Double
    let trees: IsolationTrees
    /// How many features each explanation lists.
    public var explanationCount: Int

    /// Number of trees.
    public var treeCount: Int { trees.roots.count }

    /// Raw isolation scores 2^(−E(h)/c(ψ)) in (0, 1], one per row (higher is more anomalous).
    public func rawScores(_ table: FeatureTable) throws -> [Double] {
        try Isolation.validate(table, expectedFeatures: featureNames.count, minimumRows: 0)
        let n = table.rowCount
        let d = table.featureCount
        var sums = [Double](repeating: 0, count: n)
        let block = 1024
        var nodes = [Int](repeating: 0, count: block)
        let roots = trees.roots.map(Int.init)
        let depths = trees.depth.map(Int.init)
        table.values.withUnsafeBufferPointer { x in
            trees.packed.withUnsafeBufferPointer { packed in
                trees.pathLength.withUnsafeBufferPointer { pathLength in
                    sums.withUnsafeMutableBufferPointer { sums in
                        nodes.withUnsafeMutableBufferPointer { nodes in
                            // Blocks of rows stay in L1 while every tree walks them; all rows step down
                            // a tree level by level, branch-free (leaves loop onto themselves), independent
                            // loads the CPU overlaps.
                            var start = 0
                            while start < n {
                                let rows = min(block, n - start)
                                let xb = x.baseAddress! + start * d
                                let nb = nodes.baseAddress!
                                let pb = packed.baseAddress!
                                for t in 0..<roots.count {
                                    let root = roots[t]
                                    for r in 0..<rows { nb[r] = root }
                                    for _ in 0..<depths[t] {
                                        var row = xb
                                        for r in 0..<rows {
                                            let node = pb[nb[r]]
                                            let step = row[Int(node.feature)] > node.threshold ? 1 : 0
                                            nb[r] = Int(node.left) &+ step
                                            row += d
                                        }
                                    }
                                    for r in 0..<rows { sums[start + r] += pathLength[nb[r]] }
                                }
                                start += rows
                            }
                        }
                    }
                }
            }
        }
        let normaliser = Isolation.averagePathLength(subsampleSize) * Double(treeCount)
        return sums.map { exp2(-$0 / normaliser) }
    }

    /// Scores on the shared scale with, per row, the features whose splits isolate it earliest
    /// (each split on the row's path weighs 1/(depth + 1), summed over trees, normalised to 1).
    public func score(_ table: FeatureTable) throws -> ScoredBatch {
        let raw = try rawScores(table)
        let d = table.featureCount
        var explanations: [[FeatureContribution]] = []
        explanations.reserveCapacity(table.rowCount)
        var weights = [Double](repeating: 0, count: d)
        for r in 0..<table.rowCount {
            for i in 0..<d { weights[i] = 0 }
            let base = r * d
            for root in trees.roots {
                var node = Int(root)
                var depth = 0
                while trees.feature[node] >= 0 {
                    let f = Int(trees.feature[node])
                    weights[f] += 1 / Double(depth + 1)
                    node = Int(table.values[base + f] <= trees.threshold[node] ? trees.left[node] : trees.right[node])
                    depth += 1
                }
            }
            explanations.append(Isolation.explanation(weights, names: featureNames, limit: explanationCount))
        }
        return ScoredBatch(scores: raw.map { $0 / threshold }, explanations: explanations)
    }
}
