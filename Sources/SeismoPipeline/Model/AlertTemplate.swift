/// A label or annotation template: text with `{{ … }}` actions, a small subset of Go's
/// text/template as Prometheus uses it.
///
/// An action is a variable, optionally piped through one function:
/// - `{{ $labels.name }}` — a label of the alert (empty when absent);
/// - `{{ $value }}` — the rule's value (an anomaly's score; a forecast's time to cross, in seconds);
/// - `{{ $score }}`, `{{ $threshold }}`, `{{ $expected }}`, `{{ $band.lower }}`, `{{ $band.upper }}`;
/// - `{{ $observed.feature }}` — a feature value of the window;
/// - `{{ $features }}` — the top contributing features, largest first, comma-separated;
/// - `{{ $detector }}`, `{{ $severity }}`;
/// - pipes: `| printf "%.2f"` (also `%d`, `%s`, `%g`), `| humanize` (1.5k, 2.3M), `| humanizeDuration` (seconds → 1h2m).
/// An absent number renders as the empty string.
public struct AlertTemplate: Sendable, Hashable, CustomStringConvertible {
    public enum Function: Sendable, Hashable {
        case printf(String)
        case humanize
        case humanizeDuration
    }

    public enum Segment: Sendable, Hashable {
        case text(String)
        /// `path` is the variable without `$`, split at dots: `["labels", "service"]`.
        case variable(path: [String], function: Function?)
    }

    public let source: String
    public let segments: [Segment]

    /// The variables a template may name (first path component).
    public static let variables = [
        "labels", "value", "score", "threshold", "expected", "band", "observed", "features", "detector", "severity",
    ]

    /// A parse error, `offset` scalars into the source.
    public struct ParseError: Error, Sendable {
        public var offset: Int
        public var message: String
    }

    /// Parses `source`; throws at the first malformed action.
    public init(parsing source: String) throws(ParseError) {
        self.source = source
        var segments: [Segment] = []
        let scalars = Array(source.unicodeScalars)
        var i = 0
        var text = ""
        while i < scalars.count {
            if scalars[i] == "{", i + 1 < scalars.count, scalars[i + 1] == "{" {
                let start = i
                var j = i + 2
                while j + 1 < scalars.count, !(scalars[j] == "}" && scalars[j + 1] == "}") { j += 1 }
                guard j + 1 < scalars.count else { throw ParseError(offset: start, message: "unclosed '{{'") }
                var body = String(String.UnicodeScalarView(scalars[(i + 2)..<j]))
                body = body.trimming(" -")
                if !text.isEmpty { segments.append(.text(text)) }
                text = ""
                segments.append(try Self.action(body, offset: start))
                i = j + 2
            } else {
                text.unicodeScalars.append(scalars[i])
                i += 1
            }
        }
        if !text.isEmpty { segments.append(.text(text)) }
        self.segments = segments
    }

    /// A template of plain text.
    public init(literal: String) {
        source = literal
        segments = literal.isEmpty ? [] : [.text(literal)]
    }

    public var description: String { source }

    private static func action(_ body: String, offset: Int) throws(ParseError) -> Segment {
        let parts = body.split(separator: "|", maxSplits: 1).map { String($0).trimming(" ") }
        guard let variable = parts.first, variable.hasPrefix("$"), variable.count > 1 else {
            throw ParseError(offset: offset, message: "expected a variable such as $labels.name or $value, got '\(body)'")
        }
        let path = variable.dropFirst().split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let head = path.first, variables.contains(head) else {
            throw ParseError(
                offset: offset,
                message: "unknown variable '\(variable)'\(Suggestions.hint(for: "$" + (path.first ?? ""), in: variables.map { "$" + $0 }))")
        }
        switch head {
        case "labels", "observed":
            guard path.count == 2, !path[1].isEmpty else {
                throw ParseError(offset: offset, message: "'$\(head)' needs a name: $\(head).name")
            }
        case "band":
            guard path.count == 2, ["lower", "upper"].contains(path[1]) else {
                throw ParseError(offset: offset, message: "expected $band.lower or $band.upper")
            }
        default:
            guard path.count == 1 else { throw ParseError(offset: offset, message: "'$\(head)' has no fields") }
        }
        var function: Function?
        if parts.count == 2 {
            let call = parts[1]
            if call == "humanize" {
                function = .humanize
            } else if call == "humanizeDuration" {
                function = .humanizeDuration
            } else if call.hasPrefix("printf ") {
                let argument = String(call.dropFirst(7)).trimming(" ")
                guard argument.count >= 2, argument.first == "\"", argument.last == "\"" else {
                    throw ParseError(offset: offset, message: "printf takes a quoted format, e.g. printf \"%.2f\"")
                }
                let format = String(argument.dropFirst().dropLast())
                guard Self.isSupportedFormat(format) else {
                    throw ParseError(offset: offset, message: "unsupported printf format '\(format)'; use %.Nf, %d, %g or %s")
                }
                function = .printf(format)
            } else {
                throw ParseError(
                    offset: offset,
                    message: "unknown function '\(call)'\(Suggestions.hint(for: call, in: ["printf", "humanize", "humanizeDuration"]))")
            }
        }
        return .variable(path: path, function: function)
    }

    static func isSupportedFormat(_ format: String) -> Bool {
        let verbs = format.split(separator: "%", omittingEmptySubsequences: false).dropFirst()
        guard verbs.count == 1, let verb = verbs.first else { return false }
        if verb.hasPrefix("d") || verb.hasPrefix("s") || verb.hasPrefix("g") || verb.hasPrefix("f") { return true }
        if verb.hasPrefix("."), let f = verb.firstIndex(of: "f") {
            return Int(verb[verb.index(after: verb.startIndex)..<f]).map { (0...12).contains($0) } ?? false
        }
        return false
    }
}

extension String {
    fileprivate func trimming(_ set: String) -> String {
        let chars = Set(set)
        var s = Substring(self)
        while let c = s.first, chars.contains(c) { s = s.dropFirst() }
        while let c = s.last, chars.contains(c) { s = s.dropLast() }
        return String(s)
    }
}
