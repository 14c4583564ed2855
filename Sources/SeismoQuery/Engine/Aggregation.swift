import Foundation
import SeismoCore

extension Evaluator {
    private struct Group {
        var labels: Labels
        var value: Double
        var mean: Double
        var count: Int
        var heap: [InstantSample]
        var values: [Double]
    }

    /// `sum`, `avg`, … `count_values` over the vector of `inner` at `t`, grouped `by`/`without`.
    func aggregate(
        _ op: AggregateOperator, _ inner: Expr, _ paramExpr: Expr?, _ grouping: [String], _ without: Bool, _ t: Int64
    ) throws(QueryError) -> [InstantSample] {
        var k = 0
        var q = 0.0
        var valueLabel = ""
        if let paramExpr {
            switch op {
            case .topk, .bottomk:
                let p = try scalar(paramExpr, t)
                guard p.isFinite || p.isNaN, abs(p) < 9.2e18, !p.isNaN else {
                    throw QueryError(.execution, "Scalar value \(formatPromFloat(p)) overflows int64")
                }
                k = Int(p)
            case .quantile: q = try scalar(paramExpr, t)
            case .countValues:
                valueLabel = try string(paramExpr, t)
                guard Labels.isValidLabelName(valueLabel) else {
                    throw QueryError(.execution, "invalid label name \"\(valueLabel)\"")
                }
            default: break
            }
        }
        let input = try vector(inner, t)
        if (op == .topk || op == .bottomk) && k < 1 { return [] }
        var names = Set(grouping)
        if op == .countValues, !without { names.insert(valueLabel) }
        if without { names.insert(Labels.metricName) }

        // Group keys are canonical (see `LabelMemo`): a group is found by the key's identity.
        let derivation: LabelMemo.Derivation = without ? .removing(names) : .keeping(names)
        let derivationID = memo.id(of: derivation)
        var index: [UInt: Int] = [:]
        var groups: [Group] = []
        for sample in input {
            let key: Labels
            if op == .countValues {
                let metric = sample.labels.with(valueLabel, formatPromFloat(sample.value))
                key = memo.intern(without ? metric.removing(names) : metric.keeping(names))
            } else {
                key = memo.derive(derivation, id: derivationID, from: sample.labels)
            }
            guard let gi = index[key.identity] else {
                index[key.identity] = groups.count
                var g = Group(labels: key, value: sample.value, mean: sample.value, count: 1, heap: [], values: [])
                switch op {
                case .count, .countValues, .group: g.value = 1
                case .stddev, .stdvar: g.value = 0
                case .topk, .bottomk: g.heap = [sample]
                case .quantile: g.values = [sample.value]
                default: break
                }
                groups.append(g)
                continue
            }
            let v = sample.value
            switch op {
            case .sum: groups[gi].value += v
            case .avg:
                groups[gi].count += 1
                let mean = groups[gi].mean
                let n = Double(groups[gi].count)
                if mean.isInfinite {
                    if v.isInfinite && (mean > 0) == (v > 0) { break }
                    if !v.isInfinite && !v.isNaN { break }
                }
                groups[gi].mean += v / n - mean / n
            case .max:
                if groups[gi].value < v || groups[gi].value.isNaN { groups[gi].value = v }
            case .min:
                if groups[gi].value > v || groups[gi].value.isNaN { groups[gi].value = v }
            case .count, .countValues: groups[gi].value += 1
            case .group: break
            case .stddev, .stdvar:
                groups[gi].count += 1
                let delta = v - groups[gi].mean
                groups[gi].mean += delta / Double(groups[gi].count)
                groups[gi].value += delta * (v - groups[gi].mean)
            case .topk, .bottomk:
                if groups[gi].heap.count < k {
                    groups[gi].heap.append(sample)
                } else {
                    // Replace the weakest kept sample when `sample` beats it (NaN always loses).
                    let heap = groups[gi].heap
                    var weakest = 0
                    for i in heap.indices.dropFirst() where Self.weaker(heap[i].value, than: heap[weakest].value, top: op == .topk) {
                        weakest = i
                    }
                    let w = heap[weakest].value
                    let beats = op == .topk ? (w < v || (w.isNaN && !v.isNaN)) : (w > v || (w.isNaN && !v.isNaN))
                    if beats { groups[gi].heap[weakest] = sample }
                }
            case .quantile: groups[gi].values.append(v)
            }
        }
        var out: [InstantSample] = []
        out.reserveCapacity(groups.count)
        for g in groups {
            let value: Double
            switch op {
            case .avg: value = g.mean
            case .stdvar: value = g.value / Double(g.count)
            case .stddev: value = (g.value / Double(g.count)).squareRoot()
            case .quantile: value = Self.quantile(q, g.values)
            case .topk, .bottomk:
                let sorted = g.heap.sorted { a, b in
                    if a.value.isNaN { return false }
                    if b.value.isNaN { return true }
                    return op == .topk ? a.value > b.value : a.value < b.value
                }
                for s in sorted { out.append(InstantSample(labels: s.labels, timestamp: t, value: s.value)) }
                continue
            default: value = g.value
            }
            out.append(InstantSample(labels: g.labels, timestamp: t, value: value))
        }
        return out
    }

    /// True when `a` would be dropped before `b` from a top (or bottom) k.
    private static func weaker(_ a: Double, than b: Double, top: Bool) -> Bool {
        if a.isNaN { return !b.isNaN }
        if b.isNaN { return false }
        return top ? a < b : a > b
    }

    /// Prometheus's `quantile`: linear interpolation between the closest ranks; NaN sorts first.
    static func quantile(_ q: Double, _ values: [Double]) -> Double {
        if values.isEmpty { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        if q.isNaN { return .nan }
        let sorted = values.sorted { a, b in a.isNaN ? !b.isNaN : (b.isNaN ? false : a < b) }
        let n = Double(sorted.count)
        let rank = q * (n - 1)
        let lower = Swift.max(0, rank.rounded(.down))
        let upper = Swift.min(n - 1, lower + 1)
        let weight = rank - rank.rounded(.down)
        return sorted[Int(lower)] * (1 - weight) + sorted[Int(upper)] * weight
    }
}
