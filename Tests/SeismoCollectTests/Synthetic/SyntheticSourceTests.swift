import Foundation
import SeismoCore
import SeismoPipeline
import Testing

@testable import SeismoCollect

@Suite("SyntheticSource")
struct SyntheticSourceTests {
    /// Monday 2026-11-23 00:00:00 UTC.
    static let monday = Timestamp(milliseconds: 1_795_392_000_000)
    static let hour: Int64 = 3_600_000
    static let minute: Int64 = 60_000

    static func spec(
        seed: UInt64 = 7, step: Duration = .seconds(60), duration: Duration? = .seconds(86_400),
        anomalies: [AnomalyInjection] = [], restartEvery: Duration? = nil, random: RandomAnomalies? = nil
    ) -> SyntheticSpec {
        SyntheticSpec(
            seed: seed, start: monday, step: step, speed: 0, duration: duration, services: ["api", "db"], instances: 2,
            restartEvery: restartEvery, anomalies: anomalies, randomAnomalies: random)
    }

    static func values(_ source: SyntheticSource, _ labels: Labels, _ range: Range<Int64>, step: Int64 = minute)
        -> [Int64: Double]
    {
        var out: [Int64: Double] = [:]
        for t in stride(from: range.lowerBound, to: range.upperBound, by: Int(step)) {
            for sample in source.samples(at: t) where sample.labels == labels { out[t] = sample.value }
        }
        return out
    }

    static let latency: Labels = [
        "__name__": "http_request_duration_seconds", "service": "api", "instance": "api-0", "job": "synthetic",
    ]
    static let ok: Labels = [
        "__name__": "http_requests_total", "code": "200", "service": "api", "instance": "api-0", "job": "synthetic",
    ]
    static let errors: Labels = [
        "__name__": "http_requests_total", "code": "500", "service": "api", "instance": "api-0", "job": "synthetic",
    ]

    @Test("each service × instance has five series with service, instance and job labels")
    func series() throws {
        let source = try SyntheticSource(spec: Self.spec())
        let samples = source.samples(at: source.start)
        #expect(samples.count == 2 * 2 * 5)
        #expect(Set(samples.map(\.labels)).count == 20)
        #expect(samples.allSatisfy { $0.labels["job"] == "synthetic" && $0.timestamp == Self.monday })
        #expect(Set(samples.compactMap { $0.labels["instance"] }) == ["api-0", "api-1", "db-0", "db-1"])
        #expect(Set(samples.compactMap(\.labels.name)) == Set(SyntheticMetric.all))
    }

    @Test("the same seed gives the same values; another seed other values")
    func determinism() throws {
        let a = try SyntheticSource(spec: Self.spec(restartEvery: .seconds(3600)))
        let b = try SyntheticSource(spec: Self.spec(restartEvery: .seconds(3600)))
        let c = try SyntheticSource(spec: Self.spec(seed: 8, restartEvery: .seconds(3600)))
        for k in [0, 1, 17, 600, 1439] {
            let t = a.start + Int64(k) * Self.minute
            #expect(a.samples(at: t) == b.samples(at: t))
            #expect(a.samples(at: t) != c.samples(at: t))
        }
        var iterated = a
        var count = 0
        while let batch = iterated.next() {
            #expect(batch.samples == b.samples(at: batch.time.milliseconds))
            count += 1
        }
        #expect(count == 1440)
    }

    @Test("gauges stay in their ranges: latency about 50–200 ms, cpu in 0…1, memory positive")
    func ranges() throws {
        let source = try SyntheticSource(spec: Self.spec())
        for k in stride(from: 0, to: 1440, by: 7) {
            for sample in source.samples(at: source.start + Int64(k) * Self.minute) {
                switch sample.labels.name {
                case SyntheticMetric.latency: #expect(sample.value > 0.03 && sample.value < 0.3)
                case SyntheticMetric.cpu: #expect(sample.value >= 0 && sample.value <= 1)
                case SyntheticMetric.memory: #expect(sample.value > 100_000_000)
                default: #expect(sample.value >= 0)
                }
            }
        }
    }

    @Test("counters only go up, except at restarts, where they start again from 0")
    func countersMonotonic() throws {
        let source = try SyntheticSource(spec: Self.spec(restartEvery: .seconds(3 * 3600)))
        let restarts = Set(source.restarts(service: "api", instance: 0, from: source.start, to: source.end!))
        #expect(restarts.count >= 2)
        for labels in [Self.ok, Self.errors] {
            let values = Self.values(source, labels, source.start..<source.end!)
            var resets = 0
            for t in values.keys.sorted().dropFirst() {
                let previous = values[t - Self.minute]!, current = values[t]!
                if restarts.contains(t) {
                    #expect(current == 0)
                    resets += 1
                } else {
                    #expect(current >= previous, "\(labels) fell at \(t)")
                }
            }
            #expect(resets == restarts.count)
        }
        // Without restarts, one whole day only goes up; errors are about 1 %.
        let steady = try SyntheticSource(spec: Self.spec())
        let ok = Self.values(steady, Self.ok, steady.start..<steady.end!)
        let sorted = ok.keys.sorted()
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { ok[$0]! <= ok[$1]! })
        let fraction = Self.values(steady, Self.errors, steady.end! - Self.minute..<steady.end!).values.first!
            / ok[sorted.last!]!
        #expect(fraction > 0.005 && fraction < 0.02)
    }

    @Test("seasonality: the mid-day rate beats the night's, and weekends are lower")
    func seasonality() throws {
        let source = try SyntheticSource(spec: Self.spec(duration: .seconds(7 * 86_400)))
        func rate(day: Int64, hour: Int64) -> Double {
            let from = source.start + day * 86_400_000 + hour * Self.hour
            let a = Self.values(source, Self.ok, from..<from + 1)[from]!
            let b = Self.values(source, Self.ok, from + Self.hour..<from + Self.hour + 1)[from + Self.hour]!
            return (b - a) / 3600
        }
        #expect(rate(day: 0, hour: 12) > 1.3 * rate(day: 0, hour: 0))
        #expect(rate(day: 2, hour: 12) > 1.3 * rate(day: 2, hour: 1))
        // Saturday (day 5) against Wednesday (day 2), both at noon.
        #expect(rate(day: 5, hour: 12) < rate(day: 2, hour: 12))
        // The latency gauge follows load.
        let noon = Self.values(source, Self.latency, source.start + 11 * Self.hour..<source.start + 13 * Self.hour)
        let night = Self.values(source, Self.latency, source.start..<source.start + 2 * Self.hour)
        let noonMean: Double = noon.values.reduce(0, +) / Double(noon.count)
        let nightMean: Double = night.values.reduce(0, +) / Double(night.count)
        #expect(noonMean > nightMean)
    }

    @Test("each anomaly kind changes the latency gauge inside its window and nowhere else", arguments: AnomalyKind.allCases)
    func gaugeAnomaly(kind: AnomalyKind) throws {
        let injection = AnomalyInjection(
            kind: kind, at: .seconds(6 * 3600), duration: .seconds(3600), magnitude: 3, service: "api", instance: 0)
        let plain = try SyntheticSource(spec: Self.spec())
        let injected = try SyntheticSource(spec: Self.spec(anomalies: [injection]))
        let from = plain.start + 6 * Self.hour, to = from + Self.hour
        let base = Self.values(plain, Self.latency, plain.start..<plain.end!)
        let seen = Self.values(injected, Self.latency, plain.start..<plain.end!)
        for t in base.keys where t < from || t >= to { #expect(seen[t] == base[t], "\(kind) leaked to \(t)") }
        // Other series of the service are untouched.
        #expect(Self.values(injected, Self.ok, from..<to) == Self.values(plain, Self.ok, from..<to))
        let inside = stride(from: from, to: to, by: Int(Self.minute)).map { $0 }
        let before = inside.map { base[$0]! }
        let mean = before.reduce(0, +) / Double(before.count)
        func sd(_ xs: [Double]) -> Double {
            let m = xs.reduce(0, +) / Double(xs.count)
            return (xs.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(xs.count)).squareRoot()
        }
        let level = mean  // close to the series' typical level at this hour
        switch kind {
        case .missingData:
            #expect(inside.allSatisfy { seen[$0] == nil })
        case .stuckValue:
            let after = inside.map { seen[$0]! }
            #expect(Set(after).count == 1)
            #expect(after[0] == base[from])
        case .spike, .levelShift:
            #expect(inside.allSatisfy { seen[$0]! > base[$0]! + 2 * level })
        case .dip:
            #expect(inside.allSatisfy { seen[$0]! < base[$0]! })
        case .trendDrift:
            #expect(seen[inside.last!]! - base[inside.last!]! > 2.5 * level)
            #expect(abs(seen[from]! - base[from]!) < 0.01 * level)
        case .varianceChange:
            #expect(sd(inside.map { seen[$0]! }) > 2 * sd(before))
        }
    }

    @Test("on a counter an anomaly changes the rate, and the counter stays monotonic", arguments: AnomalyKind.allCases)
    func counterAnomaly(kind: AnomalyKind) throws {
        let injection = AnomalyInjection(
            kind: kind, at: .seconds(6 * 3600), duration: .seconds(3600), magnitude: 3, service: "api", instance: 0,
            metric: SyntheticMetric.requests)
        let plain = try SyntheticSource(spec: Self.spec())
        let injected = try SyntheticSource(spec: Self.spec(anomalies: [injection]))
        let from = plain.start + 6 * Self.hour, to = from + Self.hour
        let base = Self.values(plain, Self.ok, plain.start..<plain.end!)
        let seen = Self.values(injected, Self.ok, plain.start..<plain.end!)
        for t in base.keys where t < from { #expect(seen[t] == base[t]) }
        let sorted = seen.keys.sorted()
        #expect(zip(sorted, sorted.dropFirst()).allSatisfy { seen[$0]! <= seen[$1]! })
        let baseIncrease = base[to]! - base[from]!
        switch kind {
        case .missingData:
            #expect(stride(from: from, to: to, by: Int(Self.minute)).allSatisfy { seen[$0] == nil })
            #expect(seen[to] == base[to])
        case .stuckValue:
            #expect(seen[to - Self.minute] == seen[from])
        case .spike, .levelShift, .trendDrift:
            #expect(seen[to]! - seen[from]! > 1.5 * baseIncrease)
        case .dip:
            #expect(seen[to]! - seen[from]! < 0.5 * baseIncrease)
        case .varianceChange:
            #expect(seen[to]! != base[to]!)
        }
    }

    @Test("ground truth lists every declared and random injection, and round-trips through JSON")
    func groundTruth() throws {
        let declared = AnomalyKind.allCases.enumerated().map { index, kind in
            AnomalyInjection(kind: kind, at: .seconds(Int64(index + 1) * 3600), duration: .seconds(600), service: "db")
        }
        let spec = Self.spec(
            duration: .seconds(4 * 86_400), anomalies: declared,
            random: RandomAnomalies(perDay: 6, kinds: [.spike, .levelShift], duration: .seconds(300)))
        let source = try SyntheticSource(spec: spec)
        let truth = source.groundTruth
        let random = truth.filter { $0.labels["service"] != "db" || $0.labels["instance"] != nil }
        #expect(truth.count >= declared.count)
        for (index, kind) in AnomalyKind.allCases.enumerated() {
            let start = source.start + Int64(index + 1) * Self.hour
            #expect(
                truth.contains {
                    $0.kind == kind && $0.start == start && $0.end == start + 600_000
                        && $0.labels == ["__name__": SyntheticMetric.latency, "service": "db", "job": "synthetic"]
                })
        }
        // About 6 a day for four days, all of the chosen kinds, all inside the run.
        #expect(random.count > 8 && random.count < 45)
        #expect(random.allSatisfy { [.spike, .levelShift].contains($0.kind) && $0.start < source.end! })
        #expect(truth.map(\.start) == truth.map(\.start).sorted())
        // The same seed draws the same random anomalies.
        #expect(try SyntheticSource(spec: spec).groundTruth == truth)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("gt-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try source.writeGroundTruth(to: path)
        let file = try GroundTruthFile.read(from: path)
        #expect(file.anomalies == truth)
        #expect(file.seed == 7 && file.start == source.start && file.end == source.end && file.step == 60_000)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains("\"kind\" : \"level_shift\""))
    }

    @Test("a random anomaly shows in its series")
    func randomAnomalyVisible() throws {
        let spec = Self.spec(random: RandomAnomalies(perDay: 4, kinds: [.missingData], duration: .seconds(900)))
        let source = try SyntheticSource(spec: spec)
        let entry = try #require(source.groundTruth.first)
        let labels = try Labels(validating: entry.labels)
        let middle = source.start + (entry.start - source.start + entry.end - source.start) / 2 / Self.minute * Self.minute
        let missing = source.samples(at: middle).filter { sample in labels.allSatisfy { sample.labels[$0.name] == $0.value } }
        #expect(missing.isEmpty)
    }

    @Test("invalid specs are rejected with invalidSpec")
    func invalid() {
        for spec in [
            SyntheticSpec(start: Self.monday, services: []),
            SyntheticSpec(start: Self.monday, instances: 0),
            SyntheticSpec(start: Self.monday, anomalies: [AnomalyInjection(kind: .dip, at: .zero, duration: .seconds(1), service: "nope")]),
            SyntheticSpec(start: Self.monday, anomalies: [AnomalyInjection(kind: .dip, at: .zero, duration: .seconds(1), metric: "nope")]),
        ] {
            #expect(throws: CollectError.self) { try SyntheticSource(spec: spec) }
        }
        #expect((try? SyntheticSource(spec: SyntheticSpec())) == nil)
        #expect((try? SyntheticSource(spec: SyntheticSpec(), fallbackStart: Self.monday)) != nil)
    }
}
