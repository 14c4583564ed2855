import SeismoCore
import SeismoStore

/// One sample of an instant vector.
public struct InstantSample: Sendable, Hashable {
    public var labels: Labels
    /// Milliseconds: the evaluation time (the sample's own time inside `timestamp()`).
    public var timestamp: Int64
    public var value: Double

    public init(labels: Labels, timestamp: Int64, value: Double) {
        self.labels = labels
        self.timestamp = timestamp
        self.value = value
    }
}

/// One series of a range vector or of a range query's result: labels, times and values.
public typealias RangeSeries = StoredSeries

/// The result of a query, in Prometheus's four result types.
public enum QueryValue: Sendable {
    case scalar(timestamp: Int64, value: Double)
    case string(timestamp: Int64, value: String)
    case vector([InstantSample])
    case matrix([RangeSeries])

    /// `scalar`, `string`, `vector` or `matrix`, as the HTTP API names it.
    public var resultType: String {
        switch self {
        case .scalar: "scalar"
        case .string: "string"
        case .vector: "vector"
        case .matrix: "matrix"
        }
    }
}

/// A series' points within one range selection (stale markers removed).
struct MatrixSeries {
    var labels: Labels
    var ts: ArraySlice<Int64>
    var vs: ArraySlice<Double>
}

/// A value during evaluation at one step.
enum Value {
    case scalar(Double)
    case string(String)
    case vector([InstantSample])
    case matrix([MatrixSeries])
}

extension Labels {
    /// Prometheus's `labels.Compare`: pairwise by name then value, shorter first.
    static func compare(_ a: Labels, _ b: Labels) -> Bool {
        let l = a.pairs
        let r = b.pairs
        for i in 0..<Swift.min(l.count, r.count) {
            if !(l[i].name.utf8.elementsEqual(r[i].name.utf8)) {
                return l[i].name.utf8.lexicographicallyPrecedes(r[i].name.utf8)
            }
            if !(l[i].value.utf8.elementsEqual(r[i].value.utf8)) {
                return l[i].value.utf8.lexicographicallyPrecedes(r[i].value.utf8)
            }
        }
        return l.count < r.count
    }

    /// Without `__name__`.
    var droppingName: Labels {
        guard self[Labels.metricName] != nil else { return self }
        return removing([Labels.metricName])
    }

    /// A copy with `name` set to an already valid `value` (removed when empty).
    func with(_ name: String, _ value: String) -> Labels {
        var pairs = self.pairs.filter { $0.name != name }
        if !value.isEmpty {
            let i = pairs.firstIndex { $0.name.utf8.lexicographicallyPrecedes(name.utf8) == false } ?? pairs.count
            pairs.insert(Label(name, value), at: i)
        }
        return Labels(uncheckedSorted: pairs)
    }
}

/// Formats a float as Go's `strconv.FormatFloat(v, 'f', -1, 64)`: the shortest digits that
/// read back to `v`, never in exponent form; `+Inf`, `-Inf`, `NaN`.
public func formatPromFloat(_ v: Double) -> String {
    if v.isNaN { return "NaN" }
    if v.isInfinite { return v > 0 ? "+Inf" : "-Inf" }
    if v == 0 { return v.sign == .minus ? "-0" : "0" }
    var text = v.description
    // Swift's shortest form is Go's unless it has an exponent; "42.0" is Go's "42".
    if !text.utf8.contains(UInt8(ascii: "e")) {
        return text.utf8.count > 2 && text.hasSuffix(".0") ? String(text.utf8.dropLast(2))! : text
    }
    var negative = false
    if text.hasPrefix("-") {
        negative = true
        text.removeFirst()
    }
    var exponent = 0
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
        exponent = Int(text[text.index(after: e)...]) ?? 0
        text = String(text[..<e])
    }
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
    var point = parts[0].count + exponent
    // Trim leading zeros (keeping the point's place) and trailing zeros.
    while digits.count > 1, digits.first == "0" {
        digits.removeFirst()
        point -= 1
    }
    while digits.count > 1, digits.last == "0", digits.count > point { digits.removeLast() }
    var out: String
    if point <= 0 {
        out = "0." + String(repeating: "0", count: -point) + digits
    } else if point >= digits.count {
        out = digits + String(repeating: "0", count: point - digits.count)
    } else {
        let i = digits.index(digits.startIndex, offsetBy: point)
        out = String(digits[..<i]) + "." + String(digits[i...])
    }
    if out.contains(".") {
        while out.last == "0" { out.removeLast() }
        if out.last == "." { out.removeLast() }
    }
    return negative ? "-" + out : out
}
