import SeismoCore
import SeismoPipeline

/// One aggregation as the hot path sees it.
enum AggregationKind: Sendable {
    case count, sum, min, max, avg, last, stddev, rate, increase
    /// `sketch` indexes the pane's sketches of one group.
    case quantile(q: Double, sketch: Int)

    var isCounter: Bool {
        switch self {
        case .rate, .increase: true
        default: false
        }
    }
}

/// The running state of one aggregation of one group in one pane: plain values, merged
/// across a window's panes when it closes. Quantile sketches live beside it.
struct AggregationState: Sendable {
    /// Samples (or, for rate/increase, consecutive pairs) folded in.
    var count: Int = 0
    /// Sum of values, or of increases for rate/increase.
    var sum: Double = 0
    var min: Double = .infinity
    var max: Double = -.infinity
    /// Welford's running mean and sum of squared deviations (for stddev).
    var mean: Double = 0
    var m2: Double = 0
    /// The value at the latest timestamp (for last).
    var lastTimestamp: Int64 = .min
    var lastValue: Double = .nan

    @inline(__always)
    mutating func add(_ value: Double, at timestamp: Int64, kind: AggregationKind) {
        count += 1
        switch kind {
        case .count, .quantile, .rate, .increase: break
        case .sum, .avg: sum += value
        case .min: if value < min { min = value }
        case .max: if value > max { max = value }
        case .last:
            if timestamp >= lastTimestamp {
                lastTimestamp = timestamp
                lastValue = value
            }
        case .stddev:
            let delta = value - mean
            mean += delta / Double(count)
            m2 += delta * (value - mean)
        }
    }

    /// Folds in one increase of a counter series (for rate/increase).
    @inline(__always)
    mutating func addIncrease(_ increase: Double) {
        count += 1
        sum += increase
    }

    /// Folds in the state of the same aggregation over other samples (Chan et al. for the
    /// mean and squared deviations).
    mutating func merge(_ other: AggregationState) {
        guard other.count > 0 else { return }
        guard count > 0 else {
            self = other
            return
        }
        let n1 = Double(count), n2 = Double(other.count), n = n1 + n2
        let delta = other.mean - mean
        mean += delta * n2 / n
        m2 += other.m2 + delta * delta * n1 * n2 / n
        count += other.count
        sum += other.sum
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        if other.lastTimestamp >= lastTimestamp {
            lastTimestamp = other.lastTimestamp
            lastValue = other.lastValue
        }
    }

    /// The aggregation's value; NaN when nothing was folded in, except count (0).
    func result(_ kind: AggregationKind, windowSeconds: Double, sketches: ArraySlice<QuantileSketch>) -> Double {
        if count == 0 { if case .count = kind { return 0 } else { return .nan } }
        switch kind {
        case .count: return Double(count)
        case .sum, .increase: return sum
        case .avg: return sum / Double(count)
        case .min: return min
        case .max: return max
        case .last: return lastValue
        case .stddev: return (m2 / Double(count)).squareRoot()
        case .rate: return sum / windowSeconds
        case .quantile(let q, let sketch): return sketches[sketches.startIndex + sketch].quantile(q)
        }
    }
}

/// A stream spec checked and turned into what the hot path needs.
struct CompiledStream: Sendable {
    let name: String
    let selector: [Matcher]
    let grouping: Grouping
    /// Window size and hop (pane length) in milliseconds; `panesPerWindow = size / hop`.
    let size: Int64
    let hop: Int64
    let panesPerWindow: Int64
    let allowedLateness: Int64
    let idleTimeout: Int64
    let latePolicy: WindowSpec.LatePolicy
    /// How long after its close a window still takes late samples (0 with `.drop`).
    let retention: Int64
    let kinds: [AggregationKind]
    let aggregationSelectors: [[Matcher]]
    /// One empty sketch per quantile aggregation, in order (their relative errors).
    let sketchTemplates: [QuantileSketch]
    let derived: [FeatureExpression]
    /// Feature name → position in `WindowOutput.values` (the first one, when repeated).
    let featureIndex: [String: Int]
    let windowSeconds: Double
    /// Two samples of a series further apart than this make no pair for rate/increase: the
    /// later one starts the series anew, as if it had been forgotten.
    let pairGap: Int64
    /// Per-series state unseen for this long (behind the watermark) is forgotten: long
    /// enough that any sample it could still pair with is past `pairGap`, so forgetting
    /// never changes a result, only memory.
    let seriesHorizon: Int64
    /// Groups unseen for this long are forgotten (no retained pane can hold them then).
    let groupHorizon: Int64

    /// Event timestamps beyond ±2^60 ms are treated as invalid, so that arithmetic on
    /// window bounds cannot overflow.
    static let timestampBound: Int64 = 1 << 60

    init(_ spec: StreamSpec) throws(StreamError) {
        let window = spec.window
        func fail(_ message: String) -> StreamError {
            StreamError(.invalidStream, message, context: spec.name)
        }
        size = window.size.milliseconds
        hop = window.hop.milliseconds
        guard size > 0, hop > 0 else { throw fail("window size and hop must be at least 1ms") }
        guard size % hop == 0 else { throw fail("window hop must divide its size") }
        allowedLateness = window.allowedLateness.milliseconds
        idleTimeout = window.idleTimeout.milliseconds
        let lateRetention = window.lateRetention.milliseconds
        guard allowedLateness >= 0, idleTimeout >= 0, lateRetention >= 0 else {
            throw fail("allowed lateness, idle timeout and late retention must not be negative")
        }
        let bound = Int64(1) << 50
        guard size < bound, allowedLateness < bound, lateRetention < bound else {
            throw fail("window durations are out of range")
        }
        guard spec.aggregations.count + spec.derived.count > 0 else { throw fail("a stream needs a feature") }
        name = spec.name
        selector = spec.selector
        grouping = spec.grouping
        panesPerWindow = size / hop
        latePolicy = window.latePolicy
        retention = window.latePolicy == .update ? lateRetention : 0
        var kinds: [AggregationKind] = []
        var sketches: [QuantileSketch] = []
        for aggregation in spec.aggregations {
            switch aggregation.function {
            case .count: kinds.append(.count)
            case .sum: kinds.append(.sum)
            case .min: kinds.append(.min)
            case .max: kinds.append(.max)
            case .avg: kinds.append(.avg)
            case .last: kinds.append(.last)
            case .stddev: kinds.append(.stddev)
            case .rate: kinds.append(.rate)
            case .increase: kinds.append(.increase)
            case .quantile(let q, let relativeError):
                guard q >= 0, q <= 1 else { throw fail("quantile \(aggregation.name): q must be in [0, 1]") }
                guard relativeError > 0, relativeError < 1 else {
                    throw fail("quantile \(aggregation.name): relative error must be in (0, 1)")
                }
                kinds.append(.quantile(q: q, sketch: sketches.count))
                sketches.append(QuantileSketch(relativeError: relativeError))
            }
        }
        self.kinds = kinds
        sketchTemplates = sketches
        aggregationSelectors = spec.aggregations.map(\.selector)
        derived = spec.derived.map(\.expression)
        var index: [String: Int] = [:]
        for (position, name) in spec.featureNames.enumerated() where index[name] == nil { index[name] = position }
        featureIndex = index
        windowSeconds = Double(size) / 1000
        pairGap = 2 * (size + allowedLateness)
        seriesHorizon = pairGap + size + retention
        groupHorizon = seriesHorizon + retention
    }
}
