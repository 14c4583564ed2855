import COpenBLAS

/// Minimal weighted least squares over LAPACK `dgels_` (QR), private to the seasonal
/// detector until the shared matrix layer lands.
enum LeastSquares {
    /// Solves min ‖W^½ (A x − b)‖ for `A` given row-major `rows × columns`.
    /// Returns nil when LAPACK reports failure or the system is under-determined.
    static func solve(rowMajor a: [Double], rows: Int, columns: Int, rhs b: [Double], weights: [Double]) -> [Double]? {
        guard rows >= columns, columns > 0, a.count == rows * columns, b.count == rows, weights.count == rows else {
            return nil
        }
        // Column-major copy with rows scaled by sqrt(weight).
        var colMajor = [Double](repeating: 0, count: rows * columns)
        var rhs = [Double](repeating: 0, count: rows)
        for i in 0..<rows {
            let s = weights[i] > 0 ? weights[i].squareRoot() : 0
            rhs[i] = b[i] * s
            for j in 0..<columns {
                colMajor[j * rows + i] = a[i * columns + j] * s
            }
        }
        var trans = CChar(UInt8(ascii: "N"))
        var m = Int32(rows), n = Int32(columns), nrhs = Int32(1)
        var lda = Int32(rows), ldb = Int32(rows)
        var info: Int32 = 0
        var lwork: Int32 = -1
        var query = 0.0
        dgels_(&trans, &m, &n, &nrhs, &colMajor, &lda, &rhs, &ldb, &query, &lwork, &info)
        guard info == 0 else { return nil }
        lwork = Int32(max(1, Int(query)))
        var work = [Double](repeating: 0, count: Int(lwork))
        dgels_(&trans, &m, &n, &nrhs, &colMajor, &lda, &rhs, &ldb, &work, &lwork, &info)
        guard info == 0 else { return nil }
        let x = Array(rhs[0..<columns])
        return x.allSatisfy(\.isFinite) ? x : nil
    }
}
