/// A thin singular value decomposition `A = U·diag(S)·Vᵀ` of an `m × n` matrix, `k = min(m, n)`.
public struct SingularValueDecomposition<Scalar: BLASScalar>: Sendable, Equatable {
    /// `m × k`, orthonormal columns.
    public var u: Matrix<Scalar>
    /// The `k` singular values, largest first.
    public var singularValues: [Scalar]
    /// `k × n`, orthonormal rows.
    public var vt: Matrix<Scalar>
}

extension Matrix {
    /// The least-squares solution `X` (`columns × b.columns`) of `self · X ≈ b` (LAPACK `?gels`).
    ///
    /// `self` is `m × n` with `m ≥ n` and full column rank; `b` is `m × nrhs`.
    /// Throws `.lapackFailure` when `self` is (numerically) rank deficient.
    public func leastSquares(_ b: Matrix) throws -> Matrix {
        let (m, n, nrhs) = (rows, columns, b.columns)
        guard b.rows == m else {
            throw DetectError(.dimensionMismatch, "leastSquares: A is \(m)×\(n), b has \(b.rows) rows")
        }
        guard m >= n, n > 0, nrhs > 0 else {
            throw DetectError(.dimensionMismatch, "leastSquares needs a non-empty A with rows ≥ columns, got \(m)×\(n)")
        }
        // Row-major A (m×n, ld n) is column-major Aᵀ (n×m, ld n): ask gels for Aᵀᵀ·X = A·X = B.
        var lm = try BLAS.int32(n)
        var ln = try BLAS.int32(m)
        var lnrhs = try BLAS.int32(nrhs)
        var lda = lm
        var ldb = try BLAS.int32(m)
        var a = elements
        // B column-major, m × nrhs, ld m.
        var bcol = [Scalar](repeating: 0, count: m * nrhs)
        for i in 0..<m { for j in 0..<nrhs { bcol[j * m + i] = b.elements[i * nrhs + j] } }
        var info: Int32 = 0
        var lwork: Int32 = -1
        var query: Scalar = 0
        var trans = CChar(UInt8(ascii: "T"))
        a.withUnsafeMutableBufferPointer { ap in
            bcol.withUnsafeMutableBufferPointer { bp in
                Scalar.lapackGels(
                    &trans, &lm, &ln, &lnrhs, ap.baseAddress!, &lda, bp.baseAddress!, &ldb, &query, &lwork, &info)
            }
        }
        guard info == 0 else { throw DetectError(.lapackFailure, "gels workspace query failed (info \(info))") }
        lwork = Int32(max(1, Int(query)))
        var work = [Scalar](repeating: 0, count: Int(lwork))
        a.withUnsafeMutableBufferPointer { ap in
            bcol.withUnsafeMutableBufferPointer { bp in
                work.withUnsafeMutableBufferPointer { wp in
                    Scalar.lapackGels(
                        &trans, &lm, &ln, &lnrhs, ap.baseAddress!, &lda, bp.baseAddress!, &ldb, wp.baseAddress!,
                        &lwork, &info)
                }
            }
        }
        if info > 0 { throw DetectError(.lapackFailure, "least squares: matrix is rank deficient (info \(info))") }
        guard info == 0 else { throw DetectError(.lapackFailure, "gels failed (info \(info))") }
        // gels only reports exactly zero pivots; treat numerically zero ones (relative to the largest) as
        // rank deficiency too. The LQ factor's diagonal sits at a[i + i·n].
        let diagonal = (0..<n).map { abs(a[$0 + $0 * n]) }
        let largest = diagonal.max() ?? 0
        let tolerance = largest * Scalar(max(m, n)) * Scalar.ulpOfOne
        if largest == 0 || diagonal.contains(where: { $0 <= tolerance }) {
            throw DetectError(.lapackFailure, "least squares: matrix is rank deficient")
        }
        var x = [Scalar](repeating: 0, count: n * nrhs)
        for i in 0..<n { for j in 0..<nrhs { x[i * nrhs + j] = bcol[j * m + i] } }
        return Matrix(unchecked: n, nrhs, x)
    }

    /// The thin singular value decomposition (LAPACK `?gesdd`). Throws `.lapackFailure` if it does not converge.
    public func svd() throws -> SingularValueDecomposition<Scalar> {
        let (m, n) = (rows, columns)
        guard m > 0, n > 0 else { throw DetectError(.dimensionMismatch, "svd of an empty \(m)×\(n) matrix") }
        let k = min(m, n)
        // Row-major A is column-major Aᵀ (n×m). With Aᵀ = U'·S·V'ᵀ we get A = V'·S·U'ᵀ, and:
        // U' (column-major n×k, ld n) read row-major is U'ᵀ = Vᵀ of A (k×n);
        // V'ᵀ (column-major k×m, ld k) read row-major is V' = U of A (m×k).
        var lm = try BLAS.int32(n)
        var ln = try BLAS.int32(m)
        var lda = lm
        var ldu = lm
        var ldvt = try BLAS.int32(k)
        var a = elements
        var s = [Scalar](repeating: 0, count: k)
        var uPrime = [Scalar](repeating: 0, count: n * k)
        var vtPrime = [Scalar](repeating: 0, count: k * m)
        var iwork = [Int32](repeating: 0, count: 8 * k)
        var jobz = CChar(UInt8(ascii: "S"))
        var info: Int32 = 0
        var lwork: Int32 = -1
        var query: Scalar = 0
        func call(_ work: UnsafeMutablePointer<Scalar>) {
            a.withUnsafeMutableBufferPointer { ap in
                s.withUnsafeMutableBufferPointer { sp in
                    uPrime.withUnsafeMutableBufferPointer { up in
                        vtPrime.withUnsafeMutableBufferPointer { vp in
                            iwork.withUnsafeMutableBufferPointer { ip in
                                Scalar.lapackGesdd(
                                    &jobz, &lm, &ln, ap.baseAddress!, &lda, sp.baseAddress!, up.baseAddress!, &ldu,
                                    vp.baseAddress!, &ldvt, work, &lwork, ip.baseAddress!, &info)
                            }
                        }
                    }
                }
            }
        }
        call(&query)
        guard info == 0 else { throw DetectError(.lapackFailure, "gesdd workspace query failed (info \(info))") }
        lwork = Int32(max(1, Int(query)))
        var work = [Scalar](repeating: 0, count: Int(lwork))
        work.withUnsafeMutableBufferPointer { call($0.baseAddress!) }
        if info > 0 { throw DetectError(.lapackFailure, "svd did not converge (info \(info))") }
        guard info == 0 else { throw DetectError(.lapackFailure, "gesdd failed (info \(info))") }
        return SingularValueDecomposition(
            u: Matrix(unchecked: m, k, vtPrime), singularValues: s, vt: Matrix(unchecked: k, n, uPrime))
    }
}
