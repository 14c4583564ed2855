import Testing
@testable import SeismoPipeline

@Suite("references: topics, streams, features, cycles")
struct ReferenceTests {
    @Test("a stream's topic must be declared or published by a collector")
    func streamTopic() throws {
        let issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "topic: signals.t", with: "topic: signals.tt"))
        #expect(issue.code == .unknownReference)
        #expect(issue.message.hasSuffix("did you mean 'signals.t'?"))
    }

    @Test("with kafka.topics, a collector's topic must be one of them")
    func collectorTopic() throws {
        let issue = try onlyIssue(minimalSpec + "\ncollectors: [{name: c, type: synthetic, topic: signals.u}]")
        #expect(issue.path == "collectors[0].topic")
        #expect(issue.message == "topic 'signals.u' is not declared under kafka.topics; did you mean 'signals.t'?")
    }

    @Test("a detector's stream and features must exist")
    func detectorReferences() throws {
        var issue = try onlyIssue(minimalSpec + "\ndetectors: [{name: d, type: zscore, stream: x, features: [n]}]")
        #expect(issue.message == "no stream is called 'x'; expected one of: s")
        issue = try onlyIssue(minimalSpec + "\ndetectors: [{name: d, type: zscore, stream: s, features: [m]}]")
        #expect(issue.path == "detectors[0].features[0]")
        #expect(issue.message == "stream 's' has no feature 'm'; expected one of: n")
    }

    @Test("a derived feature may only read the stream's features")
    func derivedReferences() throws {
        let issue = try onlyIssue(minimalSpec + "\n    features:\n      r: n / requests")
        #expect(issue.code == .unknownReference)
        #expect(issue.path == "streams[0].features.r")
        #expect(issue.message == "feature 'r' reads 'requests', which is not a feature of this stream")
    }

    @Test("cycles among derived features are reported once, with the loop")
    func cycles() throws {
        let issue = try onlyIssue(minimalSpec + "\n    features:\n      a: b + n\n      b: c * 2\n      c: a - 1\n      d: a")
        #expect(issue.code == .cycle)
        #expect(issue.path == "streams[0].features.a")
        #expect(issue.message == "features depend on each other in a cycle: a → b → c → a")
        #expect(try onlyIssue(minimalSpec + "\n    features:\n      a: a + 1").message.contains("a → a"))
    }

    @Test("derived features are ordered so each follows what it reads")
    func ordering() throws {
        let pipeline = try load(minimalSpec + "\n    features:\n      b: a * 2\n      a: n + 1\n      c: n")
        #expect(pipeline.streams[0].derived.map(\.name) == ["a", "b", "c"])
        #expect(pipeline.streams[0].featureNames == ["n", "a", "b", "c"])
    }

    @Test("anomaly injections must name the collector's services, instances and metrics")
    func injections() throws {
        let found = issues(
            minimalSpec + """

            collectors:
              - name: c
                type: synthetic
                topic: signals.t
                services: [checkout]
                instances: 2
                duration: 1h
                anomalies:
                  - {kind: spike, at: 2h, service: chekout, instance: 2, metric: http_request_total}
            """)
        #expect(found.map(\.path) == ["collectors[0].anomalies[0].at", "collectors[0].anomalies[0].service",
            "collectors[0].anomalies[0].instance", "collectors[0].anomalies[0].metric"])
        #expect(found[1].message.hasSuffix("did you mean 'checkout'?"))
        #expect(found[3].message.hasSuffix("did you mean 'http_requests_total'?"))
    }
}

@Suite("the key-label rule")
struct KeyLabelTests {
    @Test("grouping by must keep every key label")
    func byKeepsKeys() throws {
        let issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "    by: [service]", with: "    by: [instance]"))
        #expect(issue.code == .keyLabels)
        #expect(issue.path == "streams[0].by")
        #expect(issue.message.contains("add service to by"))
        _ = try load(minimalSpec.replacingOccurrences(of: "    by: [service]", with: "    by: [service, instance]"))
    }

    @Test("without must not drop a key label")
    func withoutKeepsKeys() throws {
        let issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "    by: [service]", with: "    without: [service]"))
        #expect(issue.message.contains("remove service from without"))
        _ = try load(minimalSpec.replacingOccurrences(of: "    by: [service]", with: "    without: [instance]"))
    }

    @Test("a topic keyed by the whole series allows only per-series grouping, and says to declare key_by")
    func wholeSeriesKey() throws {
        let spec = minimalSpec.replacingOccurrences(of: "signals.t: {key_by: [service]}", with: "signals.t: {partitions: 2}")
        let issue = try onlyIssue(spec)
        #expect(issue.code == .keyLabels)
        #expect(issue.message.contains("key_by"))
        _ = try load(spec.replacingOccurrences(of: "    by: [service]", with: "    without: []"))
        _ = try load(spec.replacingOccurrences(of: "    by: [service]", with: "    without: [__name__]"))
        #expect(try onlyIssue(spec.replacingOccurrences(of: "    by: [service]", with: "    without: [instance]")).code == .keyLabels)
    }

    @Test("by and without together are an error")
    func both() throws {
        let issue = try onlyIssue(minimalSpec.replacingOccurrences(of: "    by: [service]", with: "    by: [service]\n    without: [x]"))
        #expect(issue.message == "use either by or without, not both")
    }
}
