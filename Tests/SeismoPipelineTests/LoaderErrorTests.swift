import Testing
@testable import SeismoPipeline

@Suite("errors carry file:line:column and the YAML path")
struct LoaderErrorTests {
    @Test("a bad quantile is reported at its value with its full path")
    func positionAndPath() throws {
        let issue = try onlyIssue(
            """
            pipeline: t
            streams:
              - name: http
                topic: signals.t
                window: {size: 1m}
                without: []
                aggregations:
                  p99: {fn: quantile, q: 1.5}
            collectors:
              - {name: c, type: synthetic, topic: signals.t}
            """)
        #expect(issue.code == .invalidValue)
        #expect(issue.path == "streams[0].aggregations.p99.q")
        #expect((issue.line, issue.column) == (8, 30))
        #expect(issue.description == "t.yaml:8:30: error: streams[0].aggregations.p99.q: q must be between 0 and 1, got 1.5")
    }

    @Test("YAML syntax errors keep Yams' position")
    func syntax() throws {
        let issue = try onlyIssue("pipeline: t\nstreams: [\n  a: b\n")
        #expect(issue.code == .syntax)
        #expect(issue.line == 4)
        #expect(issue.description.hasPrefix("t.yaml:4:1: error: invalid YAML"))
    }

    @Test("duplicate YAML keys are a syntax-level error")
    func duplicateKeys() throws {
        let issue = try onlyIssue("pipeline: t\npipeline: u\n")
        #expect(issue.code == .duplicate)
        #expect(issue.message.contains("'pipeline'"))
    }

    @Test("an empty file says so")
    func empty() throws {
        #expect(try onlyIssue("").message.contains("empty"))
    }

    @Test("unknown keys suggest the nearest allowed key at that spot")
    func unknownKeys() throws {
        var issue = try onlyIssue(minimalSpec + "\nruntme: {workers: 2}")
        #expect(issue.code == .unknownKey)
        #expect(issue.message == "unknown key 'runtme'; did you mean 'runtime'?")
        #expect(issue.column == 1)

        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{size: 1m, alowed_lateness: 5s}"))
        #expect(issue.path == "streams[0].window.alowed_lateness")
        #expect(issue.message.hasSuffix("did you mean 'allowed_lateness'?"))

        issue = try onlyIssue(minimalSpec + "\nzzz: 1")
        #expect(issue.message.contains("expected one of: pipeline, kafka"))
    }

    @Test("wrong types and missing required keys")
    func typesAndMissing() throws {
        var issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "[1m]"))
        #expect(issue.code == .wrongType)
        #expect(issue.message == "expected a mapping, got a list")
        #expect(issue.path == "streams[0].window")

        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{type: tumbling}"))
        #expect(issue.code == .missingKey)
        #expect(issue.message == "missing required key 'size'")
        #expect(issue.path == "streams[0].window")

        issue = try onlyIssue(minimalSpec + "\nruntime: {workers: many}")
        #expect(issue.message == "expected an integer, got a string")
    }

    @Test("bad durations, zero sizes and hops that do not divide the size")
    func durations() throws {
        var issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{size: 1mn}"))
        #expect(issue.path == "streams[0].window.size")
        #expect(issue.message.contains("invalid duration"))

        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{size: 0s}"))
        #expect(issue.message == "must be a positive duration, got '0s'")

        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{type: hopping, size: 1m, hop: 2m}"))
        #expect(issue.message == "hop (2m) must not exceed size (1m)")

        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{type: hopping, size: 1m, hop: 25s}"))
        #expect(issue.message == "hop (25s) must divide size (1m) evenly")

        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{size: 1m}", with: "{size: 1m, hop: 30s}"))
        #expect(issue.message.contains("only to hopping windows"))
    }

    @Test("selectors: errors point at the column inside the selector")
    func selectors() throws {
        let spec = minimalSpec.replacingOccurrences(of: "window:", with: "selector: 'up{job=\"a\", bad}'\n    window:")
        let issue = try onlyIssue(spec)
        #expect(issue.path == "streams[0].selector")
        #expect(issue.line == 8)
        // `    selector: '` is 15 columns; `bad` is 12 scalars into the selector.
        #expect(issue.column == 16 + 12)
        #expect(issue.message.contains("invalid matcher 'bad'"))

        let regex = try onlyIssue(minimalSpec.replacingOccurrences(of: "{fn: count}", with: "{fn: count, selector: '{code=~\"5(\"}'}"))
        #expect(regex.path == "streams[0].aggregations.n.selector")
    }

    @Test("quantile parameters and functions")
    func quantiles() throws {
        var issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{fn: count}", with: "{fn: quantile, q: 0.9, relative_error: 1}"))
        #expect(issue.message == "relative_error must be > 0 and < 1, got 1")
        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{fn: count}", with: "{fn: quantile}"))
        #expect(issue.message == "missing required key 'q'")
        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{fn: count}", with: "{fn: count, q: 0.5}"))
        #expect(issue.code == .unknownKey)
        issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "{fn: count}", with: "{fn: cnt}"))
        #expect(issue.message == "unknown fn 'cnt'; did you mean 'count'?")
    }

    @Test("every error is collected in one pass, in file order")
    func collectsEverything() throws {
        let found = issues(
            """
            pipeline: Bad Name
            kafka:
              topics:
                signals.x: {partitions: 0, key_by: [service]}
            colectors: []
            streams:
              - name: http
                topic: signals.y
                window: {type: hopping, size: 1m, hop: 25s}
                aggregations:
                  p99: {fn: quantile, q: 1.5}
                features:
                  ratio: errors / p99
            detectors:
              - {name: d, type: zscor, stream: htp, features: [p99]}
              - {name: d, type: zscore, stream: http, features: [p98], params: {histroy: 5}}
            runtime: {workers: 0}
            """)
        let expected: [(Int, String)] = [
            (1, "pipeline"), (4, "kafka.topics[\"signals.x\"].partitions"), (5, "colectors"), (8, "streams[0].topic"),
            (9, "streams[0].window.hop"), (11, "streams[0].aggregations.p99.q"), (13, "streams[0].features.ratio"),
            (15, "detectors[0].type"), (15, "detectors[0].stream"), (16, "detectors[1].name"),
            (16, "detectors[1].features[0]"), (16, "detectors[1].params.histroy"), (17, "runtime.workers"),
        ]
        #expect(found.map(\.line) == expected.map(\.0), "\(found.map(\.description).joined(separator: "\n"))")
        #expect(found.map(\.path) == expected.map(\.1))
        let errors = PipelineErrors(found)
        #expect(errors.description.split(separator: "\n").count == expected.count)
        #expect(errors.description.split(separator: "\n").allSatisfy { $0.hasPrefix("t.yaml:") && $0.contains(": error: ") })
    }

    @Test("duplicate names")
    func duplicates() throws {
        let spec = minimalSpec + """

              - name: s
                topic: signals.t
                window: {size: 1m}
                by: [service]
                aggregations:
                  n: {fn: count}
                features:
                  n: n * 2
            """
        let found = issues(spec)
        #expect(found.map(\.code) == [.duplicate, .duplicate])
        #expect(found[0].message == "duplicate stream name 's'")
        #expect(found[1].message == "feature 'n' is already an aggregation of this stream")
    }
}
