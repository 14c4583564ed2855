import SeismoCore
import SeismoPipeline
import Testing
@testable import SeismoStream

@Suite struct WindowAssignmentTests {
    let m: Labels = ["__name__": "m", "job": "api"]
    /// Not selected by the stream, so it only moves the watermark.
    let tick: Labels = ["__name__": "tick", "job": "clock"]

    @Test func tumblingWindowsAreEpochAlignedAndHalfOpen() {
        var driver = Driver(makeStream(.tumbling(.seconds(60)), selector: [try! Matcher(.equal, "__name__", "m")]))
        driver.sample(m, at: 0)
        driver.sample(m, at: s(60) - 1)
        #expect(driver.advance().isEmpty)
        driver.sample(m, at: s(60))  // exactly at the boundary: next window; watermark 60 s closes [0, 60)
        let outputs = driver.advance()
        #expect(outputs.count == 1)
        #expect(outputs.first?.windowStart == 0)
        #expect(outputs.first?.windowEnd == s(60))
        #expect(outputs.first?.values == [2])
        #expect(outputs.first?.sampleCount == 2)
        #expect(outputs.first?.group == ["job": "api"])
        #expect(outputs.first?.emission == .onTime)
        driver.sample(tick, at: s(120))
        #expect(driver.advance().map(\.windowStart) == [s(60)])
        #expect(driver.counts.filtered == 1)
    }

    @Test func windowsBeforeTheEpochAlignToo() {
        var driver = Driver(makeStream(.tumbling(.seconds(60))))
        driver.sample(m, at: -1)
        driver.sample(m, at: s(60))
        let outputs = driver.advance()
        #expect(outputs.map(\.windowStart) == [-s(60)])
        #expect(outputs.map(\.windowEnd) == [0])
    }

    @Test func hoppingWindowsHoldEachSampleSizeOverHopTimes() {
        let window = WindowSpec(kind: .hopping, size: .seconds(60), hop: .seconds(20))
        var driver = Driver(makeStream(window, selector: [try! Matcher(.equal, "__name__", "m")]))
        driver.record([series(m, [(0, 1), (s(20) - 1, 1), (s(20), 1), (s(60) - 1, 1), (s(60), 1)])])
        // Watermark 60 s: windows ending at 20, 40 and 60 s close.
        let first = driver.advance()
        #expect(first.map(\.windowStart) == [-s(40), -s(20), 0])
        #expect(first.map(\.values) == [[2], [3], [4]])
        driver.sample(tick, at: s(1000))
        let rest = driver.advance()
        #expect(rest.map(\.windowStart) == [s(20), s(40), s(60)])
        #expect(rest.map(\.values) == [[3], [2], [1]])
        #expect(rest.allSatisfy { $0.windowEnd == $0.windowStart + s(60) })
    }

    @Test func hoppingWindowsMergePaneAggregates() {
        let window = WindowSpec(kind: .hopping, size: .seconds(30), hop: .seconds(10))
        var driver = Driver(
            makeStream(
                window,
                aggregations: [
                    AggregationSpec(name: "avg", function: .avg),
                    AggregationSpec(name: "sd", function: .stddev),
                    AggregationSpec(name: "max", function: .max),
                    AggregationSpec(name: "last", function: .last),
                ]))
        driver.record([series(m, [(s(1), 1), (s(11), 2), (s(21), 3), (s(22), 4)])])
        driver.sample(tick, at: s(100))
        let full = driver.advance().first { $0.windowStart == 0 }
        #expect(full?.values[0] == 2.5)
        #expect(abs((full?.values[1] ?? 0) - 1.25.squareRoot()) < 1e-12)
        #expect(full?.values[2] == 4)
        #expect(full?.values[3] == 4)
        #expect(full?.sampleCount == 4)
    }

    @Test func invalidWindowSettingsThrow() {
        let spec = StreamSpec(
            name: "bad", topic: "t", window: WindowSpec(kind: .hopping, size: .seconds(60), hop: .seconds(25)),
            aggregations: [AggregationSpec(name: "n", function: .count)])
        #expect(throws: StreamError.self) { try StreamWindows(stream: spec) }
        let quantile = StreamSpec(
            name: "bad", topic: "t", window: .tumbling(.seconds(60)),
            aggregations: [AggregationSpec(name: "q", function: .quantile(q: 1.5, relativeError: 0.01))])
        #expect(throws: StreamError.self) { try StreamWindows(stream: quantile) }
    }
}
