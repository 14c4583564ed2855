#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns a stream of shared-scale scores (> 1 anomalous) into NAB scores in [0, 1], causally.
///
/// Two signals are combined, as Numenta's anomaly likelihood does: the squashed score itself,
/// and how unusual the short-term mean score is against its own recent distribution (a Gaussian
/// tail probability, log-scaled). After an output reaches `alarmLevel`, outputs are held at 0
/// for `suppression` points, so one incident raises one alarm.
public struct NABScoreTransform: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var shortWindow = 5
        /// A second, longer averaging window for slow, sustained deviations (0: off).
        public var longWindow = 0
        public var historyLength = 8_000
        /// Weight of the likelihood term against the squashed score (0: squash only, 1: likelihood only).
        public var likelihoodWeight = 0.5
        public var alarmLevel = 0.5
        public var suppression = 100
        /// Outputs held at 0 at the start, while the score distribution settles out of sample.
        public var warmup = 150
        /// Weight of a second detector's score (a level shift), taken as its own likelihood and
        /// combined by maximum (0: off).
        public var levelShiftWeight = 0.0
        public init() {}
    }

    public var configuration: Configuration
    private var short = Likelihood()
    private var long = Likelihood()
    private var shift = Likelihood()
    private var sinceAlarm = Int.max
    private var emitted = 0

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Learns from a score without emitting (e.g. in-sample scores of the training period).
    public mutating func observe(_ score: Double, levelShift: Double = 0) {
        _ = likelihood(score.isFinite ? max(score, 0) : 0)
        if configuration.levelShiftWeight > 0 { _ = shiftLikelihood(levelShift) }
    }

    /// The NAB score for the next shared-scale `score` and level-shift score (NaN counts as 0).
    public mutating func next(_ score: Double, levelShift: Double = 0) -> Double {
        let s = score.isFinite ? max(score, 0) : 0
        let squashed = s <= 1 ? 0 : (s - 1) / s
        let l = likelihood(s)
        let w = min(max(configuration.likelihoodWeight, 0), 1)
        var out = (1 - w) * squashed + w * l
        if configuration.levelShiftWeight > 0 { out = max(out, configuration.levelShiftWeight * shiftLikelihood(levelShift)) }
        out = out.isFinite ? min(max(out, 0), 1) : 0
        emitted += 1
        if emitted <= configuration.warmup { return 0 }
        if sinceAlarm < configuration.suppression {
            sinceAlarm += 1
            return 0
        }
        if out >= configuration.alarmLevel { sinceAlarm = 0 }
        return out
    }

    private mutating func shiftLikelihood(_ value: Double) -> Double {
        shift.next(value.isFinite ? max(value, 0) : 0, window: 1, history: configuration.historyLength)
    }

    private mutating func likelihood(_ s: Double) -> Double {
        let a = short.next(s, window: configuration.shortWindow, history: configuration.historyLength)
        guard configuration.longWindow > 1 else { return a }
        return max(a, long.next(s, window: configuration.longWindow, history: configuration.historyLength))
    }
}

/// Gaussian tail probability of the current moving average against past moving averages, log-scaled to [0, 1].
private struct Likelihood: Sendable {
    var recent: [Double] = []
    var sum = 0.0
    var averages: [Double] = []

    mutating func next(_ s: Double, window: Int, history: Int) -> Double {
        recent.append(s)
        sum += s
        if recent.count > max(window, 1) { sum -= recent.removeFirst() }
        let average = sum / Double(recent.count)
        let n = averages.count
        var result = 0.0
        if n >= 20 {
            let mean = averages.reduce(0, +) / Double(n)
            let variance = averages.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(n)
            let sd = max(variance.squareRoot(), 1e-3)
            let tail = 0.5 * erfc((average - mean) / sd / 2.0.squareRoot())
            result = min(max(log(max(tail, 1e-300)) / log(1e-5), 0), 1)
        }
        averages.append(average)
        if averages.count > history { averages.removeFirst(averages.count - history) }
        return result
    }
}
