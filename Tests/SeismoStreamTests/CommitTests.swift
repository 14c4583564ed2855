import SeismoCore
import SeismoPipeline
import SeismoWire
import Testing
@testable import SeismoStream

@Suite struct CommitTests {
    let m: Labels = ["__name__": "m", "job": "api"]
    let other: Labels = ["__name__": "other", "job": "api"]

    @Test func committableOffsetWaitsForWindowsToBeReturned() throws {
        var driver = Driver(makeStream(.tumbling(.seconds(60)), selector: [try Matcher(.equal, "__name__", "m")]))
        #expect(driver.windows.committableOffset(0) == nil)
        driver.sample(m, at: s(10))  // 0
        driver.sample(m, at: s(20))  // 1
        #expect(driver.windows.committableOffset(0) == 0)
        driver.sample(m, at: s(70))  // 2: closes [0, 60) by watermark, not yet returned
        #expect(driver.windows.committableOffset(0) == 0)
        #expect(driver.advance().count == 1)
        #expect(driver.windows.committableOffset(0) == 2)
        driver.sample(other, at: s(80))  // 3: nothing selected
        driver.record([])  // 4: empty record
        #expect(driver.windows.committableOffset(0) == 2)
        driver.sample(other, at: s(130))  // 5
        #expect(driver.advance().count == 1)
        #expect(driver.windows.committableOffset(0) == 6)
    }

    @Test func recordsWithNothingSelectedAreCommittable() {
        var driver = Driver(makeStream(.tumbling(.seconds(60)), selector: [try! Matcher(.equal, "__name__", "m")]))
        driver.sample(other, at: s(10))
        driver.sample(other, at: s(20))
        #expect(driver.windows.committableOffset(0) == 2)
        #expect(driver.windows.committableOffset(7) == nil)
    }

    @Test func updatableWindowsHoldTheCommitBack() {
        let window = WindowSpec(kind: .tumbling, size: .seconds(60), latePolicy: .update, lateRetention: .seconds(60))
        var driver = Driver(makeStream(window))
        driver.sample(m, at: s(10))  // 0
        driver.sample(m, at: s(70))  // 1
        #expect(driver.advance().count == 1)
        #expect(driver.windows.committableOffset(0) == 0)  // [0, 60) is updatable until watermark 120 s
        driver.sample(m, at: s(50))  // 2: late update
        #expect(driver.advance().map(\.emission) == [.update])
        #expect(driver.windows.committableOffset(0) == 0)
        driver.sample(m, at: s(125))  // 3
        #expect(driver.advance().map(\.windowStart) == [s(60)])
        #expect(driver.windows.committableOffset(0) == 1)  // [60, 120) is updatable until 180 s
        driver.sample(m, at: s(185))  // 4
        _ = driver.advance()
        #expect(driver.windows.committableOffset(0) == 3)
    }

    @Test func hoppingWindowsHoldTheirOldestRecord() {
        let window = WindowSpec(kind: .hopping, size: .seconds(60), hop: .seconds(20))
        var driver = Driver(makeStream(window))
        driver.sample(m, at: s(5))  // 0: windows -40, -20, 0
        driver.sample(m, at: s(25))  // 1: windows -20, 0, 20
        driver.sample(m, at: s(45))  // 2: closes -40 and -20
        #expect(driver.advance().map(\.windowStart) == [-s(40), -s(20)])
        #expect(driver.windows.committableOffset(0) == 0)  // window 0 s is open and holds record 0
        driver.sample(m, at: s(65))  // 3: closes 0
        _ = driver.advance()
        #expect(driver.windows.committableOffset(0) == 1)
    }

    @Test func revokeReturnsClosableWindowsAndDropsTheRest() {
        var driver = Driver(makeStream(.tumbling(.seconds(60))))
        driver.sample(m, at: s(10), partition: 3)
        driver.sample(m, at: s(70), partition: 3)
        driver.sample(m, at: s(10), partition: 4)
        let outputs = driver.windows.revoke(3, now: driver.now)
        #expect(outputs.map(\.windowStart) == [0])
        #expect(driver.windows.committableOffset(3) == nil)
        #expect(driver.windows.watermark(of: 3) == nil)
        #expect(driver.windows.assignedPartitions == [4])
        #expect(driver.windows.revoke(3, now: driver.now).isEmpty)
        #expect(driver.windows.statistics.partitions == 1)
    }

    /// A new owner that replays from the committed offset regenerates the windows the old
    /// owner had not returned, exactly (in-order data).
    @Test func replayFromTheCommittedOffsetRegeneratesOpenWindows() {
        var records: [[SeriesSamples]] = []
        var random = SplitMix64(seed: 7)
        for step in Int64(0)..<200 {
            records.append(
                (0..<5).map { instance in
                    series(
                        ["__name__": "m", "job": "j\(instance % 2)", "instance": "\(instance)"],
                        [(s(7 * step) + Int64(instance), Double(random.next(below: 100)))])
                })
        }
        let aggregations = [
            AggregationSpec(name: "sum", function: .sum),
            AggregationSpec(name: "p50", function: .quantile(q: 0.5, relativeError: 0.01)),
        ]
        var original = Driver(makeStream(.tumbling(.seconds(60)), aggregations: aggregations))
        var emitted: [WindowOutput] = []
        var committed: Int64 = 0
        for (index, record) in records.enumerated() {
            original.record(record)
            emitted += original.advance()
            if index == 120 { committed = original.windows.committableOffset(0)! }
        }
        let emittedAtCommit = emitted.filter { $0.windowEnd <= s(7 * 120) }
        var replay = Driver(makeStream(.tumbling(.seconds(60)), aggregations: aggregations))
        var replayed: [WindowOutput] = []
        for record in records[Int(committed)...] {
            replay.record(record)
            replayed += replay.advance()
        }
        let fresh = emitted.filter { !emittedAtCommit.contains($0) }
        #expect(!fresh.isEmpty)
        #expect(Array(replayed.suffix(fresh.count)) == fresh)
        #expect(replayed.count == fresh.count)
    }
}
