import SeismoCore
import Testing

@testable import SeismoQuery

@Suite("Parser")
struct ParserTests {
    @Test("operator precedence: * over +, ^ right-associative, unary minus below ^")
    func precedence() throws {
        #expect(try Parser.parse("1 + 2 * 3").description == "1 + 2 * 3")
        guard case .binary(.add, .number(1), .binary(.mul, _, _, _, _), _, _) = try Parser.parse("1 + 2 * 3") else {
            Issue.record("1 + 2 * 3 should group as 1 + (2 * 3)")
            return
        }
        guard case .binary(.pow, .number(2), .binary(.pow, _, _, _, _), _, _) = try Parser.parse("2 ^ 3 ^ 2") else {
            Issue.record("^ should be right-associative")
            return
        }
        guard case .unaryMinus(.binary(.pow, _, _, _, _)) = try Parser.parse("-x ^ 2") else {
            Issue.record("-x ^ 2 should be -(x ^ 2)")
            return
        }
        guard case .binary(.or, _, .binary(.and, _, _, _, _), _, _) = try Parser.parse("a or b and c") else {
            Issue.record("and binds tighter than or")
            return
        }
        guard case .binary(.sub, .binary(.sub, _, _, _, _), _, _, _) = try Parser.parse("a - b - c") else {
            Issue.record("- is left-associative")
            return
        }
    }

    @Test("selectors with matchers, ranges, offset, @ and subqueries")
    func selectors() throws {
        guard case .matrixSelector(let vs, let range) = try Parser.parse(#"http_requests_total{job=~"api|web", code!="500"}[5m]"#)
        else {
            Issue.record("expected a matrix selector")
            return
        }
        #expect(range == 300_000)
        #expect(vs.matchers.count == 3)
        guard case .vectorSelector(let o) = try Parser.parse("x offset -1h30m @ 100.5") else {
            Issue.record("expected a vector selector")
            return
        }
        #expect(o.offset == -5_400_000)
        #expect(o.at == .timestamp(100_500))
        guard case .subquery(_, let r, let s, let off, let at) = try Parser.parse("rate(x[5m])[1h:1m] offset 5m @ end()")
        else {
            Issue.record("expected a subquery")
            return
        }
        #expect(r == 3_600_000 && s == 60_000 && off == 300_000 && at == .end)
    }

    @Test("aggregations take by/without before or after the argument")
    func aggregations() throws {
        guard case .aggregate(.topk, _, .number(5), let g, false) = try Parser.parse("topk(5, x) by (job, instance)") else {
            Issue.record("expected topk by")
            return
        }
        #expect(g == ["job", "instance"])
        guard case .aggregate(.sum, _, nil, ["le"], true) = try Parser.parse("SUM without (le) (rate(h[5m]))") else {
            Issue.record("expected sum without, case-insensitive")
            return
        }
    }

    @Test("vector matching modifiers")
    func matching() throws {
        guard case .binary(.mul, _, _, let m?, false) = try Parser.parse("a * on(job) group_left(team) b") else {
            Issue.record("expected a binary expression")
            return
        }
        #expect(m.on && m.labels == ["job"] && m.cardinality == .manyToOne && m.include == ["team"])
        guard case .binary(.gtr, _, _, _, true) = try Parser.parse("a > bool 1") else {
            Issue.record("expected bool")
            return
        }
    }

    @Test(
        "errors carry line:column and Prometheus's wording",
        arguments: [
            ("1 +", "1:4: parse error: unexpected end of input"),
            ("rate(x)", #"1:6: parse error: expected type range vector in call to function "rate", got instant vector"#),
            ("foo(x)", #"1:1: parse error: unknown function with name "foo""#),
            ("1 == 1", "1:1: parse error: comparisons between scalars must use BOOL modifier"),
            ("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher"),
            ("sum(x", "1:6: parse error: unclosed left parenthesis"),
            ("x[5m", "1:5: parse error: unclosed left bracket"),
            ("(x)[5m]", "1:4: parse error: ranges only allowed for vector selectors"),
            ("1 and 2", #"1:1: parse error: set operator "and" not allowed in binary scalar expression"#),
            ("x + bool y", "1:5: parse error: bool modifier can only be used on comparison operators"),
            ("x and on(a) group_left b", #"1:3: parse error: no grouping allowed for "and" operation"#),
            ("abs(x, y)", #"1:1: parse error: expected 1 argument(s) in call to "abs", got 2"#),
            ("topk(x)", "1:5: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1"),
            ("x offset 5m offset 1m", "1:13: parse error: offset may not be set multiple times"),
            ("sum(x) offset 5m", "1:8: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
            ("x[5m][1h:]", #"1:1: parse error: subquery is only allowed on instant vector, got range vector in "x[5m][1h:]" instead"#),
            ("x\n  + )", "2:5: parse error: unexpected right parenthesis ')'"),
            ("foo{a=~\"(\"}", #"1:5: parse error: error parsing regexp: invalid regular expression "(""#),
        ])
    func errors(query: String, message: String) {
        #expect(throws: QueryError(.parse, message)) { try Parser.parse(query) }
    }

    @Test("string literals unquote as Go does")
    func strings() throws {
        #expect(try Parser.parse(#""a\"b\n\x41\u00e9""#) == .string("a\"b\nAé"))
        #expect(try Parser.parse(#"'it\'s'"#) == .string("it's"))
        #expect(try Parser.parse(#"`raw\n`"#) == .string("raw\\n"))
    }

    @Test("numbers: decimal, exponent, hex, Inf and NaN")
    func numbers() throws {
        #expect(try Parser.parse("1e3") == .number(1000))
        #expect(try Parser.parse("0x1F") == .number(31))
        #expect(try Parser.parse("-Inf") == .number(-.infinity))
        guard case .number(let nan) = try Parser.parse("NaN"), nan.isNaN else {
            Issue.record("NaN")
            return
        }
    }
}
