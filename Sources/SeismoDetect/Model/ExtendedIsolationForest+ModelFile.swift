/// Weights-file layout of ``ExtendedIsolationForestModel`` (kind 2).
///
/// Payload: feature names (strings), subsample size (u64), threshold (f64), explanation count (u64),
/// node arrays normal row (i32, -1 = leaf), left (i32), right (i32), size (i32), path length (f64),
/// offsets (f64, one per normal), roots (i32), first normal per tree (i32, trees + 1), then the
/// normals matrix: rows (u64), columns (u64) and rows × columns f64, row-major.
extension ExtendedIsolationForestModel: PersistableModel {
    public static var kind: ModelKind { .extendedIsolationForest }

    public func encodePayload(into w: inout ModelWriter) {
        w.strings(featureNames)
        w.int(subsampleSize)
        w.f64(threshold)
        w.int(explanationCount)
        w.i32s(trees.normalRow)
        w.i32s(trees.left)
        w.i32s(trees.right)
        w.i32s(trees.size)
        w.f64s(trees.pathLength)
        w.f64s(trees.offset)
        w.i32s(trees.roots)
        w.i32s(trees.firstNormal)
        w.int(normals.rows)
        w.int(normals.columns)
        w.f64s(normals.elements)
    }

    public static func decodePayload(from r: inout ModelReader) throws -> ExtendedIsolationForestModel {
        let names = try r.strings()
        let subsample = try r.int()
        let threshold = try r.f64()
        let explanationCount = try r.int()
        var trees = HyperplaneTrees()
        trees.normalRow = try r.i32s()
        trees.left = try r.i32s()
        trees.right = try r.i32s()
        trees.size = try r.i32s()
        trees.pathLength = try r.f64s()
        trees.offset = try r.f64s()
        trees.roots = try r.i32s()
        trees.firstNormal = try r.i32s()
        let rows = try r.int()
        let columns = try r.int()
        let elements = try r.f64s()
        let n = trees.normalRow.count
        try PayloadCheck.require(
            [trees.left.count, trees.right.count, trees.size.count, trees.pathLength.count].allSatisfy { $0 == n },
            "node arrays differ in length")
        try PayloadCheck.require(!trees.roots.isEmpty && trees.firstNormal.count == trees.roots.count + 1, "bad tree count")
        try PayloadCheck.require(rows == trees.offset.count && columns == names.count, "normals matrix shape")
        try PayloadCheck.require(trees.normalRow.allSatisfy { $0 >= -1 && Int($0) < rows }, "normal row out of range")
        try PayloadCheck.require(trees.firstNormal.allSatisfy { $0 >= 0 && Int($0) <= rows }, "first normal out of range")
        try PayloadCheck.nodes(trees.left, count: n, "left")
        try PayloadCheck.nodes(trees.right, count: n, "right")
        try PayloadCheck.nodes(trees.roots, count: n, "root")
        try PayloadCheck.require(subsample >= 2 && threshold > 0 && explanationCount >= 0, "bad header values")
        let normals = try Matrix<Double>(rows: rows, columns: columns, elements: elements)
        return ExtendedIsolationForestModel(
            featureNames: names, subsampleSize: subsample, threshold: threshold, trees: trees, normals: normals,
            explanationCount: explanationCount)
    }
}
