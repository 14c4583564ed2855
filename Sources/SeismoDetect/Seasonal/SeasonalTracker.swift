/// The online side of the seasonal detector: forecasts the next point, scores it, then
/// updates a level correction, a per-phase seasonal correction and the residual scale
/// (exponentially weighted, with clipped residuals so outliers barely move them), and
/// refits the model on retained history every `refitInterval` points.
public struct SeasonalTracker: Sendable {
    public private(set) var model: SeasonalModel
    /// Current residual standard deviation behind the band.
    public private(set) var scale: Double
    private var level = 0.0
    private var phase: [Double]
    private var phasePeriod: Double
    private var history: [(time: Double, value: Double)] = []
    private var sinceRefit = 0
    private let forecaster: SeasonalForecaster

    /// Starts from `model`; `history` (oldest first) seeds the data kept for refits.
    public init(model: SeasonalModel, history: [(time: Double, value: Double)] = []) {
        self.model = model
        self.scale = model.residualScale
        self.forecaster = SeasonalForecaster(configuration: model.configuration)
        (phase, phasePeriod) = Self.phaseBins(model)
        let usable = history.filter { $0.time.isFinite && $0.value.isFinite }
        self.history = Array(usable.suffix(max(0, model.configuration.refitWindow)))
        seedPhase(from: usable)
    }

    /// Starts the per-phase correction at the median residual of each phase bin (bins seen at
    /// least twice): a median seasonal profile on top of the Fourier fit, for shapes (steps,
    /// square waves) that a few harmonics cannot follow.
    private mutating func seedPhase(from history: some Collection<(time: Double, value: Double)>) {
        guard !phase.isEmpty, !history.isEmpty else { return }
        var residuals = [[Double]](repeating: [], count: phase.count)
        for p in history {
            if let b = bin(p.time) { residuals[b].append(p.value - model.baseline(at: p.time)) }
        }
        var all: [Double] = []
        for b in phase.indices {
            phase[b] = residuals[b].count >= 2 ? Robust.median(residuals[b]) ?? 0 : 0
            all += residuals[b].map { $0 - phase[b] }
        }
        if let s = Robust.scale(all) { scale = max(min(scale, s), model.scaleFloor) }
    }

    private static func phaseBins(_ model: SeasonalModel) -> ([Double], Double) {
        guard let period = model.periods.last(where: { $0 / model.step <= 4_096 }), period / model.step >= 2 else {
            return ([], 0)
        }
        return ([Double](repeating: 0, count: Int((period / model.step).rounded())), period)
    }

    private func bin(_ time: Double) -> Int? {
        guard !phase.isEmpty, time.isFinite else { return nil }
        var x = ((time - model.origin) / phasePeriod).truncatingRemainder(dividingBy: 1)
        if x < 0 { x += 1 }
        // Nearest bin, so samples on the grid never straddle a bin edge through rounding.
        return Int((x * Double(phase.count)).rounded()) % phase.count
    }

    /// The expected value and band at `time`, given everything seen so far.
    public func forecast(at time: Double) -> SeasonalForecastPoint {
        var y = model.baseline(at: time) + level
        if let b = bin(time) { y += phase[b] }
        let half = model.configuration.bandWidth * scale
        return SeasonalForecastPoint(time: time, yhat: y, yhatLower: y - half, yhatUpper: y + half)
    }

    /// Scores `value` at `time` against the forecast made before seeing it, then learns from it.
    /// A missing (NaN) value scores 0 and leaves the state unchanged.
    public mutating func update(time: Double, value: Double) -> SeasonalScoredPoint {
        let f = forecast(at: time)
        guard value.isFinite, f.yhat.isFinite else {
            return SeasonalScoredPoint(forecast: f, value: value, score: 0)
        }
        let config = model.configuration
        let half = config.bandWidth * scale
        let error = value - f.yhat
        let score = half > 0 ? abs(error) / half : 0
        let clip = config.updateClip * scale
        let clipped = min(max(error, -clip), clip)
        level += config.levelSmoothing * clipped
        if let b = bin(time) { phase[b] += config.seasonalSmoothing * (clipped - config.levelSmoothing * clipped) }
        let absolute = min(abs(error), (config.updateClip + 1) * scale) * 1.2533
        scale = max(scale + config.scaleSmoothing * (absolute - scale), model.scaleFloor)

        if config.refitInterval > 0 && config.refitWindow > 0 {
            history.append((time, value))
            if history.count > 2 * config.refitWindow { history.removeFirst(history.count - config.refitWindow) }
            sinceRefit += 1
            if sinceRefit >= config.refitInterval {
                sinceRefit = 0
                refit()
            }
        }
        return SeasonalScoredPoint(forecast: f, value: value, score: score.isFinite ? score : .greatestFiniteMagnitude)
    }

    /// Refits the model on the retained history; keeps the old one if that fails.
    public mutating func refit() {
        let recent = history.suffix(model.configuration.refitWindow)
        guard recent.count >= 8,
            let refitted = try? forecaster.fit(times: recent.map(\.time), values: recent.map(\.value))
        else { return }
        let kept = scale
        model = refitted
        (phase, phasePeriod) = Self.phaseBins(refitted)
        seedPhase(from: recent)
        // Carry the current level over: the robust fit may treat a recent shift as outliers.
        let tail = recent.suffix(max(8, Int(1 / max(model.configuration.levelSmoothing, 1e-3))))
        level = Robust.median(tail.map { p in p.value - refitted.baseline(at: p.time) - (bin(p.time).map { phase[$0] } ?? 0) }) ?? 0
        scale = max(kept, refitted.scaleFloor)
    }

    /// The first time after `time` at which the forecast (linear trend, seasonality and the
    /// current level, as PromQL's `predict_linear` extrapolates) reaches `threshold`, scanning
    /// at the sampling step up to `horizon` seconds ahead; nil if it does not within the horizon.
    public func timeToCross(_ threshold: Double, after time: Double, horizon: Double) -> Double? {
        guard threshold.isFinite, time.isFinite, horizon > 0, model.step > 0 else { return nil }
        func value(_ t: Double) -> Double {
            var y = model.baseline(at: t, linearTrend: true) + level
            if let b = bin(t) { y += phase[b] }
            return y
        }
        var previous = value(time)
        guard previous.isFinite else { return nil }
        if previous == threshold { return time }
        let steps = min(Int((horizon / model.step).rounded(.up)), 10_000_000)
        guard steps >= 1 else { return nil }
        for j in 1...steps {
            let t = time + Double(j) * model.step
            let current = value(t)
            if (previous - threshold) * (current - threshold) <= 0 && current != previous {
                let fraction = (threshold - previous) / (current - previous)
                return t - model.step + fraction * model.step
            }
            previous = current
        }
        return nil
    }
}
