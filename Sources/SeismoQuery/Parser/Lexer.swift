/// A token of PromQL text.
public struct Token: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case identifier, metricIdentifier, number, duration, string
        case leftParen, rightParen, leftBrace, rightBrace, leftBracket, rightBracket
        case comma, colon, at, assign
        /// Label matchers: `=`, `!=`, `=~`, `!~` (`=` is `.assign`).
        case notEqual, regexMatch, notRegexMatch
        /// Binary operators (and `==`).
        case op(BinaryOperator)
        /// `by without on ignoring group_left group_right offset bool start end`.
        case keyword(String)
        case eof
    }

    public var kind: Kind
    /// The token's text as written.
    public var text: String
    /// Byte offset of its first character.
    public var position: Int

    /// As Prometheus describes a token in "unexpected …" messages.
    var description: String {
        switch kind {
        case .eof: return "end of input"
        case .identifier: return "identifier \"\(text)\""
        case .metricIdentifier: return "metric identifier \"\(text)\""
        case .number: return "number \"\(text)\""
        case .duration: return "duration \"\(text)\""
        case .string: return "string \(text.debugDescription)"
        case .op: return "<op:\(text)>"
        case .keyword(let k): return "<\(k)>"
        default: return "\"\(text)\""
        }
    }
}

/// Splits PromQL text into tokens; keywords are case-insensitive, as in Prometheus.
struct Lexer {
    private let bytes: [UInt8]
    private let query: String
    private var index = 0
    /// Depth of `{…}`: inside braces every word is a label name.
    private var braceDepth = 0
    private var parenDepth = 0
    private var bracketDepth = 0

    init(_ query: String) {
        self.query = query
        bytes = Array(query.utf8)
    }

    static let keywords: Set<String> = [
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool",
    ]

    mutating func tokenize() throws(QueryError) -> [Token] {
        var tokens: [Token] = []
        while true {
            let token = try next()
            tokens.append(token)
            if token.kind == .eof { return tokens }
        }
    }

    private func text(_ start: Int, _ end: Int) -> String { String(decoding: bytes[start..<end], as: UTF8.self) }

    private func error(_ message: String, _ position: Int) -> QueryError {
        QueryError.parse(message, at: position, in: query)
    }

    private mutating func next() throws(QueryError) -> Token {
        // Whitespace and # comments.
        while index < bytes.count {
            let c = bytes[index]
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D {
                index += 1
            } else if c == UInt8(ascii: "#") {
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
            } else {
                break
            }
        }
        let start = index
        guard index < bytes.count else {
            // As Prometheus's lexer: an open bracket at the end is its own error.
            if braceDepth > 0 { throw error("unexpected end of input inside braces", start) }
            if parenDepth > 0 { throw error("unclosed left parenthesis", start) }
            if bracketDepth > 0 { throw error("unclosed left bracket", start) }
            return Token(kind: .eof, text: "", position: start)
        }
        let c = bytes[index]
        func single(_ kind: Token.Kind, _ length: Int = 1) -> Token {
            index += length
            return Token(kind: kind, text: text(start, start + length), position: start)
        }
        let next = index + 1 < bytes.count ? bytes[index + 1] : 0
        switch c {
        case UInt8(ascii: "("):
            parenDepth += 1
            return single(.leftParen)
        case UInt8(ascii: ")"):
            parenDepth -= 1
            return single(.rightParen)
        case UInt8(ascii: "{"):
            braceDepth += 1
            return single(.leftBrace)
        case UInt8(ascii: "}"):
            braceDepth = max(0, braceDepth - 1)
            return single(.rightBrace)
        case UInt8(ascii: "["):
            bracketDepth += 1
            return single(.leftBracket)
        case UInt8(ascii: "]"):
            bracketDepth -= 1
            return single(.rightBracket)
        case UInt8(ascii: ","): return single(.comma)
        case UInt8(ascii: ":"): return single(.colon)
        case UInt8(ascii: "@"): return single(.at)
        case UInt8(ascii: "+"): return single(.op(.add))
        case UInt8(ascii: "-"): return single(.op(.sub))
        case UInt8(ascii: "*"): return single(.op(.mul))
        case UInt8(ascii: "/"): return single(.op(.div))
        case UInt8(ascii: "%"): return single(.op(.mod))
        case UInt8(ascii: "^"): return single(.op(.pow))
        case UInt8(ascii: "="):
            if next == UInt8(ascii: "=") { return single(.op(.eql), 2) }
            if next == UInt8(ascii: "~") { return single(.regexMatch, 2) }
            return single(.assign)
        case UInt8(ascii: "!"):
            if next == UInt8(ascii: "=") {
                return braceDepth > 0 ? single(.notEqual, 2) : single(.op(.neq), 2)
            }
            if next == UInt8(ascii: "~") { return single(.notRegexMatch, 2) }
            throw error("unexpected character after '!': \(Self.describe(next))", start)
        case UInt8(ascii: "<"):
            return next == UInt8(ascii: "=") ? single(.op(.lte), 2) : single(.op(.lss))
        case UInt8(ascii: ">"):
            return next == UInt8(ascii: "=") ? single(.op(.gte), 2) : single(.op(.gtr))
        case UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "`"):
            return try lexString(quote: c)
        default: break
        }
        if Self.isDigit(c) || (c == UInt8(ascii: ".") && Self.isDigit(next)) {
            return try lexNumberOrDuration()
        }
        if Self.isAlpha(c) || c == UInt8(ascii: "_") || c == UInt8(ascii: ":") {
            var end = index
            var sawColon = false
            while end < bytes.count
                && (Self.isAlpha(bytes[end]) || Self.isDigit(bytes[end]) || bytes[end] == UInt8(ascii: "_")
                    || (braceDepth == 0 && bytes[end] == UInt8(ascii: ":")))
            {
                if bytes[end] == UInt8(ascii: ":") { sawColon = true }
                end += 1
            }
            index = end
            let word = text(start, end)
            if braceDepth > 0 { return Token(kind: .identifier, text: word, position: start) }
            let lower = word.lowercased()
            if lower == "inf" || lower == "nan" { return Token(kind: .number, text: word, position: start) }
            if Self.keywords.contains(lower) { return Token(kind: .keyword(lower), text: word, position: start) }
            if let op = BinaryOperator.keywordOperators[lower] { return Token(kind: .op(op), text: word, position: start) }
            return Token(kind: sawColon ? .metricIdentifier : .identifier, text: word, position: start)
        }
        throw error("unexpected character: \(Self.describe(c))", start)
    }

    private static func describe(_ byte: UInt8) -> String {
        byte == 0 ? "end of input" : "'\(Character(Unicode.Scalar(byte)))'"
    }

    private mutating func lexNumberOrDuration() throws(QueryError) -> Token {
        let start = index
        // A duration: digits followed by a unit, repeated (1h30m).
        var end = index
        var isDuration = false
        durationLoop: while end < bytes.count, Self.isDigit(bytes[end]) {
            var digitsEnd = end
            while digitsEnd < bytes.count && Self.isDigit(bytes[digitsEnd]) { digitsEnd += 1 }
            guard digitsEnd < bytes.count else { break }
            let u = bytes[digitsEnd]
            var unitLength = 0
            if u == UInt8(ascii: "m"), digitsEnd + 1 < bytes.count, bytes[digitsEnd + 1] == UInt8(ascii: "s") {
                unitLength = 2
            } else if [UInt8(ascii: "s"), UInt8(ascii: "m"), UInt8(ascii: "h"), UInt8(ascii: "d"), UInt8(ascii: "w"),
                UInt8(ascii: "y")].contains(u)
            {
                unitLength = 1
            } else {
                break durationLoop
            }
            end = digitsEnd + unitLength
            isDuration = true
        }
        if isDuration, end >= bytes.count || !(Self.isAlpha(bytes[end]) || Self.isDigit(bytes[end]) || bytes[end] == UInt8(ascii: ".")) {
            index = end
            return Token(kind: .duration, text: text(start, end), position: start)
        }
        // A number: hex, or decimal with fraction and exponent.
        end = index
        if bytes[end] == UInt8(ascii: "0"), end + 1 < bytes.count, bytes[end + 1] | 0x20 == UInt8(ascii: "x") {
            end += 2
            while end < bytes.count && Self.isHex(bytes[end]) { end += 1 }
        } else {
            while end < bytes.count && Self.isDigit(bytes[end]) { end += 1 }
            if end < bytes.count && bytes[end] == UInt8(ascii: ".") {
                end += 1
                while end < bytes.count && Self.isDigit(bytes[end]) { end += 1 }
            }
            if end < bytes.count && bytes[end] | 0x20 == UInt8(ascii: "e") {
                var e = end + 1
                if e < bytes.count && (bytes[e] == UInt8(ascii: "+") || bytes[e] == UInt8(ascii: "-")) { e += 1 }
                if e < bytes.count && Self.isDigit(bytes[e]) {
                    while e < bytes.count && Self.isDigit(bytes[e]) { e += 1 }
                    end = e
                }
            }
        }
        if end < bytes.count, Self.isAlpha(bytes[end]) || bytes[end] == UInt8(ascii: "_") {
            var bad = end
            while bad < bytes.count && (Self.isAlpha(bytes[bad]) || Self.isDigit(bytes[bad])) { bad += 1 }
            throw error("bad number or duration syntax: \"\(text(start, bad))\"", start)
        }
        index = end
        return Token(kind: .number, text: text(start, end), position: start)
    }

    private mutating func lexString(quote: UInt8) throws(QueryError) -> Token {
        let start = index
        index += 1
        while index < bytes.count {
            let c = bytes[index]
            if c == quote {
                index += 1
                return Token(kind: .string, text: text(start, index), position: start)
            }
            if c == UInt8(ascii: "\\") && quote != UInt8(ascii: "`") {
                index += 2
                continue
            }
            if c == 0x0A && quote != UInt8(ascii: "`") { break }
            index += 1
        }
        throw error(quote == UInt8(ascii: "`") ? "unterminated raw string" : "unterminated quoted string", start)
    }

    static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    static func isAlpha(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
    static func isHex(_ c: UInt8) -> Bool { isDigit(c) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) }
}
