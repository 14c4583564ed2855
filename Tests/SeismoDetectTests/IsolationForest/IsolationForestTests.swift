import SeismoCore
import SeismoDetect
import Testing

/// 500 rows of two independent standard normals, plus `extra` rows appended.
func gaussianTable(rows: Int = 500, seed: UInt64 = 7, extra: [[Double]] = []) -> FeatureTable {
    var rng = SplitMix64(seed: seed)
    var values: [Double] = []
    for _ in 0..<rows { values += [rng.nextGaussian(), rng.nextGaussian()] }
    for row in extra { values += row }
    return FeatureTable(featureNames: ["cpu", "latency"], rowCount: rows + extra.count, values: values)
}

@Suite("Isolation forest")
struct IsolationForestTests {
    @Test("a far-off point scores above 1 and above every inlier; its explanation names the feature it is off on")
    func isolatesOutlier() throws {
        let table = gaussianTable(extra: [[0, 12]])
        let model = try IsolationForest().fit(table, seed: 1)
        let batch = try model.score(table)
        let outlier = batch.scores[500]
        #expect(outlier > 1)
        #expect(batch.scores[..<500].allSatisfy { $0 < outlier })
        #expect(batch.explanations[500].first?.feature == "latency")
        let total = batch.explanations[500].map(\.weight).reduce(0, +)
        #expect(abs(total - 1) < 1e-9)
    }

    @Test("raw scores lie in (0, 1]; near 0.5 for typical rows")
    func rawScoreRange() throws {
        let table = gaussianTable()
        let raw = try IsolationForest().fit(table, seed: 3).rawScores(table)
        #expect(raw.allSatisfy { $0 > 0 && $0 <= 1 })
        let median = raw.sorted()[raw.count / 2]
        #expect(median > 0.35 && median < 0.6)
    }

    @Test("the threshold is calibrated so about 1% of training rows score above 1")
    func calibration() throws {
        let table = gaussianTable(rows: 2000)
        let model = try IsolationForest(falsePositiveRate: 0.01).fit(table, seed: 5)
        let above = try model.score(table).scores.filter { $0 > 1 }.count
        #expect((10...30).contains(above))
        let strict = try IsolationForest(falsePositiveRate: 0.001).fit(table, seed: 5)
        #expect(strict.threshold > model.threshold)
    }

    @Test("the same data and seed give the same model; another seed gives another")
    func deterministic() throws {
        let table = gaussianTable()
        let a = try IsolationForest(treeCount: 20).fit(table, seed: 42)
        let b = try IsolationForest(treeCount: 20).fit(table, seed: 42)
        let c = try IsolationForest(treeCount: 20).fit(table, seed: 43)
        #expect(a == b)
        #expect(a != c)
        #expect(a.treeCount == 20 && a.subsampleSize == 256)
    }

    @Test("the subsample is capped at the row count")
    func smallTable() throws {
        let table = gaussianTable(rows: 50)
        let model = try IsolationForest().fit(table, seed: 0)
        #expect(model.subsampleSize == 50)
    }

    @Test("bad parameters and bad data throw instead of trapping")
    func badInput() throws {
        let table = gaussianTable()
        #expect(throws: DetectError.self) { try IsolationForest(treeCount: 0).fit(table, seed: 0) }
        #expect(throws: DetectError.self) { try IsolationForest(subsampleSize: 1).fit(table, seed: 0) }
        #expect(throws: DetectError.self) { try IsolationForest(falsePositiveRate: 0).fit(table, seed: 0) }
        #expect(throws: DetectError.self) { try IsolationForest().fit(gaussianTable(rows: 1), seed: 0) }
        var nan = table
        nan.values[3] = .nan
        #expect(throws: DetectError.self) { try IsolationForest().fit(nan, seed: 0) }
        let model = try IsolationForest(treeCount: 5).fit(table, seed: 0)
        let wide = FeatureTable(featureNames: ["a", "b", "c"], rowCount: 1, values: [1, 2, 3])
        #expect(throws: DetectError.self) { try model.score(wide) }
        var ragged = table
        ragged.values.removeLast()
        #expect(throws: DetectError.self) { try model.score(ragged) }
    }

    @Test("constant data fits and scores every row alike")
    func constantData() throws {
        let table = FeatureTable(featureNames: ["x"], rowCount: 10, values: Array(repeating: 3, count: 10))
        let scores = try IsolationForest().fit(table, seed: 0).score(table).scores
        #expect(Set(scores).count == 1)
    }
}

@Suite("Extended isolation forest")
struct ExtendedIsolationForestTests {
    @Test("batched gemm scoring equals per-row dot products, for any batch size")
    func batchedMatchesPerRow() throws {
        let table = gaussianTable(extra: [[4, 4], [-5, 1]])
        let model = try ExtendedIsolationForest(treeCount: 30).fit(table, seed: 9)
        let reference = try model.rawScores(table, path: .perRow)
        for batch in [1, 7, 256, 10_000] {
            let batched = try model.rawScores(table, path: .batched(rows: batch))
            #expect(zip(batched, reference).allSatisfy { abs($0 - $1) < 1e-12 })
        }
    }

    @Test("an off-diagonal outlier scores above 1 and above every inlier")
    func isolatesOutlier() throws {
        let table = gaussianTable(extra: [[5, -5]])
        let batch = try ExtendedIsolationForest().fit(table, seed: 2).score(table)
        #expect(batch.scores[500] > 1)
        #expect(batch.scores[..<500].allSatisfy { $0 < batch.scores[500] })
        #expect(batch.explanations[500].count == 2)
    }

    @Test("extension level 0 (axis-parallel) fits; a level beyond features − 1 throws")
    func extensionLevels() throws {
        let table = gaussianTable()
        _ = try ExtendedIsolationForest(extensionLevel: 0).fit(table, seed: 0)
        #expect(throws: DetectError.self) { try ExtendedIsolationForest(extensionLevel: 2).fit(table, seed: 0) }
        let model = try ExtendedIsolationForest(treeCount: 5).fit(table, seed: 0)
        #expect(throws: DetectError.self) { try model.rawScores(table, path: .batched(rows: 0)) }
    }

    @Test("the same data and seed give the same model")
    func deterministic() throws {
        let table = gaussianTable()
        #expect(
            try ExtendedIsolationForest(treeCount: 10).fit(table, seed: 1)
                == ExtendedIsolationForest(treeCount: 10).fit(table, seed: 1))
    }
}

@Suite("ROC-AUC")
struct ROCTests {
    @Test("matches hand-computed values, ties counting one half")
    func handComputed() throws {
        #expect(try RankingMetrics.rocAUC(scores: [0.1, 0.4, 0.35, 0.8], labels: [false, false, true, true]) == 0.75)
        #expect(try RankingMetrics.rocAUC(scores: [1, 1], labels: [false, true]) == 0.5)
        #expect(try RankingMetrics.rocAUC(scores: [3, 2, 1], labels: [true, false, false]) == 1)
    }

    @Test("needs both classes and equal counts")
    func badInput() {
        #expect(throws: DetectError.self) { try RankingMetrics.rocAUC(scores: [1, 2], labels: [true, true]) }
        #expect(throws: DetectError.self) { try RankingMetrics.rocAUC(scores: [1], labels: [true, false]) }
    }
}
