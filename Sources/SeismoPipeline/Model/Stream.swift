import SeismoCore

/// One stream: the series it selects from a topic, its windows, its grouping, and the
/// features computed per window × group.
public struct StreamSpec: Sendable, Hashable {
    public var name: String
    /// The signal topic it reads.
    public var topic: String
    /// Only series matching every matcher enter the stream (PromQL matcher syntax).
    public var selector: [Matcher]
    public var window: WindowSpec
    public var grouping: Grouping
    /// Aggregations, in declaration order; each is also a feature.
    public var aggregations: [AggregationSpec]
    /// Features derived from aggregations (and earlier derived features), in declaration order.
    public var derived: [DerivedFeatureSpec]

    public init(
        name: String, topic: String, selector: [Matcher] = [], window: WindowSpec, grouping: Grouping = .by([]),
        aggregations: [AggregationSpec], derived: [DerivedFeatureSpec] = []
    ) {
        self.name = name
        self.topic = topic
        self.selector = selector
        self.window = window
        self.grouping = grouping
        self.aggregations = aggregations
        self.derived = derived
    }

    /// Every feature's name: aggregations first, then derived features. A window output's
    /// values come in this order.
    public var featureNames: [String] { aggregations.map(\.name) + derived.map(\.name) }
}

/// Window shape and event-time policy.
public struct WindowSpec: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case tumbling, hopping }
    /// What happens to a record whose window has already closed.
    public enum LatePolicy: String, Sendable, Hashable, CaseIterable {
        /// Count it and drop it.
        case drop
        /// Count it, fold it into the closed window, and emit that window again.
        case update
    }

    public var kind: Kind
    public var size: Duration
    /// Distance between window starts; equals `size` for tumbling windows.
    public var hop: Duration
    /// The watermark trails the partition's maximum event time by this much.
    public var allowedLateness: Duration
    /// A partition with no records for this long (processing time) stops holding the
    /// worker's windows back: its watermark follows the worker's other partitions.
    public var idleTimeout: Duration
    public var latePolicy: LatePolicy
    /// With `.update`, how long past its close a window is kept for late records.
    public var lateRetention: Duration

    public init(
        kind: Kind, size: Duration, hop: Duration? = nil, allowedLateness: Duration = .zero,
        idleTimeout: Duration = .seconds(30), latePolicy: LatePolicy = .drop, lateRetention: Duration? = nil
    ) {
        self.kind = kind
        self.size = size
        self.hop = kind == .tumbling ? size : (hop ?? size)
        self.allowedLateness = allowedLateness
        self.idleTimeout = idleTimeout
        self.latePolicy = latePolicy
        self.lateRetention = lateRetention ?? size
    }

    public static func tumbling(_ size: Duration) -> WindowSpec { WindowSpec(kind: .tumbling, size: size) }
}

/// Which labels name a window group.
public enum Grouping: Sendable, Hashable {
    /// Keep only these labels (PromQL `by`); `.by([])` is one group for the whole stream.
    case by([String])
    /// Keep every label but these, and the metric name (PromQL `without`).
    case without([String])

    /// The group labels of a series with `labels`.
    public func groupLabels(of labels: Labels) -> Labels {
        switch self {
        case .by(let names): return labels.keeping(Set(names))
        case .without(let names): return labels.removing(Set(names).union([Labels.metricName]))
        }
    }
}

/// One aggregation over the samples of a window group that match `selector`.
public struct AggregationSpec: Sendable, Hashable {
    public var name: String
    public var function: AggregationFunction
    /// Narrows the stream's series for this aggregation (often just `__name__`).
    public var selector: [Matcher]

    public init(name: String, function: AggregationFunction, selector: [Matcher] = []) {
        self.name = name
        self.function = function
        self.selector = selector
    }
}

/// The aggregation functions a stream offers.
public enum AggregationFunction: Sendable, Hashable {
    case count, sum, min, max, avg, last, stddev
    /// Per-second increase of counters, summed over the group's series; a decrease is a reset.
    case rate
    /// Increase of counters over the window, summed over the group's series; a decrease is a reset.
    case increase
    /// The `q`-quantile from a mergeable sketch whose answers are within `relativeError` of the truth.
    case quantile(q: Double, relativeError: Double)

    /// The YAML name (`quantile` for every quantile).
    public var name: String {
        switch self {
        case .count: "count"
        case .sum: "sum"
        case .min: "min"
        case .max: "max"
        case .avg: "avg"
        case .last: "last"
        case .stddev: "stddev"
        case .rate: "rate"
        case .increase: "increase"
        case .quantile: "quantile"
        }
    }
}

/// A feature computed from the window's other features, e.g. `error_ratio: errors / requests`.
public struct DerivedFeatureSpec: Sendable, Hashable {
    public var name: String
    public var expression: FeatureExpression
    /// The expression as written, for messages and documentation.
    public var source: String

    public init(name: String, expression: FeatureExpression, source: String) {
        self.name = name
        self.expression = expression
        self.source = source
    }
}

/// Arithmetic over features: numbers, feature names, `+ - * /`, unary minus, parentheses,
/// and the functions `abs`, `sqrt`, `ln`, `log10`, `exp`, `min`, `max`.
public indirect enum FeatureExpression: Sendable, Hashable {
    case number(Double)
    case feature(String)
    case negate(FeatureExpression)
    case binary(BinaryOperator, FeatureExpression, FeatureExpression)
    case call(Function, [FeatureExpression])

    public enum BinaryOperator: String, Sendable, Hashable { case add = "+", subtract = "-", multiply = "*", divide = "/" }
    public enum Function: String, Sendable, Hashable, CaseIterable { case abs, sqrt, ln, log10, exp, min, max }

    /// The features the expression reads.
    public var references: Set<String> {
        switch self {
        case .number: []
        case .feature(let name): [name]
        case .negate(let inner): inner.references
        case .binary(_, let lhs, let rhs): lhs.references.union(rhs.references)
        case .call(_, let args): args.reduce(into: []) { $0.formUnion($1.references) }
        }
    }

    /// The value given the features' values; NaN propagates, `x / 0` follows IEEE 754
    /// (as PromQL does), a missing feature is NaN.
    public func evaluate(_ value: (String) -> Double?) -> Double {
        switch self {
        case .number(let x): return x
        case .feature(let name): return value(name) ?? .nan
        case .negate(let inner): return -inner.evaluate(value)
        case .binary(let op, let lhs, let rhs):
            let a = lhs.evaluate(value), b = rhs.evaluate(value)
            switch op {
            case .add: return a + b
            case .subtract: return a - b
            case .multiply: return a * b
            case .divide: return a / b
            }
        case .call(let fn, let args):
            let xs = args.map { $0.evaluate(value) }
            switch fn {
            case .abs: return Swift.abs(xs[0])
            case .sqrt: return xs[0].squareRoot()
            case .ln: return _log(xs[0])
            case .log10: return _log(xs[0]) / _log(10)
            case .exp: return _exp(xs[0])
            case .min: return xs.contains { $0.isNaN } ? .nan : xs.min() ?? .nan
            case .max: return xs.contains { $0.isNaN } ? .nan : xs.max() ?? .nan
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
private func _log(_ x: Double) -> Double { Glibc.log(x) }
private func _exp(_ x: Double) -> Double { Glibc.exp(x) }
#else
import Darwin
private func _log(_ x: Double) -> Double { Darwin.log(x) }
private func _exp(_ x: Double) -> Double { Darwin.exp(x) }
#endif
