import SeismoCore
import SeismoPipeline
import SeismoWire
import Testing
@testable import SeismoStream

/// The delivery guarantee: a new owner that resumes after the committed watermark and
/// replays from the committed offset leaves the store (keyed by window and group, later
/// outputs replacing earlier ones) exactly as the old owner would have.
@Suite struct ReplayTests {
    struct Key: Hashable {
        var start: Int64
        var group: Labels
    }

    /// Counters with resets, out-of-order and late samples, over 6 series in 2 groups.
    func records(count: Int, seed: UInt64) -> [[SeriesSamples]] {
        var random = SplitMix64(seed: seed)
        var counters = [Double](repeating: 0, count: 6)
        return (0..<count).map { step in
            (0..<3).map { _ in
                let instance = random.next(below: 6)
                counters[instance] = random.next(below: 20) == 0 ? 1 : counters[instance] + Double(random.next(below: 10))
                let jitter = random.next(below: 8) == 0 ? -Int64(random.next(below: 90_000)) : 0
                return series(
                    ["__name__": "requests", "job": "j\(instance % 2)", "instance": "\(instance)"],
                    [(s(5 * Int64(step)) + jitter, counters[instance])])
            }
        }
    }

    func apply(_ outputs: [WindowOutput], to store: inout [Key: WindowOutput]) {
        for output in outputs { store[Key(start: output.windowStart, group: output.group)] = output }
    }

    func same(_ a: [Key: WindowOutput], _ b: [Key: WindowOutput]) -> Bool {
        a.count == b.count
            && a.allSatisfy { key, output in
                guard let other = b[key] else { return false }
                var left = output, right = other
                left.emission = .onTime
                right.emission = .onTime
                return left == right
            }
    }

    static let windows: [WindowSpec] = [
        WindowSpec(kind: .tumbling, size: .seconds(60), allowedLateness: .seconds(10), latePolicy: .drop),
        WindowSpec(
            kind: .tumbling, size: .seconds(60), allowedLateness: .seconds(10), latePolicy: .update,
            lateRetention: .seconds(60)),
        WindowSpec(
            kind: .hopping, size: .seconds(60), hop: .seconds(20), allowedLateness: .seconds(5), latePolicy: .update,
            lateRetention: .seconds(40)),
    ]

    @Test(arguments: windows)
    func replayLeavesTheStoreAsTheOldOwnerWould(window: WindowSpec) {
        let aggregations = [
            AggregationSpec(name: "n", function: .count),
            AggregationSpec(name: "sum", function: .sum),
            AggregationSpec(name: "increase", function: .increase),
            AggregationSpec(name: "rate", function: .rate),
            AggregationSpec(name: "p50", function: .quantile(q: 0.5, relativeError: 0.02)),
            AggregationSpec(name: "last", function: .last),
        ]
        let input = records(count: 400, seed: 11)
        var old = Driver(makeStream(window, aggregations: aggregations))
        var full: [Key: WindowOutput] = [:]
        var prefixes: [Int: (store: [Key: WindowOutput], offset: Int64, watermark: Int64?)] = [:]
        for (index, record) in input.enumerated() {
            old.record(record)
            apply(old.advance(), to: &full)
            if index % 50 == 49 {
                prefixes[index] = (full, old.windows.committableOffset(0)!, old.windows.closedWatermark(of: 0))
            }
        }
        #expect(old.counts.lateDropped + old.counts.lateUpdated > 0)
        #expect(old.counts.outOfOrder > 0)
        for (index, prefix) in prefixes.sorted(by: { $0.key < $1.key }) {
            var fresh = Driver(makeStream(window, aggregations: aggregations))
            fresh.windows.assign(0, resumingAfter: prefix.watermark)
            var store = prefix.store
            #expect(prefix.offset <= Int64(index) + 1)
            for record in input[Int(prefix.offset)...] {
                fresh.record(record)
                let outputs = fresh.advance()
                // Windows the old owner had finished at the commit are never returned on time again.
                #expect(outputs.allSatisfy { $0.emission == .update || prefix.store[Key(start: $0.windowStart, group: $0.group)] == nil })
                apply(outputs, to: &store)
            }
            #expect(same(store, full), "replay after record \(index) from offset \(prefix.offset)")
        }
    }
}
