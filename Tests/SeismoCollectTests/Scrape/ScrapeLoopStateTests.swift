import SeismoCore
import SeismoPipeline
import SeismoWire
import Testing

@testable import SeismoCollect

@Suite("ScrapeLoopState")
struct ScrapeLoopStateTests {
    static let t0 = Timestamp(milliseconds: 1_795_300_000_000)
    static let target = ScrapeTarget(labels: ["instance": "h:9100", "job": "node"], url: "http://h:9100/metrics")

    static func state(honorLabels: Bool = false, honorTimestamps: Bool = true, sampleLimit: Int = 0, rules: [RelabelRule] = [])
        throws -> ScrapeLoopState
    {
        ScrapeLoopState(
            target: target, honorLabels: honorLabels, honorTimestamps: honorTimestamps, sampleLimit: sampleLimit,
            metricRelabeler: try Relabeler(rules))
    }

    static func parsed(_ text: String, at time: Timestamp = t0) -> ScrapeOutcome {
        .parsed(ExpositionParser.parse(text, defaultTimestamp: time))
    }

    static func values(_ samples: [Sample]) -> [String: Double] {
        Dictionary(samples.map { ($0.labels.description, $0.value) }) { a, _ in a }
    }

    @Test("samples get the target's labels; up, scrape_duration_seconds and scrape_samples_* are added")
    func reportSeries() throws {
        var state = try Self.state()
        let report = state.process(Self.parsed("a{x=\"1\"} 5\nb 2\n"), time: Self.t0, duration: .milliseconds(250))
        let v = Self.values(report.samples)
        #expect(v["a{instance=\"h:9100\", job=\"node\", x=\"1\"}"] == 5)
        #expect(v["b{instance=\"h:9100\", job=\"node\"}"] == 2)
        #expect(v["up{instance=\"h:9100\", job=\"node\"}"] == 1)
        #expect(v["scrape_duration_seconds{instance=\"h:9100\", job=\"node\"}"] == 0.25)
        #expect(v["scrape_samples_scraped{instance=\"h:9100\", job=\"node\"}"] == 2)
        #expect(v["scrape_samples_post_metric_relabeling{instance=\"h:9100\", job=\"node\"}"] == 2)
        #expect(v["scrape_series_added{instance=\"h:9100\", job=\"node\"}"] == 2)
        #expect(report.samples.allSatisfy { $0.timestamp == Self.t0 })
    }

    @Test("a series missing from the next scrape gets a stale marker at that scrape's time")
    func seriesStaleness() throws {
        var state = try Self.state()
        _ = state.process(Self.parsed("a 1\nb 2\n"), time: Self.t0, duration: .zero)
        let t1 = Self.t0 + .seconds(15)
        let second = state.process(Self.parsed("a 3\nc 4\n", at: t1), time: t1, duration: .zero)
        let stale = second.samples.filter(\.isStale)
        #expect(stale.map(\.labels.name) == ["b"])
        #expect(stale.first?.timestamp == t1)
        #expect(Self.values(second.samples)["scrape_series_added{instance=\"h:9100\", job=\"node\"}"] == 1)
    }

    @Test("a failed scrape publishes up 0 and stale markers for every previous series")
    func failure() throws {
        var state = try Self.state()
        _ = state.process(Self.parsed("a 1\nb 2\n"), time: Self.t0, duration: .zero)
        let t1 = Self.t0 + .seconds(15)
        let report = state.process(.failed("connection refused"), time: t1, duration: .milliseconds(3))
        #expect(report.failure == "connection refused")
        #expect(Set(report.samples.filter(\.isStale).compactMap(\.labels.name)) == ["a", "b"])
        #expect(Self.values(report.samples)["up{instance=\"h:9100\", job=\"node\"}"] == 0)
        #expect(state.lastSeries.isEmpty)
    }

    @Test("a target that leaves discovery gets stale markers for its series and its report series")
    func targetGone() throws {
        var state = try Self.state()
        _ = state.process(Self.parsed("a 1\n"), time: Self.t0, duration: .zero)
        let end = state.end(at: Self.t0 + .seconds(1))
        #expect(end.allSatisfy { $0.isStale })
        #expect(Set(end.compactMap(\.labels.name)) == Set(["a"] + ScrapeLoopState.reportNames))
    }

    @Test("without honor_labels a clashing scraped label becomes exported_<name>; with it, the scraped one wins")
    func honorLabels() throws {
        let text = "m{job=\"scraped\",instance=\"x\"} 1\n"
        var plain = try Self.state()
        let p = plain.process(Self.parsed(text), time: Self.t0, duration: .zero).samples[0].labels
        #expect(p["job"] == "node")
        #expect(p["exported_job"] == "scraped")
        #expect(p["exported_instance"] == "x")
        var honoring = try Self.state(honorLabels: true)
        let h = honoring.process(Self.parsed(text), time: Self.t0, duration: .zero).samples[0].labels
        #expect(h["job"] == "scraped")
        #expect(h["instance"] == "x")
        #expect(h["exported_job"] == nil)
    }

    @Test("honor_timestamps false replaces exposed timestamps by the scrape time")
    func timestamps() throws {
        var honoring = try Self.state()
        #expect(honoring.process(Self.parsed("a 1 1000\n"), time: Self.t0, duration: .zero).samples[0].timestamp.milliseconds == 1000)
        var ignoring = try Self.state(honorTimestamps: false)
        #expect(ignoring.process(Self.parsed("a 1 1000\n"), time: Self.t0, duration: .zero).samples[0].timestamp == Self.t0)
    }

    @Test("metric_relabel_configs run after the target labels are attached; dropped series are not counted")
    func metricRelabel() throws {
        let rules = [
            RelabelRule(action: .drop, sourceLabels: ["__name__"], regex: "go_.*"),
            RelabelRule(sourceLabels: ["job", "x"], separator: "/", regex: "(.*)", targetLabel: "jx", replacement: "$1"),
        ]
        var state = try Self.state(rules: rules)
        let report = state.process(Self.parsed("go_gc 1\nkeep{x=\"7\"} 2\n"), time: Self.t0, duration: .zero)
        let scraped = report.samples.filter { !ScrapeLoopState.reportNames.contains($0.labels.name ?? "") }
        #expect(scraped.map(\.labels) == [["__name__": "keep", "x": "7", "jx": "node/7", "job": "node", "instance": "h:9100"]])
        let v = Self.values(report.samples)
        #expect(v["scrape_samples_scraped{instance=\"h:9100\", job=\"node\"}"] == 2)
        #expect(v["scrape_samples_post_metric_relabeling{instance=\"h:9100\", job=\"node\"}"] == 1)
    }

    @Test("over sample_limit the scrape fails as a whole")
    func sampleLimit() throws {
        var state = try Self.state(sampleLimit: 1)
        let report = state.process(Self.parsed("a 1\nb 2\n"), time: Self.t0, duration: .zero)
        #expect(report.failure?.contains("sample limit") == true)
        #expect(report.samples.count == ScrapeLoopState.reportNames.count)
        #expect(Self.values(report.samples)["up{instance=\"h:9100\", job=\"node\"}"] == 0)
    }

    @Test("bad lines are reported and the rest of the body is kept")
    func badLines() throws {
        var state = try Self.state()
        let report = state.process(Self.parsed("a 1\nbroken{\nb 2\n"), time: Self.t0, duration: .zero)
        #expect(report.parseIssues.map(\.line) == [2])
        #expect(report.failure == nil)
        #expect(Set(report.samples.compactMap(\.labels.name)).isSuperset(of: ["a", "b"]))
    }

    @Test("scrapes within 2 ms of the interval are stamped on it, as Prometheus aligns them")
    func scrapeTimesAreAligned() throws {
        var state = try Self.state()
        let interval = Duration.seconds(15)
        func stamp(_ offset: Int64, _ text: String = "a 1\n") -> [Int64] {
            let time = Timestamp(milliseconds: Self.t0.milliseconds + offset)
            return state.process(Self.parsed(text, at: time), time: time, duration: .zero, interval: interval).samples.map(\.timestamp.milliseconds)
        }
        let t = Self.t0.milliseconds
        #expect(Set(stamp(0)) == [t])
        #expect(Set(stamp(15_002)) == [t + 15_000])
        #expect(Set(stamp(29_998)) == [t + 30_000])
        // 3 ms late: its own time, and the next scrape aligns to it.
        #expect(Set(stamp(45_003)) == [t + 45_003])
        #expect(Set(stamp(60_004)) == [t + 60_003])
        // A sample with its own timestamp keeps it.
        #expect(stamp(75_001, "a 1 1795300000123\n").first == 1_795_300_000_123)
        var plain = try Self.state()
        let late = Timestamp(milliseconds: t + 15_001)
        _ = plain.process(Self.parsed("a 1\n"), time: Self.t0, duration: .zero)
        #expect(plain.process(Self.parsed("a 1\n", at: late), time: late, duration: .zero).samples.first?.timestamp == late)
    }
}
