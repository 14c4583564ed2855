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
///
/// Like scikit-learn, the trees work on Float32 feature values: rows are converted on fitting and on
/// scoring, and split thresholds are Float32, so a model scores exactly the rows it was grown on.
/// ψ is at most 32,768 and a table at most 65,536 features (the scoring layout has 16-bit fields).
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
        guard psi <= IsolationTrees.maxSubsample else {
            throw DetectError(.invalidParameter, "subsampleSize must be ≤ \(IsolationTrees.maxSubsample), got \(psi)")
        }
        guard table.featureCount <= IsolationTrees.maxFeatures else {
            throw DetectError(
                .invalidParameter, "at most \(IsolationTrees.maxFeatures) features, got \(table.featureCount)")
        }
        let depthLimit = maxDepth ?? Isolation.depthLimit(subsample: psi)
        var builder = Builder(x: table.values.map { Float($0) }, features: table.featureCount, depthLimit: depthLimit)
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
        let x: [Float]
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
            var split: (feature: Int, low: Float, high: Float)?
            while !candidates.isEmpty {
                let f = candidates.remove(at: rng.next(below: candidates.count))
                var low = Float.infinity
                var high = -Float.infinity
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
            var threshold = Float(Double(low) + Double(high - low) * rng.nextUnit())
            if threshold >= high || threshold < low || !threshold.isFinite { threshold = low }
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
/// `feature`, `left`, `right` and `roots` are global node indices; `threshold` is Float32 (rows go
/// right when `Float(x[feature]) > threshold`). Everything but `packed` is the stored model; `packed`
/// is derived from it by ``pack()``.
struct IsolationTrees: Sendable, Equatable {
    /// Largest ψ (a tree of ψ points has at most 2ψ − 1 nodes, which must fit a 16-bit local index).
    static let maxSubsample = 32_768
    /// Most features (feature indices are 16-bit in the scoring layout).
    static let maxFeatures = 65_536

    /// The scoring layout of one node, 8 bytes: go to `left + (x[feature] > threshold ? 1 : 0)`, where
    /// `left` is local to the node's tree (relative to its root). A leaf points to itself with
    /// threshold +∞, so every row can take exactly `depth[t]` steps.
    struct PackedNode: Sendable, Equatable {
        var threshold: Float
        var feature: UInt16
        var left: UInt16
    }

    var feature: [Int32] = []
    var threshold: [Float] = []
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

    /// Derives the scoring layout. Every tree's nodes follow its root, up to the next root.
    mutating func pack() {
        packed = [PackedNode](repeating: PackedNode(threshold: .infinity, feature: 0, left: 0), count: feature.count)
        for (t, root) in roots.enumerated() {
            let start = Int(root)
            let end = t + 1 < roots.count ? Int(roots[t + 1]) : feature.count
            for i in start..<end {
                packed[i] =
                    feature[i] < 0
                    ? PackedNode(threshold: .infinity, feature: 0, left: UInt16(i - start))
                    : PackedNode(threshold: threshold[i], feature: UInt16(feature[i]), left: UInt16(Int(left[i]) - start))
            }
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

    mutating func makeSplit(_ node: Int32, feature f: Int, threshold t: Float, left l: Int32, right r: Int32) {
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
        // Blocks of 256 rows, converted to Float32, stay in L1 while every tree walks them. All rows
        // of a block step down one tree level by level, branch-free (leaves loop onto themselves):
        // independent loads the CPU overlaps, 8-byte nodes, a tree's nodes in a few cache lines.
        let block = 256
        var rowsF = [Float](repeating: 0, count: block * d)
        var nodes = [UInt16](repeating: 0, count: block)
        table.values.withUnsafeBufferPointer { x in
            trees.packed.withUnsafeBufferPointer { packed in
                trees.pathLength.withUnsafeBufferPointer { pathLength in
                    rowsF.withUnsafeMutableBufferPointer { rowsF in
                        nodes.withUnsafeMutableBufferPointer { nodes in
                            let xf = rowsF.baseAddress!
                            let nb = nodes.baseAddress!
                            var start = 0
                            while start < n {
                                let rows = min(block, n - start)
                                let xs = x.baseAddress! + start * d
                                for i in 0..<(rows * d) { xf[i] = Float(xs[i]) }
                                for t in 0..<trees.roots.count {
                                    let root = Int(trees.roots[t])
                                    let tree = packed.baseAddress! + root
                                    for r in 0..<rows { nb[r] = 0 }
                                    for _ in 0..<Int(trees.depth[t]) {
                                        var row = UnsafePointer(xf)
                                        for r in 0..<rows {
                                            let node = tree[Int(nb[r])]
                                            nb[r] = node.left &+ (row[Int(node.feature)] > node.threshold ? 1 : 0)
                                            row += d
                                        }
                                    }
                                    let leaves = pathLength.baseAddress! + root
                                    for r in 0..<rows { sums[start + r] += leaves[Int(nb[r])] }
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
                    node = Int(Float(table.values[base + f]) <= trees.threshold[node] ? trees.left[node] : trees.right[node])
                    depth += 1
                }
            }
            explanations.append(Isolation.explanation(weights, names: featureNames, limit: explanationCount))
        }
        return ScoredBatch(scores: raw.map { $0 / threshold }, explanations: explanations)
    }
}
