#if canImport(Glibc)
import SeismoCore
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Extended isolation forest (Hariri, Carrasco Kind, Brunner 2021): splits on random hyperplanes.
///
/// At each node the normal vector has Gaussian entries, of which `extensionLevel + 1` are non-zero,
/// and the hyperplane passes through a point drawn uniformly in the node's bounding box. A row goes
/// left when `(x − p)·n ≤ 0`. Extension level 0 gives axis-parallel cuts; `features − 1` (the default)
/// gives fully oblique cuts, which removes the standard forest's axis-aligned score artefacts.
public struct ExtendedIsolationForest: AnomalyDetector {
    public var treeCount: Int
    public var subsampleSize: Int
    /// Non-zero entries in each normal, minus one; `nil` means `features − 1`.
    public var extensionLevel: Int?
    public var maxDepth: Int?
    public var falsePositiveRate: Double
    public var explanationCount: Int

    public init(
        treeCount: Int = 100, subsampleSize: Int = 256, extensionLevel: Int? = nil, maxDepth: Int? = nil,
        falsePositiveRate: Double = 0.01, explanationCount: Int = 3
    ) {
        self.treeCount = treeCount
        self.subsampleSize = subsampleSize
        self.extensionLevel = extensionLevel
        self.maxDepth = maxDepth
        self.falsePositiveRate = falsePositiveRate
        self.explanationCount = explanationCount
    }

    /// Grows the forest on `table` and calibrates the threshold on it.
    public func fit(_ table: FeatureTable, seed: UInt64) throws -> ExtendedIsolationForestModel {
        try Isolation.validate(
            treeCount: treeCount, subsampleSize: subsampleSize, maxDepth: maxDepth, falsePositiveRate: falsePositiveRate)
        try Isolation.validate(table, minimumRows: 2)
        let d = table.featureCount
        let level = extensionLevel ?? (d - 1)
        guard level >= 0, level < d else {
            throw DetectError(.invalidParameter, "extensionLevel must be in 0...\(d - 1), got \(level)")
        }
        let psi = min(subsampleSize, table.rowCount)
        var builder = Builder(
            x: table.values, features: d, level: level, depthLimit: maxDepth ?? Isolation.depthLimit(subsample: psi))
        var seeds = SplitMix64(seed: seed)
        for _ in 0..<treeCount {
            var rng = SplitMix64(seed: seeds.next())
            var rows = Isolation.subsample(rows: table.rowCount, count: psi, rng: &rng)
            builder.trees.roots.append(Int32(builder.trees.normalRow.count))
            builder.trees.firstNormal.append(Int32(builder.trees.offset.count))
            _ = builder.grow(&rows, 0..<psi, depth: 0, rng: &rng)
        }
        builder.trees.firstNormal.append(Int32(builder.trees.offset.count))
        let normals = try Matrix<Double>(
            rows: builder.trees.offset.count, columns: d, elements: builder.normals)
        var model = ExtendedIsolationForestModel(
            featureNames: table.featureNames, subsampleSize: psi, threshold: 1, trees: builder.trees,
            normals: normals, explanationCount: max(0, explanationCount))
        model.threshold = Isolation.calibrate(try model.rawScores(table), falsePositiveRate: falsePositiveRate)
        return model
    }

    private struct Builder {
        let x: [Double]
        let features: Int
        let level: Int
        let depthLimit: Int
        var trees = HyperplaneTrees()
        var normals: [Double] = []

        mutating func grow(_ rows: inout [Int], _ range: Range<Int>, depth: Int, rng: inout SplitMix64) -> Int32 {
            let node = trees.appendLeaf(size: range.count, depth: depth)
            guard depth < depthLimit, range.count > 1 else { return node }
            var low = [Double](repeating: .infinity, count: features)
            var high = [Double](repeating: -.infinity, count: features)
            for i in range {
                let base = rows[i] * features
                for f in 0..<features {
                    low[f] = min(low[f], x[base + f])
                    high[f] = max(high[f], x[base + f])
                }
            }
            guard (0..<features).contains(where: { high[$0] > low[$0] }) else { return node }
            var normal = (0..<features).map { _ in rng.nextGaussian() }
            // Zero `features − level − 1` random coordinates.
            var coordinates = Array(0..<features)
            for _ in 0..<(features - level - 1) {
                normal[coordinates.remove(at: rng.next(below: coordinates.count))] = 0
            }
            var offset = 0.0
            for f in 0..<features { offset += normal[f] * (low[f] + (high[f] - low[f]) * rng.nextUnit()) }
            var boundary = range.lowerBound
            for i in range {
                let base = rows[i] * features
                var projection = 0.0
                for f in 0..<features { projection += x[base + f] * normal[f] }
                if projection <= offset {
                    rows.swapAt(i, boundary)
                    boundary += 1
                }
            }
            let row = Int32(trees.offset.count)
            trees.offset.append(offset)
            normals.append(contentsOf: normal)
            let left = grow(&rows, range.lowerBound..<boundary, depth: depth + 1, rng: &rng)
            let right = grow(&rows, boundary..<range.upperBound, depth: depth + 1, rng: &rng)
            trees.makeSplit(node, normalRow: row, left: left, right: right)
            return node
        }
    }
}

/// Hyperplane trees in flat arrays. Internal node `i` uses row `normalRow[i]` of the normals matrix and
/// `offset[normalRow[i]]`; leaves have `normalRow == -1`. Tree `t`'s normals are rows
/// `firstNormal[t] ..< firstNormal[t + 1]`.
struct HyperplaneTrees: Sendable, Equatable {
    var normalRow: [Int32] = []
    var left: [Int32] = []
    var right: [Int32] = []
    var size: [Int32] = []
    var pathLength: [Double] = []
    var offset: [Double] = []
    var roots: [Int32] = []
    var firstNormal: [Int32] = []

    mutating func appendLeaf(size n: Int, depth: Int) -> Int32 {
        let index = Int32(normalRow.count)
        normalRow.append(-1)
        left.append(-1)
        right.append(-1)
        size.append(Int32(n))
        pathLength.append(Double(depth) + Isolation.averagePathLength(n))
        return index
    }

    mutating func makeSplit(_ node: Int32, normalRow row: Int32, left l: Int32, right r: Int32) {
        normalRow[Int(node)] = row
        left[Int(node)] = l
        right[Int(node)] = r
    }
}

/// A fitted ``ExtendedIsolationForest``.
public struct ExtendedIsolationForestModel: AnomalyModel, Equatable {
    /// How ``ExtendedIsolationForestModel/rawScores(_:path:)`` evaluates the hyperplanes.
    public enum ScoringPath: Sendable {
        /// Per batch of rows and per tree, all of the tree's projections in one gemm (the default).
        case batched(rows: Int)
        /// One dot product per visited node (reference path, for tests).
        case perRow
    }

    public let featureNames: [String]
    public let subsampleSize: Int
    /// The raw score that maps to 1 on the shared scale; calibrated at fit time, may be overridden.
    public var threshold: Double
    let trees: HyperplaneTrees
    /// One row per internal node: the hyperplane normals.
    let normals: Matrix<Double>
    public var explanationCount: Int

    public var treeCount: Int { trees.roots.count }

    /// Raw isolation scores 2^(−E(h)/c(ψ)), one per row.
    public func rawScores(_ table: FeatureTable, path: ScoringPath = .batched(rows: 256)) throws -> [Double] {
        try Isolation.validate(table, expectedFeatures: featureNames.count, minimumRows: 0)
        let n = table.rowCount
        var sums = [Double](repeating: 0, count: n)
        switch path {
        case .batched(let batch):
            guard batch >= 1 else { throw DetectError(.invalidParameter, "batch size must be ≥ 1, got \(batch)") }
            try batchedPathLengths(table, batch: batch, into: &sums)
        case .perRow:
            let d = table.featureCount
            for r in 0..<n {
                for t in 0..<treeCount {
                    var node = Int(trees.roots[t])
                    while trees.normalRow[node] >= 0 {
                        let k = Int(trees.normalRow[node])
                        var projection = 0.0
                        for f in 0..<d { projection += table.values[r * d + f] * normals.elements[k * d + f] }
                        node = Int(projection <= trees.offset[k] ? trees.left[node] : trees.right[node])
                    }
                    sums[r] += trees.pathLength[node]
                }
            }
        }
        let normaliser = Isolation.averagePathLength(subsampleSize) * Double(treeCount)
        return sums.map { exp2(-$0 / normaliser) }
    }

    private func batchedPathLengths(_ table: FeatureTable, batch: Int, into sums: inout [Double]) throws {
        let n = table.rowCount
        let d = table.featureCount
        let widest = (0..<treeCount).map { Int(trees.firstNormal[$0 + 1] - trees.firstNormal[$0]) }.max() ?? 0
        var projections = [Double](repeating: 0, count: max(1, min(batch, n) * max(widest, 1)))
        try table.values.withUnsafeBufferPointer { x in
            try normals.withView { allNormals in
                try projections.withUnsafeMutableBufferPointer { p in
                    var start = 0
                    while start < n {
                        let rows = min(batch, n - start)
                        let xBatch = MatrixView(
                            base: x.baseAddress.map { $0 + start * d }, rows: rows, columns: d, leadingDimension: d)
                        for t in 0..<treeCount {
                            let first = Int(trees.firstNormal[t])
                            let width = Int(trees.firstNormal[t + 1]) - first
                            if width > 0 {
                                // P (rows × width) = X_batch · N_tᵀ: every hyperplane of tree t, for every row.
                                let nt = MatrixView(
                                    base: allNormals.base.map { $0 + first * d }, rows: width, columns: d,
                                    leadingDimension: d)
                                let pv = MutableMatrixView(
                                    base: p.baseAddress, rows: rows, columns: width, leadingDimension: width)
                                try BLAS.gemm(xBatch, nt, transposeB: true, into: pv)
                            }
                            let root = Int(trees.roots[t])
                            for r in 0..<rows {
                                let projectionRow = r * width - first
                                var node = root
                                var k = Int(trees.normalRow[node])
                                while k >= 0 {
                                    node = Int(
                                        p[projectionRow + k] <= trees.offset[k] ? trees.left[node] : trees.right[node])
                                    k = Int(trees.normalRow[node])
                                }
                                sums[start + r] += trees.pathLength[node]
                            }
                        }
                        start += rows
                    }
                }
            }
        }
    }

    /// Scores on the shared scale with, per row, the features that weigh most in the hyperplanes that
    /// isolate it earliest (|normal entry| share × 1/(depth + 1), summed over trees, normalised to 1).
    public func score(_ table: FeatureTable) throws -> ScoredBatch {
        let raw = try rawScores(table)
        let d = table.featureCount
        var explanations: [[FeatureContribution]] = []
        explanations.reserveCapacity(table.rowCount)
        var weights = [Double](repeating: 0, count: d)
        for r in 0..<table.rowCount {
            for i in 0..<d { weights[i] = 0 }
            for root in trees.roots {
                var node = Int(root)
                var depth = 0
                while trees.normalRow[node] >= 0 {
                    let k = Int(trees.normalRow[node])
                    var projection = 0.0
                    var magnitude = 0.0
                    for f in 0..<d {
                        projection += table.values[r * d + f] * normals.elements[k * d + f]
                        magnitude += abs(normals.elements[k * d + f])
                    }
                    if magnitude > 0 {
                        for f in 0..<d { weights[f] += abs(normals.elements[k * d + f]) / magnitude / Double(depth + 1) }
                    }
                    node = Int(projection <= trees.offset[k] ? trees.left[node] : trees.right[node])
                    depth += 1
                }
            }
            explanations.append(Isolation.explanation(weights, names: featureNames, limit: explanationCount))
        }
        return ScoredBatch(scores: raw.map { $0 / threshold }, explanations: explanations)
    }
}
