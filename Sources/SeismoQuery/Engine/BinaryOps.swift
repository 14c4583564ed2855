import Foundation
import SeismoCore

/// Go's `math.Max`/`math.Min`: NaN wins, and +0 > -0.
func goMax(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    if a == 0 && b == 0 { return a.sign == .plus ? a : b }
    return a > b ? a : b
}

func goMin(_ a: Double, _ b: Double) -> Double {
    if a.isNaN || b.isNaN { return .nan }
    if a == 0 && b == 0 { return a.sign == .minus ? a : b }
    return a < b ? a : b
}

extension BinaryOperator {
    /// The result of `l op r` and, for comparisons, whether it holds.
    func apply(_ l: Double, _ r: Double) -> (value: Double, keep: Bool) {
        switch self {
        case .add: return (l + r, true)
        case .sub: return (l - r, true)
        case .mul: return (l * r, true)
        case .div: return (l / r, true)
        case .mod: return (fmod(l, r), true)
        case .pow: return (Foundation.pow(l, r), true)
        case .atan2: return (Foundation.atan2(l, r), true)
        case .eql: return (l, l == r)
        case .neq: return (l, l != r)
        case .gtr: return (l, l > r)
        case .lss: return (l, l < r)
        case .gte: return (l, l >= r)
        case .lte: return (l, l <= r)
        case .and, .or, .unless: return (l, true)
        }
    }

    /// Arithmetic drops the metric name; comparisons and set operators keep it.
    var dropsMetricName: Bool {
        switch self {
        case .add, .sub, .mul, .div, .mod, .pow, .atan2: true
        default: false
        }
    }
}

extension Evaluator {
    func binary(
        _ op: BinaryOperator, _ lhsExpr: Expr, _ rhsExpr: Expr, _ matching: VectorMatching?, _ returnBool: Bool,
        _ t: Int64
    ) throws(QueryError) -> Value {
        let lhs = try eval(lhsExpr, t)
        let rhs = try eval(rhsExpr, t)
        switch (lhs, rhs) {
        case (.scalar(let l), .scalar(let r)):
            var (v, keep) = op.apply(l, r)
            if op.isComparison { v = keep ? 1 : 0 }
            return .scalar(v)
        case (.vector(let l), .scalar(let r)):
            return .vector(vectorScalar(op, l, r, swap: false, returnBool, t))
        case (.scalar(let l), .vector(let r)):
            return .vector(vectorScalar(op, r, l, swap: true, returnBool, t))
        case (.vector(let l), .vector(let r)):
            let m = matching ?? VectorMatching()
            let out: [InstantSample]
            switch op {
            case .and: out = setOp(l, r, m) { $0 }
            case .unless: out = setOp(l, r, m) { !$0 }
            case .or: out = or(l, r, m)
            default: out = try vectorVector(op, l, r, m, returnBool, t)
            }
            if Self.hasDuplicates(out) {
                throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
            }
            return .vector(out)
        default:
            throw QueryError(.execution, "binary expression must contain only scalar and instant vector types")
        }
    }

    private func vectorScalar(
        _ op: BinaryOperator, _ vector: [InstantSample], _ scalar: Double, swap: Bool, _ returnBool: Bool, _ t: Int64
    ) -> [InstantSample] {
        var out: [InstantSample] = []
        out.reserveCapacity(vector.count)
        for s in vector {
            var (value, keep) = swap ? op.apply(scalar, s.value) : op.apply(s.value, scalar)
            if op.isComparison && swap { value = s.value }
            if returnBool {
                value = keep ? 1 : 0
                keep = true
            }
            guard keep else { continue }
            let labels = op.dropsMetricName || returnBool ? s.labels.droppingName : s.labels
            out.append(InstantSample(labels: labels, timestamp: t, value: value))
        }
        return out
    }

    /// The labels a vector match compares: `on(…)` keeps them, `ignoring(…)` drops them and the name.
    private func signature(_ labels: Labels, _ m: VectorMatching) -> Labels {
        if m.on { return labels.keeping(Set(m.labels)) }
        return labels.removing(Set(m.labels).union([Labels.metricName]))
    }

    private func setOp(_ l: [InstantSample], _ r: [InstantSample], _ m: VectorMatching, _ keep: (Bool) -> Bool)
        -> [InstantSample]
    {
        let right = Set(r.map { signature($0.labels, m) })
        return l.filter { keep(right.contains(signature($0.labels, m))) }
    }

    private func or(_ l: [InstantSample], _ r: [InstantSample], _ m: VectorMatching) -> [InstantSample] {
        let left = Set(l.map { signature($0.labels, m) })
        return l + r.filter { !left.contains(signature($0.labels, m)) }
    }

    private func vectorVector(
        _ op: BinaryOperator, _ lhs: [InstantSample], _ rhs: [InstantSample], _ m: VectorMatching, _ returnBool: Bool,
        _ t: Int64
    ) throws(QueryError) -> [InstantSample] {
        if lhs.isEmpty || rhs.isEmpty { return [] }
        let swapped = m.cardinality == .oneToMany
        let (many, one) = swapped ? (rhs, lhs) : (lhs, rhs)
        var oneSide: [Labels: InstantSample] = [:]
        for s in one {
            let sig = signature(s.labels, m)
            if let dup = oneSide[sig] {
                let side = swapped ? "left" : "right"
                throw QueryError(
                    .execution,
                    "found duplicate series for the match group \(sig) on the \(side) hand-side of the operation: [\(s.labels), \(dup.labels)];many-to-many matching not allowed: matching labels must be unique on one side"
                )
            }
            oneSide[sig] = s
        }
        var matched: [Labels: Set<Labels>] = [:]
        var out: [InstantSample] = []
        for s in many {
            let sig = signature(s.labels, m)
            guard let o = oneSide[sig] else { continue }
            let (vl, vr) = swapped ? (o.value, s.value) : (s.value, o.value)
            var (value, keep) = op.apply(vl, vr)
            if returnBool {
                value = keep ? 1 : 0
            } else if !keep {
                continue
            }
            var metric = resultMetric(s.labels, o.labels, op, m)
            if returnBool { metric = metric.droppingName }
            if m.cardinality == .oneToOne {
                if matched[sig] != nil {
                    throw QueryError(
                        .execution,
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)")
                }
                matched[sig] = []
            } else {
                if matched[sig]?.contains(metric) == true {
                    throw QueryError(.execution, "multiple matches for labels: grouping labels must ensure unique matches")
                }
                matched[sig, default: []].insert(metric)
            }
            out.append(InstantSample(labels: metric, timestamp: t, value: value))
        }
        return out
    }

    private func resultMetric(_ many: Labels, _ one: Labels, _ op: BinaryOperator, _ m: VectorMatching) -> Labels {
        var labels = op.dropsMetricName ? many.droppingName : many
        if m.cardinality == .oneToOne {
            labels = m.on ? labels.keeping(Set(m.labels)) : labels.removing(Set(m.labels))
        }
        for name in m.include {
            labels = labels.with(name, one[name] ?? "")
        }
        return labels
    }
}
