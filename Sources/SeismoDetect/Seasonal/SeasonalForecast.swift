#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the seasonal forecast detector. Times are in seconds.
public struct SeasonalConfiguration: Sendable, Equatable {
    /// Seasonal periods in seconds; nil detects them from the history by autocorrelation.
    public var periods: [Double]?
    /// Periods tried first by detection: hourly, daily, weekly.
    public var candidatePeriods: [Double] = [3_600, 86_400, 604_800]
    /// Autocorrelation a candidate period needs to be kept.
    public var periodThreshold: Double = 0.3
    /// Fourier harmonics per period (fewer when the history is short).
    public var harmonics: Int = 10
    /// Whether the baseline has a linear trend.
    public var trend: Bool = true
    /// Half-width of the prediction band, in robust residual standard deviations.
    public var bandWidth: Double = 3
    /// Iteratively reweighted least-squares passes (Huber first, then bisquare).
    public var robustIterations: Int = 12
    /// Online smoothing of the level correction, the per-phase correction and the residual scale.
    public var levelSmoothing: Double = 0.05
    public var seasonalSmoothing: Double = 0.1
    public var scaleSmoothing: Double = 0.01
    /// Residuals beyond this many standard deviations are clipped before they update online state.
    public var updateClip: Double = 3
    /// Past the training data, the trend's extrapolation levels off over this fraction of the training span.
    public var trendDamping: Double = 0.5
    /// Refit on the retained history every this many points (0: never); history kept for refits.
    public var refitInterval: Int = 0
    public var refitWindow: Int = 4_000

    public init(periods: [Double]? = nil) {
        self.periods = periods
    }
}

/// One forecast point: the expected value and its band.
public struct SeasonalForecastPoint: Sendable, Equatable {
    public var time: Double
    public var yhat: Double
    public var yhatLower: Double
    public var yhatUpper: Double
}

/// One scored observation. `score` is |value − yhat| over the band's half-width: above 1 is
/// outside the band (anomalous), 2 is one band width beyond it; 0 when the value is missing.
public struct SeasonalScoredPoint: Sendable, Equatable {
    public var forecast: SeasonalForecastPoint
    public var value: Double
    public var score: Double
}

/// A fitted trend + Fourier-seasonality baseline with a robust residual scale.
public struct SeasonalModel: Sendable, Equatable {
    /// Periods used, in seconds, shortest first.
    public let periods: [Double]
    /// Sampling step (median spacing of the training timestamps), in seconds.
    public let step: Double
    /// Robust residual standard deviation on the training data (1.4826 · MAD, floored).
    public let residualScale: Double
    /// Time of the last training point.
    public let trainingEnd: Double
    public let configuration: SeasonalConfiguration
    let origin: Double
    let span: Double
    let frequencies: [Double]  // cycles per second, one sin/cos pair each
    let coefficients: [Double]  // intercept, [slope per span], then sin/cos pairs
    let scaleFloor: Double

    /// Trend slope in value units per second (0 without a trend).
    public var slope: Double { configuration.trend ? coefficients[1] / span : 0 }

    /// The fitted baseline at `time`; past the training data the trend is damped unless `linearTrend`.
    public func baseline(at time: Double, linearTrend: Bool = false) -> Double {
        guard time.isFinite else { return .nan }
        var y = coefficients[0]
        var k = 1
        if configuration.trend {
            var x = (time - origin) / span
            let end = (trainingEnd - origin) / span
            if !linearTrend, x > end, configuration.trendDamping > 0 {
                let h = configuration.trendDamping
                x = end + h * (1 - exp(-(x - end) / h))
            }
            y += coefficients[1] * x
            k = 2
        }
        let dt = time - origin
        for f in frequencies {
            let angle = 2 * Double.pi * (f * dt).truncatingRemainder(dividingBy: 1)
            y += coefficients[k] * sin(angle) + coefficients[k + 1] * cos(angle)
            k += 2
        }
        return y
    }

    /// The batch forecast (no online state) at `time`.
    public func forecast(at time: Double) -> SeasonalForecastPoint {
        let y = baseline(at: time)
        let half = configuration.bandWidth * residualScale
        return SeasonalForecastPoint(time: time, yhat: y, yhatLower: y - half, yhatUpper: y + half)
    }
}

/// Fits seasonal models: robust (IRLS) least squares over a trend and Fourier terms.
public struct SeasonalForecaster: Sendable {
    public var configuration: SeasonalConfiguration

    public init(configuration: SeasonalConfiguration = SeasonalConfiguration()) {
        self.configuration = configuration
    }

    /// Fits on `values` observed at `times` (seconds). NaN values and gaps are skipped.
    /// Throws `DetectError.invalidData` when there is no finite observation.
    public func fit(times: [Double], values: [Double]) throws -> SeasonalModel {
        guard times.count == values.count else {
            throw DetectError(.dimensionMismatch, "times and values differ in length (\(times.count) vs \(values.count))")
        }
        var pairs = zip(times, values).filter { $0.0.isFinite && $0.1.isFinite }
        guard !pairs.isEmpty else { throw DetectError(.invalidData, "no finite observations to fit") }
        if !zip(pairs, pairs.dropFirst()).allSatisfy({ $0.0.0 <= $0.1.0 }) { pairs.sort { $0.0 < $1.0 } }
        let t = pairs.map(\.0), y = pairs.map(\.1)
        let n = t.count
        var gaps: [Double] = []
        for i in 1..<max(n, 1) where t[i] > t[i - 1] { gaps.append(t[i] - t[i - 1]) }
        let step = Robust.median(gaps) ?? 1
        let origin = t[0]
        let span = max(t[n - 1] - origin, step)

        let spread = (Robust.quantile(y, 0.75)! - Robust.quantile(y, 0.25)!) / 1.349
        let scaleFloor = max(1e-3 * spread, 1e-6 * abs(Robust.median(y)!), 1e-9)

        let periods =
            configuration.periods?.filter { $0.isFinite && $0 > 0 }
            ?? PeriodDetection.detect(
                times: t, values: y, step: step, candidates: configuration.candidatePeriods,
                threshold: configuration.periodThreshold, maxSearchLag: 1_000)

        let useTrend = configuration.trend && n >= 3 && span > step
        let frequencies = Self.frequencies(
            periods: periods, harmonics: configuration.harmonics, step: step, count: n, trend: useTrend)
        let columns = 1 + (useTrend ? 1 : 0) + 2 * frequencies.count
        var design = [Double](repeating: 0, count: n * columns)
        design.withUnsafeMutableBufferPointer { d in
            for i in 0..<n {
                Self.designRow(
                    time: t[i], origin: origin, span: span, trend: useTrend, frequencies: frequencies,
                    into: d.baseAddress! + i * columns)
            }
        }

        // IRLS: ordinary least squares first, then Huber passes, then bisquare passes.
        var coefficients = [Double](repeating: 0, count: columns)
        coefficients[0] = Robust.median(y)!
        var weights = [Double](repeating: 1, count: n)
        var residuals = y.map { $0 - coefficients[0] }
        let passes = max(1, configuration.robustIterations)
        for pass in 0..<passes {
            let s = max(Robust.scale(residuals) ?? 0, scaleFloor)
            for i in 0..<n where pass > 0 {
                let u = abs(residuals[i]) / s
                if pass < passes / 2 {
                    weights[i] = u <= 1.345 ? 1 : 1.345 / u
                } else {
                    let v = u / 4.685
                    weights[i] = v < 1 ? (1 - v * v) * (1 - v * v) : 0
                }
            }
            guard columns <= n, weights.filter({ $0 > 0 }).count >= columns,
                let solution = LeastSquares.solve(
                    rowMajor: design, rows: n, columns: columns, rhs: y, weights: weights)
            else { break }
            coefficients = solution
            for i in 0..<n {
                var fit = 0.0
                for j in 0..<columns { fit += design[i * columns + j] * coefficients[j] }
                residuals[i] = y[i] - fit
            }
        }
        let scale = max(Robust.scale(residuals) ?? 0, scaleFloor)
        var config = configuration
        config.trend = useTrend && coefficients.count == columns
        return SeasonalModel(
            periods: periods.sorted(), step: step, residualScale: scale, trainingEnd: t[n - 1],
            configuration: config, origin: origin, span: span, frequencies: frequencies,
            coefficients: coefficients, scaleFloor: scaleFloor)
    }

    /// Fourier frequencies (cycles per second) for `periods`: `harmonics` per period, bounded by
    /// Nyquist and by the amount of data (`count` points), duplicates removed.
    static func frequencies(periods: [Double], harmonics: Int, step: Double, count n: Int, trend: Bool) -> [Double] {
        var perPeriod = periods.map { min(max(harmonics, 0), Int(($0 / step) / 2)) }
        let budget = max(0, n / 3 - (trend ? 2 : 1))
        while perPeriod.reduce(0, +) * 2 > budget,
            let i = perPeriod.indices.max(by: { perPeriod[$0] < perPeriod[$1] }), perPeriod[i] > 0
        {
            perPeriod[i] -= 1
        }
        var frequencies: [Double] = []
        for (p, k) in zip(periods, perPeriod) where k > 0 {
            for h in 1...k {
                let f = Double(h) / p
                if !frequencies.contains(where: { abs($0 - f) <= 1e-9 * f }) { frequencies.append(f) }
            }
        }
        return frequencies
    }

    /// Writes one design-matrix row at `time`: 1, [trend], then sin/cos per frequency.
    static func designRow(
        time: Double, origin: Double, span: Double, trend: Bool, frequencies: [Double], into row: UnsafeMutablePointer<Double>
    ) {
        var j = 0
        row[j] = 1
        j += 1
        if trend {
            row[j] = (time - origin) / span
            j += 1
        }
        let dt = time - origin
        for f in frequencies {
            let angle = 2 * Double.pi * (f * dt).truncatingRemainder(dividingBy: 1)
            row[j] = sin(angle)
            row[j + 1] = cos(angle)
            j += 2
        }
    }
}
