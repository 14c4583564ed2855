import SeismoCore

/// A syntax problem at a scalar offset inside a one-line value (a selector, an expression).
struct SyntaxProblem: Error {
    var offset: Int
    var message: String
}

/// Parses PromQL series selectors: an optional metric name, then an optional
/// `{matcher, …}` (`http_requests_total{code=~"5.."}`, `{job="api"}`, `up`).
/// The metric name becomes a `__name__="…"` matcher; an empty text selects everything.
enum SelectorParser {
    static func parse(_ text: String) throws(SyntaxProblem) -> [Matcher] {
        let s = Array(text.unicodeScalars)
        var i = 0
        func skipSpaces() { while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 } }
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || c == ":" || c.isASCIILetter }
        func isName(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || c.isASCIIDigit }

        var matchers: [Matcher] = []
        skipSpaces()
        if i < s.count, isNameStart(s[i]) {
            let start = i
            while i < s.count, isName(s[i]) { i += 1 }
            let name = String(String.UnicodeScalarView(s[start..<i]))
            do { matchers.append(try Matcher(.equal, Labels.metricName, name)) } catch {
                throw SyntaxProblem(offset: start, message: error.message)
            }
            skipSpaces()
        }
        if i < s.count, s[i] == "{" {
            i += 1
            while true {
                skipSpaces()
                guard i < s.count else { throw SyntaxProblem(offset: i, message: "unclosed '{'; expected '}'") }
                if s[i] == "}" {
                    i += 1
                    break
                }
                // One matcher: up to the next ',' or '}' outside quotes.
                let start = i
                var quote: Unicode.Scalar?
                var escaped = false
                while i < s.count {
                    let c = s[i]
                    if let q = quote {
                        if escaped { escaped = false } else if c == "\\" && q != "`" { escaped = true } else if c == q { quote = nil }
                    } else if c == "\"" || c == "'" || c == "`" {
                        quote = c
                    } else if c == "," || c == "}" {
                        break
                    }
                    i += 1
                }
                if quote != nil { throw SyntaxProblem(offset: start, message: "unterminated string in matcher") }
                let body = String(String.UnicodeScalarView(s[start..<i]))
                let trimmed = body.trimmingCharacters(in: " \t")
                guard !trimmed.isEmpty else { throw SyntaxProblem(offset: start, message: "expected a matcher") }
                do { matchers.append(try Matcher(parsing: trimmed)) } catch {
                    let lead = body.unicodeScalars.prefix { $0 == " " || $0 == "\t" }.count
                    throw SyntaxProblem(offset: start + lead, message: "invalid matcher '\(trimmed)': \(error.message)")
                }
                if i < s.count, s[i] == "," { i += 1 }
            }
        }
        skipSpaces()
        guard i == s.count else {
            throw SyntaxProblem(
                offset: i,
                message: "unexpected '\(s[i])'; a selector is a metric name and/or {label=\"value\", …}")
        }
        return matchers
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        var scalars = Substring(self).unicodeScalars
        while let first = scalars.first, set.unicodeScalars.contains(first) { scalars.removeFirst() }
        while let last = scalars.last, set.unicodeScalars.contains(last) { scalars.removeLast() }
        return String(scalars)
    }
}
