/// Weights-file layout of ``IsolationForestModel`` (kind 1). Kept apart from the forest so a
/// change of the node layout only touches this file.
///
/// Payload: feature names (strings), subsample size (u64), threshold (f64), explanation count (u64),
/// then the node arrays, each a u64 count and its elements: feature (i32, -1 = leaf), threshold (f64),
/// left (i32), right (i32), size (i32), path length (f64); then roots (i32) and per-tree depth (i32).
/// Split thresholds are Float32 in memory (as the forest grows and scores them) and f64 on disk.
extension IsolationForestModel: PersistableModel {
    public static var kind: ModelKind { .isolationForest }

    public func encodePayload(into w: inout ModelWriter) {
        w.strings(featureNames)
        w.int(subsampleSize)
        w.f64(threshold)
        w.int(explanationCount)
        w.i32s(trees.feature)
        w.f64s(trees.threshold.map(Double.init))  // Float32 in memory; f64 on disk, exactly
        w.i32s(trees.left)
        w.i32s(trees.right)
        w.i32s(trees.size)
        w.f64s(trees.pathLength)
        w.i32s(trees.roots)
        w.i32s(trees.depth)
    }

    public static func decodePayload(from r: inout ModelReader) throws -> IsolationForestModel {
        let names = try r.strings()
        let subsample = try r.int()
        let threshold = try r.f64()
        let explanationCount = try r.int()
        var trees = IsolationTrees()
        trees.feature = try r.i32s()
        trees.threshold = try r.f64s().map(Float.init)
        trees.left = try r.i32s()
        trees.right = try r.i32s()
        trees.size = try r.i32s()
        trees.pathLength = try r.f64s()
        trees.roots = try r.i32s()
        trees.depth = try r.i32s()
        let n = trees.feature.count
        try PayloadCheck.require(
            [trees.threshold.count, trees.left.count, trees.right.count, trees.size.count, trees.pathLength.count]
                .allSatisfy { $0 == n }, "node arrays differ in length")
        try PayloadCheck.require(trees.roots.count == trees.depth.count && !trees.roots.isEmpty, "bad tree count")
        try PayloadCheck.require(trees.feature.allSatisfy { $0 >= -1 && Int($0) < names.count }, "feature index out of range")
        try PayloadCheck.nodes(trees.left, count: n, "left")
        try PayloadCheck.nodes(trees.right, count: n, "right")
        try PayloadCheck.nodes(trees.roots, count: n, "root")
        try PayloadCheck.require(
            trees.feature.indices.allSatisfy { trees.feature[$0] < 0 || (trees.left[$0] >= 0 && trees.right[$0] == trees.left[$0] + 1) },
            "split without adjacent children")
        // Scoring nodes address children within their tree in 16 bits.
        let ends = trees.roots.dropFirst().map(Int.init) + [n]
        try PayloadCheck.require(
            zip(trees.roots, ends).allSatisfy { root, end in Int(root) <= end && end - Int(root) <= 65_536 },
            "tree larger than 65,536 nodes")
        try PayloadCheck.require(subsample >= 2 && threshold > 0 && explanationCount >= 0, "bad header values")
        trees.pack()
        return IsolationForestModel(
            featureNames: names, subsampleSize: subsample, threshold: threshold, trees: trees,
            explanationCount: explanationCount)
    }
}
