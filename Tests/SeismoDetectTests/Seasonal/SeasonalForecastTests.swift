import Foundation
import SeismoDetect
import Testing

/// Hourly samples of 10 + 0.01·t_h + 3·sin(2π t/day) + deterministic noise of amplitude ~0.2.
private func synthetic(hours: Int, start: Int = 0) -> (times: [Double], values: [Double]) {
    var times: [Double] = [], values: [Double] = []
    for h in start..<(start + hours) {
        let t = Double(h) * 3_600
        let noise = 0.2 * sin(Double(h) * 12.9898).truncatingRemainder(dividingBy: 1)
        times.append(t)
        values.append(10 + 0.01 * Double(h) + 3 * sin(2 * Double.pi * t / 86_400) + noise)
    }
    return (times, values)
}

private func truth(_ t: Double) -> Double { 10 + 0.01 * t / 3_600 + 3 * sin(2 * Double.pi * t / 86_400) }

@Suite("Seasonal forecast")
struct SeasonalForecastTests {
    @Test("detects the daily period and recovers seasonality plus trend")
    func recoversSignal() throws {
        let s = synthetic(hours: 24 * 14)
        let model = try SeasonalForecaster().fit(times: s.times, values: s.values)
        #expect(model.periods == [86_400])
        #expect(abs(model.slope * 3_600 - 0.01) < 0.002)
        for t in stride(from: 0.0, to: 14 * 86_400, by: 7_200) {
            #expect(abs(model.baseline(at: t) - truth(t)) < 0.3)
        }
        #expect(model.residualScale < 0.3)
    }

    @Test("an outlier burst inside the training data does not move the baseline")
    func robustToIncident() throws {
        var s = synthetic(hours: 24 * 14)
        for i in 100..<130 { s.values[i] += 50 }  // a 30-hour incident
        let model = try SeasonalForecaster(configuration: SeasonalConfiguration(periods: [86_400]))
            .fit(times: s.times, values: s.values)
        for i in 95..<135 { #expect(abs(model.baseline(at: s.times[i]) - truth(s.times[i])) < 0.5) }
        #expect(model.residualScale < 0.3)
    }

    @Test("gaps and NaN values are skipped, not fitted")
    func handlesGaps() throws {
        var s = synthetic(hours: 24 * 14)
        for i in 50..<90 { s.values[i] = .nan }
        let keep = s.times.indices.filter { $0 % 7 != 3 && !(200..<260).contains($0) }  // missing timestamps
        let model = try SeasonalForecaster().fit(times: keep.map { s.times[$0] }, values: keep.map { s.values[$0] })
        #expect(model.periods == [86_400])
        for i in [60, 230] { #expect(abs(model.baseline(at: s.times[i]) - truth(s.times[i])) < 0.3) }
        var tracker = SeasonalTracker(model: model)
        #expect(tracker.update(time: 1e9, value: .nan).score == 0)
    }

    @Test("bad input throws or degrades, never traps")
    func badInput() throws {
        #expect(throws: DetectError.self) { try SeasonalForecaster().fit(times: [], values: []) }
        #expect(throws: DetectError.self) { try SeasonalForecaster().fit(times: [1, 2], values: [.nan, .nan]) }
        let flat = try SeasonalForecaster().fit(times: (0..<100).map(Double.init), values: Array(repeating: 5, count: 100))
        var tracker = SeasonalTracker(model: flat)
        #expect(abs(tracker.update(time: 100, value: 5).forecast.yhat - 5) < 1e-6)
        #expect(tracker.update(time: 101, value: 6).score > 1)
        #expect(tracker.update(time: .nan, value: 6).score == 0)
    }

    /// Fits on two weeks, then streams a third in which `anomaly` alters the values.
    private func stream(_ anomaly: (Int, Double) -> Double) throws -> [Double] {
        let train = synthetic(hours: 24 * 14)
        let model = try SeasonalForecaster().fit(times: train.times, values: train.values)
        var tracker = SeasonalTracker(model: model)
        let test = synthetic(hours: 24 * 7, start: 24 * 14)
        return test.times.indices.map { i in tracker.update(time: test.times[i], value: anomaly(i, test.values[i])).score }
    }

    @Test("normal data stays inside the band")
    func quiet() throws {
        #expect(try stream { $1 }.allSatisfy { $0 < 1 })
    }

    @Test("an injected spike scores above 1 at the spike only")
    func spike() throws {
        let scores = try stream { i, y in i == 80 ? y + 5 : y }
        #expect(scores[80] > 2)
        #expect(scores.enumerated().filter { $0.offset != 80 }.allSatisfy { $0.element < 1 })
    }

    @Test("a level shift scores above 1 when it starts")
    func levelShift() throws {
        let scores = try stream { i, y in i >= 80 ? y + 3 : y }
        #expect(scores[..<80].allSatisfy { $0 < 1 })
        #expect(scores[80] > 1.5)
    }

    @Test("a variance increase pushes points outside the band")
    func varianceChange() throws {
        let scores = try stream { i, y in i >= 80 ? y + (i % 2 == 0 ? 2 : -2) : y }
        #expect(scores[..<80].allSatisfy { $0 < 1 })
        #expect(scores[80..<100].filter { $0 > 1 }.count >= 10)
    }

    @Test("time to cross on a linear ramp is where the line reaches the threshold")
    func crossing() throws {
        let times = (0..<200).map { Double($0) * 60 }
        let values = times.map { 5 + 2 * $0 / 60 }  // +2 per minute
        let model = try SeasonalForecaster(configuration: SeasonalConfiguration(periods: [])).fit(times: times, values: values)
        let tracker = SeasonalTracker(model: model)
        let crossing = try #require(tracker.timeToCross(1_005, after: times.last!, horizon: 86_400))
        #expect(abs(crossing - 500 * 60) < 1)
        #expect(tracker.timeToCross(1_005, after: times.last!, horizon: 3_600) == nil)
        #expect(tracker.timeToCross(-1_000, after: times.last!, horizon: 86_400) == nil)
    }

    @Test("the streaming detector answers in seconds from now: 0 when already past, falling with `below`")
    func streamingCrossing() throws {
        let times = (0..<200).map { Double($0) * 60 }
        let model = try SeasonalForecaster(configuration: SeasonalConfiguration(periods: [])).fit(
            times: times, values: times.map { 5 + 2 * $0 / 60 })
        var detector = SeasonalStreamingDetector(
            models: SeasonalModelSet(
                featureNames: ["disk"], threshold: 1,
                entries: [.init(group: "", feature: "disk", model: model, historyTimes: [], historyValues: [])]),
            group: "",
            featureNames: ["disk"])
        let now = times.last!
        let rising = try #require(detector.timeToCross(feature: 0, threshold: 1_005, after: now, horizon: 86_400, below: false))
        #expect(abs(rising - (500 - 199) * 60) < 1)
        #expect(detector.timeToCross(feature: 0, threshold: 100, after: now, horizon: 86_400, below: false) == 0)
        #expect(detector.timeToCross(feature: 0, threshold: 100, after: now, horizon: 86_400, below: true) == nil)
        #expect(detector.timeToCross(feature: 1, threshold: 1_005, after: now, horizon: 86_400, below: false) == nil)
        detector.learn([403], at: now + 60)
        #expect(detector.timeToCross(feature: 0, threshold: 1_005, after: now + 60, horizon: 86_400, below: false) != nil)
    }

    @Test("the AnomalyDetector conformance scores a table and returns the band")
    func detectorProtocol() throws {
        let s = synthetic(hours: 24 * 14)
        let table = FeatureTable(
            featureNames: ["timestamp", "cpu"], rowCount: s.times.count,
            values: zip(s.times, s.values).flatMap { [$0.0, $0.1] })
        let model = try SeasonalDetector().fit(table, seed: 0)
        let batch = try model.score(table)
        #expect(batch.scores.count == table.rowCount)
        #expect(batch.expected?.count == table.rowCount)
        #expect(batch.explanations[0].first?.feature == "cpu")
    }
}
