import SeismoCore
import SeismoPipeline
import Testing
@testable import SeismoStream

@Suite struct AggregationTests {
    let m: Labels = ["__name__": "m", "job": "api", "instance": "a"]
    let tick: Labels = ["__name__": "tick"]

    @Test func basicAggregationsSkipNaNAndStaleMarkers() {
        let functions: [AggregationFunction] = [.count, .sum, .min, .max, .avg, .last, .stddev]
        var driver = Driver(
            makeStream(
                .tumbling(.seconds(60)), aggregations: functions.map { AggregationSpec(name: $0.name, function: $0) }))
        // `last` is the value at the latest timestamp, not the last one ingested.
        driver.record([series(m, [(s(4), 4), (s(1), 1), (s(3), 3), (s(2), 2), (s(5), .nan), (s(6), StaleMarker.value)])])
        driver.sample(tick, at: s(60))
        let output = driver.advance().first
        #expect(output?.values.prefix(6) == [4, 10, 1, 4, 2.5, 4])
        #expect(abs((output?.values[6] ?? 0) - 1.25.squareRoot()) < 1e-12)
        #expect(output?.sampleCount == 4)
        #expect(driver.counts.invalid == 2)
    }

    @Test func emptyAggregationsAreNaNExceptCount() {
        var driver = Driver(
            makeStream(
                .tumbling(.seconds(60)),
                aggregations: [
                    AggregationSpec(name: "n", function: .count, selector: [try! Matcher(.equal, "__name__", "other")]),
                    AggregationSpec(name: "sum", function: .sum, selector: [try! Matcher(.equal, "__name__", "other")]),
                    AggregationSpec(name: "rate", function: .rate),
                    AggregationSpec(name: "seen", function: .count),
                ]))
        driver.sample(m, at: s(1))
        driver.sample(tick, at: s(60))
        let output = driver.advance().first
        #expect(output?.values[0] == 0)
        #expect(output?.values[1].isNaN == true)
        #expect(output?.values[2].isNaN == true)  // the series' first sample: no increase yet
        #expect(output?.values[3] == 1)
    }

    @Test func rateAndIncreaseSumConsecutiveIncreasesAndHandleResets() {
        var driver = Driver(
            makeStream(
                .tumbling(.seconds(60)),
                aggregations: [
                    AggregationSpec(name: "increase", function: .increase),
                    AggregationSpec(name: "rate", function: .rate),
                    AggregationSpec(name: "n", function: .count),
                ]))
        let a: Labels = ["__name__": "requests", "job": "api", "instance": "a"]
        let b: Labels = ["__name__": "requests", "job": "api", "instance": "b"]
        driver.record([series(a, [(0, 10), (s(15), 20)]), series(b, [(s(15), 100)])])
        driver.record([series(a, [(s(30), 5), (s(45), 15)]), series(b, [(s(30), 110)])])  // a resets at 30 s
        driver.sample(a, at: s(40), 1000)  // older than a's previous sample: out of order
        driver.sample(a, at: s(60), 25)
        let first = driver.advance()
        // a: 10 + 5 (reset: the new value) + 10; b: 10 (its first sample adds nothing).
        #expect(first.first?.values == [35, 35.0 / 60, 7])
        #expect(driver.counts.outOfOrder == 1)
        driver.sample(tick, at: s(120))
        // The pair (45 s, 60 s) belongs to the window of its later sample.
        #expect(driver.advance().first?.values == [10, 10.0 / 60, 1])
    }

    @Test func groupingByAndWithout() {
        let samples = [
            series(["__name__": "m", "job": "api", "instance": "1"], [(s(1), 1)]),
            series(["__name__": "m", "job": "api", "instance": "2"], [(s(1), 2)]),
            series(["__name__": "m", "job": "web", "instance": "1"], [(s(1), 4)]),
        ]
        func groups(_ grouping: Grouping) -> [Labels: [Double]] {
            var driver = Driver(
                makeStream(
                    .tumbling(.seconds(60)), grouping: grouping,
                    aggregations: [AggregationSpec(name: "sum", function: .sum)]))
            driver.record(samples)
            driver.sample(tick, at: s(60))
            return Dictionary(uniqueKeysWithValues: driver.advance().map { ($0.group, $0.values) })
        }
        #expect(groups(.by(["job"])) == [["job": "api"]: [3], ["job": "web"]: [4]])
        #expect(groups(.without(["instance"])) == [["job": "api"]: [3], ["job": "web"]: [4]])
        #expect(groups(.by([])) == [Labels(): [7]])
        #expect(groups(.without([])).count == 3)
    }

    @Test func selectorsAndDerivedFeaturesInFeatureOrder() throws {
        var driver = Driver(
            makeStream(
                .tumbling(.seconds(60)), selector: [try Matcher(.regexMatch, "__name__", "errors|requests")],
                aggregations: [
                    AggregationSpec(name: "errors", function: .sum, selector: [try Matcher(.equal, "__name__", "errors")]),
                    AggregationSpec(
                        name: "requests", function: .sum, selector: [try Matcher(.equal, "__name__", "requests")]),
                ],
                derived: [
                    DerivedFeatureSpec(
                        name: "ratio", expression: .binary(.divide, .feature("errors"), .feature("requests")),
                        source: "errors / requests"),
                    DerivedFeatureSpec(
                        name: "percent", expression: .binary(.multiply, .feature("ratio"), .number(100)),
                        source: "ratio * 100"),
                ]))
        driver.record([
            series(["__name__": "errors", "job": "api"], [(s(1), 2), (s(2), 3)]),
            series(["__name__": "requests", "job": "api"], [(s(1), 50)]),
            series(["__name__": "latency", "job": "api"], [(s(1), 9)]),
        ])
        driver.sample(tick, at: s(60))
        let outputs = driver.advance()
        #expect(driver.windows.stream.featureNames == ["errors", "requests", "ratio", "percent"])
        #expect(outputs.count == 1)
        #expect(outputs.first?.values == [5, 50, 0.1, 10])
        #expect(outputs.first?.sampleCount == 3)
        #expect(driver.counts.filtered == 2)  // latency and tick
    }

    @Test func quantileAggregation() {
        var driver = Driver(
            makeStream(
                .tumbling(.seconds(60)),
                aggregations: [AggregationSpec(name: "p90", function: .quantile(q: 0.9, relativeError: 0.01))]))
        driver.record([series(m, (1...100).map { (Int64($0) * 100, Double($0)) })])
        driver.sample(tick, at: s(60))
        let p90 = driver.advance().first?.values.first ?? 0
        #expect(abs(p90 - 90) <= 0.9)
    }

    @Test func longUnseenSeriesAndGroupsAreForgotten() {
        var driver = Driver(makeStream(.tumbling(.seconds(60))))
        driver.sample(["__name__": "m", "job": "old"], at: s(1))
        driver.sample(["__name__": "m", "job": "new"], at: s(100))
        _ = driver.advance()
        #expect(driver.windows.statistics.series == 2)
        driver.sample(["__name__": "m", "job": "new"], at: s(1000))
        _ = driver.advance()
        let statistics = driver.windows.statistics
        #expect(statistics.series == 1)
        #expect(statistics.groups == 1)
        #expect(statistics.panes == 1)
        #expect(statistics.openWindows == 1)
        // A forgotten group's id is reused without mixing state.
        driver.sample(["__name__": "m", "job": "again"], at: s(1001), 5)
        driver.sample(["__name__": "m", "job": "new"], at: s(1100))
        let outputs = driver.advance()
        #expect(Set(outputs.map(\.group)) == [["job": "again"], ["job": "new"]])
        #expect(outputs.allSatisfy { $0.values == [1] })
    }
}
