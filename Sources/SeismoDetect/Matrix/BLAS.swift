import COpenBLAS

/// Shape-checked BLAS level 1–3 operations over ``Matrix`` and its views, and OpenBLAS's thread count.
///
/// Every operation throws ``DetectError`` with code `.dimensionMismatch` when shapes do not fit,
/// instead of handing bad sizes to OpenBLAS.
public enum BLAS {
    // MARK: Threads

    /// Sets the number of threads OpenBLAS uses, process-wide (`openblas_set_num_threads`).
    ///
    /// Defaults: ``trainingThreadCount`` (every core) while fitting models, ``scoringThreadCount`` (one)
    /// in each streaming worker, so that parallelism comes from workers and partitions, not from BLAS.
    public static func setThreadCount(_ count: Int) throws {
        guard count >= 1, count <= Int(Int32.max) else {
            throw DetectError(.invalidParameter, "thread count must be at least 1, got \(count)")
        }
        openblas_set_num_threads(Int32(count))
    }

    /// The number of threads OpenBLAS currently uses.
    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// The recommended thread count for training: every core OpenBLAS sees.
    public static var trainingThreadCount: Int { max(1, Int(openblas_get_num_procs())) }

    /// The recommended thread count for streaming scoring: one per worker.
    public static let scoringThreadCount = 1

    // MARK: Level 3

    /// `c ← alpha·op(a)·op(b) + beta·c`, where `op` transposes when asked. `c` must already have the result shape.
    public static func gemm<S: BLASScalar>(
        _ a: MatrixView<S>, transposeA: Bool = false, _ b: MatrixView<S>, transposeB: Bool = false,
        into c: MutableMatrixView<S>, alpha: S = 1, beta: S = 0
    ) throws {
        let (m, k) = transposeA ? (a.columns, a.rows) : (a.rows, a.columns)
        let (kb, n) = transposeB ? (b.columns, b.rows) : (b.rows, b.columns)
        guard k == kb, c.rows == m, c.columns == n else {
            throw DetectError(
                .dimensionMismatch,
                "gemm: op(A) is \(m)×\(k), op(B) is \(kb)×\(n), C is \(c.rows)×\(c.columns)")
        }
        try checkLeading(a.leadingDimension, a.columns, "A")
        try checkLeading(b.leadingDimension, b.columns, "B")
        try checkLeading(c.leadingDimension, c.columns, "C")
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i, j] = beta == 0 ? 0 : beta * c[i, j] } }
            return
        }
        S.blasGemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            try int32(m), try int32(n), try int32(k), alpha, a.base!, try int32(a.leadingDimension), b.base!,
            try int32(b.leadingDimension), beta, c.base!, try int32(c.leadingDimension))
    }

    /// `c ← alpha·op(a)·op(b) + beta·c` on whole matrices; `c` must already have the result shape.
    public static func gemm<S: BLASScalar>(
        _ a: Matrix<S>, transposeA: Bool = false, _ b: Matrix<S>, transposeB: Bool = false,
        into c: inout Matrix<S>, alpha: S = 1, beta: S = 0
    ) throws {
        try a.withView { av in
            try b.withView { bv in
                try c.withMutableView { cv in
                    try gemm(av, transposeA: transposeA, bv, transposeB: transposeB, into: cv, alpha: alpha, beta: beta)
                }
            }
        }
    }

    /// `op(a)·op(b)` as a new matrix.
    public static func product<S: BLASScalar>(
        _ a: Matrix<S>, transposeA: Bool = false, _ b: Matrix<S>, transposeB: Bool = false
    ) throws -> Matrix<S> {
        var c = try Matrix<S>(
            rows: transposeA ? a.columns : a.rows, columns: transposeB ? b.rows : b.columns)
        try gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: &c)
        return c
    }

    // MARK: Level 2

    /// `y ← alpha·op(a)·x + beta·y`.
    public static func gemv<S: BLASScalar>(
        _ a: MatrixView<S>, transpose: Bool = false, _ x: UnsafeBufferPointer<S>, into y: UnsafeMutableBufferPointer<S>,
        alpha: S = 1, beta: S = 0
    ) throws {
        let (m, n) = transpose ? (a.columns, a.rows) : (a.rows, a.columns)
        guard x.count == n, y.count == m else {
            throw DetectError(.dimensionMismatch, "gemv: op(A) is \(m)×\(n), x has \(x.count), y has \(y.count)")
        }
        try checkLeading(a.leadingDimension, a.columns, "A")
        if m == 0 { return }
        if n == 0 {
            for i in 0..<m { y[i] = beta == 0 ? 0 : beta * y[i] }
            return
        }
        S.blasGemv(
            CblasRowMajor, transpose ? CblasTrans : CblasNoTrans, try int32(a.rows), try int32(a.columns), alpha,
            a.base!, try int32(a.leadingDimension), x.baseAddress!, 1, beta, y.baseAddress!, 1)
    }

    /// `y ← alpha·op(a)·x + beta·y` on a whole matrix and arrays.
    public static func gemv<S: BLASScalar>(
        _ a: Matrix<S>, transpose: Bool = false, _ x: [S], into y: inout [S], alpha: S = 1, beta: S = 0
    ) throws {
        try a.withView { av in
            try x.withUnsafeBufferPointer { xb in
                try y.withUnsafeMutableBufferPointer { yb in
                    try gemv(av, transpose: transpose, xb, into: yb, alpha: alpha, beta: beta)
                }
            }
        }
    }

    // MARK: Level 1

    /// `y ← alpha·x + y`.
    public static func axpy<S: BLASScalar>(_ alpha: S, _ x: [S], _ y: inout [S]) throws {
        guard x.count == y.count else {
            throw DetectError(.dimensionMismatch, "axpy: x has \(x.count), y has \(y.count)")
        }
        if x.isEmpty { return }
        let n = try int32(x.count)
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in S.blasAxpy(n, alpha, xb.baseAddress!, 1, yb.baseAddress!, 1) }
        }
    }

    /// The dot product `x·y`.
    public static func dot<S: BLASScalar>(_ x: [S], _ y: [S]) throws -> S {
        guard x.count == y.count else {
            throw DetectError(.dimensionMismatch, "dot: x has \(x.count), y has \(y.count)")
        }
        if x.isEmpty { return 0 }
        let n = try int32(x.count)
        return x.withUnsafeBufferPointer { xb in
            y.withUnsafeBufferPointer { yb in S.blasDot(n, xb.baseAddress!, 1, yb.baseAddress!, 1) }
        }
    }

    /// The Euclidean norm `‖x‖₂`.
    public static func nrm2<S: BLASScalar>(_ x: [S]) throws -> S {
        if x.isEmpty { return 0 }
        let n = try int32(x.count)
        return x.withUnsafeBufferPointer { S.blasNrm2(n, $0.baseAddress!, 1) }
    }

    // MARK: Helpers

    static func int32(_ value: Int) throws -> Int32 {
        guard let v = Int32(exactly: value) else {
            throw DetectError(.invalidParameter, "size \(value) exceeds the 32-bit BLAS interface")
        }
        return v
    }

    private static func checkLeading(_ ld: Int, _ columns: Int, _ name: String) throws {
        guard ld >= max(1, columns) else {
            throw DetectError(.dimensionMismatch, "\(name): leading dimension \(ld) < \(columns) columns")
        }
    }
}
