import Foundation
import SeismoCore
@testable import SeismoDetect
import Testing

/// The packed scoring layout (8-byte nodes, tree-local indices, Float32 rows) against a plain walk
/// of the stored node arrays.
@Suite("Isolation forest scoring layout")
struct ScoringLayoutTests {
    /// Raw scores by walking `feature`/`threshold`/`left`/`right` one row and one tree at a time.
    static func referenceScores(_ model: IsolationForestModel, _ table: FeatureTable) -> [Double] {
        let trees = model.trees
        let d = table.featureCount
        let normaliser = Isolation.averagePathLength(model.subsampleSize) * Double(model.treeCount)
        return (0..<table.rowCount).map { r in
            var sum = 0.0
            for root in trees.roots {
                var node = Int(root)
                while trees.feature[node] >= 0 {
                    let v = Float(table.values[r * d + Int(trees.feature[node])])
                    node = Int(v <= trees.threshold[node] ? trees.left[node] : trees.right[node])
                }
                sum += trees.pathLength[node]
            }
            return exp2(-sum / normaliser)
        }
    }

    @Test("blocked scoring equals the plain walk, for row counts that are not a multiple of the block")
    func blockedEqualsPlainWalk() throws {
        var rng = SplitMix64(seed: 5)
        let rows = 1_000
        var values: [Double] = []
        for i in 0..<rows {
            values += [rng.nextGaussian(), rng.nextGaussian() * 1e3, i % 50 == 0 ? 40 : rng.nextGaussian()]
        }
        let table = FeatureTable(featureNames: ["a", "b", "c"], rowCount: rows, values: values)
        let model = try IsolationForest(treeCount: 37, subsampleSize: 200).fit(table, seed: 9)
        #expect(model.trees.packed.count == model.trees.feature.count)
        #expect(MemoryLayout<IsolationTrees.PackedNode>.stride == 8)
        #expect(try model.rawScores(table) == Self.referenceScores(model, table))
        // Every tree's nodes sit between its root and the next root, so local indices stay in range.
        for (t, root) in model.trees.roots.enumerated() {
            let end = t + 1 < model.treeCount ? Int(model.trees.roots[t + 1]) : model.trees.feature.count
            #expect(end - Int(root) <= 2 * 200 - 1)
        }
    }

    @Test("a subsample too large for 16-bit node indices is refused")
    func subsampleLimit() throws {
        let table = FeatureTable(
            featureNames: ["x"], rowCount: 40_000, values: (0..<40_000).map { Double($0 % 977) })
        #expect(throws: DetectError.self) { try IsolationForest(subsampleSize: 40_000).fit(table, seed: 1) }
    }
}
