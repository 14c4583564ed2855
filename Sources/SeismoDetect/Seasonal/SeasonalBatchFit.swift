#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SeasonalForecaster {
    /// Series fitted together per BLAS call in ``fit(times:series:)``.
    static let batchSeries = 256

    /// Fits one model per row of `series` (`series.rows` series × `times.count` points, all on the
    /// shared, increasing time grid `times`, in seconds). NaN marks a missing point.
    ///
    /// Series with the same periods share one design matrix, so the least squares of a whole batch
    /// is two matrix products per pass: its thin SVD `U·S·Vᵀ` is computed once, and each pass
    /// projects every series onto `U` (`Y·U`, then `·Uᵀ`). Robustness comes from Huber's method of
    /// modified residuals (pseudo-observations): each pass replaces every observation by
    /// `fit + s·ψ(residual / s)` (Huber ψ for the first half of the passes, Tukey's bisquare after),
    /// whose fixed point solves the same M-estimating equations `Xᵀψ(r/s) = 0` as the weighted
    /// (IRLS) fit of ``fit(times:values:)``, without a factorisation per series. A missing point
    /// is replaced by the current fit, which makes the gap-free solve equal the fit on observed points.
    ///
    /// Periods come from the configuration, or are detected per series (then grouped). One result
    /// per series, in order: a series with no finite observation gets `.invalidData` and does not
    /// affect the others.
    public func fit(times: [Double], series: Matrix<Double>) throws -> [Result<SeasonalModel, DetectError>] {
        let n = times.count
        guard series.columns == n else {
            throw DetectError(.dimensionMismatch, "series have \(series.columns) points, the time grid has \(n)")
        }
        guard n >= 2, times.allSatisfy(\.isFinite), zip(times, times.dropFirst()).allSatisfy({ $0.0 < $0.1 }) else {
            throw DetectError(.invalidData, "the time grid needs at least 2 finite, strictly increasing times")
        }
        let step = Robust.median(zip(times, times.dropFirst()).map { $0.1 - $0.0 }) ?? 1
        var results = [Result<SeasonalModel, DetectError>](
            repeating: .failure(DetectError(.invalidData, "no finite observations to fit")), count: series.rows)

        // Group series by their periods.
        var groups: [[Double]: [Int]] = [:]
        var order: [[Double]] = []
        for i in 0..<series.rows {
            let row = series.elements[(i * n)..<((i + 1) * n)]
            guard row.contains(where: \.isFinite) else { continue }
            let periods: [Double]
            if let given = configuration.periods {
                periods = given.filter { $0.isFinite && $0 > 0 }
            } else {
                let observed = zip(times, row).filter { $0.1.isFinite }
                periods = PeriodDetection.detect(
                    times: observed.map(\.0), values: observed.map(\.1), step: step,
                    candidates: configuration.candidatePeriods, threshold: configuration.periodThreshold,
                    maxSearchLag: 1_000)
            }
            if groups[periods] == nil { order.append(periods) }
            groups[periods, default: []].append(i)
        }
        for periods in order {
            try fitGroup(times: times, step: step, periods: periods, series: series, indices: groups[periods]!, into: &results)
        }
        return results
    }

    private func fitGroup(
        times: [Double], step: Double, periods: [Double], series: Matrix<Double>, indices: [Int],
        into results: inout [Result<SeasonalModel, DetectError>]
    ) throws {
        let n = times.count
        let origin = times[0]
        let span = max(times[n - 1] - origin, step)
        let useTrend = configuration.trend && n >= 3
        let frequencies = Self.frequencies(
            periods: periods, harmonics: configuration.harmonics, step: step, count: n, trend: useTrend)
        let p = 1 + (useTrend ? 1 : 0) + 2 * frequencies.count
        var design = try Matrix<Double>(rows: n, columns: p)
        design.withMutableView { d in
            for i in 0..<n {
                Self.designRow(
                    time: times[i], origin: origin, span: span, trend: useTrend, frequencies: frequencies,
                    into: d.base! + i * p)
            }
        }
        // Orthonormal basis of the design's column space; directions with negligible singular
        // values are dropped (a pseudo-inverse), so collinear columns cannot blow up.
        let svd = try design.svd()
        let k = svd.singularValues.count
        let tolerance = (svd.singularValues.first ?? 0) * Double(n) * Double.ulpOfOne
        var inverse = [Double](repeating: 0, count: k)
        var basis = [Float](repeating: 0, count: n * k)
        for j in 0..<k where svd.singularValues[j] > tolerance {
            inverse[j] = 1 / svd.singularValues[j]
            for i in 0..<n { basis[i * k + j] = Float(svd.u[i, j]) }
        }
        let u = try Matrix(rows: n, columns: k, elements: basis)

        var config = configuration
        config.trend = useTrend
        let passes = max(1, configuration.robustIterations)
        let batch = Self.batchSeries
        var scratch = [Double](repeating: 0, count: n)
        var start = 0
        while start < indices.count {
            let members = Array(indices[start..<min(start + batch, indices.count)])
            let m = members.count
            // Each series standardised (median, IQR) so Float32 products lose nothing that matters.
            var z = try Matrix<Float>(rows: m, columns: n, repeating: .nan)
            var pseudo = try Matrix<Float>(rows: m, columns: n)
            var fitted = try Matrix<Float>(rows: m, columns: n)
            var projection = try Matrix<Float>(rows: m, columns: k)
            var centres = [Double](repeating: 0, count: m)
            var spreads = [Double](repeating: 1, count: m)
            var floors = [Double](repeating: 0, count: m)  // in standardised units
            series.elements.withUnsafeBufferPointer { src in
                z.withMutableView { zv in
                    pseudo.withMutableView { pv in
                        for (r, s) in members.enumerated() {
                            let row = UnsafeBufferPointer(rebasing: src[(s * n)..<((s + 1) * n)])
                            let (centre, spread, floor) = Self.location(row, scratch: &scratch)
                            centres[r] = centre
                            spreads[r] = spread
                            floors[r] = floor / spread
                            let zr = zv.base! + r * n, pr = pv.base! + r * n
                            for i in 0..<n where row[i].isFinite { zr[i] = Float((row[i] - centre) / spread) }
                            for i in 0..<n { pr[i] = zr[i].isFinite ? zr[i] : 0 }
                        }
                    }
                }
            }
            // Passes: least squares, then Huber's ψ and Tukey's bisquare ψ (half the remaining passes
            // each at most; a phase ends early once the fit stops moving).
            var scales = [Double](repeating: 1, count: m)
            var previous = projection
            var bisquare = false
            var phasePasses = 0
            let perPhase = max(1, (passes - 1) / 2)
            for pass in 1...passes {
                try Self.project(pseudo, onto: u, projection: &projection, fitted: &fitted)
                if pass == passes { break }
                Self.residualScales(z, fitted, stride: max(1, n / 4_096), floors: floors, into: &scales, scratch: &scratch)
                if pass > 1 {
                    phasePasses += 1
                    var moved = 0.0
                    for r in 0..<m {
                        for j in 0..<k { moved = max(moved, abs(Double(projection[r, j] - previous[r, j])) / scales[r]) }
                    }
                    if moved < 1e-3 || phasePasses >= perPhase {
                        if bisquare { break }
                        bisquare = true
                        phasePasses = 0
                    }
                }
                previous = projection
                Self.pseudoObservations(z, fitted, scales: scales, bisquare: bisquare, into: &pseudo)
            }
            Self.residualScales(z, fitted, stride: 1, floors: floors, into: &scales, scratch: &scratch)
            // Coefficients from the projection, c = V·S⁻¹·(Uᵀ z*), back in the series' units.
            for (r, s) in members.enumerated() {
                var coefficients = [Double](repeating: 0, count: p)
                for j in 0..<k where inverse[j] > 0 {
                    let a = Double(projection[r, j]) * inverse[j] * spreads[r]
                    for c in 0..<p { coefficients[c] += a * svd.vt[j, c] }
                }
                coefficients[0] += centres[r]
                let lastObserved = (0..<n).last { z[r, $0].isFinite } ?? n - 1
                results[s] = .success(
                    SeasonalModel(
                        periods: periods.sorted(), step: step, residualScale: scales[r] * spreads[r],
                        trainingEnd: times[lastObserved], configuration: config, origin: origin, span: span,
                        frequencies: frequencies, coefficients: coefficients, scaleFloor: floors[r] * spreads[r]))
            }
            start += m
        }
    }

    /// `projection = pseudo · u`, `fitted = projection · uᵀ`: the least-squares fit of every row.
    private static func project(
        _ pseudo: Matrix<Float>, onto u: Matrix<Float>, projection: inout Matrix<Float>, fitted: inout Matrix<Float>
    ) throws {
        try BLAS.gemm(pseudo, u, into: &projection)
        try BLAS.gemm(projection, u, transposeB: true, into: &fitted)
    }

    /// Robust scale of each row's residuals `z − fitted` over observed points (every `stride`-th), floored.
    private static func residualScales(
        _ z: Matrix<Float>, _ fitted: Matrix<Float>, stride: Int, floors: [Double], into scales: inout [Double],
        scratch: inout [Double]
    ) {
        let n = z.columns
        z.withView { zv in
            fitted.withView { fv in
                for r in 0..<z.rows {
                    let zr = zv.base! + r * n, fr = fv.base! + r * n
                    var count = 0
                    var i = 0
                    while i < n {
                        if zr[i].isFinite {
                            scratch[count] = Double(zr[i] - fr[i])
                            count += 1
                        }
                        i += stride
                    }
                    scales[r] = max(Self.scale(&scratch, count: count) ?? 0, floors[r])
                }
            }
        }
    }

    /// Huber's modified residuals: every observation becomes `fit + s·ψ(r/s)`, a missing one the fit.
    private static func pseudoObservations(
        _ z: Matrix<Float>, _ fitted: Matrix<Float>, scales: [Double], bisquare: Bool, into pseudo: inout Matrix<Float>
    ) {
        let n = z.columns
        z.withView { zv in
            fitted.withView { fv in
                pseudo.withMutableView { pv in
                    for r in 0..<z.rows {
                        let zr = zv.base! + r * n, fr = fv.base! + r * n, pr = pv.base! + r * n
                        let s = Float(scales[r]), inverse = 1 / Float(scales[r])
                        if bisquare {
                            let c: Float = 4.685
                            for i in 0..<n {
                                let u = (zr[i] - fr[i]) * inverse
                                let w = u / c
                                let weight = abs(w) < 1 ? (1 - w * w) * (1 - w * w) : 0
                                pr[i] = zr[i].isFinite ? fr[i] + s * u * weight : fr[i]
                            }
                        } else {
                            let c: Float = 1.345
                            for i in 0..<n {
                                let u = (zr[i] - fr[i]) * inverse
                                pr[i] = zr[i].isFinite ? fr[i] + s * min(max(u, -c), c) : fr[i]
                            }
                        }
                    }
                }
            }
        }
    }

    /// A series' median, spread (IQR / 1.349, or 1 when that is 0) and residual-scale floor (as
    /// ``fit(times:values:)`` sets it), from a subsample of long series.
    private static func location(_ row: UnsafeBufferPointer<Double>, scratch: inout [Double]) -> (Double, Double, Double) {
        let stride = max(1, row.count / 4_096)
        var count = 0
        var i = 0
        while i < row.count {
            if row[i].isFinite {
                scratch[count] = row[i]
                count += 1
            }
            i += stride
        }
        guard count > 0 else { return (0, 1, 1e-9) }
        let q1 = Robust.select(&scratch, count: count, rank: count / 4)
        let q3 = Robust.select(&scratch, count: count, rank: (3 * count) / 4)
        let mid = Robust.select(&scratch, count: count, rank: count / 2)
        let spread = (q3 - q1) / 1.349
        let floor = max(1e-3 * spread, 1e-6 * abs(mid), 1e-9)
        return (mid, spread > 0 ? spread : max(abs(mid), 1), floor)
    }

    /// 1.4826 · MAD of `values[0..<count]` (reordered in place), the mean absolute deviation when MAD is 0.
    private static func scale(_ values: inout [Double], count: Int) -> Double? {
        guard count > 0 else { return nil }
        let centre = Robust.select(&values, count: count, rank: count / 2)
        var sum = 0.0
        for i in 0..<count {
            values[i] = abs(values[i] - centre)
            sum += values[i]
        }
        let mad = Robust.select(&values, count: count, rank: count / 2)
        return mad > 0 ? 1.4826 * mad : 1.2533 * sum / Double(count)
    }
}

extension Robust {
    /// The element of rank `rank` (0-based) among `values[0..<count]`, reordering them (quickselect,
    /// expected linear time). All values must be finite.
    static func select(_ values: inout [Double], count: Int, rank: Int) -> Double {
        precondition(count > 0 && rank >= 0 && rank < count)
        return values.withUnsafeMutableBufferPointer { v in
            var low = 0, high = count - 1
            while low < high {
                // Median of three as the pivot, Hoare partition.
                let mid = low + (high - low) / 2
                let a = v[low], b = v[mid], c = v[high]
                let pivot = max(min(a, b), min(max(a, b), c))
                var i = low, j = high
                while i <= j {
                    while v[i] < pivot { i += 1 }
                    while v[j] > pivot { j -= 1 }
                    if i <= j {
                        v.swapAt(i, j)
                        i += 1
                        j -= 1
                    }
                }
                if rank <= j {
                    high = j
                } else if rank >= i {
                    low = i
                } else {
                    return v[rank]
                }
            }
            return v[rank]
        }
    }
}
