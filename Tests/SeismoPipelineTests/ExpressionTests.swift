import Testing
@testable import SeismoPipeline

@Suite("derived-feature expressions")
struct ExpressionTests {
    func value(_ text: String, _ features: [String: Double] = [:]) throws -> Double {
        try FeatureExpression(parsing: text).evaluate { features[$0] }
    }

    @Test("precedence, associativity, unary minus and parentheses")
    func arithmetic() throws {
        #expect(try value("1 + 2 * 3") == 7)
        #expect(try value("(1 + 2) * 3") == 9)
        #expect(try value("8 / 4 / 2") == 1)
        #expect(try value("10 - 4 - 3") == 3)
        #expect(try value("-2 * -3") == 6)
        #expect(try value("--1") == 1)
        #expect(try value("1.5e2 + .5") == 150.5)
        #expect(try FeatureExpression(parsing: "a - b * c") == .binary(.subtract, .feature("a"), .binary(.multiply, .feature("b"), .feature("c"))))
    }

    @Test("feature names and functions")
    func featuresAndFunctions() throws {
        let features = ["errors": 5.0, "requests": 50, "exp": 2]
        #expect(try value("errors / requests", features) == 0.1)
        #expect(try value("abs(-3) + sqrt(16) + ln(1) + log10(1000) + exp(0)", features) == 3 + 4 + 0 + 3 + 1)
        #expect(try value("max(errors, requests, 7) - min(errors, 1)", features) == 49)
        #expect(try value("exp * 2", features) == 4)  // a name not followed by ( is a feature
        #expect(try FeatureExpression(parsing: "max(a, b) / c").references == ["a", "b", "c"])
    }

    @Test("IEEE division, NaN for missing features and propagation through min/max")
    func specialValues() throws {
        #expect(try value("1 / 0") == .infinity)
        #expect(try value("0 / 0").isNaN)
        #expect(try value("missing + 1").isNaN)
        #expect(try value("max(missing, 1)").isNaN)
    }

    @Test("syntax errors carry the column inside the expression", arguments: [
        ("errors / ", 10, "unexpected end"), ("a + * b", 5, "unexpected '*'"), ("(a + b", 7, "expected ')'"),
        ("sqr(a)", 1, "did you mean 'sqrt'?"), ("min(a)", 1, "at least 2 arguments"), ("abs(a, b)", 1, "takes 1 argument"),
        ("a b", 3, "expected an operator"), ("", 1, "empty expression"), ("a # b", 3, "unexpected '#'"),
    ])
    func errors(text: String, column: Int, message: String) throws {
        do {
            _ = try FeatureExpression(parsing: text)
            Issue.record("\(text) should not parse")
        } catch {
            let issue = try #require(error.issues.first)
            #expect(issue.column == column, "\(issue)")
            #expect(issue.message.contains(message), "\(issue)")
        }
    }

    @Test("in a spec, an expression error's column is its column in the file")
    func inSpec() throws {
        let issue = try onlyIssue(minimalSpec + "\n    features:\n      r: n + * 2")
        #expect(issue.path == "streams[0].features.r")
        #expect((issue.line, issue.column) == (13, 14))
        let quoted = try onlyIssue(minimalSpec + "\n    features:\n      r: 'n + * 2'")
        #expect(quoted.column == 15)
    }
}

@Suite("selectors and suggestions")
struct SelectorTests {
    @Test("a metric name, matchers, or both")
    func shapes() throws {
        #expect(try PipelineLoader.parseSelector("up").map(\.description) == ["__name__=\"up\""])
        #expect(try PipelineLoader.parseSelector("{job=\"api\"}").map(\.description) == ["job=\"api\""])
        #expect(try PipelineLoader.parseSelector("http_requests_total{code=~\"5..\", path!=\"/a,b}\"}").map(\.description)
            == ["__name__=\"http_requests_total\"", "code=~\"5..\"", "path!=\"/a,b}\""])
        #expect(try PipelineLoader.parseSelector(" {a='x',} ").count == 1)
        #expect(try PipelineLoader.parseSelector("").isEmpty)
    }

    @Test("malformed selectors fail with a column", arguments: [("up{job=\"a\"", 11), ("up job", 4), ("{job=api}", 2), ("{job=\"a}", 2)])
    func malformed(text: String, column: Int) throws {
        do {
            _ = try PipelineLoader.parseSelector(text)
            Issue.record("\(text) should not parse")
        } catch {
            #expect(error.issues.first?.column == column, "\(error)")
        }
    }

    @Test("suggestions are close matches only")
    func suggestions() {
        #expect(Suggestions.closest(to: "colectors", in: PipelineLoader.topLevelKeys) == "collectors")
        #expect(Suggestions.closest(to: "pipeilne", in: PipelineLoader.topLevelKeys) == "pipeline")
        #expect(Suggestions.closest(to: "xyz", in: PipelineLoader.topLevelKeys) == nil)
        #expect(Suggestions.editDistance("kitten", "sitting") == 3)
        #expect(Suggestions.editDistance("ab", "ba") == 1)
    }
}
