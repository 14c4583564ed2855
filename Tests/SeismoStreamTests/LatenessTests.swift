import SeismoCore
import SeismoPipeline
import Testing
@testable import SeismoStream

@Suite struct LatenessTests {
    let m: Labels = ["__name__": "m", "job": "api"]

    @Test func watermarkTrailsMaxEventTimeByAllowedLateness() {
        var driver = Driver(makeStream(WindowSpec(kind: .tumbling, size: .seconds(60), allowedLateness: .seconds(10))))
        #expect(driver.windows.watermark(of: 0) == nil)
        driver.sample(m, at: s(30))
        driver.sample(m, at: s(65))
        #expect(driver.windows.watermark(of: 0) == s(55))
        driver.sample(m, at: s(50))  // behind the max but not late: the watermark is 55 s
        #expect(driver.windows.watermark(of: 0) == s(55))
        #expect(driver.advance().isEmpty)
        driver.sample(m, at: s(70))
        #expect(driver.advance().map(\.values) == [[2]])
        #expect(driver.counts.accepted == 4)
    }

    @Test func dropPolicyCountsAndDropsLateSamples() {
        var driver = Driver(makeStream(WindowSpec(kind: .tumbling, size: .seconds(60), latePolicy: .drop)))
        driver.sample(m, at: s(10))
        driver.sample(m, at: s(60))
        #expect(driver.advance().map(\.values) == [[1]])
        driver.sample(m, at: s(59))
        #expect(driver.counts.lateDropped == 1)
        #expect(driver.advance().isEmpty)
        #expect(driver.windows.statistics.totals.lateDropped == 1)
    }

    @Test func samplesOfOneRecordNeverMakeEachOtherLate() {
        var driver = Driver(makeStream(.tumbling(.seconds(60))))
        driver.record([series(m, [(s(200), 1), (s(10), 1)])])
        #expect(driver.counts.lateDropped == 0)
        #expect(driver.advance().map(\.windowStart) == [0])
    }

    @Test func updatePolicyReemitsTheWindowWithinRetention() {
        let window = WindowSpec(kind: .tumbling, size: .seconds(60), latePolicy: .update, lateRetention: .seconds(60))
        var driver = Driver(makeStream(window, aggregations: [AggregationSpec(name: "sum", function: .sum)]))
        driver.sample(m, at: s(10), 1)
        driver.sample(["__name__": "m", "job": "web"], at: s(20), 5)
        driver.sample(m, at: s(60), 2)
        #expect(driver.advance().map(\.values) == [[1], [5]])
        driver.sample(m, at: s(59), 10)  // late, within retention: folded in
        #expect(driver.counts.lateUpdated == 1)
        let update = driver.advance()
        #expect(update.count == 1)  // only the changed group
        #expect(update.first?.emission == .update)
        #expect(update.first?.windowStart == 0)
        #expect(update.first?.group == ["job": "api"])
        #expect(update.first?.values == [11])
        #expect(update.first?.sampleCount == 2)
        #expect(driver.advance().isEmpty)
        driver.sample(m, at: s(120), 3)  // watermark 120 s: [0, 60) is past its retention
        #expect(driver.advance().map(\.windowStart) == [s(60)])
        driver.sample(m, at: s(30), 100)
        #expect(driver.counts.lateDropped == 1)
        #expect(driver.advance().isEmpty)
    }

    @Test func idlePartitionFollowsTheOtherPartitionsWatermark() {
        var driver = Driver(makeStream(WindowSpec(kind: .tumbling, size: .seconds(60), idleTimeout: .seconds(30))))
        driver.sample(m, at: s(30), partition: 0)
        for step in Int64(0)...10 {
            driver.now = s(3 * step)
            driver.sample(m, at: s(100 + 60 * step), partition: 1)
        }
        // Partition 0 last saw a record at now = 0: idle from now = 30 s.
        driver.now = s(29)
        #expect(!driver.advance().contains { $0.windowStart == 0 })
        #expect(driver.windows.watermark(of: 0) == s(30))
        driver.now = s(30)
        let outputs = driver.advance()
        #expect(driver.windows.watermark(of: 0) == s(700))
        #expect(outputs.contains { $0.windowStart == 0 && $0.values == [1] })
    }

    @Test func nothingMovesWhenEveryPartitionIsIdle() {
        var driver = Driver(makeStream(WindowSpec(kind: .tumbling, size: .seconds(60), idleTimeout: .seconds(30))))
        driver.sample(m, at: s(30), partition: 0)
        driver.sample(m, at: s(90), partition: 1)
        driver.windows.assign(2)  // never got a record: never idle, no watermark
        driver.now = s(3600)
        #expect(driver.advance().map(\.windowStart) == [])
        #expect(driver.windows.watermark(of: 0) == s(30))
        #expect(driver.windows.watermark(of: 1) == s(90))
        #expect(driver.windows.watermark(of: 2) == nil)
    }
}

@Suite struct HoppingUpdateTests {
    let m: Labels = ["__name__": "m", "job": "api"]

    /// With `.update`, a sample that is not late (its last window is open) still re-emits its
    /// emitted windows that are within retention; with `.drop` they stay as emitted.
    @Test(arguments: [WindowSpec.LatePolicy.update, .drop])
    func hoppingSamplesReemitRetainedWindows(policy: WindowSpec.LatePolicy) {
        let window = WindowSpec(
            kind: .hopping, size: .seconds(60), hop: .seconds(30), latePolicy: policy, lateRetention: .seconds(60))
        var driver = Driver(makeStream(window))
        driver.sample(m, at: s(10))
        driver.sample(m, at: s(60))  // closes [-30, 30) and [0, 60)
        #expect(driver.advance().map(\.windowStart) == [-s(30), 0])
        driver.sample(m, at: s(40))  // windows [0, 60) (emitted) and [30, 90) (open)
        #expect(driver.counts.accepted == 3)
        let outputs = driver.advance()
        if policy == .update {
            #expect(outputs.map(\.windowStart) == [0])
            #expect(outputs.first?.emission == .update)
            #expect(outputs.first?.values == [2])
        } else {
            #expect(outputs.isEmpty)
        }
    }
}
