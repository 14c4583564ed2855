import SeismoCore

/// A range function over a range selector, evaluated for every step of a range query at
/// once, series by series (as Prometheus does): each series' window slides forward from
/// step to step instead of being searched for, and its labels are derived once.
struct PrecomputedRange {
    let start: Int64
    let step: Int64
    let steps: Int
    /// Per series, the labels of its samples.
    let labels: [Labels]
    /// Step-major: `values[step * labels.count + series]`; `present` says which are samples.
    let values: [Double]
    let present: [Bool]

    /// The step `t` is, when it is one of the query's steps.
    func index(of t: Int64) -> Int? {
        guard t >= start, (t - start) % step == 0 else { return nil }
        let i = Int((t - start) / step)
        return i < steps ? i : nil
    }

    /// The instant vector at step `i` (time `t`).
    func vector(at i: Int, _ t: Int64) -> [InstantSample] {
        var out: [InstantSample] = []
        out.reserveCapacity(labels.count)
        let base = i * labels.count
        for s in labels.indices where present[base + s] {
            out.append(InstantSample(labels: labels[s], timestamp: t, value: values[base + s]))
        }
        return out
    }
}

extension Evaluator {
    /// The labels of `kind`'s results for series labelled `labels`: without the metric name,
    /// except for `last_over_time`.
    func resultLabels(_ kind: RangeFunction, _ labels: [Labels]) -> [Labels] {
        guard kind != .lastOverTime else { return labels }
        let dropName = memo.id(of: .droppingName)
        return labels.map { memo.derive(.droppingName, id: dropName, from: $0) }
    }

    /// Precomputes every range function of `expr` whose argument is a range selector without
    /// `@` and whose parameters are literals, for the steps `start, start + step, … end`.
    /// Subqueries are left to the step-by-step evaluation (their inner steps differ).
    func precomputeRangeFunctions(_ expr: Expr, step: Int64) throws(QueryError) {
        switch expr {
        case .number, .string, .vectorSelector, .matrixSelector, .subquery: return
        case .paren(let inner), .unaryMinus(let inner): try precomputeRangeFunctions(inner, step: step)
        case .aggregate(_, let inner, let param, _, _):
            try precomputeRangeFunctions(inner, step: step)
            if let param { try precomputeRangeFunctions(param, step: step) }
        case .binary(_, let lhs, let rhs, _, _):
            try precomputeRangeFunctions(lhs, step: step)
            try precomputeRangeFunctions(rhs, step: step)
        case .call(let name, let args):
            guard let kind = RangeFunction(rawValue: name) else {
                for arg in args { try precomputeRangeFunctions(arg, step: step) }
                return
            }
            guard precomputed[expr] == nil else { return }
            if let result = try precomputeFromRollups(kind, args, step: step) {
                precomputed[expr] = result
            } else if let result = try precompute(kind, args, step: step) {
                precomputed[expr] = result
            }
        }
    }

    private func precompute(_ kind: RangeFunction, _ args: [Expr], step: Int64) throws(QueryError) -> PrecomputedRange? {
        func literal(_ e: Expr) -> Double? { if case .number(let v) = e.unwrapped { v } else { nil } }
        var param = 0.0
        var param2 = 0.0
        let matrixArg: Expr
        switch kind {
        case .quantileOverTime:
            guard let p = literal(args[0]) else { return nil }
            (param, matrixArg) = (p, args[1])
        case .predictLinear:
            guard let p = literal(args[1]) else { return nil }
            (param, matrixArg) = (p, args[0])
        case .holtWinters:
            // Invalid factors are reported by the step-by-step evaluation.
            guard let p = literal(args[1]), let q = literal(args[2]), p > 0, p < 1, q > 0, q < 1 else { return nil }
            (param, param2, matrixArg) = (p, q, args[0])
        default: matrixArg = args[0]
        }
        guard case .matrixSelector(let selector, let range) = matrixArg.unwrapped, selector.at == nil else { return nil }
        let series = data[selector.matchers] ?? []
        let steps = Int((end - start) / step) + 1
        let labels = resultLabels(kind, series.map(\.labels))
        // Two series with one label set once the name is dropped: the step-by-step
        // evaluation reports it at the steps where both have samples.
        guard kind == .lastOverTime || Set(labels.map(\.identity)).count == labels.count else { return nil }
        var values = [Double](repeating: 0, count: steps * series.count)
        var present = [Bool](repeating: false, count: steps * series.count)
        for (index, s) in series.enumerated() {
            if index & 0xFF == 0xFF { try checkDeadline() }
            let ts = s.cleanTs
            let vs = s.cleanVs
            var lo = 0
            var hi = 0
            for i in 0..<steps {
                let t = start + Int64(i) * step
                let ref = t - selector.offset
                while hi < ts.count, ts[hi] <= ref { hi += 1 }
                while lo < hi, ts[lo] < ref - range { lo += 1 }
                guard lo < hi,
                    let value = Self.rangeValue(
                        kind, ts[lo..<hi], vs[lo..<hi], rangeStart: ref - range, rangeEnd: ref, t: t, param: param,
                        param2: param2)
                else { continue }
                values[i * series.count + index] = value
                present[i * series.count + index] = true
            }
        }
        return PrecomputedRange(start: start, step: step, steps: steps, labels: labels, values: values, present: present)
    }
}
