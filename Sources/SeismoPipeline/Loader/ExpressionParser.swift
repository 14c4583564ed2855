/// Parses derived-feature expressions into `FeatureExpression`:
///
///     expr    := term (('+' | '-') term)*
///     term    := unary (('*' | '/') unary)*
///     unary   := ('-' | '+') unary | primary
///     primary := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'
///
/// A name followed by `(` is a function call; any other name is a feature.
struct ExpressionParser {
    private let s: [Unicode.Scalar]
    private var i = 0

    static func parse(_ text: String) throws(SyntaxProblem) -> FeatureExpression {
        var parser = ExpressionParser(s: Array(text.unicodeScalars))
        parser.skipSpaces()
        guard !parser.atEnd else { throw SyntaxProblem(offset: 0, message: "empty expression") }
        let expression = try parser.expression()
        parser.skipSpaces()
        guard parser.atEnd else {
            throw SyntaxProblem(offset: parser.i, message: "unexpected '\(parser.s[parser.i])'; expected an operator")
        }
        return expression
    }

    private init(s: [Unicode.Scalar]) { self.s = s }

    private var atEnd: Bool { i >= s.count }

    private mutating func skipSpaces() { while i < s.count, s[i] == " " || s[i] == "\t" { i += 1 } }

    private mutating func eat(_ c: Unicode.Scalar) -> Bool {
        skipSpaces()
        guard i < s.count, s[i] == c else { return false }
        i += 1
        return true
    }

    private mutating func expression() throws(SyntaxProblem) -> FeatureExpression {
        var lhs = try term()
        while true {
            if eat("+") {
                lhs = .binary(.add, lhs, try term())
            } else if eat("-") {
                lhs = .binary(.subtract, lhs, try term())
            } else {
                return lhs
            }
        }
    }

    private mutating func term() throws(SyntaxProblem) -> FeatureExpression {
        var lhs = try unary()
        while true {
            if eat("*") {
                lhs = .binary(.multiply, lhs, try unary())
            } else if eat("/") {
                lhs = .binary(.divide, lhs, try unary())
            } else {
                return lhs
            }
        }
    }

    private mutating func unary() throws(SyntaxProblem) -> FeatureExpression {
        if eat("-") { return .negate(try unary()) }
        if eat("+") { return try unary() }
        return try primary()
    }

    private mutating func primary() throws(SyntaxProblem) -> FeatureExpression {
        skipSpaces()
        guard i < s.count else { throw SyntaxProblem(offset: i, message: "unexpected end; expected a number, a feature or '('") }
        let start = i
        let c = s[i]
        if c == "(" {
            i += 1
            let inner = try expression()
            guard eat(")") else { throw SyntaxProblem(offset: Swift.min(i, s.count), message: "expected ')' to close the '(' at column \(start + 1)") }
            return inner
        }
        if c.isASCIIDigit || c == "." { return .number(try number()) }
        if c == "_" || c.isASCIILetter {
            while i < s.count, s[i] == "_" || s[i].isASCIILetter || s[i].isASCIIDigit { i += 1 }
            let name = String(String.UnicodeScalarView(s[start..<i]))
            let afterName = i
            skipSpaces()
            guard i < s.count, s[i] == "(" else {
                i = afterName
                return .feature(name)
            }
            guard let function = FeatureExpression.Function(rawValue: name) else {
                let names = FeatureExpression.Function.allCases.map(\.rawValue)
                throw SyntaxProblem(offset: start, message: "unknown function '\(name)'\(Suggestions.hint(for: name, in: names))")
            }
            i += 1
            var arguments: [FeatureExpression] = []
            if !eat(")") {
                repeat { arguments.append(try expression()) } while eat(",")
                guard eat(")") else { throw SyntaxProblem(offset: Swift.min(i, s.count), message: "expected ',' or ')' in the call of \(name)") }
            }
            let arity: ClosedRange<Int> = function == .min || function == .max ? 2...Int.max : 1...1
            guard arity.contains(arguments.count) else {
                let wanted = arity.lowerBound == arity.upperBound ? "1 argument" : "at least 2 arguments"
                throw SyntaxProblem(offset: start, message: "\(name) takes \(wanted), got \(arguments.count)")
            }
            return .call(function, arguments)
        }
        throw SyntaxProblem(offset: i, message: "unexpected '\(c)'; expected a number, a feature or '('")
    }

    private mutating func number() throws(SyntaxProblem) -> Double {
        let start = i
        while i < s.count, s[i].isASCIIDigit || s[i] == "." { i += 1 }
        if i < s.count, s[i] == "e" || s[i] == "E" {
            var j = i + 1
            if j < s.count, s[j] == "+" || s[j] == "-" { j += 1 }
            if j < s.count, s[j].isASCIIDigit {
                i = j
                while i < s.count, s[i].isASCIIDigit { i += 1 }
            }
        }
        let text = String(String.UnicodeScalarView(s[start..<i]))
        guard let value = Double(text) else { throw SyntaxProblem(offset: start, message: "invalid number '\(text)'") }
        return value
    }
}

extension FeatureExpression {
    /// Parses an expression such as `errors / requests` or `max(a, b) * 2`; an error's
    /// column is its position in `text` (file `<expression>`, line 1).
    public init(parsing text: String) throws(PipelineErrors) {
        do { self = try ExpressionParser.parse(text) } catch {
            throw PipelineErrors([
                PipelineIssue(
                    code: .invalidValue, file: "<expression>", line: 1, column: error.offset + 1, path: "",
                    message: error.message)
            ])
        }
    }
}
