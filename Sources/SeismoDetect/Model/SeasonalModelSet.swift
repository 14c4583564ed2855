/// The seasonal detector's model: one ``SeasonalModel`` per (group, feature), each with the tail of
/// its training data (a tracker seeds its per-phase profile from it), and the threshold on the band
/// score calibrated on the training data.
///
/// The band score of a point is |value − yhat| / band half-width; the shared-scale score is that
/// divided by ``threshold``, so above 1 is anomalous.
public struct SeasonalModelSet: Sendable, Equatable {
    /// One fitted series.
    public struct Entry: Sendable, Equatable {
        /// The group's labels in Prometheus notation (`{}` for a stream without `by`).
        public var group: String
        public var feature: String
        public var model: SeasonalModel
        /// Training data the tracker starts from (seconds, values), oldest first.
        public var historyTimes: [Double]
        public var historyValues: [Double]

        public init(group: String, feature: String, model: SeasonalModel, historyTimes: [Double], historyValues: [Double]) {
            self.group = group
            self.feature = feature
            self.model = model
            self.historyTimes = historyTimes
            self.historyValues = historyValues
        }

        /// A tracker in the state the live pipeline starts from.
        public func tracker() -> SeasonalTracker {
            SeasonalTracker(model: model, history: zip(historyTimes, historyValues).map { (time: $0, value: $1) })
        }
    }

    public var featureNames: [String]
    /// The band score that maps to 1 on the shared scale.
    public var threshold: Double
    public var entries: [Entry]

    public init(featureNames: [String], threshold: Double, entries: [Entry]) {
        self.featureNames = featureNames
        self.threshold = threshold
        self.entries = entries
    }

    /// Training points kept per series for the tracker's start.
    public static let historyLimit = 10_000

    /// Fits one model per series and calibrates the threshold so that a fraction `falsePositiveRate`
    /// of the training points (scored in order by a tracker started from the training data) exceeds it.
    public static func fit(
        series: [(group: String, feature: String, times: [Double], values: [Double])],
        configuration: SeasonalConfiguration, falsePositiveRate: Double,
        progress: (_ done: Int, _ total: Int) -> Void = { _, _ in }
    ) throws -> SeasonalModelSet {
        guard falsePositiveRate > 0, falsePositiveRate < 1 else {
            throw DetectError(.invalidParameter, "falsePositiveRate must be in (0, 1), got \(falsePositiveRate)")
        }
        guard !series.isEmpty else { throw DetectError(.invalidData, "no series to fit") }
        let forecaster = SeasonalForecaster(configuration: configuration)
        var set = SeasonalModelSet(featureNames: [], threshold: 1, entries: [])
        for (i, s) in series.enumerated() {
            progress(i, series.count)
            let model = try forecaster.fit(times: s.times, values: s.values)
            let keep = max(0, s.times.count - historyLimit)
            set.entries.append(
                Entry(
                    group: s.group, feature: s.feature, model: model, historyTimes: Array(s.times[keep...]),
                    historyValues: Array(s.values[keep...])))
            if !set.featureNames.contains(s.feature) { set.featureNames.append(s.feature) }
        }
        let scores = set.inSampleScores(series)
        guard !scores.isEmpty else { throw DetectError(.invalidData, "no finite training points") }
        set.threshold = Calibration.threshold(scores, falsePositiveRate: falsePositiveRate)
        return set
    }

    /// The entry for `group` and `feature`.
    public func entry(group: String, feature: String) -> Entry? {
        entries.first { $0.group == group && $0.feature == feature }
    }
}

/// Thresholds at a target false-positive rate, the same rule for every detector.
public enum Calibration {
    /// The `1 − falsePositiveRate` quantile of `scores` (linear interpolation), at least the smallest
    /// positive normal number: the raw score a fraction `falsePositiveRate` of the training rows exceeds.
    public static func threshold(_ scores: [Double], falsePositiveRate: Double) -> Double {
        let finite = scores.filter(\.isFinite)
        guard !finite.isEmpty else { return 1 }
        return Isolation.calibrate(finite, falsePositiveRate: falsePositiveRate)
    }

    /// The fraction of `scores` above `threshold`.
    public static func exceedance(_ scores: [Double], threshold: Double) -> Double {
        scores.isEmpty ? 0 : Double(scores.filter { $0 > threshold }.count) / Double(scores.count)
    }
}

/// Weights-file layout of ``SeasonalModelSet`` (kind 4).
///
/// Payload: feature names (strings), threshold (f64), entry count (u64), then per entry: group (string),
/// feature (string), the model — periods (f64s), step, residual scale, training end (f64 each), the
/// configuration (has periods u8, periods f64s, candidate periods f64s, period threshold f64, harmonics u64,
/// trend u8, band width f64, robust iterations u64, level/seasonal/scale smoothing f64, update clip f64,
/// trend damping f64, refit interval u64, refit window u64), origin, span (f64), frequencies (f64s),
/// coefficients (f64s), scale floor (f64) — then history times (f64s) and values (f64s).
extension SeasonalModelSet: PersistableModel {
    public static var kind: ModelKind { .seasonal }

    public func encodePayload(into w: inout ModelWriter) {
        w.strings(featureNames)
        w.f64(threshold)
        w.array(entries) { w, e in
            w.string(e.group)
            w.string(e.feature)
            let m = e.model
            w.f64s(m.periods)
            w.f64(m.step)
            w.f64(m.residualScale)
            w.f64(m.trainingEnd)
            let c = m.configuration
            w.bool(c.periods != nil)
            w.f64s(c.periods ?? [])
            w.f64s(c.candidatePeriods)
            w.f64(c.periodThreshold)
            w.int(c.harmonics)
            w.bool(c.trend)
            w.f64(c.bandWidth)
            w.int(c.robustIterations)
            w.f64(c.levelSmoothing)
            w.f64(c.seasonalSmoothing)
            w.f64(c.scaleSmoothing)
            w.f64(c.updateClip)
            w.f64(c.trendDamping)
            w.int(c.refitInterval)
            w.int(c.refitWindow)
            w.f64(m.origin)
            w.f64(m.span)
            w.f64s(m.frequencies)
            w.f64s(m.coefficients)
            w.f64(m.scaleFloor)
            w.f64s(e.historyTimes)
            w.f64s(e.historyValues)
        }
    }

    public static func decodePayload(from r: inout ModelReader) throws -> SeasonalModelSet {
        let names = try r.strings()
        let threshold = try r.f64()
        let entries = try r.array(elementSize: 64) { r -> Entry in
            let group = try r.string()
            let feature = try r.string()
            let periods = try r.f64s()
            let step = try r.f64()
            let residualScale = try r.f64()
            let trainingEnd = try r.f64()
            let hasPeriods = try r.bool()
            let configuredPeriods = try r.f64s()
            var c = SeasonalConfiguration(periods: hasPeriods ? configuredPeriods : nil)
            c.candidatePeriods = try r.f64s()
            c.periodThreshold = try r.f64()
            c.harmonics = try r.int()
            c.trend = try r.bool()
            c.bandWidth = try r.f64()
            c.robustIterations = try r.int()
            c.levelSmoothing = try r.f64()
            c.seasonalSmoothing = try r.f64()
            c.scaleSmoothing = try r.f64()
            c.updateClip = try r.f64()
            c.trendDamping = try r.f64()
            c.refitInterval = try r.int()
            c.refitWindow = try r.int()
            let origin = try r.f64()
            let span = try r.f64()
            let frequencies = try r.f64s()
            let coefficients = try r.f64s()
            let scaleFloor = try r.f64()
            let times = try r.f64s()
            let values = try r.f64s()
            try PayloadCheck.require(
                coefficients.count == 1 + (c.trend ? 1 : 0) + 2 * frequencies.count,
                "\(coefficients.count) coefficients for \(frequencies.count) frequencies")
            try PayloadCheck.require(times.count == values.count, "history times and values differ in length")
            try PayloadCheck.require(step > 0 && span > 0 && residualScale > 0, "bad step, span or scale")
            try PayloadCheck.require(names.contains(feature), "entry for unknown feature \(feature)")
            let model = SeasonalModel(
                periods: periods, step: step, residualScale: residualScale, trainingEnd: trainingEnd,
                configuration: c, origin: origin, span: span, frequencies: frequencies,
                coefficients: coefficients, scaleFloor: scaleFloor)
            return Entry(group: group, feature: feature, model: model, historyTimes: times, historyValues: values)
        }
        try PayloadCheck.require(threshold > 0, "threshold must be positive")
        return SeasonalModelSet(featureNames: names, threshold: threshold, entries: entries)
    }
}
