/// A label matcher, as in PromQL selectors: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`.
///
/// Regular expressions are fully anchored, as in Prometheus: `job=~"api"` matches `api`
/// but not `api-2`. A label that is absent matches as the empty string. As in Prometheus,
/// values are compared by their UTF-8 bytes, `.` matches any code point including a newline,
/// and character classes see code points, not grapheme clusters.
public struct Matcher: Sendable, Hashable, CustomStringConvertible {
    /// The comparison a matcher makes.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case equal = "="
        case notEqual = "!="
        case regexMatch = "=~"
        case notRegexMatch = "!~"
    }

    public let kind: Kind
    public let name: String
    public let value: String
    private let pattern: Pattern?

    /// Builds a matcher; throws `.invalidRegex` for a pattern that does not compile.
    public init(_ kind: Kind, _ name: String, _ value: String) throws(SeismoError) {
        self.kind = kind
        self.name = name
        self.value = value
        switch kind {
        case .equal, .notEqual: pattern = nil
        case .regexMatch, .notRegexMatch: pattern = try Pattern(value)
        }
    }

    /// Parses one matcher written as in PromQL, e.g. `job=~"api|web"`.
    public init(parsing text: String) throws(SeismoError) {
        let kinds: [Kind] = [.regexMatch, .notRegexMatch, .notEqual, .equal]
        for kind in kinds {
            guard let range = text.firstRange(of: kind.rawValue) else { continue }
            // `=` must not be the tail of `!=` or the head of `=~`.
            let name = text[..<range.lowerBound].trimmingSpaces()
            let rawValue = text[range.upperBound...].trimmingSpaces()
            guard Labels.isValidLabelName(String(name)) else { continue }
            guard let value = Matcher.unquote(rawValue) else {
                throw SeismoError(.invalidMatcher, "matcher value must be a quoted string", context: text)
            }
            try self.init(kind, String(name), value)
            return
        }
        throw SeismoError(.invalidMatcher, "expected name=\"value\", !=, =~ or !~", context: text)
    }

    /// True when `value` (nil for an absent label) satisfies the matcher.
    public func matches(_ value: String?) -> Bool {
        let actual = value ?? ""
        switch kind {
        case .equal: return actual.hasSameUTF8(as: self.value)
        case .notEqual: return !actual.hasSameUTF8(as: self.value)
        case .regexMatch: return pattern!.matches(actual)
        case .notRegexMatch: return !pattern!.matches(actual)
        }
    }

    /// True when `labels` satisfies the matcher.
    public func matches(_ labels: Labels) -> Bool { matches(labels[name]) }

    /// True when the matcher matches the empty string (and so an absent label).
    public var matchesEmpty: Bool { matches(nil) }

    public var description: String { "\(name)\(kind.rawValue)\"\(Labels.escape(value))\"" }

    public static func == (lhs: Matcher, rhs: Matcher) -> Bool {
        lhs.kind == rhs.kind && lhs.name.hasSameUTF8(as: rhs.name) && lhs.value.hasSameUTF8(as: rhs.value)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(name)
        hasher.combine(value)
    }

    static func unquote(_ raw: Substring) -> String? {
        guard raw.count >= 2, let quote = raw.first, quote == "\"" || quote == "'" || quote == "`",
            raw.last == quote
        else { return nil }
        let body = raw.dropFirst().dropLast()
        if quote == "`" { return String(body) }
        var out = ""
        var escaping = false
        for ch in body {
            if escaping {
                switch ch {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\": out.append("\\")
                case "\"": out.append("\"")
                case "'": out.append("'")
                default:
                    out.append("\\")
                    out.append(ch)
                }
                escaping = false
            } else if ch == "\\" {
                escaping = true
            } else if ch == quote {
                return nil
            } else {
                out.append(ch)
            }
        }
        return escaping ? nil : out
    }
}

extension Collection<Matcher> {
    /// True when every matcher matches `labels`.
    public func matches(_ labels: Labels) -> Bool { allSatisfy { $0.matches(labels) } }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return s
    }
}

extension String {
    func trimmingSpaces() -> String { String(self[...].trimmingSpaces()) }
}

/// A compiled, fully anchored pattern, with fast paths for the shapes that dominate real
/// selectors: literals, alternations of literals, `.*` and `.+`, and literal prefixes.
struct Pattern: Sendable {
    private enum Plan: Sendable {
        case any
        case nonEmpty
        case literal(String)
        case oneOf(Set<UTF8Key>)
        case prefix(String)
        case regex(RegexBox)
    }

    private let plan: Plan

    init(_ source: String) throws(SeismoError) {
        if source == ".*" {
            plan = .any
        } else if source == ".+" {
            plan = .nonEmpty
        } else if Pattern.isLiteral(source) {
            plan = .literal(source)
        } else if source.contains("|"), !source.contains("("),
            source.split(separator: "|", omittingEmptySubsequences: false).allSatisfy({ Pattern.isLiteral(String($0)) })
        {
            let branches = source.split(separator: "|", omittingEmptySubsequences: false)
            plan = .oneOf(Set(branches.map { UTF8Key(String($0)) }))
        } else if source.hasSuffix(".*"), Pattern.isLiteral(String(source.dropLast(2))) {
            plan = .prefix(String(source.dropLast(2)))
        } else {
            plan = .regex(try RegexBox(source))
        }
    }

    func matches(_ value: String) -> Bool {
        switch plan {
        case .any: return true
        case .nonEmpty: return !value.isEmpty
        case .literal(let literal): return value.hasSameUTF8(as: literal)
        case .oneOf(let set): return set.contains(UTF8Key(value))
        // Not `hasPrefix`, which compares characters: "e\u{301}x" does not have prefix "e".
        case .prefix(let prefix): return value.utf8.starts(with: prefix.utf8)
        case .regex(let box): return box.matches(value)
        }
    }

    private static func isLiteral(_ s: String) -> Bool {
        !s.unicodeScalars.contains { "\\^$.|?*+()[]{}".unicodeScalars.contains($0) }
    }

    /// A string that is equal to another only when their UTF-8 bytes are. Hashing as
    /// `String` does stays consistent: byte-equal strings are also `==` as `String`s.
    struct UTF8Key: Hashable, Sendable {
        let string: String
        init(_ string: String) { self.string = string }
        static func == (lhs: UTF8Key, rhs: UTF8Key) -> Bool { lhs.string.hasSameUTF8(as: rhs.string) }
        func hash(into hasher: inout Hasher) { hasher.combine(string) }
    }
}

/// Holds a compiled `Regex`. `Regex` is immutable once built, so sharing it across
/// tasks is safe even though its output type is not declared `Sendable`.
final class RegexBox: @unchecked Sendable {
    private let regex: Regex<AnyRegexOutput>

    init(_ source: String) throws(SeismoError) {
        do {
            // Prometheus compiles `^(?s:…)$` with Go's regexp: `.` matches a newline, and
            // matching is by code point, where Swift's default is by grapheme cluster.
            regex = try Regex("(?:\(source))").dotMatchesNewlines().matchingSemantics(.unicodeScalar)
        } catch {
            throw SeismoError(.invalidRegex, "invalid regular expression \(error)", context: source)
        }
    }

    func matches(_ value: String) -> Bool {
        (try? regex.wholeMatch(in: value)) != nil
    }
}
