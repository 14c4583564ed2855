import Foundation
import SeismoCore
import SeismoDetect
import SeismoPipeline
@testable import SeismoRuntime
import SeismoStream
import Testing

@Suite("Backtest")
struct BacktestTests {
    static let spec = """
        {name: z, type: zscore, stream: s, features: [cpu, latency], params: {history: 30, z: 8}}
          - {name: f, type: isolation_forest, stream: s, features: [cpu, latency], params: {trees: 50}}
        """

    /// 400 windows for two services; service a spikes at window 300.
    func history(_ pipeline: Pipeline, count: Int = 400) throws -> [String: History] {
        var outputs = windows(count)
        if let i = outputs.firstIndex(where: { $0.group == ["service": "a"] && $0.windowEnd == 1_800_000_000_000 + 301 * 60_000 }) {
            outputs[i].values = [80, 6]
        }
        return ["s": History(stream: try #require(pipeline.stream(named: "s")), outputs: outputs, source: "test")]
    }

    let labels = LabelWindows(windows: [
        "{service=\"a\"}": [(1_800_000_000_000 + 299 * 60_000)...(1_800_000_000_000 + 304 * 60_000)]
    ])

    @Test("finds the labelled spike with both detectors; metrics and NAB score follow from the detections")
    func metrics() throws {
        let pipeline = try modelPipeline(Self.spec)
        let result = try Backtest.run(
            pipeline: pipeline, detectors: pipeline.detectors, history: try history(pipeline), labels: labels, input: nil,
            models: nil)
        #expect(result.series.count == 4)
        #expect(result.series.map(\.detector) == ["z", "z", "f", "f"])
        for m in result.metrics {
            #expect(m.windows == 1 && m.windowsDetected == 1, "\(m.detector)")
            #expect(m.recall == 1)
            let series = result.series.filter { $0.detector == m.detector }
            let detections = series.map { s in (s.probation..<s.times.count).filter { s.detections[$0] }.count }.reduce(0, +)
            #expect(m.detections == detections)
            #expect(m.precision > 0 && m.precision <= 1)
            #expect(abs(m.f1 - 2 * m.precision * m.recall / (m.precision + m.recall)) < 1e-12)
            let nab = try #require(m.nab.first { $0.profile == "standard" }).result
            #expect(nab.perfect == 1 && nab.normalised > 0, "\(m.detector): \(m.detections) detections, \(nab)")
        }
        #expect(result.metrics[1].model.hasPrefix("trained on the first 15%"))
        let a = try #require(result.series.first { $0.detector == "f" && $0.group == ["service": "a"] })
        #expect(a.probation >= 60)
    }

    @Test("scoring is causal: the scores of a prefix do not change when later history is added")
    func causal() throws {
        let pipeline = try modelPipeline(Self.spec)
        let repo = try modelRoot()
        let version = try trainAndWrite(repo, pipeline, detector: "f", outputs: windows(200, seed: 77))
        try repo.promote(pipeline: "m", detector: "f", version: version)
        let full = try Backtest.run(
            pipeline: pipeline, detectors: pipeline.detectors, history: try history(pipeline), labels: labels, input: nil,
            models: repo)
        let prefix = try Backtest.run(
            pipeline: pipeline, detectors: pipeline.detectors, history: try history(pipeline, count: 320), labels: labels,
            input: nil, models: repo)
        #expect(full.metrics[1].model == "v1 (promoted)")
        for (long, short) in zip(full.series, prefix.series) {
            #expect(long.scores.prefix(320) == short.scores[...])
        }
    }

    @Test("the report is one HTML page with the metrics and one readable SVG per series")
    func report() throws {
        let pipeline = try modelPipeline(Self.spec)
        let result = try Backtest.run(
            pipeline: pipeline, detectors: pipeline.detectors, history: try history(pipeline), labels: labels, input: nil,
            models: nil)
        let html = BacktestReport.html(result, pipeline: "m", source: "test")
        #expect(html.components(separatedBy: "<svg ").count - 1 == result.series.count)
        #expect(html.contains("<td>z</td>") && html.contains("<td>f</td>"))
        let svg = BacktestReport.svg(try #require(result.series.first { $0.detector == "f" && $0.group == ["service": "a"] }))
        #expect(svg.contains("fill=\"#f4a3a3\""))  // the labelled window
        #expect(svg.contains("<circle"))  // a detection
        #expect(svg.contains("stroke=\"#ff7f0e\""))  // the scores
        #expect(!svg.contains("nan") && !svg.contains("inf"))
    }

    @Test("labels match a group, every group, or the input file as NAB names it")
    func labelMatching() {
        let w: ClosedRange<Int64> = 1...2
        let labels = LabelWindows(windows: ["{service=\"a\"}": [w], "realKnownCause/nyc_taxi.csv": [3...4], "*": [5...6]])
        #expect(labels.windows(group: ["service": "a"], input: nil) == [1...2, 5...6])
        #expect(labels.windows(group: [:], input: "/data/nab/realKnownCause/nyc_taxi.csv") == [3...4, 5...6])
        #expect(labels.windows(group: [:], input: "x/nyc_taxi.csv") == [3...4, 5...6])
    }
}

@Suite("History from CSV")
struct HistoryCSVTests {
    @Test("timestamp, feature and label columns; bad lines are reported with their number and skipped")
    func csv() throws {
        let pipeline = try modelPipeline("{name: z, type: zscore, stream: s, features: [cpu]}")
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("h-\(UUID().uuidString).csv").path
        try """
            timestamp,service,cpu
            2027-01-15 08:01:00,b,2.5
            2027-01-15T08:00:00Z,a,1

            1800000120,a,NaN
            2027-01-15 08:03:00,a,x
            yesterday,a,1
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let history = try History.csv(path: path, stream: try #require(pipeline.stream(named: "s")), required: ["cpu"])
        #expect(history.outputs.count == 3)
        #expect(history.outputs[0].group == ["service": "a"] && history.outputs[0].values[0] == 1)
        #expect(history.outputs[0].values[1].isNaN)  // latency: no column
        #expect(history.problems.count == 2 && history.problems[0].hasSuffix(":6: cpu is not a number: \"x\""))
        #expect(history.problems[1].contains(":7: bad timestamp"))
        let set = history.trainingSet(features: ["cpu"])
        #expect(set.groups.contains("{service=\"b\"}"))
        #expect(throws: RuntimeError.self) {
            try History.csv(path: path, stream: try #require(pipeline.stream(named: "s")), required: ["memory"])
        }
    }
}
