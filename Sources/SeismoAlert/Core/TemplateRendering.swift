import Foundation
import SeismoPipeline
import SeismoWire

/// What a template can read.
public struct TemplateContext: Sendable {
    public var labels: AlertLabels
    public var value: Double?
    public var score: Double?
    public var threshold: Double?
    public var expected: Double?
    public var band: (lower: Double, upper: Double)?
    public var observed: [String: Double]
    /// Top contributing features, largest first.
    public var features: [String]
    public var detector: String
    public var severity: String

    public init(
        labels: AlertLabels, value: Double? = nil, score: Double? = nil, threshold: Double? = nil, expected: Double? = nil,
        band: (lower: Double, upper: Double)? = nil, observed: [String: Double] = [:], features: [String] = [],
        detector: String = "", severity: String = ""
    ) {
        self.labels = labels
        self.value = value
        self.score = score
        self.threshold = threshold
        self.expected = expected
        self.band = band
        self.observed = observed
        self.features = features
        self.detector = detector
        self.severity = severity
    }

    /// The context of an anomaly event, with `labels` the alert's labels.
    public init(event: AnomalyEvent, labels: AlertLabels) {
        self.init(
            labels: labels, value: event.score, score: event.score, threshold: event.threshold, expected: event.expected,
            band: event.band.map { ($0.lower, $0.upper) }, observed: event.observed,
            features: event.contributions.map(\.feature), detector: event.detector, severity: event.severity.rawValue)
    }
}

extension AlertTemplate {
    /// The template's text with every action replaced by its value.
    public func render(_ context: TemplateContext) -> String {
        var out = ""
        for segment in segments {
            switch segment {
            case .text(let text): out += text
            case .variable(let path, let function): out += Self.apply(function, to: Self.lookup(path, context))
            }
        }
        return out
    }

    enum Value {
        case number(Double?)
        case text(String)
    }

    static func lookup(_ path: [String], _ c: TemplateContext) -> Value {
        switch path[0] {
        case "labels": return .text(c.labels[path[1]] ?? "")
        case "value": return .number(c.value)
        case "score": return .number(c.score)
        case "threshold": return .number(c.threshold)
        case "expected": return .number(c.expected)
        case "band": return .number(path[1] == "lower" ? c.band?.lower : c.band?.upper)
        case "observed": return .number(c.observed[path[1]])
        case "features": return .text(c.features.joined(separator: ", "))
        case "detector": return .text(c.detector)
        case "severity": return .text(c.severity)
        default: return .text("")
        }
    }

    static func apply(_ function: Function?, to value: Value) -> String {
        switch (function, value) {
        case (_, .number(nil)): return ""
        case (nil, .text(let s)): return s
        case (nil, .number(let x?)): return plain(x)
        case (.printf(let format), .number(let x?)): return String(format: format, x)
        case (.printf(let format), .text(let s)):
            return format.contains("%s") ? format.replacingOccurrences(of: "%s", with: s) : s
        case (.humanize, .number(let x?)): return humanize(x)
        case (.humanizeDuration, .number(let x?)): return humanizeDuration(x)
        case (_, .text(let s)): return s
        }
    }

    /// As Go's `%v` of a float64 roughly prints it: integers without a fraction.
    static func plain(_ x: Double) -> String {
        if !x.isFinite { return x.isNaN ? "NaN" : (x > 0 ? "+Inf" : "-Inf") }
        return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : String(x)
    }

    static func humanize(_ x: Double) -> String {
        guard x.isFinite, abs(x) >= 1000 else { return x.isFinite ? String(format: "%.4g", x) : plain(x) }
        let prefixes = ["k", "M", "G", "T", "P", "E"]
        var v = x
        var i = -1
        while abs(v) >= 1000, i < prefixes.count - 1 {
            v /= 1000
            i += 1
        }
        return String(format: "%.4g", v) + prefixes[i]
    }

    static func humanizeDuration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return plain(seconds) }
        if abs(seconds) < 1 { return String(format: "%.4gs", seconds) }
        var rest = Int64(seconds.rounded())
        var out = rest < 0 ? "-" : ""
        rest = abs(rest)
        for (unit, size) in [("d", Int64(86_400)), ("h", 3_600), ("m", 60)] where rest >= size {
            out += "\(rest / size)\(unit)"
            rest %= size
        }
        if rest > 0 || out.isEmpty || out == "-" { out += "\(rest)s" }
        return out
    }
}
