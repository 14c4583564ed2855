/// The `zscore` detector: for each feature, a robust z-score against a rolling median and
/// median absolute deviation (MAD) of its last `history` values.
///
/// A feature's z-score is |x − median| / (1.4826 · MAD), so for normal data it matches the
/// classic z-score, while an incident inside the history moves neither the median nor the
/// MAD much. The score is the largest feature z divided by `z`, so a score above 1 means
/// "more than `z` robust standard deviations from normal" — the shared scale of every
/// detector. When the MAD is zero (a flat history) the scale falls back to the mean absolute
/// deviation, then to a small fraction of the median's size, so a change off a flat line
/// scores high but finite.
public struct RollingZScore: StreamingDetector {
    /// Parameters, with the YAML defaults.
    public struct Parameters: Sendable, Hashable {
        /// Values kept per feature.
        public var history: Int
        /// Values needed before anything is scored.
        public var minHistory: Int
        /// The robust z that maps to score 1.
        public var z: Double
        /// Overrides the threshold on the shared scale (1 by default).
        public var threshold: Double

        public init(history: Int = 60, minHistory: Int = 10, z: Double = 3.5, threshold: Double = 1) {
            self.history = max(3, history)
            self.minHistory = min(max(3, minHistory), self.history)
            self.z = z
            self.threshold = threshold
        }
    }

    public let featureNames: [String]
    public let parameters: Parameters
    private var rings: [Ring]

    public init(featureNames: [String], parameters: Parameters = Parameters()) {
        self.featureNames = featureNames
        self.parameters = parameters
        rings = Array(repeating: Ring(capacity: parameters.history), count: featureNames.count)
    }

    public func score(_ values: [Double]) -> StreamingVerdict? {
        var best: (index: Int, z: Double, median: Double, scale: Double)?
        var contributions: [FeatureContribution] = []
        for (index, x) in values.enumerated() where index < rings.count && x.isFinite {
            let ring = rings[index]
            guard ring.count >= parameters.minHistory else { continue }
            let (median, scale) = ring.robustCenterAndScale()
            let z = abs(x - median) / scale
            contributions.append(FeatureContribution(feature: featureNames[index], weight: z))
            if best == nil || z > best!.z { best = (index, z, median, scale) }
        }
        guard let best else { return nil }
        contributions.sort { $0.weight > $1.weight }
        let half = parameters.z * best.scale
        return StreamingVerdict(
            score: best.z / parameters.z, threshold: parameters.threshold,
            expected: best.median, lower: best.median - half, upper: best.median + half,
            contributions: contributions)
    }

    public mutating func learn(_ values: [Double]) {
        for (index, x) in values.enumerated() where index < rings.count && x.isFinite {
            rings[index].append(x)
        }
    }

    /// Values learned so far for feature `index` (at most `history`).
    public func historyCount(feature index: Int) -> Int { rings[index].count }
}

/// A fixed-size ring of the newest values.
private struct Ring: Sendable {
    private var values: [Double] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) { self.capacity = capacity }

    var count: Int { values.count }

    mutating func append(_ x: Double) {
        if values.count < capacity {
            values.append(x)
        } else {
            values[next] = x
            next = (next + 1) % capacity
        }
    }

    /// Median and robust scale (1.4826·MAD, with fallbacks so it is never zero).
    func robustCenterAndScale() -> (median: Double, scale: Double) {
        var sorted = values.sorted()
        let median = Ring.median(ofSorted: sorted)
        for i in sorted.indices { sorted[i] = abs(sorted[i] - median) }
        sorted.sort()
        let mad = Ring.median(ofSorted: sorted)
        if mad > 0 { return (median, 1.4826 * mad) }
        let meanAbsolute = sorted.reduce(0, +) / Double(sorted.count)
        if meanAbsolute > 0 { return (median, 1.2533 * meanAbsolute) }
        return (median, Swift.max(abs(median) * 1e-3, 1e-9))
    }

    static func median(ofSorted xs: [Double]) -> Double {
        let n = xs.count
        return n % 2 == 1 ? xs[n / 2] : (xs[n / 2 - 1] + xs[n / 2]) / 2
    }
}
