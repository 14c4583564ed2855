import SeismoCore
import SeismoStore

/// Limits and defaults of query evaluation.
public struct EngineOptions: Sendable, Hashable {
    /// How far back an instant selector looks for the latest sample (Prometheus: 5m).
    public var lookbackDelta: Int64
    /// Most samples a query may hold at once (Prometheus: `--query.max-samples`, 50M).
    public var maxSamples: Int
    /// Longest a query may run (Prometheus: `--query.timeout`, 2m).
    public var timeout: Duration
    /// The step of a subquery written without one (`x[1h:]`; Prometheus: the global evaluation interval, 1m).
    public var defaultSubqueryStep: Int64
    /// Whether range queries read stored rollups where they give the same result (see `RollupPlan`).
    public var useRollups: Bool

    public init(
        lookbackDelta: Int64 = 300_000, maxSamples: Int = 50_000_000, timeout: Duration = .seconds(120),
        defaultSubqueryStep: Int64 = 60_000, useRollups: Bool = true
    ) {
        self.lookbackDelta = lookbackDelta
        self.maxSamples = maxSamples
        self.timeout = timeout
        self.defaultSubqueryStep = defaultSubqueryStep
        self.useRollups = useRollups
    }
}

/// Evaluates PromQL over any `Querier`, with Prometheus 2.42's semantics for float samples.
public struct Engine: Sendable {
    public let querier: any Querier
    public let options: EngineOptions

    public init(querier: any Querier, options: EngineOptions = EngineOptions()) {
        self.querier = querier
        self.options = options
    }

    /// Evaluates `query` at `time` (milliseconds).
    public func instantQuery(_ query: String, at time: Int64) async throws(QueryError) -> QueryValue {
        let expr = try Parser.parse(query)
        let evaluator = try await prepare(expr, start: time, end: time, step: 0)
        let value = try evaluator.evalTop(expr, time)
        switch value {
        case .scalar(let v): return .scalar(timestamp: time, value: v)
        case .string(let s): return .string(timestamp: time, value: s)
        case .vector(let samples):
            return .vector(samples.map { InstantSample(labels: $0.labels, timestamp: time, value: $0.value) })
        case .matrix(let series):
            return .matrix(
                series.map { RangeSeries(labels: $0.labels, timestamps: Array($0.ts), values: Array($0.vs)) })
        }
    }

    /// Evaluates `query` at every `step` from `start` to `end` (milliseconds), as a matrix
    /// sorted by labels.
    public func rangeQuery(_ query: String, start: Int64, end: Int64, step: Int64) async throws(QueryError)
        -> QueryValue
    {
        let expr = try Parser.parse(query)
        guard expr.type == .scalar || expr.type == .vector else {
            throw QueryError(
                .parse, "invalid expression type \"\(expr.type.rawValue)\" for range query, must be Scalar or instant Vector")
        }
        guard step > 0 else { throw QueryError(.parse, "zero or negative query resolution step widths are not accepted") }
        guard end >= start else { throw QueryError(.parse, "end timestamp must not be before start time") }
        let evaluator = try await prepare(expr, start: start, end: end, step: step)
        if end > start { try evaluator.precomputeRangeFunctions(expr, step: step) }
        var index: [Labels: Int] = [:]
        var out: [RangeSeries] = []
        var points = 0
        var t = start
        while t <= end {
            try evaluator.checkDeadline()
            let value = try evaluator.evalTop(expr, t)
            var samples: [InstantSample] = []
            switch value {
            case .scalar(let v): samples = [InstantSample(labels: Labels(), timestamp: t, value: v)]
            case .vector(let s): samples = s
            default: break
            }
            points += samples.count
            if points > options.maxSamples {
                throw QueryError(.tooManySamples, "query processing would load too many samples into memory in query execution")
            }
            for sample in samples {
                if let i = index[sample.labels] {
                    if out[i].timestamps.last == t {
                        throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
                    }
                    out[i].timestamps.append(t)
                    out[i].values.append(sample.value)
                } else {
                    index[sample.labels] = out.count
                    out.append(RangeSeries(labels: sample.labels, timestamps: [t], values: [sample.value]))
                }
            }
            t += step
        }
        out.sort { Labels.compare($0.labels, $1.labels) }
        return .matrix(out)
    }

    /// Fetches every selector's data for the times the query evaluates it at: raw samples,
    /// or buckets for the calls that rollups answer.
    func prepare(_ expr: Expr, start: Int64, end: Int64, step: Int64) async throws(QueryError) -> Evaluator {
        var ranges: [[Matcher]: (Int64, Int64)] = [:]
        var rollupRanges: [RollupPlan: (Int64, Int64)] = [:]
        func at(_ a: AtModifier?) -> Int64? {
            switch a {
            case nil: nil
            case .timestamp(let t): t
            case .start: start
            case .end: end
            }
        }
        func widen<Key>(_ ranges: inout [Key: (Int64, Int64)], _ key: Key, _ lo: Int64, _ hi: Int64) {
            let old = ranges[key] ?? (lo, hi)
            ranges[key] = (Swift.min(old.0, lo), Swift.max(old.1, hi))
        }
        func need(_ m: [Matcher], _ lo: Int64, _ hi: Int64) { widen(&ranges, m, lo, hi) }
        func walk(_ e: Expr, _ lo: Int64, _ hi: Int64, inSubquery: Bool = false) {
            switch e {
            case .number, .string: break
            case .vectorSelector(let vs):
                let refLo = (at(vs.at) ?? lo) - vs.offset
                let refHi = (at(vs.at) ?? hi) - vs.offset
                need(vs.matchers, refLo - options.lookbackDelta, refHi)
            case .matrixSelector(let vs, let range):
                let refLo = (at(vs.at) ?? lo) - vs.offset
                let refHi = (at(vs.at) ?? hi) - vs.offset
                need(vs.matchers, refLo - range, refHi)
            case .subquery(let inner, let range, _, let offset, let a):
                walk(inner, (at(a) ?? lo) - offset - range, (at(a) ?? hi) - offset, inSubquery: true)
            case .call(let name, let args):
                if !inSubquery,
                    let (plan, selector, range) = RollupPlan.plan(name, args, start: start, end: end, step: step, options: options)
                {
                    widen(&rollupRanges, plan, lo - selector.offset - range, hi - selector.offset)
                    return
                }
                for arg in args { walk(arg, lo, hi, inSubquery: inSubquery) }
            case .aggregate(_, let e, let p, _, _):
                walk(e, lo, hi, inSubquery: inSubquery)
                if let p { walk(p, lo, hi, inSubquery: inSubquery) }
            case .binary(_, let l, let r, _, _):
                walk(l, lo, hi, inSubquery: inSubquery)
                walk(r, lo, hi, inSubquery: inSubquery)
            case .unaryMinus(let e), .paren(let e): walk(e, lo, hi, inSubquery: inSubquery)
            }
        }
        walk(expr, start, end)
        var loaded = 0
        /// One read of the querier, counted against the sample limit.
        func fetch<T>(_ size: (T) -> Int, _ read: () async throws(StoreError) -> [T]) async throws(QueryError) -> [T] {
            if Task.isCancelled { throw QueryError(.canceled, "query was canceled") }
            let result: [T]
            do {
                result = try await read()
            } catch {
                throw QueryError(.storage, "\(error)")
            }
            loaded += result.reduce(0) { $0 + size($1) }
            if loaded > options.maxSamples {
                throw QueryError(.tooManySamples, "query processing would load too many samples into memory in query execution")
            }
            return result
        }
        var data: [[Matcher]: [SeriesData]] = [:]
        for (matchers, range) in ranges {
            data[matchers] = try await fetch(\.timestamps.count) { () async throws(StoreError) in
                try await querier.select(matchers, from: range.0, to: range.1)
            }.map(SeriesData.init)
        }
        var rollups: [RollupPlan: [RollupSeries]] = [:]
        for (plan, range) in rollupRanges {
            rollups[plan] = try await fetch(\.timestamps.count) { () async throws(StoreError) in
                try await querier.selectRollups(plan.matchers, from: range.0, to: range.1, resolution: plan.resolution)
            }
        }
        return Evaluator(
            data: data, rollups: rollups, start: start, end: end, options: options,
            deadline: ContinuousClock.now.advanced(by: options.timeout))
    }
}

/// A stored series, with a copy of its points without stale markers for range selections.
struct SeriesData {
    let labels: Labels
    let ts: [Int64]
    let vs: [Double]
    let cleanTs: [Int64]
    let cleanVs: [Double]

    init(_ s: StoredSeries) {
        labels = s.labels
        ts = s.timestamps
        vs = s.values
        if s.values.contains(where: StaleMarker.isStale) {
            var t: [Int64] = []
            var v: [Double] = []
            for i in s.values.indices where !StaleMarker.isStale(s.values[i]) {
                t.append(s.timestamps[i])
                v.append(s.values[i])
            }
            cleanTs = t
            cleanVs = v
        } else {
            cleanTs = s.timestamps
            cleanVs = s.values
        }
    }
}

/// Index of the first element `>= value` in a sorted array slice.
@inline(__always)
func lowerBound(_ a: [Int64], _ value: Int64) -> Int {
    var lo = 0
    var hi = a.count
    while lo < hi {
        let mid = (lo + hi) >> 1
        if a[mid] < value { lo = mid + 1 } else { hi = mid }
    }
    return lo
}

/// Evaluates an expression at one step at a time over prefetched data.
final class Evaluator {
    let data: [[Matcher]: [SeriesData]]
    /// Buckets read for the calls that rollups answer (see `RollupPlan`).
    let rollups: [RollupPlan: [RollupSeries]]
    let start: Int64
    let end: Int64
    let options: EngineOptions
    let deadline: ContinuousClock.Instant
    private var checks = 0
    /// Label sets derived at one step, reused at the next.
    let memo = LabelMemo()
    /// Range functions evaluated for all steps of a range query at once.
    var precomputed: [Expr: PrecomputedRange] = [:]

    init(
        data: [[Matcher]: [SeriesData]], rollups: [RollupPlan: [RollupSeries]] = [:], start: Int64, end: Int64,
        options: EngineOptions, deadline: ContinuousClock.Instant
    ) {
        self.data = data
        self.rollups = rollups
        self.start = start
        self.end = end
        self.options = options
        self.deadline = deadline
    }

    func checkDeadline() throws(QueryError) {
        if Task.isCancelled { throw QueryError(.canceled, "query was canceled") }
        if ContinuousClock.now > deadline {
            throw QueryError(.timeout, "query timed out in query execution")
        }
    }

    func evalTop(_ e: Expr, _ t: Int64) throws(QueryError) -> Value {
        let value = try eval(e, t)
        if case .vector(let v) = value, !Self.outputsDistinctLabels(e), Self.hasDuplicates(v) {
            throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
        }
        return value
    }

    /// True for expressions whose result never holds one label set twice: aggregations that
    /// make one sample per group, and range functions (which check their own result).
    static func outputsDistinctLabels(_ e: Expr) -> Bool {
        switch e.unwrapped {
        case .aggregate(let op, _, _, _, _): return op != .topk && op != .bottomk
        case .call(let name, _): return RangeFunction(rawValue: name) != nil
        default: return false
        }
    }

    func resolve(_ a: AtModifier?) -> Int64? {
        switch a {
        case nil: nil
        case .timestamp(let t): t
        case .start: start
        case .end: end
        }
    }

    static func hasDuplicates(_ v: [InstantSample]) -> Bool {
        guard v.count > 1 else { return false }
        var seen = Set<Labels>(minimumCapacity: v.count)
        for s in v where !seen.insert(s.labels).inserted { return true }
        return false
    }

    func eval(_ e: Expr, _ t: Int64) throws(QueryError) -> Value {
        checks &+= 1
        if checks & 0xFF == 0 { try checkDeadline() }
        switch e {
        case .number(let v): return .scalar(v)
        case .string(let s): return .string(s)
        case .paren(let inner): return try eval(inner, t)
        case .vectorSelector(let vs): return .vector(select(vs, t))
        case .matrixSelector(let vs, let range): return .matrix(try selectRange(vs, range, t).series)
        case .subquery: return .matrix(try evalRangeArg(e, t).series)
        case .unaryMinus(let inner):
            switch try eval(inner, t) {
            case .scalar(let v): return .scalar(-v)
            case .vector(let v):
                let out = v.map { InstantSample(labels: $0.labels.droppingName, timestamp: t, value: -$0.value) }
                if Self.hasDuplicates(out) {
                    throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
                }
                return .vector(out)
            default: throw QueryError(.execution, "unary minus on a non-numeric value")
            }
        case .call(let name, let args):
            if !precomputed.isEmpty, let range = precomputed[e], let i = range.index(of: t) { return .vector(range.vector(at: i, t)) }
            return try evalCall(name, args, t)
        case .aggregate(let op, let inner, let param, let grouping, let without):
            return .vector(try aggregate(op, inner, param, grouping, without, t))
        case .binary(let op, let lhs, let rhs, let matching, let returnBool):
            return try binary(op, lhs, rhs, matching, returnBool, t)
        }
    }

    /// The instant vector of `vs` at step `t`: each series' latest sample within the
    /// lookback delta, unless that sample is a stale marker.
    func select(_ vs: VectorSelector, _ t: Int64) -> [InstantSample] {
        let ref = (resolve(vs.at) ?? t) - vs.offset
        let floor = ref - options.lookbackDelta
        var out: [InstantSample] = []
        for s in data[vs.matchers] ?? [] {
            let i = lowerBound(s.ts, ref + 1) - 1
            guard i >= 0, s.ts[i] >= floor, !StaleMarker.isStale(s.vs[i]) else { continue }
            out.append(InstantSample(labels: s.labels, timestamp: s.ts[i], value: s.vs[i]))
        }
        return out
    }

    /// The points of `vs` in `[ref - range, ref]` at step `t`, stale markers left out.
    func selectRange(_ vs: VectorSelector, _ range: Int64, _ t: Int64) throws(QueryError)
        -> (series: [MatrixSeries], rangeStart: Int64, rangeEnd: Int64)
    {
        let ref = (resolve(vs.at) ?? t) - vs.offset
        var out: [MatrixSeries] = []
        var count = 0
        for s in data[vs.matchers] ?? [] {
            let lo = lowerBound(s.cleanTs, ref - range)
            let hi = lowerBound(s.cleanTs, ref + 1)
            guard lo < hi else { continue }
            count += hi - lo
            out.append(MatrixSeries(labels: s.labels, ts: s.cleanTs[lo..<hi], vs: s.cleanVs[lo..<hi]))
        }
        if count > options.maxSamples {
            throw QueryError(.tooManySamples, "query processing would load too many samples into memory in query execution")
        }
        return (out, ref - range, ref)
    }

    /// A range-vector argument (a matrix selector or a subquery) at step `t`, with its range's bounds.
    func evalRangeArg(_ e: Expr, _ t: Int64) throws(QueryError)
        -> (series: [MatrixSeries], rangeStart: Int64, rangeEnd: Int64)
    {
        switch e {
        case .paren(let inner): return try evalRangeArg(inner, t)
        case .matrixSelector(let vs, let range): return try selectRange(vs, range, t)
        case .subquery(let inner, let range, let step, let offset, let at):
            let ref = (resolve(at) ?? t) - offset
            let interval = step == 0 ? options.defaultSubqueryStep : step
            var first = interval * ((ref - range) / interval)
            if first < ref - range { first += interval }
            var index: [Labels: Int] = [:]
            var ts: [[Int64]] = []
            var vs: [[Double]] = []
            var labels: [Labels] = []
            var count = 0
            var u = first
            while u <= ref {
                guard case .vector(let samples) = try eval(inner, u) else { break }
                for sample in samples {
                    let i: Int
                    if let existing = index[sample.labels] {
                        i = existing
                    } else {
                        i = labels.count
                        index[sample.labels] = i
                        labels.append(sample.labels)
                        ts.append([])
                        vs.append([])
                    }
                    ts[i].append(u)
                    vs[i].append(sample.value)
                }
                count += samples.count
                if count > options.maxSamples {
                    throw QueryError(.tooManySamples, "query processing would load too many samples into memory in query execution")
                }
                u += interval
            }
            var out = labels.indices.map { MatrixSeries(labels: labels[$0], ts: ts[$0][...], vs: vs[$0][...]) }
            out.sort { Labels.compare($0.labels, $1.labels) }
            return (out, ref - range, ref)
        default:
            throw QueryError(.execution, "expected a range vector, got \(e.type.rawValue)")
        }
    }

    func scalar(_ e: Expr, _ t: Int64) throws(QueryError) -> Double {
        guard case .scalar(let v) = try eval(e, t) else { throw QueryError(.execution, "expected a scalar") }
        return v
    }

    func vector(_ e: Expr, _ t: Int64) throws(QueryError) -> [InstantSample] {
        guard case .vector(let v) = try eval(e, t) else { throw QueryError(.execution, "expected an instant vector") }
        return v
    }

    func string(_ e: Expr, _ t: Int64) throws(QueryError) -> String {
        guard case .string(let s) = try eval(e, t) else { throw QueryError(.execution, "expected a string") }
        return s
    }
}
