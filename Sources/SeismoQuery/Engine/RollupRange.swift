import SeismoCore
import SeismoStore

/// Which stored rollups a range query reads instead of raw samples.
///
/// `min`, `max`, `sum`, `count`, `avg`, `last` and `present_over_time` over a range selector
/// (without `@`, outside subqueries) read buckets when `Resolution.suggested` picks a rollup
/// for the window and the step, and every window `[t - r, t]` is whole buckets: `t - offset`
/// and `r` multiples of the bucket width. The window is then the buckets labelled
/// `t - r + w … t`, plus the sample at `t - r` itself when the bucket labelled `t - r` ends on
/// one (`RollupSeries.edge`). So the results are Prometheus's, up to the order in which floats
/// are added (`avg_over_time` is the sum over the count).
struct RollupPlan: Hashable {
    let matchers: [Matcher]
    let resolution: Resolution

    /// The functions a rollup answers.
    static let functions: Set<Evaluator.RangeFunction> = [
        .minOverTime, .maxOverTime, .sumOverTime, .countOverTime, .avgOverTime, .lastOverTime, .presentOverTime,
    ]

    /// The plan for the call `name(args)` in a range query over `start…end` every `step`,
    /// when rollups answer it; nil to read raw samples.
    static func plan(_ name: String, _ args: [Expr], start: Int64, end: Int64, step: Int64, options: EngineOptions) -> (
        RollupPlan, selector: VectorSelector, range: Int64
    )? {
        guard options.useRollups, end > start, step > 0, let kind = Evaluator.RangeFunction(rawValue: name),
            functions.contains(kind), args.count == 1,
            case .matrixSelector(let selector, let range) = args[0].unwrapped, selector.at == nil
        else { return nil }
        let resolution = Resolution.suggested(window: range, step: step)
        guard resolution.tiles(first: start - selector.offset, step: step, window: range) else { return nil }
        return (RollupPlan(matchers: selector.matchers, resolution: resolution), selector, range)
    }
}

extension Evaluator {
    /// `kind` at every step from the buckets of `plan`, or nil when the call is not planned
    /// (its raw samples were read).
    func precomputeFromRollups(_ kind: RangeFunction, _ args: [Expr], step: Int64) throws(QueryError) -> PrecomputedRange? {
        guard let (plan, selector, range) = RollupPlan.plan(kind.rawValue, args, start: start, end: end, step: step, options: options),
            let series = rollups[plan]
        else { return nil }
        let steps = Int((end - start) / step) + 1
        let labels = resultLabels(kind, series.map(\.labels))
        var values = [Double](repeating: 0, count: steps * series.count)
        var present = [Bool](repeating: false, count: steps * series.count)
        for (index, s) in series.enumerated() {
            if index & 0xFF == 0xFF { try checkDeadline() }
            var lo = 0
            var hi = 0
            for i in 0..<steps {
                let ref = start + Int64(i) * step - selector.offset
                // Buckets labelled in [ref - range, ref]: the first holds at most its edge sample.
                while hi < s.timestamps.count, s.timestamps[hi] <= ref { hi += 1 }
                while lo < hi, s.timestamps[lo] < ref - range { lo += 1 }
                var first = lo
                var edge: Double?
                if first < hi, s.timestamps[first] == ref - range {
                    if s.edge[first] { edge = s.last[first] }
                    first += 1
                }
                guard first < hi || edge != nil else { continue }
                var value: Double
                switch kind {
                case .minOverTime:
                    value = edge ?? s.min[first]
                    for b in first..<hi { value = RollupSeries.minimum(value, s.min[b]) }
                case .maxOverTime:
                    value = edge ?? s.max[first]
                    for b in first..<hi { value = RollupSeries.maximum(value, s.max[b]) }
                case .sumOverTime, .avgOverTime, .countOverTime:
                    var sum = edge ?? 0
                    var count = edge == nil ? 0 : 1
                    for b in first..<hi {
                        sum += s.sum[b]
                        count += s.count[b]
                    }
                    value = kind == .sumOverTime ? sum : kind == .countOverTime ? Double(count) : sum / Double(count)
                case .lastOverTime: value = first < hi ? s.last[hi - 1] : edge!
                default: value = 1
                }
                values[i * series.count + index] = value
                present[i * series.count + index] = true
            }
        }
        // Two series with one label set once the name is dropped: an error where both have samples.
        if kind != .lastOverTime, Set(labels.map(\.identity)).count != labels.count {
            for i in 0..<steps {
                var seen = Set<UInt>()
                for s in labels.indices where present[i * series.count + s] && !seen.insert(labels[s].identity).inserted {
                    throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
                }
            }
        }
        return PrecomputedRange(start: start, step: step, steps: steps, labels: labels, values: values, present: present)
    }
}
