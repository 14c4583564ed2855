/// A detector that scores one window × group at a time, learning as it goes.
///
/// One value holds the state of one group; the worker keeps one per (detector, group).
/// `score` never changes the state and `learn` never scores, so a re-emitted (updated)
/// window can be scored again without counting it twice, and a restarted worker can
/// rebuild the state by `learn`ing the stored history.
public protocol StreamingDetector: Sendable {
    /// Scores `values` (one per feature, in the detector's feature order; NaN = missing),
    /// or nil while the history is too short to judge.
    func score(_ values: [Double]) -> StreamingVerdict?
    /// Adds `values` to the history.
    mutating func learn(_ values: [Double])
    /// Scores `values` observed at `time` (the window end, seconds since the epoch). Detectors
    /// that forecast in time (seasonal) need it; the default ignores the time.
    func score(_ values: [Double], at time: Double) -> StreamingVerdict?
    /// Adds `values` observed at `time` to the history; the default ignores the time.
    mutating func learn(_ values: [Double], at time: Double)
    /// Seconds after `time` until the forecast of feature `index` rises to `threshold` (with
    /// `below`, falls to it), looking at most `horizon` seconds ahead: 0 when it already has,
    /// nil when it does not within the horizon. Only forecasting detectors answer; the default is nil.
    func timeToCross(feature index: Int, threshold: Double, after time: Double, horizon: Double, below: Bool) -> Double?
}

extension StreamingDetector {
    public func score(_ values: [Double], at time: Double) -> StreamingVerdict? { score(values) }
    public mutating func learn(_ values: [Double], at time: Double) { learn(values) }
    public func timeToCross(feature index: Int, threshold: Double, after time: Double, horizon: Double, below: Bool) -> Double? {
        nil
    }
}

/// What a streaming detector says about one observation.
public struct StreamingVerdict: Sendable, Equatable {
    /// On the shared scale: above `threshold` is anomalous (1 unless overridden).
    public var score: Double
    public var threshold: Double
    /// The expected value and band of the feature that contributed most.
    public var expected: Double?
    public var lower: Double?
    public var upper: Double?
    /// Features by contribution, strongest first.
    public var contributions: [FeatureContribution]

    public init(
        score: Double, threshold: Double, expected: Double? = nil, lower: Double? = nil, upper: Double? = nil,
        contributions: [FeatureContribution]
    ) {
        self.score = score
        self.threshold = threshold
        self.expected = expected
        self.lower = lower
        self.upper = upper
        self.contributions = contributions
    }

    /// True when the score crosses the threshold.
    public var isAnomalous: Bool { score > threshold }
}
