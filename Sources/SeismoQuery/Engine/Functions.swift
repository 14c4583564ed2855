import Foundation
import SeismoCore

extension Evaluator {
    func evalCall(_ name: String, _ args: [Expr], _ t: Int64) throws(QueryError) -> Value {
        switch name {
        case "time": return .scalar(Double(t) / 1000)
        case "pi": return .scalar(Double.pi)
        case "vector": return .vector([InstantSample(labels: Labels(), timestamp: t, value: try scalar(args[0], t))])
        case "scalar":
            let v = try vector(args[0], t)
            return .scalar(v.count == 1 ? v[0].value : .nan)
        case "rate", "increase", "delta", "irate", "idelta", "deriv", "resets", "changes", "avg_over_time",
            "min_over_time", "max_over_time", "sum_over_time", "count_over_time", "stddev_over_time",
            "stdvar_over_time", "last_over_time", "present_over_time", "predict_linear", "quantile_over_time",
            "holt_winters":
            return .vector(try rangeFunction(name, args, t))
        case "absent_over_time":
            let (series, _, _) = try evalRangeArg(args[0], t)
            if !series.isEmpty { return .vector([]) }
            return .vector([InstantSample(labels: Self.absentLabels(args[0]), timestamp: t, value: 1)])
        case "absent":
            if !(try vector(args[0], t)).isEmpty { return .vector([]) }
            return .vector([InstantSample(labels: Self.absentLabels(args[0]), timestamp: t, value: 1)])
        case "timestamp":
            let v = try vector(args[0], t)
            var useSampleTime = false
            if case .vectorSelector = args[0].unwrapped { useSampleTime = true }
            return .vector(
                v.map {
                    InstantSample(
                        labels: $0.labels.droppingName, timestamp: t,
                        value: Double(useSampleTime ? $0.timestamp : t) / 1000)
                })
        case "sort", "sort_desc":
            let v = try vector(args[0], t)
            let desc = name == "sort_desc"
            return .vector(
                v.sorted { a, b in
                    if a.value.isNaN { return false }
                    if b.value.isNaN { return true }
                    return desc ? a.value > b.value : a.value < b.value
                })
        case "label_replace": return .vector(try labelReplace(args, t))
        case "label_join": return .vector(try labelJoin(args, t))
        case "histogram_quantile":
            return .vector(histogramQuantile(try scalar(args[0], t), try vector(args[1], t), t))
        case "clamp":
            let v = try vector(args[0], t)
            let lo = try scalar(args[1], t)
            let hi = try scalar(args[2], t)
            if hi < lo { return .vector([]) }
            return .vector(map(v, t) { goMax(lo, goMin(hi, $0)) })
        case "clamp_min":
            let v = try vector(args[0], t)
            let lo = try scalar(args[1], t)
            return .vector(map(v, t) { goMax(lo, $0) })
        case "clamp_max":
            let v = try vector(args[0], t)
            let hi = try scalar(args[1], t)
            return .vector(map(v, t) { goMin(hi, $0) })
        case "round":
            let v = try vector(args[0], t)
            let nearest = args.count > 1 ? try scalar(args[1], t) : 1
            let inverse = 1 / nearest
            return .vector(map(v, t) { (($0 * inverse) + 0.5).rounded(.down) / inverse })
        case "day_of_week", "day_of_month", "day_of_year", "days_in_month", "hour", "minute", "month", "year":
            let v =
                args.isEmpty
                ? [InstantSample(labels: Labels(), timestamp: t, value: Double(t) / 1000)] : try vector(args[0], t)
            return .vector(map(v, t) { Self.datePart(name, $0) })
        default:
            guard let f = Self.simple[name] else { throw QueryError(.execution, "function \(name) is not supported") }
            return .vector(map(try vector(args[0], t), t, f))
        }
    }

    static let simple: [String: @Sendable (Double) -> Double] = [
        "abs": { Swift.abs($0) }, "ceil": { $0.rounded(.up) }, "floor": { $0.rounded(.down) }, "exp": { Foundation.exp($0) },
        "ln": { Foundation.log($0) }, "log2": { Foundation.log2($0) }, "log10": { Foundation.log10($0) },
        "sqrt": { $0.squareRoot() },
        "sgn": { $0 > 0 ? 1 : ($0 < 0 ? -1 : $0) },
        "acos": { Foundation.acos($0) }, "acosh": { Foundation.acosh($0) }, "asin": { Foundation.asin($0) },
        "asinh": { Foundation.asinh($0) }, "atan": { Foundation.atan($0) }, "atanh": { Foundation.atanh($0) },
        "cos": { Foundation.cos($0) }, "cosh": { Foundation.cosh($0) }, "sin": { Foundation.sin($0) },
        "sinh": { Foundation.sinh($0) }, "tan": { Foundation.tan($0) }, "tanh": { Foundation.tanh($0) },
        "deg": { $0 * 180 / Double.pi }, "rad": { $0 * Double.pi / 180 },
    ]

    private func map(_ v: [InstantSample], _ t: Int64, _ f: (Double) -> Double) -> [InstantSample] {
        let id = memo.id(of: .droppingName)
        return v.map { InstantSample(labels: memo.derive(.droppingName, id: id, from: $0.labels), timestamp: t, value: f($0.value)) }
    }

    private func map(_ v: [InstantSample], _ t: Int64, _ f: (InstantSample) -> Double) -> [InstantSample] {
        let id = memo.id(of: .droppingName)
        return v.map { InstantSample(labels: memo.derive(.droppingName, id: id, from: $0.labels), timestamp: t, value: f($0)) }
    }

    /// The labels `absent(…)` reports: the selector's equality matchers on labels other than the name.
    static func absentLabels(_ arg: Expr) -> Labels {
        let matchers: [Matcher]
        switch arg.unwrapped {
        case .vectorSelector(let vs): matchers = vs.matchers
        case .matrixSelector(let vs, _): matchers = vs.matchers
        default: return Labels()
        }
        var labels = Labels()
        var dropped: Set<String> = []
        for m in matchers where m.name != Labels.metricName {
            if m.kind == .equal && labels[m.name] == nil {
                labels = labels.with(m.name, m.value)
            } else {
                dropped.insert(m.name)
            }
        }
        return labels.removing(dropped)
    }

    // MARK: Range functions

    /// The functions over a range vector.
    enum RangeFunction: String {
        case rate, increase, delta, irate, idelta, deriv, resets, changes
        case predictLinear = "predict_linear", holtWinters = "holt_winters"
        case avgOverTime = "avg_over_time", minOverTime = "min_over_time", maxOverTime = "max_over_time"
        case sumOverTime = "sum_over_time", countOverTime = "count_over_time", stddevOverTime = "stddev_over_time"
        case stdvarOverTime = "stdvar_over_time", lastOverTime = "last_over_time", presentOverTime = "present_over_time"
        case quantileOverTime = "quantile_over_time"
    }

    /// True when two samples share one label storage: exact for canonical labels from `memo`.
    static func hasDuplicateIdentities(_ v: [InstantSample]) -> Bool {
        guard v.count > 1 else { return false }
        var seen = Set<UInt>(minimumCapacity: v.count)
        for s in v where !seen.insert(s.labels.identity).inserted { return true }
        return false
    }

    private func rangeFunction(_ name: String, _ args: [Expr], _ t: Int64) throws(QueryError) -> [InstantSample] {
        var param = 0.0
        var param2 = 0.0
        let matrixArg: Expr
        switch name {
        case "quantile_over_time":
            param = try scalar(args[0], t)
            matrixArg = args[1]
        case "predict_linear":
            param = try scalar(args[1], t)
            matrixArg = args[0]
        case "holt_winters":
            param = try scalar(args[1], t)
            param2 = try scalar(args[2], t)
            guard param > 0 && param < 1 else {
                throw QueryError(.execution, "invalid smoothing factor. Expected: 0 < sf < 1, got: \(formatPromFloat(param))")
            }
            guard param2 > 0 && param2 < 1 else {
                throw QueryError(.execution, "invalid trend factor. Expected: 0 < tf < 1, got: \(formatPromFloat(param2))")
            }
            matrixArg = args[0]
        default:
            matrixArg = args[0]
        }
        let (series, rangeStart, rangeEnd) = try evalRangeArg(matrixArg, t)
        guard let kind = RangeFunction(rawValue: name) else { throw QueryError(.execution, "function \(name) is not supported") }
        let dropName = memo.id(of: .droppingName)
        var out: [InstantSample] = []
        out.reserveCapacity(series.count)
        for s in series {
            guard
                let value = Self.rangeValue(
                    kind, s.ts, s.vs, rangeStart: rangeStart, rangeEnd: rangeEnd, t: t, param: param, param2: param2)
            else { continue }
            let labels = kind == .lastOverTime ? s.labels : memo.derive(.droppingName, id: dropName, from: s.labels)
            out.append(InstantSample(labels: labels, timestamp: t, value: value))
        }
        // Canonical labels (and a selection's distinct series): equal label sets are one identity.
        if Self.hasDuplicateIdentities(out) {
            throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
        }
        return out
    }

    /// `kind` over one series' points in `[rangeStart, rangeEnd]` (stale markers removed),
    /// evaluated at `t`; nil when the function gives no sample for them.
    static func rangeValue(
        _ kind: RangeFunction, _ ts: ArraySlice<Int64>, _ vs: ArraySlice<Double>, rangeStart: Int64, rangeEnd: Int64, t: Int64,
        param: Double, param2: Double
    ) -> Double? {
        let n = vs.count
        var value: Double?
            switch kind {
        case .rate, .increase, .delta:
            value = Self.extrapolatedRate(
                ts, vs, rangeStart: rangeStart, rangeEnd: rangeEnd, isCounter: kind != .delta, isRate: kind == .rate)
        case .irate, .idelta:
            guard n >= 2 else { break }
            let last = vs[vs.endIndex - 1]
            let prev = vs[vs.endIndex - 2]
            var result = last - prev
            if kind == .irate && last < prev { result = last }
            let interval = ts[ts.endIndex - 1] - ts[ts.endIndex - 2]
            guard interval != 0 else { break }
            if kind == .irate { result /= Double(interval) / 1000 }
            value = result
        case .deriv:
            guard n >= 2 else { break }
            value = Self.linearRegression(ts, vs, interceptTime: ts[ts.startIndex]).slope
        case .predictLinear:
            guard n >= 2 else { break }
            let (slope, intercept) = Self.linearRegression(ts, vs, interceptTime: t)
            value = slope * param + intercept
        case .holtWinters:
            guard n >= 2 else { break }
            value = Self.holtWinters(Array(vs), sf: param, tf: param2)
        case .resets:
            var count = 0
            var prev = vs[vs.startIndex]
            for v in vs.dropFirst() {
                if v < prev { count += 1 }
                prev = v
            }
            value = Double(count)
        case .changes:
            var count = 0
            var prev = vs[vs.startIndex]
            for v in vs.dropFirst() {
                if v != prev && !(v.isNaN && prev.isNaN) { count += 1 }
                prev = v
            }
            value = Double(count)
        case .avgOverTime:
            var mean = 0.0
            var count = 0.0
            for v in vs {
                count += 1
                if mean.isInfinite {
                    if v.isInfinite && (mean > 0) == (v > 0) { continue }
                    if !v.isInfinite && !v.isNaN { continue }
                }
                mean += v / count - mean / count
            }
            value = mean
        case .sumOverTime: value = vs.reduce(0, +)
        case .countOverTime: value = Double(n)
        case .minOverTime:
            var m = vs[vs.startIndex]
            for v in vs where v < m || m.isNaN { m = v }
            value = m
        case .maxOverTime:
            var m = vs[vs.startIndex]
            for v in vs where v > m || m.isNaN { m = v }
            value = m
        case .stddevOverTime, .stdvarOverTime:
            var count = 0.0
            var mean = 0.0
            var aux = 0.0
            for v in vs {
                count += 1
                let delta = v - mean
                mean += delta / count
                aux += delta * (v - mean)
            }
            value = kind == .stddevOverTime ? (aux / count).squareRoot() : aux / count
        case .lastOverTime: value = vs[vs.endIndex - 1]
        case .presentOverTime: value = 1
        case .quantileOverTime: value = Self.quantile(param, Array(vs))
        }
        return value
    }

    /// `rate`, `increase` and `delta`: the change over the range, extrapolated towards the
    /// range's bounds (by at most half an average sample interval past the first and last
    /// samples, and never below zero for counters), as Prometheus 2.42 computes it.
    static func extrapolatedRate(
        _ ts: ArraySlice<Int64>, _ vs: ArraySlice<Double>, rangeStart: Int64, rangeEnd: Int64, isCounter: Bool,
        isRate: Bool
    ) -> Double? {
        guard vs.count >= 2 else { return nil }
        let first = vs[vs.startIndex]
        let last = vs[vs.endIndex - 1]
        var result = last - first
        if isCounter {
            var prev = first
            for v in vs {
                if v < prev { result += prev }
                prev = v
            }
        }
        var durationToStart = Double(ts[ts.startIndex] - rangeStart) / 1000
        let durationToEnd = Double(rangeEnd - ts[ts.endIndex - 1]) / 1000
        let sampled = Double(ts[ts.endIndex - 1] - ts[ts.startIndex]) / 1000
        let averageInterval = sampled / Double(vs.count - 1)
        if isCounter && result > 0 && first >= 0 {
            let durationToZero = sampled * (first / result)
            if durationToZero < durationToStart { durationToStart = durationToZero }
        }
        let threshold = averageInterval * 1.1
        var extrapolateTo = sampled
        extrapolateTo += durationToStart < threshold ? durationToStart : averageInterval / 2
        extrapolateTo += durationToEnd < threshold ? durationToEnd : averageInterval / 2
        result *= extrapolateTo / sampled
        if isRate { result /= Double(rangeEnd - rangeStart) / 1000 }
        return result
    }

    private static func kahanInc(_ inc: Double, _ sum: inout Double, _ c: inout Double) {
        let t = sum + inc
        if Swift.abs(sum) >= Swift.abs(inc) {
            c += (sum - t) + inc
        } else {
            c += (inc - t) + sum
        }
        sum = t
    }

    /// Least-squares fit of value against seconds since `interceptTime`.
    static func linearRegression(_ ts: ArraySlice<Int64>, _ vs: ArraySlice<Double>, interceptTime: Int64)
        -> (slope: Double, intercept: Double)
    {
        var n = 0.0
        var sumX = 0.0, cX = 0.0, sumY = 0.0, cY = 0.0, sumXY = 0.0, cXY = 0.0, sumX2 = 0.0, cX2 = 0.0
        let initY = vs[vs.startIndex]
        var constY = true
        for (t, v) in zip(ts, vs) {
            if constY && v != initY { constY = false }
            n += 1
            let x = Double(t - interceptTime) / 1000
            kahanInc(x, &sumX, &cX)
            kahanInc(v, &sumY, &cY)
            kahanInc(x * v, &sumXY, &cXY)
            kahanInc(x * x, &sumX2, &cX2)
        }
        if constY {
            if initY.isInfinite { return (.nan, .nan) }
            return (0, initY)
        }
        sumX += cX
        sumY += cY
        sumXY += cXY
        sumX2 += cX2
        let covXY = sumXY - sumX * sumY / n
        let varX = sumX2 - sumX * sumX / n
        let slope = covXY / varX
        return (slope, sumY / n - slope * sumX / n)
    }

    static func holtWinters(_ vs: [Double], sf: Double, tf: Double) -> Double {
        var s0 = 0.0
        var s1 = vs[0]
        var b = vs[1] - vs[0]
        for i in 1..<vs.count {
            let x = sf * vs[i]
            if i > 1 { b = tf * (s1 - s0) + (1 - tf) * b }
            let y = (1 - sf) * (s1 + b)
            s0 = s1
            s1 = x + y
        }
        return s1
    }

    // MARK: Labels

    private func labelReplace(_ args: [Expr], _ t: Int64) throws(QueryError) -> [InstantSample] {
        let v = try vector(args[0], t)
        let dst = try string(args[1], t)
        let replacement = try string(args[2], t)
        let src = try string(args[3], t)
        let pattern = try string(args[4], t)
        let regex: Regex<AnyRegexOutput>
        do {
            regex = try Regex("^(?:" + pattern + ")$")
        } catch {
            throw QueryError(.execution, "invalid regular expression in label_replace(): \(pattern)")
        }
        guard Labels.isValidLabelName(dst) else {
            throw QueryError(.execution, "invalid destination label name in label_replace(): \(dst)")
        }
        var out: [InstantSample] = []
        for s in v {
            let value = s.labels[src] ?? ""
            guard let match = try? regex.wholeMatch(in: value) else {
                out.append(s)
                continue
            }
            let result = Self.expand(replacement, match)
            out.append(InstantSample(labels: s.labels.with(dst, result), timestamp: s.timestamp, value: s.value))
        }
        if Self.hasDuplicates(out) {
            throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
        }
        return out
    }

    /// Go's `Regexp.Expand`: `$1`, `${1}`, `$name`, `${name}`, `$$`; a name is the longest run
    /// of letters, digits and `_`; unknown groups expand to nothing.
    static func expand(_ template: String, _ match: Regex<AnyRegexOutput>.Match) -> String {
        var out = ""
        let chars = Array(template)
        var i = 0
        func group(_ name: String) -> String {
            if let n = Int(name) {
                guard n < match.output.count, let sub = match.output[n].substring else { return "" }
                return String(sub)
            }
            guard let sub = match.output[name]?.substring else { return "" }
            return String(sub)
        }
        while i < chars.count {
            let c = chars[i]
            guard c == "$", i + 1 < chars.count else {
                out.append(c)
                i += 1
                continue
            }
            if chars[i + 1] == "$" {
                out.append("$")
                i += 2
                continue
            }
            if chars[i + 1] == "{" {
                if let close = chars[(i + 2)...].firstIndex(of: "}") {
                    let name = String(chars[(i + 2)..<close])
                    if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) {
                        out += group(name)
                        i = close + 1
                        continue
                    }
                }
                out.append(c)
                i += 1
                continue
            }
            var j = i + 1
            while j < chars.count, chars[j].isASCII, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" { j += 1 }
            if j == i + 1 {
                out.append(c)
                i += 1
                continue
            }
            out += group(String(chars[(i + 1)..<j]))
            i = j
        }
        return out
    }

    private func labelJoin(_ args: [Expr], _ t: Int64) throws(QueryError) -> [InstantSample] {
        let v = try vector(args[0], t)
        let dst = try string(args[1], t)
        let sep = try string(args[2], t)
        var sources: [String] = []
        for arg in args.dropFirst(3) {
            let name = try string(arg, t)
            guard Labels.isValidLabelName(name) else { throw QueryError(.execution, "invalid source label name in label_join(): \(name)") }
            sources.append(name)
        }
        guard Labels.isValidLabelName(dst) else {
            throw QueryError(.execution, "invalid destination label name in label_join(): \(dst)")
        }
        let out = v.map { s in
            let joined = sources.map { s.labels[$0] ?? "" }.joined(separator: sep)
            return InstantSample(labels: s.labels.with(dst, joined), timestamp: s.timestamp, value: s.value)
        }
        if Self.hasDuplicates(out) {
            throw QueryError(.execution, "vector cannot contain metrics with the same labelset")
        }
        return out
    }

    // MARK: Histograms

    func histogramQuantile(_ q: Double, _ input: [InstantSample], _ t: Int64) -> [InstantSample] {
        var index: [UInt: Int] = [:]
        var groups: [(labels: Labels, buckets: [(upper: Double, count: Double)])] = []
        let excluded = LabelMemo.Derivation.removing([Labels.metricName, "le"])
        let excludedID = memo.id(of: excluded)
        for s in input {
            guard let upper = memo.bucketBound(s.labels) else { continue }
            let key = memo.derive(excluded, id: excludedID, from: s.labels)
            if let i = index[key.identity] {
                groups[i].buckets.append((upper, s.value))
            } else {
                index[key.identity] = groups.count
                groups.append((key, [(upper, s.value)]))
            }
        }
        return groups.map { InstantSample(labels: $0.labels, timestamp: t, value: Self.bucketQuantile(q, $0.buckets)) }
    }

    static func parseGoFloat(_ text: String) -> Double? {
        switch text.lowercased() {
        case "+inf", "inf", "+infinity", "infinity": return .infinity
        case "-inf", "-infinity": return -.infinity
        case "nan": return .nan
        default: return Double(text)
        }
    }

    static func bucketQuantile(_ q: Double, _ input: [(upper: Double, count: Double)]) -> Double {
        if q.isNaN { return .nan }
        if q < 0 { return -.infinity }
        if q > 1 { return .infinity }
        var buckets = input.sorted { $0.upper < $1.upper }
        guard let last = buckets.last, last.upper == .infinity else { return .nan }
        // Coalesce equal bounds, then make counts monotonic.
        var merged: [(upper: Double, count: Double)] = []
        for b in buckets {
            if let l = merged.last, l.upper == b.upper {
                merged[merged.count - 1].count += b.count
            } else {
                merged.append(b)
            }
        }
        buckets = merged
        var maximum = -Double.infinity
        for i in buckets.indices {
            if buckets[i].count > maximum {
                maximum = buckets[i].count
            } else if buckets[i].count < maximum {
                buckets[i].count = maximum
            }
        }
        guard buckets.count >= 2 else { return .nan }
        let observations = buckets[buckets.count - 1].count
        guard observations != 0 else { return .nan }
        var rank = q * observations
        var b = buckets.count - 1
        for i in 0..<(buckets.count - 1) where buckets[i].count >= rank {
            b = i
            break
        }
        if b == buckets.count - 1 { return buckets[buckets.count - 2].upper }
        if b == 0 && buckets[0].upper <= 0 { return buckets[0].upper }
        var bucketStart = 0.0
        let bucketEnd = buckets[b].upper
        var count = buckets[b].count
        if b > 0 {
            bucketStart = buckets[b - 1].upper
            count -= buckets[b - 1].count
            rank -= buckets[b - 1].count
        }
        return bucketStart + (bucketEnd - bucketStart) * (rank / count)
    }

    // MARK: Dates

    static func datePart(_ name: String, _ sample: InstantSample) -> Double {
        let seconds = sample.value
        guard seconds.isFinite, Swift.abs(seconds) < 9e15 else { return .nan }
        let s = Int64(seconds.rounded(.towardZero))
        var days = s / 86400
        var rem = s % 86400
        if rem < 0 {
            rem += 86400
            days -= 1
        }
        // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        var year = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        if month <= 2 { year += 1 }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let monthDays: [Int64] = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        switch name {
        case "year": return Double(year)
        case "month": return Double(month)
        case "day_of_month": return Double(day)
        case "days_in_month": return Double(monthDays[Int(month - 1)])
        case "day_of_year": return Double(monthDays.prefix(Int(month - 1)).reduce(0, +) + day)
        case "day_of_week":
            var w = (days + 4) % 7
            if w < 0 { w += 7 }
            return Double(w)
        case "hour": return Double(rem / 3600)
        case "minute": return Double(rem % 3600 / 60)
        default: return .nan
        }
    }
}
