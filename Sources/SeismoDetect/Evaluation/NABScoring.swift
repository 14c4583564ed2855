#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Numenta Anomaly Benchmark's scoring rules for binary detections at a fixed threshold
/// (NAB v1: scaled-sigmoid window rewards, probation period, per-profile cost matrix, normalised
/// so that a detector that finds nothing scores 0 and a perfect one 100).
///
/// Per series, rows are indexed in time order; a labelled window spans the rows `start...end`.
/// The first min(⌊0.15·n⌋, 750) rows are probation and ignored. The earliest detection in a
/// window earns `tp · σ(−(end − i + 1)/width) / σ(−1)`; a window without one costs `−fn`. A
/// detection outside every window costs `fp · σ(|i − end′| / (width′ − 1))` after the previous
/// window (end′, width′), or `−fp` before any, where σ(x) = 2/(1 + e^{5x}) − 1 (−1 beyond x = 3).
public enum NABScoring {
    public struct Profile: Sendable, Equatable {
        public var name: String
        public var tp: Double
        public var fn: Double
        public var fp: Double

        public static let standard = Profile(name: "standard", tp: 1, fn: 1, fp: 0.11)
        public static let lowFalsePositives = Profile(name: "reward_low_FP_rate", tp: 1, fn: 1, fp: 0.22)
        public static let lowFalseNegatives = Profile(name: "reward_low_FN_rate", tp: 1, fn: 2, fp: 0.11)
        public static let all = [standard, lowFalsePositives, lowFalseNegatives]
    }

    /// One series: its detections (one per row, in time order) and labelled windows (row ranges).
    public struct Series: Sendable, Equatable {
        public var detections: [Bool]
        public var windows: [ClosedRange<Int>]

        public init(detections: [Bool], windows: [ClosedRange<Int>]) {
            self.detections = detections
            self.windows = windows.sorted { $0.lowerBound < $1.lowerBound }
        }
    }

    /// Raw, null and perfect scores and the normalised NAB score of one profile.
    public struct Result: Sendable, Equatable {
        public var raw: Double
        public var null: Double
        public var perfect: Double
        public var normalised: Double
    }

    static func sigma(_ x: Double) -> Double { x > 3 ? -1 : 2 / (1 + exp(5 * x)) - 1 }

    /// Rows of probation for a series of `n` rows.
    public static func probation(rows n: Int) -> Int { min(Int((0.15 * Double(n)).rounded(.down)), 750) }

    /// Per row: the window index (-1 outside) and the unweighted position value.
    static func positions(_ s: Series) -> (window: [Int], value: [Double]) {
        let n = s.detections.count
        var window = [Int](repeating: -1, count: n)
        var value = [Double](repeating: -1, count: n)
        for (k, w) in s.windows.enumerated() {
            let lo = max(w.lowerBound, 0), hi = min(w.upperBound, n - 1)
            guard lo <= hi else { continue }
            let width = Double(w.upperBound - w.lowerBound + 1)
            for i in lo...hi {
                window[i] = k
                value[i] = sigma(-Double(w.upperBound - i + 1) / width)
            }
            let next = k + 1 < s.windows.count ? s.windows[k + 1].lowerBound : n
            if next > hi + 1 {
                for i in (hi + 1)..<min(next, n) {
                    let d = Double(abs(w.upperBound - i)) / (width - 1)
                    value[i] = sigma(d.isNaN ? .infinity : d)
                }
            }
        }
        return (window, value)
    }

    /// The raw score of `series` under `profile` (with `detections` overriding each series' own).
    static func rawScore(_ series: [Series], _ profile: Profile, detectAll: Bool = false) -> Double {
        let maxTP = sigma(-1)
        var total = 0.0
        for s in series {
            let (window, value) = positions(s)
            let start = probation(rows: s.detections.count)
            var best: [Int: Double] = [:]
            var scored = Set<Int>()
            for i in start..<s.detections.count {
                if window[i] >= 0 { scored.insert(window[i]) }
                guard detectAll || s.detections[i] else { continue }
                if window[i] >= 0 {
                    let w = value[i] * profile.tp / maxTP
                    best[window[i]] = max(best[window[i]] ?? -.infinity, w)
                } else {
                    total += value[i] * profile.fp
                }
            }
            total += best.values.reduce(0, +) - profile.fn * Double(scored.count - best.count)
        }
        return total
    }

    /// Scores `series` under `profile`; the null score is the better of detecting nothing and
    /// detecting every row (a constant detector), the perfect one `tp` per window.
    public static func score(_ series: [Series], profile: Profile = .standard) -> Result {
        let raw = rawScore(series, profile)
        let nothing = rawScore(series.map { Series(detections: [Bool](repeating: false, count: $0.detections.count), windows: $0.windows) }, profile)
        let null = max(nothing, rawScore(series, profile, detectAll: true))
        let perfect = profile.tp * Double(series.reduce(0) { $0 + $1.windows.count })
        let normalised = perfect == null ? 0 : 100 * (raw - null) / (perfect - null)
        return Result(raw: raw, null: null, perfect: perfect, normalised: normalised)
    }
}
