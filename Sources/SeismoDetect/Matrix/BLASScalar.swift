import COpenBLAS

/// A floating-point type with cblas and LAPACK entry points: `Float` (s-routines) and `Double` (d-routines).
///
/// The requirements are thin wrappers over the C/Fortran routines; use ``BLAS`` and ``Matrix`` instead,
/// which check shapes and throw ``DetectError`` rather than passing bad sizes to OpenBLAS.
public protocol BLASScalar: BinaryFloatingPoint, Sendable {
    /// cblas ?gemm: C ← alpha·op(A)·op(B) + beta·C.
    static func blasGemm(
        _ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32,
        _ k: Int32, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int32, _ b: UnsafePointer<Self>, _ ldb: Int32,
        _ beta: Self, _ c: UnsafeMutablePointer<Self>, _ ldc: Int32)
    /// cblas ?gemv: y ← alpha·op(A)·x + beta·y.
    static func blasGemv(
        _ order: CBLAS_ORDER, _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Self,
        _ a: UnsafePointer<Self>, _ lda: Int32, _ x: UnsafePointer<Self>, _ incx: Int32, _ beta: Self,
        _ y: UnsafeMutablePointer<Self>, _ incy: Int32)
    /// cblas ?axpy: y ← alpha·x + y.
    static func blasAxpy(
        _ n: Int32, _ alpha: Self, _ x: UnsafePointer<Self>, _ incx: Int32, _ y: UnsafeMutablePointer<Self>,
        _ incy: Int32)
    /// cblas ?dot.
    static func blasDot(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32, _ y: UnsafePointer<Self>, _ incy: Int32)
        -> Self
    /// cblas ?nrm2.
    static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Self>, _ incx: Int32) -> Self
    /// LAPACK ?gels (column-major): least squares / minimum norm via QR or LQ.
    static func lapackGels(
        _ trans: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
        _ nrhs: UnsafePointer<Int32>, _ a: UnsafeMutablePointer<Self>, _ lda: UnsafePointer<Int32>,
        _ b: UnsafeMutablePointer<Self>, _ ldb: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<Self>,
        _ lwork: UnsafePointer<Int32>, _ info: UnsafeMutablePointer<Int32>)
    /// LAPACK ?gesdd (column-major): singular value decomposition by divide and conquer.
    static func lapackGesdd(
        _ jobz: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
        _ a: UnsafeMutablePointer<Self>, _ lda: UnsafePointer<Int32>, _ s: UnsafeMutablePointer<Self>,
        _ u: UnsafeMutablePointer<Self>, _ ldu: UnsafePointer<Int32>, _ vt: UnsafeMutablePointer<Self>,
        _ ldvt: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<Self>, _ lwork: UnsafePointer<Int32>,
        _ iwork: UnsafeMutablePointer<Int32>, _ info: UnsafeMutablePointer<Int32>)
}

extension Float: BLASScalar {
    public static func blasGemm(
        _ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32,
        _ k: Int32, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int32, _ b: UnsafePointer<Float>,
        _ ldb: Int32, _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int32
    ) {
        cblas_sgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    public static func blasGemv(
        _ order: CBLAS_ORDER, _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Float,
        _ a: UnsafePointer<Float>, _ lda: Int32, _ x: UnsafePointer<Float>, _ incx: Int32, _ beta: Float,
        _ y: UnsafeMutablePointer<Float>, _ incy: Int32
    ) {
        cblas_sgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
    }

    public static func blasAxpy(
        _ n: Int32, _ alpha: Float, _ x: UnsafePointer<Float>, _ incx: Int32, _ y: UnsafeMutablePointer<Float>,
        _ incy: Int32
    ) {
        cblas_saxpy(n, alpha, x, incx, y, incy)
    }

    public static func blasDot(
        _ n: Int32, _ x: UnsafePointer<Float>, _ incx: Int32, _ y: UnsafePointer<Float>, _ incy: Int32
    ) -> Float {
        cblas_sdot(n, x, incx, y, incy)
    }

    public static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Float>, _ incx: Int32) -> Float {
        cblas_snrm2(n, x, incx)
    }

    public static func lapackGels(
        _ trans: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
        _ nrhs: UnsafePointer<Int32>, _ a: UnsafeMutablePointer<Float>, _ lda: UnsafePointer<Int32>,
        _ b: UnsafeMutablePointer<Float>, _ ldb: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<Float>,
        _ lwork: UnsafePointer<Int32>, _ info: UnsafeMutablePointer<Int32>
    ) {
        sgels_(trans, m, n, nrhs, a, lda, b, ldb, work, lwork, info)
    }

    public static func lapackGesdd(
        _ jobz: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
        _ a: UnsafeMutablePointer<Float>, _ lda: UnsafePointer<Int32>, _ s: UnsafeMutablePointer<Float>,
        _ u: UnsafeMutablePointer<Float>, _ ldu: UnsafePointer<Int32>, _ vt: UnsafeMutablePointer<Float>,
        _ ldvt: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<Float>, _ lwork: UnsafePointer<Int32>,
        _ iwork: UnsafeMutablePointer<Int32>, _ info: UnsafeMutablePointer<Int32>
    ) {
        sgesdd_(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info)
    }
}

extension Double: BLASScalar {
    public static func blasGemm(
        _ order: CBLAS_ORDER, _ transA: CBLAS_TRANSPOSE, _ transB: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32,
        _ k: Int32, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int32, _ b: UnsafePointer<Double>,
        _ ldb: Int32, _ beta: Double, _ c: UnsafeMutablePointer<Double>, _ ldc: Int32
    ) {
        cblas_dgemm(order, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    public static func blasGemv(
        _ order: CBLAS_ORDER, _ trans: CBLAS_TRANSPOSE, _ m: Int32, _ n: Int32, _ alpha: Double,
        _ a: UnsafePointer<Double>, _ lda: Int32, _ x: UnsafePointer<Double>, _ incx: Int32, _ beta: Double,
        _ y: UnsafeMutablePointer<Double>, _ incy: Int32
    ) {
        cblas_dgemv(order, trans, m, n, alpha, a, lda, x, incx, beta, y, incy)
    }

    public static func blasAxpy(
        _ n: Int32, _ alpha: Double, _ x: UnsafePointer<Double>, _ incx: Int32,
        _ y: UnsafeMutablePointer<Double>, _ incy: Int32
    ) {
        cblas_daxpy(n, alpha, x, incx, y, incy)
    }

    public static func blasDot(
        _ n: Int32, _ x: UnsafePointer<Double>, _ incx: Int32, _ y: UnsafePointer<Double>, _ incy: Int32
    ) -> Double {
        cblas_ddot(n, x, incx, y, incy)
    }

    public static func blasNrm2(_ n: Int32, _ x: UnsafePointer<Double>, _ incx: Int32) -> Double {
        cblas_dnrm2(n, x, incx)
    }

    public static func lapackGels(
        _ trans: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
        _ nrhs: UnsafePointer<Int32>, _ a: UnsafeMutablePointer<Double>, _ lda: UnsafePointer<Int32>,
        _ b: UnsafeMutablePointer<Double>, _ ldb: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<Double>,
        _ lwork: UnsafePointer<Int32>, _ info: UnsafeMutablePointer<Int32>
    ) {
        dgels_(trans, m, n, nrhs, a, lda, b, ldb, work, lwork, info)
    }

    public static func lapackGesdd(
        _ jobz: UnsafePointer<CChar>, _ m: UnsafePointer<Int32>, _ n: UnsafePointer<Int32>,
        _ a: UnsafeMutablePointer<Double>, _ lda: UnsafePointer<Int32>, _ s: UnsafeMutablePointer<Double>,
        _ u: UnsafeMutablePointer<Double>, _ ldu: UnsafePointer<Int32>, _ vt: UnsafeMutablePointer<Double>,
        _ ldvt: UnsafePointer<Int32>, _ work: UnsafeMutablePointer<Double>, _ lwork: UnsafePointer<Int32>,
        _ iwork: UnsafeMutablePointer<Int32>, _ info: UnsafeMutablePointer<Int32>
    ) {
        dgesdd_(jobz, m, n, a, lda, s, u, ldu, vt, ldvt, work, lwork, iwork, info)
    }
}
