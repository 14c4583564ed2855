import Testing

@testable import SeismoCore

/// Specification of `Matcher`: PromQL label matchers with Prometheus's semantics.
@Suite("Matcher")
struct MatcherTests {
    // MARK: The four kinds

    @Test("= matches exactly the value")
    func equal() throws {
        let matcher = try Matcher(.equal, "job", "api")
        #expect(matcher.matches("api"))
        #expect(!matcher.matches("api-2"))
        #expect(!matcher.matches("API"))
        #expect(!matcher.matches(""))
        #expect(!matcher.matches(nil))
    }

    @Test("!= matches everything but the value, including an absent label")
    func notEqual() throws {
        let matcher = try Matcher(.notEqual, "job", "api")
        #expect(!matcher.matches("api"))
        #expect(matcher.matches("api-2"))
        #expect(matcher.matches(""))
        #expect(matcher.matches(nil))
    }

    @Test("=~ matches values the regex matches in full")
    func regexMatch() throws {
        let matcher = try Matcher(.regexMatch, "job", "api|web")
        #expect(matcher.matches("api"))
        #expect(matcher.matches("web"))
        #expect(!matcher.matches("db"))
        #expect(!matcher.matches(nil))
    }

    @Test("!~ matches values the regex does not match in full")
    func notRegexMatch() throws {
        let matcher = try Matcher(.notRegexMatch, "job", "api|web")
        #expect(!matcher.matches("api"))
        #expect(!matcher.matches("web"))
        #expect(matcher.matches("api-2"))
        #expect(matcher.matches("db"))
        #expect(matcher.matches(nil))
    }

    @Test("the kinds are spelled as in PromQL")
    func kindSpelling() {
        #expect(Matcher.Kind.allCases.map(\.rawValue) == ["=", "!=", "=~", "!~"])
    }

    // MARK: Anchoring and regex semantics

    struct RegexCase: Sendable, CustomTestStringConvertible {
        var pattern: String
        var value: String?
        var matches: Bool
        var testDescription: String {
            "\(pattern.debugDescription) vs \(value.map(\.debugDescription) ?? "absent") → \(matches)"
        }
    }

    static let regexCases: [RegexCase] = [
        // Fully anchored: a literal is the whole value.
        RegexCase(pattern: "api", value: "api", matches: true),
        RegexCase(pattern: "api", value: "api-2", matches: false),
        RegexCase(pattern: "api", value: "my-api", matches: false),
        RegexCase(pattern: "api", value: "", matches: false),
        // Prefixes.
        RegexCase(pattern: "a.*", value: "a", matches: true),
        RegexCase(pattern: "a.*", value: "abc", matches: true),
        RegexCase(pattern: "a.*", value: "ba", matches: false),
        RegexCase(pattern: "a.*", value: nil, matches: false),
        RegexCase(pattern: "api-.*", value: "api-2", matches: true),
        RegexCase(pattern: ".*-2", value: "api-2", matches: true),
        RegexCase(pattern: ".*-2", value: "api-20", matches: false),
        // Alternation is anchored as a whole, not per branch.
        RegexCase(pattern: "a|b", value: "a", matches: true),
        RegexCase(pattern: "a|b", value: "b", matches: true),
        RegexCase(pattern: "a|b", value: "ab", matches: false),
        RegexCase(pattern: "a|b", value: "", matches: false),
        RegexCase(pattern: "a|b.*", value: "bcd", matches: true),
        RegexCase(pattern: "a|b.*", value: "abc", matches: false),
        RegexCase(pattern: "a.*|b", value: "ab", matches: true),
        RegexCase(pattern: "a.*|b", value: "bb", matches: false),
        RegexCase(pattern: "a|", value: "", matches: true),
        RegexCase(pattern: "a|", value: nil, matches: true),
        RegexCase(pattern: "(a|b)c", value: "bc", matches: true),
        RegexCase(pattern: "(a|b)c", value: "abc", matches: false),
        // .* and .+ and the empty pattern.
        RegexCase(pattern: ".*", value: nil, matches: true),
        RegexCase(pattern: ".*", value: "", matches: true),
        RegexCase(pattern: ".*", value: "anything", matches: true),
        RegexCase(pattern: ".+", value: nil, matches: false),
        RegexCase(pattern: ".+", value: "", matches: false),
        RegexCase(pattern: ".+", value: "x", matches: true),
        RegexCase(pattern: "", value: nil, matches: true),
        RegexCase(pattern: "", value: "x", matches: false),
        // Character classes, repetition, escapes.
        RegexCase(pattern: "[0-9]+", value: "200", matches: true),
        RegexCase(pattern: "[0-9]+", value: "200a", matches: false),
        RegexCase(pattern: "[0-9]+", value: "", matches: false),
        RegexCase(pattern: "5..", value: "503", matches: true),
        RegexCase(pattern: "5..", value: "5030", matches: false),
        RegexCase(pattern: "[^a-c]", value: "d", matches: true),
        RegexCase(pattern: "[^a-c]", value: "a", matches: false),
        RegexCase(pattern: #"\d{3}"#, value: "404", matches: true),
        RegexCase(pattern: #"\d{3}"#, value: "4040", matches: false),
        RegexCase(pattern: #"\w+"#, value: "node_exporter", matches: true),
        RegexCase(pattern: #"10\.0\.0\.1:\d+"#, value: "10.0.0.1:9100", matches: true),
        RegexCase(pattern: #"10\.0\.0\.1:\d+"#, value: "10x0x0x1:9100", matches: false),
        RegexCase(pattern: "a?", value: nil, matches: true),
        RegexCase(pattern: "colou?r", value: "color", matches: true),
        RegexCase(pattern: "x{2,3}", value: "xxxx", matches: false),
        // Anchors written by the user are harmless.
        RegexCase(pattern: "^api$", value: "api", matches: true),
        RegexCase(pattern: "^api", value: "api-2", matches: false),
        // Case-insensitive flag.
        RegexCase(pattern: "(?i)api", value: "API", matches: true),
        RegexCase(pattern: "(?i)api", value: "Api", matches: true),
        RegexCase(pattern: "(?i)api", value: "apis", matches: false),
        RegexCase(pattern: "api", value: "API", matches: false),
        // As in Prometheus (which compiles `^(?s:…)$`), `.` matches a newline on every path.
        RegexCase(pattern: ".*", value: "a\nb", matches: true),
        RegexCase(pattern: "a.*", value: "a\nb", matches: true),
        RegexCase(pattern: "a.*b", value: "a\nb", matches: true),
        RegexCase(pattern: "a.b", value: "a\nb", matches: true),
        RegexCase(pattern: "(?:.*)", value: "a\nb", matches: true),
        // `.` is one code point, as in Go's regexp: "e" + combining acute is two.
        RegexCase(pattern: "e.*", value: "e\u{301}", matches: true),
        RegexCase(pattern: ".", value: "e\u{301}", matches: false),
        RegexCase(pattern: "..", value: "e\u{301}", matches: true),
        RegexCase(pattern: ".", value: "\u{E9}", matches: true),
        RegexCase(pattern: "..", value: "\r\n", matches: true),
        RegexCase(pattern: ".", value: "🙂", matches: true),
    ]

    @Test("=~ is fully anchored, as in Prometheus", arguments: regexCases)
    func anchoredRegex(testCase: RegexCase) throws {
        let matcher = try Matcher(.regexMatch, "l", testCase.pattern)
        #expect(matcher.matches(testCase.value) == testCase.matches)
    }

    @Test("!~ is the exact negation of =~", arguments: regexCases)
    func negatedRegex(testCase: RegexCase) throws {
        let matcher = try Matcher(.notRegexMatch, "l", testCase.pattern)
        #expect(matcher.matches(testCase.value) == !testCase.matches)
    }

    @Test("fast paths agree with the general regex engine")
    func fastPathsAgreeWithEngine() throws {
        // Wrapping a pattern in a group defeats every fast path.
        let patterns = ["api", "a|b|c", "a.*", ".*", ".+", "", "a|"]
        let values: [String?] = [nil, "", "a", "b", "ab", "abc", "api", "api-2", "x", "a\nb", "\n", "e\u{301}"]
        for pattern in patterns {
            let fast = try Matcher(.regexMatch, "l", pattern)
            let slow = try Matcher(.regexMatch, "l", "(?:\(pattern))")
            for value in values {
                #expect(
                    fast.matches(value) == slow.matches(value),
                    "\(pattern.debugDescription) on \(String(describing: value))")
            }
        }
    }

    @Test("= and != compare bytes, as Prometheus does: NFC é is not NFD é")
    func equalityIsBytewise() throws {
        let composed = "\u{E9}"
        let decomposed = "e\u{301}"
        #expect(try Matcher(.equal, "l", composed).matches(composed))
        #expect(!(try Matcher(.equal, "l", composed).matches(decomposed)))
        #expect(try Matcher(.notEqual, "l", composed).matches(decomposed))
        #expect(!(try Matcher(.regexMatch, "l", composed).matches(decomposed)))
        #expect(!(try Matcher(.regexMatch, "l", "x|\(composed)").matches(decomposed)))
    }

    @Test(
        "invalid regular expressions are rejected with .invalidRegex",
        arguments: ["(", "a(b", "[a-", "*", "a**b(", "(?<", #"\"#, "a{2,1}"])
    func invalidRegex(pattern: String) {
        for kind in [Matcher.Kind.regexMatch, .notRegexMatch] {
            let error = #expect(throws: SeismoError.self) { try Matcher(kind, "l", pattern) }
            #expect(error?.code == .invalidRegex)
            #expect(error?.context == pattern)
        }
    }

    @Test("= and != take any value verbatim, even one that is not a valid regex")
    func equalityNeverCompilesRegex() throws {
        #expect(try Matcher(.equal, "l", "(").matches("("))
        #expect(try Matcher(.notEqual, "l", "[").matches("x"))
    }

    // MARK: Labels

    @Test("an absent label matches as the empty string")
    func absentLabel() throws {
        let labels: Labels = ["job": "api"]
        #expect(try Matcher(.equal, "env", "").matches(labels))
        #expect(!(try Matcher(.notEqual, "env", "").matches(labels)))
        #expect(try Matcher(.notEqual, "env", "prod").matches(labels))
        #expect(try Matcher(.regexMatch, "env", ".*").matches(labels))
        #expect(!(try Matcher(.regexMatch, "env", ".+").matches(labels)))
        #expect(try Matcher(.notRegexMatch, "env", ".+").matches(labels))
        #expect(try Matcher(.regexMatch, "job", "api").matches(labels))
    }

    @Test("matchesEmpty tells whether a matcher selects series without the label")
    func matchesEmpty() throws {
        #expect(try Matcher(.equal, "l", "").matchesEmpty)
        #expect(!(try Matcher(.equal, "l", "x").matchesEmpty))
        #expect(try Matcher(.notEqual, "l", "x").matchesEmpty)
        #expect(try Matcher(.regexMatch, "l", ".*").matchesEmpty)
        #expect(try Matcher(.regexMatch, "l", "x|").matchesEmpty)
        #expect(!(try Matcher(.regexMatch, "l", ".+").matchesEmpty))
        #expect(!(try Matcher(.notRegexMatch, "l", ".*").matchesEmpty))
    }

    @Test("a collection of matchers matches when every matcher does, and an empty one always does")
    func collectionMatches() throws {
        let labels: Labels = ["__name__": "up", "job": "api", "instance": "a:1"]
        let selector = [try Matcher(.equal, "__name__", "up"), try Matcher(.regexMatch, "job", "api|web")]
        #expect(selector.matches(labels))
        #expect(!(selector + [try Matcher(.equal, "instance", "b:2")]).matches(labels))
        #expect([Matcher]().matches(labels))
    }

    // MARK: Parsing

    struct ParseCase: Sendable, CustomTestStringConvertible {
        var text: String
        var kind: Matcher.Kind
        var name: String
        var value: String
        var testDescription: String { text }
    }

    static let parseCases: [ParseCase] = [
        ParseCase(text: #"job="api""#, kind: .equal, name: "job", value: "api"),
        ParseCase(text: #"job!="x""#, kind: .notEqual, name: "job", value: "x"),
        ParseCase(text: #"job=~"a|b""#, kind: .regexMatch, name: "job", value: "a|b"),
        ParseCase(text: #"job!~"c""#, kind: .notRegexMatch, name: "job", value: "c"),
        ParseCase(text: #"__name__="up""#, kind: .equal, name: "__name__", value: "up"),
        ParseCase(text: #"job="""#, kind: .equal, name: "job", value: ""),
        // Whitespace around the operator and the whole.
        ParseCase(text: #"  job = "api"  "#, kind: .equal, name: "job", value: "api"),
        ParseCase(text: "job\t!~\t\"c\"", kind: .notRegexMatch, name: "job", value: "c"),
        // Operators inside the value do not confuse the parser.
        ParseCase(text: #"job="a=b""#, kind: .equal, name: "job", value: "a=b"),
        ParseCase(text: #"job="a!=b""#, kind: .equal, name: "job", value: "a!=b"),
        ParseCase(text: #"job="a=~b""#, kind: .equal, name: "job", value: "a=~b"),
        ParseCase(text: #"job="!~""#, kind: .equal, name: "job", value: "!~"),
        ParseCase(text: #"job!="=~""#, kind: .notEqual, name: "job", value: "=~"),
        ParseCase(text: #"job!="a=b""#, kind: .notEqual, name: "job", value: "a=b"),
        ParseCase(text: #"job=~"=~|!=""#, kind: .regexMatch, name: "job", value: "=~|!="),
        ParseCase(text: #"job!~"a!~b""#, kind: .notRegexMatch, name: "job", value: "a!~b"),
        ParseCase(text: #"job=~"x=""#, kind: .regexMatch, name: "job", value: "x="),
        ParseCase(text: #"job="=""#, kind: .equal, name: "job", value: "="),
        // Escapes in double quotes.
        ParseCase(text: #"msg="say \"hi\"""#, kind: .equal, name: "msg", value: #"say "hi""#),
        ParseCase(text: #"path="C:\\dir""#, kind: .equal, name: "path", value: #"C:\dir"#),
        ParseCase(text: #"msg="a\nb\tc""#, kind: .equal, name: "msg", value: "a\nb\tc"),
        ParseCase(text: #"msg="it\'s""#, kind: .equal, name: "msg", value: "it's"),
        // Single quotes.
        ParseCase(text: "job='api'", kind: .equal, name: "job", value: "api"),
        ParseCase(text: #"job='say "hi"'"#, kind: .equal, name: "job", value: #"say "hi""#),
        ParseCase(text: #"job='it\'s'"#, kind: .equal, name: "job", value: "it's"),
        ParseCase(text: "job=~'a|b'", kind: .regexMatch, name: "job", value: "a|b"),
        // Backticks are raw: no escapes.
        ParseCase(text: "job=~`\\d+`", kind: .regexMatch, name: "job", value: #"\d+"#),
        ParseCase(text: "job=`a\\nb`", kind: .equal, name: "job", value: #"a\nb"#),
        ParseCase(text: "job=`say \"hi\"`", kind: .equal, name: "job", value: #"say "hi""#),
    ]

    @Test("parses matchers written as in PromQL", arguments: parseCases)
    func parses(testCase: ParseCase) throws {
        let matcher = try Matcher(parsing: testCase.text)
        #expect(matcher.kind == testCase.kind)
        #expect(matcher.name == testCase.name)
        #expect(matcher.value == testCase.value)
    }

    @Test(
        "malformed matchers are rejected with .invalidMatcher",
        arguments: [
            "", "job", "job=", "job=api", #"job="api"#, #"job=api""#, #""job"="api""#, #"="api""#,
            #"1job="api""#, #"job-name="api""#, #"job=="api""#, #"job="a"b""#, #"job="a\""#, #"job="api"x"#,
            #"job ~= "api""#, "job='api\"", #"job="""""#, #"job"#, #"job:"api""#, #"job="#,
        ])
    func malformed(text: String) {
        let error = #expect(throws: SeismoError.self) { try Matcher(parsing: text) }
        #expect(error?.code == .invalidMatcher)
        #expect(error?.context == text)
    }

    @Test("a well-formed matcher with a bad regex is rejected with .invalidRegex, not .invalidMatcher")
    func parsedBadRegex() {
        let error = #expect(throws: SeismoError.self) { try Matcher(parsing: #"job=~"(""#) }
        #expect(error?.code == .invalidRegex)
    }

    // MARK: Description, equality

    @Test(
        "description is PromQL and parses back to an equal matcher",
        arguments: [
            (Matcher.Kind.equal, "job", "api", #"job="api""#),
            (.notEqual, "job", "", #"job!="""#),
            (.regexMatch, "code", "5..|429", #"code=~"5..|429""#),
            (.notRegexMatch, "path", #"\d+"#, #"path!~"\\d+""#),
            (.equal, "msg", "say \"hi\"\nbye", #"msg="say \"hi\"\nbye""#),
            (.equal, "v", "a=~b!=c", #"v="a=~b!=c""#),
        ])
    func descriptionRoundTrips(kind: Matcher.Kind, name: String, value: String, text: String) throws {
        let matcher = try Matcher(kind, name, value)
        #expect(matcher.description == text)
        #expect(try Matcher(parsing: matcher.description) == matcher)
    }

    @Test("matchers are equal when kind, name and value are")
    func equality() throws {
        #expect(try Matcher(.regexMatch, "a", "x.*") == Matcher(parsing: #"a=~"x.*""#))
        #expect(try Matcher(.regexMatch, "a", "x.*") != Matcher(.notRegexMatch, "a", "x.*"))
        #expect(try Matcher(.equal, "a", "x") != Matcher(.equal, "b", "x"))
        #expect(try Matcher(.equal, "a", "x") != Matcher(.equal, "a", "y"))
        let set: Set = [try Matcher(.equal, "a", "x"), try Matcher(parsing: #"a="x""#)]
        #expect(set.count == 1)
    }
}
