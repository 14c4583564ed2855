import SeismoDetect
import Testing

private func close<S: BLASScalar>(_ a: [S], _ b: [S], tolerance: S) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance * max(1, abs($1)) }
}

/// The checks, written once and run for Float and Double.
private enum Spec<S: BLASScalar> {
    static var tol: S { S(MemoryLayout<S>.size == 4 ? 1e-4 : 1e-10) }
    static var a: Matrix<S> { try! Matrix([[1, 2, 3], [4, 5, 6]]) }
    static var b: Matrix<S> { try! Matrix([[7, 8], [9, 10], [11, 12]]) }

    static func gemmPlain() throws {
        #expect(try BLAS.product(a, b).elements == [58, 64, 139, 154])
    }

    static func gemmTransposes() throws {
        // Aᵀ·Bᵀ = (B·A)ᵀ
        #expect(try BLAS.product(a, transposeA: true, b, transposeB: true).elements == [39, 49, 59, 54, 68, 82, 69, 87, 105])
        // Aᵀ (3×2) · A (2×3) is symmetric.
        let ata = try BLAS.product(a, transposeA: true, a)
        #expect(ata.elements == [17, 22, 27, 22, 29, 36, 27, 36, 45])
    }

    static func gemmAlphaBetaIntoExisting() throws {
        var c = try Matrix<S>(rows: 2, columns: 2, repeating: 1)
        try BLAS.gemm(a, b, into: &c, alpha: 2, beta: -1)
        #expect(c.elements == [115, 127, 277, 307])
    }

    static func gemmOnRowView() throws {
        var c = try Matrix<S>(rows: 1, columns: 2)
        try a.withRows(1..<2) { row in
            try b.withView { bv in try c.withMutableView { try BLAS.gemm(row, bv, into: $0) } }
        }
        #expect(c.elements == [139, 154])
    }

    static func gemvBothWays() throws {
        var y = [S](repeating: 0, count: 2)
        try BLAS.gemv(a, [1, 1, 1], into: &y)
        #expect(y == [6, 15])
        var z = [S](repeating: 1, count: 3)
        try BLAS.gemv(a, transpose: true, [1, 2], into: &z, alpha: 1, beta: 1)
        #expect(z == [10, 13, 16])
    }

    static func level1() throws {
        var y: [S] = [1, 1, 1]
        try BLAS.axpy(2, [1, 2, 3], &y)
        #expect(y == [3, 5, 7])
        #expect(try BLAS.dot([1, 2, 3], [4, 5, 6]) == 32)
        #expect(try BLAS.nrm2([3, 4]) == 5)
    }

    static func leastSquaresLine() throws {
        // y = a + b·x through (0,1), (1,3), (2,4): b = 1.5, a = 7/6.
        let design = try Matrix<S>([[1, 0], [1, 1], [1, 2]])
        let x = try design.leastSquares(try Matrix([[1], [3], [4]]))
        #expect(close(x.elements, [S(7.0 / 6.0), 1.5], tolerance: tol))
    }

    static func leastSquaresRecoversCoefficients() throws {
        // Exact data from y = 2 + 3x − z with two right-hand sides (the second is 2y).
        var rows: [[S]] = []
        var rhs: [[S]] = []
        for i in 0..<10 {
            let x = S(i), z = S((i * i) % 7)
            rows.append([1, x, z])
            rhs.append([2 + 3 * x - z, 2 * (2 + 3 * x - z)])
        }
        let solution = try Matrix(rows).leastSquares(try Matrix(rhs))
        #expect(solution.rows == 3 && solution.columns == 2)
        #expect(close(solution.elements, [2, 4, 3, 6, -1, -2], tolerance: tol * 10))
    }

    static func svdReconstructs(_ m: Matrix<S>) throws {
        let d = try m.svd()
        let k = min(m.rows, m.columns)
        #expect(d.u.rows == m.rows && d.u.columns == k && d.vt.rows == k && d.vt.columns == m.columns)
        #expect(zip(d.singularValues, d.singularValues.dropFirst()).allSatisfy { $0 >= $1 })
        var us = d.u
        for i in 0..<us.rows { for j in 0..<k { us[i, j] *= d.singularValues[j] } }
        let back = try BLAS.product(us, d.vt)
        #expect(close(back.elements, m.elements, tolerance: tol * 10))
        // Orthonormal columns of U.
        let utu = try BLAS.product(d.u, transposeA: true, d.u)
        #expect(close(utu.elements, try Matrix<S>.identity(k).elements, tolerance: tol * 10))
    }

    static func svdKnownValues() throws {
        let d = try Matrix<S>([[3, 0], [0, -2]]).svd()
        #expect(close(d.singularValues, [3, 2], tolerance: tol))
    }

    static func badShapesThrow() {
        #expect(throws: DetectError.self) { try BLAS.product(a, a) }
        #expect(throws: DetectError.self) { try Matrix<S>(rows: 2, columns: 2, elements: [1]) }
        #expect(throws: DetectError.self) { try Matrix<S>([[1, 2], [3]]) }
        #expect(throws: DetectError.self) { try BLAS.dot([1, 2], [1]) }
        // Fewer rows than columns.
        #expect(throws: DetectError.self) { try a.leastSquares(try Matrix([[1], [2]])) }
        #expect(throws: DetectError.self) { try b.leastSquares(try Matrix([[1], [2]])) }
        // Rank deficient: two equal columns.
        #expect(throws: DetectError.self) { try Matrix<S>([[1, 1], [2, 2], [3, 3]]).leastSquares(try Matrix([[1], [2], [3]])) }
    }

    static func all() throws {
        try gemmPlain()
        try gemmTransposes()
        try gemmAlphaBetaIntoExisting()
        try gemmOnRowView()
        try gemvBothWays()
        try level1()
        try leastSquaresLine()
        try leastSquaresRecoversCoefficients()
        try svdReconstructs(try Matrix([[4, 1, -2], [0, 3, 5], [2, -1, 1], [7, 2, 0]]))
        try svdReconstructs(try Matrix([[4, 1, -2, 0], [3, 5, 2, -1], [1, 7, 2, 0]]))
        try svdKnownValues()
        badShapesThrow()
    }
}

@Suite("Matrix over BLAS and LAPACK")
struct MatrixTests {
    @Test("gemm, gemv, axpy, dot, nrm2, least squares and SVD give hand-computed results in Float")
    func float() throws { try Spec<Float>.all() }

    @Test("gemm, gemv, axpy, dot, nrm2, least squares and SVD give hand-computed results in Double")
    func double() throws { try Spec<Double>.all() }

    @Test("copies share storage until one is mutated")
    func copyOnWrite() throws {
        let original = try Matrix<Double>([[1, 2], [3, 4]])
        var copy = original
        copy[0, 0] = 9
        #expect(original[0, 0] == 1)
        #expect(copy[0, 0] == 9)
    }

    @Test("row-range views see the parent's rows and leading dimension without copying")
    func views() throws {
        let m = try Matrix<Float>([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
        try m.withRows(1..<3) { v in
            #expect(v.rows == 2 && v.leadingDimension == 3)
            #expect(v[1, 2] == 9)
            let right = try v.columns(1..<3)
            #expect(right[0, 0] == 5 && right.leadingDimension == 3)
        }
        #expect(throws: DetectError.self) { try m.withRows(2..<4) { _ in } }
    }

    @Test("thread count is settable and rejects zero")
    func threads() throws {
        try BLAS.setThreadCount(1)
        #expect(BLAS.threadCount == 1)
        #expect(BLAS.trainingThreadCount >= 1)
        #expect(throws: DetectError.self) { try BLAS.setThreadCount(0) }
    }
}
