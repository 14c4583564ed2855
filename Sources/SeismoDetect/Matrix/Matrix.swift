/// A dense row-major matrix of `Float` or `Double` with copy-on-write value semantics.
///
/// Element `(i, j)` lives at `elements[i * columns + j]`. Copies share storage until one is mutated.
public struct Matrix<Scalar: BLASScalar>: Sendable, Equatable {
    public private(set) var rows: Int
    public private(set) var columns: Int
    /// The elements, row after row (`rows × columns`).
    public private(set) var elements: [Scalar]

    /// A `rows × columns` matrix filled with `value`.
    public init(rows: Int, columns: Int, repeating value: Scalar = 0) throws {
        guard rows >= 0, columns >= 0 else {
            throw DetectError(.invalidParameter, "matrix shape \(rows)×\(columns) is negative")
        }
        self.rows = rows
        self.columns = columns
        self.elements = Array(repeating: value, count: rows * columns)
    }

    /// A `rows × columns` matrix over `elements` given row after row.
    public init(rows: Int, columns: Int, elements: [Scalar]) throws {
        guard rows >= 0, columns >= 0, elements.count == rows * columns else {
            throw DetectError(
                .dimensionMismatch, "\(elements.count) elements do not make a \(rows)×\(columns) matrix")
        }
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// A matrix from nested rows; all rows must have the same length.
    public init(_ rowArrays: [[Scalar]]) throws {
        let columns = rowArrays.first?.count ?? 0
        guard rowArrays.allSatisfy({ $0.count == columns }) else {
            throw DetectError(.dimensionMismatch, "rows have different lengths")
        }
        try self.init(rows: rowArrays.count, columns: columns, elements: rowArrays.flatMap { $0 })
    }

    /// The `n × n` identity.
    public static func identity(_ n: Int) throws -> Matrix {
        var m = try Matrix(rows: n, columns: n)
        for i in 0..<n { m.elements[i * n + i] = 1 }
        return m
    }

    /// Element `(row, column)`. Indices must be in range (checked by the array).
    public subscript(row: Int, column: Int) -> Scalar {
        get { elements[row * columns + column] }
        set { elements[row * columns + column] = newValue }
    }

    /// The transpose (a copy).
    public var transposed: Matrix {
        var t = Array(repeating: Scalar.zero, count: elements.count)
        for i in 0..<rows {
            for j in 0..<columns { t[j * rows + i] = elements[i * columns + j] }
        }
        // Shape is valid by construction.
        return Matrix(unchecked: columns, rows, t)
    }

    init(unchecked rows: Int, _ columns: Int, _ elements: [Scalar]) {
        self.rows = rows
        self.columns = columns
        self.elements = elements
    }

    /// Calls `body` with a read-only view of the whole matrix, without copying.
    public func withView<R>(_ body: (MatrixView<Scalar>) throws -> R) rethrows -> R {
        try elements.withUnsafeBufferPointer { buffer in
            try body(MatrixView(base: buffer.baseAddress, rows: rows, columns: columns, leadingDimension: columns))
        }
    }

    /// Calls `body` with a read-only view of rows `range`, without copying.
    public func withRows<R>(_ range: Range<Int>, _ body: (MatrixView<Scalar>) throws -> R) throws -> R {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw DetectError(.dimensionMismatch, "rows \(range) outside 0..<\(rows)")
        }
        return try elements.withUnsafeBufferPointer { buffer in
            try body(
                MatrixView(
                    base: buffer.baseAddress.map { $0 + range.lowerBound * columns }, rows: range.count,
                    columns: columns, leadingDimension: columns))
        }
    }

    /// Calls `body` with a mutable view of the whole matrix, without copying (after copy-on-write).
    public mutating func withMutableView<R>(_ body: (MutableMatrixView<Scalar>) throws -> R) rethrows -> R {
        let (rows, columns) = (self.rows, self.columns)
        return try elements.withUnsafeMutableBufferPointer { buffer in
            try body(
                MutableMatrixView(base: buffer.baseAddress, rows: rows, columns: columns, leadingDimension: columns))
        }
    }

    /// Calls `body` with a mutable view of rows `range`, without copying (after copy-on-write).
    public mutating func withMutableRows<R>(_ range: Range<Int>, _ body: (MutableMatrixView<Scalar>) throws -> R)
        throws -> R
    {
        guard range.lowerBound >= 0, range.upperBound <= rows else {
            throw DetectError(.dimensionMismatch, "rows \(range) outside 0..<\(rows)")
        }
        let columns = self.columns
        return try elements.withUnsafeMutableBufferPointer { buffer in
            try body(
                MutableMatrixView(
                    base: buffer.baseAddress.map { $0 + range.lowerBound * columns }, rows: range.count,
                    columns: columns, leadingDimension: columns))
        }
    }
}

/// A read-only, non-owning row-major view: `rows × columns` elements, rows `leadingDimension` apart.
///
/// Valid only inside the closure that produced it.
public struct MatrixView<Scalar: BLASScalar> {
    /// First element; `nil` only when the view is empty.
    public let base: UnsafePointer<Scalar>?
    public let rows: Int
    public let columns: Int
    /// Distance in elements between the starts of consecutive rows (≥ `columns`).
    public let leadingDimension: Int

    /// A view over memory the caller keeps alive.
    public init(base: UnsafePointer<Scalar>?, rows: Int, columns: Int, leadingDimension: Int) {
        self.base = base
        self.rows = rows
        self.columns = columns
        self.leadingDimension = leadingDimension
    }

    /// Element `(row, column)`.
    public subscript(row: Int, column: Int) -> Scalar { base![row * leadingDimension + column] }

    /// Columns `range` of every row, still without copying (same leading dimension).
    public func columns(_ range: Range<Int>) throws -> MatrixView {
        guard range.lowerBound >= 0, range.upperBound <= columns else {
            throw DetectError(.dimensionMismatch, "columns \(range) outside 0..<\(columns)")
        }
        return MatrixView(
            base: base.map { $0 + range.lowerBound }, rows: rows, columns: range.count,
            leadingDimension: leadingDimension)
    }
}

/// A mutable, non-owning row-major view; see ``MatrixView``.
public struct MutableMatrixView<Scalar: BLASScalar> {
    public let base: UnsafeMutablePointer<Scalar>?
    public let rows: Int
    public let columns: Int
    public let leadingDimension: Int

    /// A view over memory the caller keeps alive and owns exclusively while the view is used.
    public init(base: UnsafeMutablePointer<Scalar>?, rows: Int, columns: Int, leadingDimension: Int) {
        self.base = base
        self.rows = rows
        self.columns = columns
        self.leadingDimension = leadingDimension
    }

    /// The same memory, read-only.
    public var readOnly: MatrixView<Scalar> {
        MatrixView(base: base.map { UnsafePointer($0) }, rows: rows, columns: columns, leadingDimension: leadingDimension)
    }

    /// Element `(row, column)`.
    public subscript(row: Int, column: Int) -> Scalar {
        get { base![row * leadingDimension + column] }
        nonmutating set { base![row * leadingDimension + column] = newValue }
    }
}
