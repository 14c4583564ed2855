import SeismoCore

/// Parses and type-checks PromQL text into an `Expr`, reporting errors as Prometheus does:
/// `line:column: parse error: message`.
public struct Parser {
    private let query: String
    private var tokens: [Token] = []
    private var index = 0

    /// Parses a whole query.
    public static func parse(_ query: String) throws(QueryError) -> Expr {
        var parser = Parser(query: query)
        var lexer = Lexer(query)
        parser.tokens = try lexer.tokenize()
        if parser.tokens.count == 1 { throw QueryError.parse("no expression found in input", at: 0, in: query) }
        let (expr, _) = try parser.parseExpr(minPrecedence: 0)
        if parser.peek.kind != .eof {
            if parser.peek.kind == .rightParen { throw parser.error("unexpected right parenthesis ')'", parser.peek) }
            throw parser.error("unexpected \(parser.peek.description)", parser.peek)
        }
        return expr
    }

    /// Parses a series selector such as `up{job="api"}`, as `match[]` parameters are written.
    public static func parseSelector(_ text: String) throws(QueryError) -> [Matcher] {
        let expr = try parse(text)
        guard case .vectorSelector(let vs) = expr.unwrapped, vs.offset == 0, vs.at == nil else {
            throw QueryError(.parse, "1:1: parse error: expected a series selector, got \(expr.type.rawValue) \(text)")
        }
        return vs.matchers
    }

    private init(query: String) { self.query = query }

    private var peek: Token { tokens[index] }
    private var peekNext: Token { tokens[min(index + 1, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let token = tokens[index]
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func error(_ message: String, _ token: Token) -> QueryError {
        QueryError.parse(message, at: token.position, in: query)
    }

    private func error(_ message: String, at position: Int) -> QueryError {
        QueryError.parse(message, at: position, in: query)
    }

    private mutating func expect(_ kind: Token.Kind, _ context: String) throws(QueryError) -> Token {
        guard peek.kind == kind else {
            if peek.kind == .eof, kind == .rightParen { throw error("unclosed left parenthesis", peek) }
            if peek.kind == .eof, kind == .rightBracket { throw error("unclosed left bracket", peek) }
            throw error("unexpected \(peek.description) \(context)", peek)
        }
        return advance()
    }

    // MARK: Expressions

    private mutating func parseExpr(minPrecedence: Int) throws(QueryError) -> (Expr, Int) {
        var (lhs, start) = try parseUnary()
        while case .op(let op) = peek.kind, op.precedence >= minPrecedence {
            let opToken = advance()
            var returnBool = false
            if peek.kind == .keyword("bool") {
                guard op.isComparison else { throw error("bool modifier can only be used on comparison operators", peek) }
                _ = advance()
                returnBool = true
            }
            var matching: VectorMatching?
            if peek.kind == .keyword("on") || peek.kind == .keyword("ignoring") {
                let on = advance().kind == .keyword("on")
                matching = VectorMatching(labels: try parseLabelList("in grouping opts"), on: on)
            }
            if peek.kind == .keyword("group_left") || peek.kind == .keyword("group_right") {
                let left = advance().kind == .keyword("group_left")
                var m = matching ?? VectorMatching()
                m.cardinality = left ? .manyToOne : .oneToMany
                if peek.kind == .leftParen { m.include = try parseLabelList("in grouping opts") }
                matching = m
                if op.isSetOperator { throw error("no grouping allowed for \"\(op.rawValue)\" operation", opToken) }
                for label in m.include where m.on && m.labels.contains(label) {
                    throw error("label \"\(label)\" must not occur in ON and GROUP clause at once", opToken)
                }
            }
            let next = op == .pow ? op.precedence : op.precedence + 1
            let (rhs, _) = try parseExpr(minPrecedence: next)
            lhs = try makeBinary(op, lhs, rhs, matching: matching, returnBool: returnBool, at: start)
        }
        return (lhs, start)
    }

    private func makeBinary(
        _ op: BinaryOperator, _ lhs: Expr, _ rhs: Expr, matching: VectorMatching?, returnBool: Bool, at start: Int
    ) throws(QueryError) -> Expr {
        let lt = lhs.type
        let rt = rhs.type
        guard (lt == .scalar || lt == .vector) && (rt == .scalar || rt == .vector) else {
            throw error("binary expression must contain only scalar and instant vector types", at: start)
        }
        if matching != nil && (lt != .vector || rt != .vector) {
            throw error("vector matching only allowed between instant vectors", at: start)
        }
        if op.isSetOperator && (lt == .scalar || rt == .scalar) {
            throw error("set operator \"\(op.rawValue)\" not allowed in binary scalar expression", at: start)
        }
        if op.isComparison && !returnBool && lt == .scalar && rt == .scalar {
            throw error("comparisons between scalars must use BOOL modifier", at: start)
        }
        var m = matching
        if lt == .vector && rt == .vector {
            if m == nil { m = VectorMatching() }
            if op.isSetOperator { m!.cardinality = .manyToMany }
        }
        return .binary(op: op, lhs: lhs, rhs: rhs, matching: m, returnBool: returnBool)
    }

    private mutating func parseUnary() throws(QueryError) -> (Expr, Int) {
        if case .op(let op) = peek.kind, op == .add || op == .sub {
            let token = advance()
            let (operand, _) = try parseExpr(minPrecedence: BinaryOperator.pow.precedence)
            guard operand.type == .scalar || operand.type == .vector else {
                throw error(
                    "unary expression only allowed on expressions of type scalar or instant vector, got \"\(operand.type.rawValue)\"",
                    token)
            }
            if op == .add { return (operand, token.position) }
            if case .number(let v) = operand { return (.number(-v), token.position) }
            return (.unaryMinus(operand), token.position)
        }
        let start = peek.position
        let primary = try parsePrimary()
        return (try parsePostfix(primary, start: start), start)
    }

    private mutating func parsePrimary() throws(QueryError) -> Expr {
        let token = peek
        switch token.kind {
        case .number:
            _ = advance()
            return .number(try Self.parseNumber(token.text, token, self))
        case .string:
            _ = advance()
            return .string(try unquote(token))
        case .leftParen:
            _ = advance()
            let (inner, _) = try parseExpr(minPrecedence: 0)
            _ = try expect(.rightParen, "in paren expression")
            return .paren(inner)
        case .leftBrace:
            return .vectorSelector(try parseSelector(name: nil, start: token))
        case .identifier, .metricIdentifier:
            _ = advance()
            if let op = AggregateOperator(rawValue: token.text.lowercased()),
                peek.kind == .leftParen || peek.kind == .keyword("by") || peek.kind == .keyword("without")
            {
                return try parseAggregate(op, token)
            }
            if peek.kind == .leftParen {
                guard let signature = FunctionSignature.all[token.text] else {
                    throw error("unknown function with name \"\(token.text)\"", token)
                }
                return try parseCall(signature, token)
            }
            return .vectorSelector(try parseSelector(name: token.text, start: token))
        case .eof:
            throw error("unexpected end of input", token)
        case .rightParen:
            throw error("unexpected right parenthesis ')'", token)
        default:
            throw error("unexpected \(token.description)", token)
        }
    }

    private mutating func parsePostfix(_ base: Expr, start: Int) throws(QueryError) -> Expr {
        var expr = base
        while true {
            switch peek.kind {
            case .leftBracket:
                let open = advance()
                let range = try parseDuration(context: "in subquery or range selector")
                if peek.kind == .colon {
                    _ = advance()
                    var step: Int64 = 0
                    if peek.kind == .duration { step = try parseDuration(context: "in subquery") }
                    _ = try expect(.rightBracket, "in subquery selector")
                    guard expr.type == .vector else {
                        throw error(
                            "subquery is only allowed on instant vector, got \(expr.type.rawValue) in \"\(expr)[\(DurationParser.format(milliseconds: range)):]\" instead",
                            at: start)
                    }
                    expr = .subquery(expr, range: range, step: step, offset: 0, at: nil)
                } else {
                    _ = try expect(.rightBracket, "in range selector")
                    guard case .vectorSelector(let vs) = expr else {
                        throw error("ranges only allowed for vector selectors", open)
                    }
                    if vs.offset != 0 { throw error("no offset modifiers allowed before range", open) }
                    if vs.at != nil { throw error("no @ modifiers allowed before range", open) }
                    expr = .matrixSelector(vs, range: range)
                }
            case .keyword("offset"):
                let token = advance()
                var sign: Int64 = 1
                if case .op(.sub) = peek.kind {
                    _ = advance()
                    sign = -1
                }
                let offset = sign * (try parseDuration(context: "in offset"))
                expr = try apply(to: expr, token: token, offset: offset, at: nil)
            case .at:
                let token = advance()
                let at: AtModifier
                if case .identifier = peek.kind, peek.text == "start" || peek.text == "end", peekNext.kind == .leftParen {
                    let which = advance().text
                    _ = advance()
                    _ = try expect(.rightParen, "in @ modifier")
                    at = which == "start" ? .start : .end
                } else {
                    var sign = 1.0
                    if case .op(let op) = peek.kind, op == .sub || op == .add {
                        sign = op == .sub ? -1 : 1
                        _ = advance()
                    }
                    guard peek.kind == .number else { throw error("unexpected \(peek.description) in @, expected timestamp", peek) }
                    let number = advance()
                    let seconds = sign * (try Self.parseNumber(number.text, number, self))
                    guard seconds.isFinite, abs(seconds * 1000) < 9.2e18 else {
                        throw error("timestamp out of bounds for @ modifier: \(seconds)", number)
                    }
                    at = .timestamp(Int64((seconds * 1000).rounded()))
                }
                expr = try apply(to: expr, token: token, offset: nil, at: at)
            default:
                return expr
            }
        }
    }

    private func apply(to expr: Expr, token: Token, offset: Int64?, at: AtModifier?) throws(QueryError) -> Expr {
        let what = offset != nil ? "offset" : "@"
        func set(_ currentOffset: inout Int64, _ currentAt: inout AtModifier?) throws(QueryError) {
            if let offset {
                if currentOffset != 0 { throw error("offset may not be set multiple times", token) }
                currentOffset = offset
            }
            if let at {
                if currentAt != nil { throw error("@ <timestamp> may not be set multiple times", token) }
                currentAt = at
            }
        }
        switch expr {
        case .vectorSelector(var vs):
            try set(&vs.offset, &vs.at)
            return .vectorSelector(vs)
        case .matrixSelector(var vs, let range):
            try set(&vs.offset, &vs.at)
            return .matrixSelector(vs, range: range)
        case .subquery(let e, let range, let step, var o, var a):
            try set(&o, &a)
            return .subquery(e, range: range, step: step, offset: o, at: a)
        default:
            let modifier = what == "@" ? "@ modifier" : "offset modifier"
            throw error(
                "\(modifier) must be preceded by an instant vector selector or range vector selector or a subquery", token)
        }
    }

    private mutating func parseDuration(context: String) throws(QueryError) -> Int64 {
        let token = peek
        guard token.kind == .duration else {
            if token.kind == .eof { throw error("unexpected end of input \(context)", token) }
            throw error("unexpected \(token.description) \(context), expected duration", token)
        }
        _ = advance()
        let ms: Int64
        do {
            ms = try DurationParser.parseMilliseconds(token.text)
        } catch {
            throw self.error("not a valid duration string: \"\(token.text)\"", token)
        }
        if ms == 0 { throw error("duration must be greater than 0", token) }
        return ms
    }

    // MARK: Selectors

    private mutating func parseSelector(name: String?, start: Token) throws(QueryError) -> VectorSelector {
        var matchers: [Matcher] = []
        if let name {
            matchers.append(try makeMatcher(.equal, Labels.metricName, name, start))
        }
        if peek.kind == .leftBrace {
            _ = advance()
            while peek.kind != .rightBrace {
                let label = advance()
                guard label.kind == .identifier else {
                    if label.kind == .eof { throw error("unexpected end of input inside braces", label) }
                    throw error("unexpected \(label.description) in label matching, expected label", label)
                }
                let opToken = advance()
                let kind: Matcher.Kind
                switch opToken.kind {
                case .assign: kind = .equal
                case .notEqual: kind = .notEqual
                case .regexMatch: kind = .regexMatch
                case .notRegexMatch: kind = .notRegexMatch
                case .eof: throw error("unexpected end of input inside braces", opToken)
                default:
                    throw error(
                        "unexpected \(opToken.description) in label matching, expected label matching operator", opToken)
                }
                let valueToken = advance()
                guard valueToken.kind == .string else {
                    if valueToken.kind == .eof { throw error("unexpected end of input inside braces", valueToken) }
                    throw error("unexpected \(valueToken.description) in label matching, expected string", valueToken)
                }
                let value = try unquote(valueToken)
                if label.text == Labels.metricName, name != nil {
                    throw error("metric name must not be set twice: \"\(name!)\" or \"\(value)\"", label)
                }
                matchers.append(try makeMatcher(kind, label.text, value, label))
                if peek.kind == .comma {
                    _ = advance()
                } else if peek.kind != .rightBrace {
                    if peek.kind == .eof { throw error("unexpected end of input inside braces", peek) }
                    throw error("unexpected \(peek.description) in label matching, expected \",\" or \"}\"", peek)
                }
            }
            _ = advance()
        }
        if !matchers.contains(where: { !$0.matchesEmpty }) {
            throw error("vector selector must contain at least one non-empty matcher", start)
        }
        return VectorSelector(name: name, matchers: matchers)
    }

    private func makeMatcher(_ kind: Matcher.Kind, _ name: String, _ value: String, _ token: Token) throws(QueryError)
        -> Matcher
    {
        do {
            return try Matcher(kind, name, value)
        } catch {
            throw self.error("error parsing regexp: invalid regular expression \(value.debugDescription)", token)
        }
    }

    // MARK: Aggregations and calls

    private mutating func parseLabelList(_ context: String) throws(QueryError) -> [String] {
        _ = try expect(.leftParen, context)
        var labels: [String] = []
        while peek.kind != .rightParen {
            let token = advance()
            guard Labels.isValidLabelName(token.text), token.kind != .string, token.kind != .number else {
                if token.kind == .eof { throw error("unclosed left parenthesis", token) }
                throw error("unexpected \(token.description) \(context), expected label", token)
            }
            labels.append(token.text)
            if peek.kind == .comma {
                _ = advance()
            } else if peek.kind != .rightParen {
                if peek.kind == .eof { throw error("unclosed left parenthesis", peek) }
                throw error("unexpected \(peek.description) \(context), expected \",\" or \")\"", peek)
            }
        }
        _ = advance()
        return labels
    }

    private mutating func parseAggregate(_ op: AggregateOperator, _ token: Token) throws(QueryError) -> Expr {
        var grouping: [String] = []
        var without = false
        var sawModifier = false
        if peek.kind == .keyword("by") || peek.kind == .keyword("without") {
            without = advance().kind == .keyword("without")
            grouping = try parseLabelList("in grouping opts")
            sawModifier = true
        }
        let open = try expect(.leftParen, "in aggregation")
        let args = try parseArguments(context: "in aggregation")
        if !sawModifier, peek.kind == .keyword("by") || peek.kind == .keyword("without") {
            without = advance().kind == .keyword("without")
            grouping = try parseLabelList("in grouping opts")
        }
        let expected = op.hasParameter ? 2 : 1
        guard args.count == expected else {
            throw error(
                "wrong number of arguments for aggregate expression provided, expected \(expected), got \(args.count)",
                open)
        }
        let (expr, exprStart) = args[expected - 1]
        guard expr.type == .vector else {
            throw error("expected type instant vector in aggregation expression, got \(expr.type.rawValue)", at: exprStart)
        }
        var param: Expr?
        if op.hasParameter {
            let (p, pStart) = args[0]
            let want: ValueType = op == .countValues ? .string : .scalar
            guard p.type == want else {
                throw error("expected type \(want.rawValue) in aggregation parameter, got \(p.type.rawValue)", at: pStart)
            }
            param = p
        }
        return .aggregate(op: op, expr: expr, param: param, grouping: grouping, without: without)
    }

    /// Comma-separated expressions up to and including the closing parenthesis, each with its start.
    private mutating func parseArguments(context: String) throws(QueryError) -> [(Expr, Int)] {
        var args: [(Expr, Int)] = []
        while peek.kind != .rightParen {
            args.append(try parseExpr(minPrecedence: 0))
            guard peek.kind == .comma else { break }
            _ = advance()
        }
        _ = try expect(.rightParen, context)
        return args
    }

    private mutating func parseCall(_ signature: FunctionSignature, _ token: Token) throws(QueryError) -> Expr {
        _ = advance()
        let args = try parseArguments(context: "in call to function \"\(signature.name)\"")
        let n = signature.args.count
        if signature.optional == 0 {
            if args.count != n {
                throw error("expected \(n) argument(s) in call to \"\(signature.name)\", got \(args.count)", token)
            }
        } else if args.count < n - signature.optional {
            throw error(
                "expected at least \(n - signature.optional) argument(s) in call to \"\(signature.name)\", got \(args.count)",
                token)
        } else if !signature.repeatsLast, args.count > n {
            throw error("expected at most \(n) argument(s) in call to \"\(signature.name)\", got \(args.count)", token)
        }
        for (i, (arg, start)) in args.enumerated() {
            let want = signature.args[min(i, n - 1)]
            guard arg.type == want else {
                throw error(
                    "expected type \(want.rawValue) in call to function \"\(signature.name)\", got \(arg.type.rawValue)",
                    at: start)
            }
        }
        return .call(function: signature.name, args: args.map(\.0))
    }

    // MARK: Literals

    static func parseNumber(_ text: String, _ token: Token, _ parser: Parser) throws(QueryError) -> Double {
        let lower = text.lowercased()
        if lower == "inf" { return .infinity }
        if lower == "nan" { return .nan }
        if lower.hasPrefix("0x"), let v = UInt64(lower.dropFirst(2), radix: 16) { return Double(v) }
        if let v = Double(text) { return v }
        throw parser.error("bad number syntax: \"\(text)\"", token)
    }

    private func unquote(_ token: Token) throws(QueryError) -> String {
        guard let value = Self.unquote(token.text) else {
            throw error("invalid syntax in string \(token.text)", token)
        }
        return value
    }

    /// Go's `strconv.Unquote` for `"…"` and `'…'`, and raw `` `…` ``.
    static func unquote(_ text: String) -> String? {
        var scalars = Array(text.unicodeScalars)
        guard scalars.count >= 2, let quote = scalars.first, scalars.last == quote else { return nil }
        scalars = Array(scalars[1..<(scalars.count - 1)])
        if quote == "`" { return String(String.UnicodeScalarView(scalars)) }
        var out = String.UnicodeScalarView()
        var i = 0
        func hex(_ count: Int) -> UInt32? {
            guard i + count <= scalars.count else { return nil }
            let digits = String(String.UnicodeScalarView(scalars[i..<(i + count)]))
            i += count
            return UInt32(digits, radix: 16)
        }
        while i < scalars.count {
            let c = scalars[i]
            i += 1
            if c == quote { return nil }
            guard c == "\\" else {
                out.append(c)
                continue
            }
            guard i < scalars.count else { return nil }
            let e = scalars[i]
            i += 1
            switch e {
            case "a": out.append("\u{07}")
            case "b": out.append("\u{08}")
            case "f": out.append("\u{0C}")
            case "n": out.append("\n")
            case "r": out.append("\r")
            case "t": out.append("\t")
            case "v": out.append("\u{0B}")
            case "\\": out.append("\\")
            case "\"", "'":
                guard e == quote else { return nil }
                out.append(e)
            case "x":
                guard let v = hex(2), let s = Unicode.Scalar(v) else { return nil }
                out.append(s)
            case "u":
                guard let v = hex(4), let s = Unicode.Scalar(v) else { return nil }
                out.append(s)
            case "U":
                guard let v = hex(8), let s = Unicode.Scalar(v) else { return nil }
                out.append(s)
            case "0"..."7":
                guard i + 2 <= scalars.count else { return nil }
                let digits = String(String.UnicodeScalarView([e] + scalars[i..<(i + 2)]))
                i += 2
                guard let v = UInt32(digits, radix: 8), v <= 255, let s = Unicode.Scalar(v) else { return nil }
                out.append(s)
            default: return nil
            }
        }
        return String(out)
    }
}

extension Parser {
    /// The value of a PromQL string literal (`"…"`, `'…'` or `` `…` ``), or nil when malformed.
    public static func parseStringLiteral(_ text: String) -> String? { unquote(text) }
}
