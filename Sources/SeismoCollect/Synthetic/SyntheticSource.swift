import SeismoCore
import SeismoPipeline

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The synthetic collector's signals: a pure, deterministic function of the spec, its
/// seed and the point time. No I/O, no clock.
///
/// Each service × instance has five series (see `SyntheticSpec`): the request counters
/// `http_requests_total{code="200"|"500"}` (about 1 % errors), and the gauges
/// `http_request_duration_seconds` (≈ 50–200 ms, rising with load), `process_cpu_usage`
/// (0…1, following load) and `process_resident_memory_bytes` (a slow sawtooth that drops
/// on restart). Load follows a daily cycle (lowest at midnight UTC, highest at noon) and a
/// weekly one (weekends lower). Gauge noise is Gaussian; counter rates carry a smooth noise
/// so that a counter's value at any time has a closed form, which is what makes
/// `samples(at:)` random-access. Instances restart at seeded Poisson times (mean
/// `restartEvery`); their counters then start again from 0.
///
/// Anomalies (declared and random) act on the chosen metric of the chosen series for their
/// window `[start, end)`: on a gauge, spike and level shift add `magnitude × level`, dip
/// subtracts it (floored at a tenth of the normal value), trend drift adds up to
/// `magnitude × level` linearly, variance change multiplies the noise by `magnitude`,
/// stuck value repeats the value of the window's first point, and missing data emits no
/// samples. On a counter the same kinds change the rate (spike and level shift
/// × (1 + magnitude), dip ÷ (1 + magnitude), stuck value 0, trend drift + magnitude ×
/// level × elapsed fraction, variance change on the rate's noise), so the counter stays
/// monotonic apart from restarts.
public struct SyntheticSource: CollectorSource {
    public let spec: SyntheticSpec
    /// Event time of the first point, in milliseconds.
    public let start: Int64
    /// Distance between points, in milliseconds.
    public let step: Int64
    /// The end of the run (exclusive), in milliseconds; nil runs forever.
    public let end: Int64?
    /// Every series' labels, service by service, instance by instance.
    public var seriesLabels: [Labels] { series.map(\.labels) }

    private let series: [SeriesModel]
    private let injections: [Injection]
    /// Indices into `injections` per series, ordered by start.
    private let injectionsBySeries: [[Int]]
    private var cursor: Int64

    /// How far ahead random anomalies are drawn when the run has no duration.
    static let unboundedHorizon: Int64 = 366 * 86_400_000

    /// A source for `spec`, starting at `spec.start`, else at `fallbackStart`. Throws
    /// `.invalidSpec` for a spec that cannot run.
    public init(spec: SyntheticSpec, fallbackStart: Timestamp? = nil) throws(CollectError) {
        guard let startTime = spec.start ?? fallbackStart else {
            throw CollectError(.invalidSpec, "the synthetic collector needs a start time")
        }
        guard !spec.services.isEmpty else { throw CollectError(.invalidSpec, "no services") }
        guard spec.instances > 0 else {
            throw CollectError(.invalidSpec, "instances must be positive", context: "\(spec.instances)")
        }
        guard spec.step.milliseconds > 0 else {
            throw CollectError(.invalidSpec, "step must be at least 1ms", context: "\(spec.step)")
        }
        guard Set(spec.services).count == spec.services.count else {
            throw CollectError(.invalidSpec, "duplicate service names")
        }
        self.spec = spec
        start = startTime.milliseconds
        step = spec.step.milliseconds
        end = spec.duration.map { startTime.milliseconds + max(0, $0.milliseconds) }
        cursor = start

        var models: [SeriesModel] = []
        for (serviceIndex, service) in spec.services.enumerated() {
            var serviceRandom = Seeded.generator(spec.seed, Seeded.string(service))
            let rate = 20 + 180 * serviceRandom.nextUnit()
            let latency = 0.07 + 0.07 * serviceRandom.nextUnit()
            for instance in 0..<spec.instances {
                let instanceName = "\(service)-\(instance)"
                var random = Seeded.generator(spec.seed, Seeded.string(instanceName))
                let instanceHash = Seeded.string(instanceName)
                let share = 0.8 + 0.4 * random.nextUnit()
                let memoryPeriod = (4 + 4 * random.nextUnit()) * 3600
                let memory = (150 + 250 * random.nextUnit()) * 1_048_576
                func model(_ metric: SeriesModel.Metric, _ name: String, code: String? = nil, level: Double)
                    -> SeriesModel
                {
                    var pairs = [
                        Label(Labels.metricName, name), Label("service", service), Label("instance", instanceName),
                        Label("job", "synthetic"),
                    ]
                    if let code { pairs.append(Label("code", code)) }
                    let labels = (try? Labels(validating: pairs)) ?? Labels()
                    var waveRandom = Seeded.generator(spec.seed, labels.stableHash)
                    return SeriesModel(
                        labels: labels, hash: labels.stableHash, metric: metric, service: serviceIndex,
                        instance: instance, instanceHash: instanceHash, level: level, memoryPeriod: memoryPeriod,
                        waves: Waves(
                            relativeSD: spec.noise, minPeriod: 2.5 * Double(spec.step.milliseconds) / 1000, generator: &waveRandom))
                }
                models.append(model(.requests, SyntheticMetric.requests, code: "200", level: 0.99 * rate * share))
                models.append(model(.requests, SyntheticMetric.requests, code: "500", level: 0.01 * rate * share))
                models.append(model(.latency, SyntheticMetric.latency, level: latency))
                models.append(model(.cpu, SyntheticMetric.cpu, level: min(0.9, 0.45 * share)))
                models.append(model(.memory, SyntheticMetric.memory, level: memory * 1.2))
            }
        }
        series = models

        var all: [Injection] = []
        for declared in spec.anomalies {
            let serviceIndex: Int
            if let name = declared.service {
                guard let index = spec.services.firstIndex(of: name) else {
                    throw CollectError(.invalidSpec, "anomaly names an unknown service", context: name)
                }
                serviceIndex = index
            } else {
                serviceIndex = 0
            }
            if let instance = declared.instance, !(0..<spec.instances).contains(instance) {
                throw CollectError(.invalidSpec, "anomaly names an unknown instance", context: "\(instance)")
            }
            let metric = declared.metric ?? SyntheticMetric.latency
            guard SyntheticMetric.all.contains(metric) else {
                throw CollectError(.invalidSpec, "anomaly names an unknown metric", context: metric)
            }
            guard declared.magnitude.isFinite, declared.duration.milliseconds > 0 else {
                throw CollectError(.invalidSpec, "anomaly needs a finite magnitude and a positive duration")
            }
            let from = start + declared.at.milliseconds
            all.append(
                Injection(
                    kind: declared.kind, start: from, end: from + declared.duration.milliseconds,
                    magnitude: declared.magnitude, service: serviceIndex, instance: declared.instance, metric: metric))
        }
        if let random = spec.randomAnomalies, random.perDay > 0, !random.kinds.isEmpty, random.duration.milliseconds > 0
        {
            let horizon = end ?? start + Self.unboundedHorizon
            let day: Int64 = 86_400_000
            var block: Int64 = 0
            while start + block * day < horizon {
                var generator = Seeded.generator(spec.seed, 0xA40A_11E5, UInt64(block))
                let count = Seeded.poisson(random.perDay, &generator)
                for _ in 0..<count {
                    let from = start + block * day + Int64(generator.nextUnit() * Double(day))
                    let kind = random.kinds[generator.next(below: random.kinds.count)]
                    let service = generator.next(below: spec.services.count)
                    let instance = generator.next(below: spec.instances)
                    let metric = SyntheticMetric.all[generator.next(below: SyntheticMetric.all.count)]
                    if from < horizon {
                        all.append(
                            Injection(
                                kind: kind, start: from, end: from + random.duration.milliseconds,
                                magnitude: random.magnitude, service: service, instance: instance, metric: metric))
                    }
                }
                block += 1
            }
        }
        all.sort { ($0.start, $0.end) < ($1.start, $1.end) }
        injections = all
        injectionsBySeries = models.map { model in all.indices.filter { all[$0].affects(model, services: spec.services) } }
    }

    /// The next point time's samples, until the run's end.
    public mutating func next() -> SourceBatch? {
        if let end, cursor >= end { return nil }
        let time = cursor
        cursor += step
        return SourceBatch(time: Timestamp(milliseconds: time), samples: samples(at: time))
    }

    /// Every series' sample at point time `t` (milliseconds; normally `start + k·step`),
    /// except series with missing data at `t`.
    public func samples(at t: Int64) -> [Sample] {
        var out: [Sample] = []
        out.reserveCapacity(series.count)
        for index in series.indices {
            if let value = value(series: index, at: t) {
                out.append(Sample(labels: series[index].labels, timestamp: Timestamp(milliseconds: t), value: value))
            }
        }
        return out
    }

    /// Every injected anomaly that starts before `horizon` (milliseconds; default the
    /// run's end, or a day after its start when it has none), in order of start.
    public func groundTruth(before horizon: Int64? = nil) -> [GroundTruthEntry] {
        let limit = horizon ?? end ?? start + 86_400_000
        return injections.filter { $0.start < limit }.map { injection in
            var labels = [
                Labels.metricName: injection.metric, "service": spec.services[injection.service],
                "job": "synthetic",
            ]
            if let instance = injection.instance { labels["instance"] = "\(spec.services[injection.service])-\(instance)" }
            return GroundTruthEntry(
                kind: injection.kind, labels: labels, start: injection.start, end: injection.end,
                magnitude: injection.magnitude)
        }
    }

    /// `groundTruth(before: nil)`.
    public var groundTruth: [GroundTruthEntry] { groundTruth() }

    // MARK: - Values

    private func value(series index: Int, at t: Int64) -> Double? {
        let model = series[index]
        let active = injectionsBySeries[index].lazy.map { injections[$0] }.filter { $0.start <= t && t < $0.end }
        if active.contains(where: { $0.kind == .missingData }) { return nil }
        switch model.metric {
        case .requests:
            return counter(model, index: index, at: t)
        case .latency, .cpu, .memory:
            if let stuck = active.first(where: { $0.kind == .stuckValue }) {
                let first = stuck.start <= start ? start : start + (stuck.start - start + step - 1) / step * step
                return gauge(model, at: max(first, stuck.start), active: active.filter { $0.kind != .stuckValue })
            }
            return gauge(model, at: t, active: Array(active))
        }
    }

    private func load(_ seconds: Double) -> Double {
        Season.weekly(dayIndex: Season.dayIndex(seconds), amplitude: spec.weeklyAmplitude)
            * (1 + spec.dailyAmplitude * Season.daily(seconds))
    }

    private func gauge(_ model: SeriesModel, at t: Int64, active: [Injection]) -> Double {
        let seconds = Double(t) / 1000
        var noiseScale = 1.0
        var shift = 0.0
        var dip = false
        for injection in active {
            switch injection.kind {
            case .spike, .levelShift: shift += injection.magnitude * model.level
            case .dip:
                shift -= injection.magnitude * model.level
                dip = true
            case .trendDrift:
                let fraction = Double(t - injection.start) / Double(injection.end - injection.start)
                shift += injection.magnitude * model.level * fraction
            case .varianceChange: noiseScale *= injection.magnitude
            case .stuckValue, .missingData: break
            }
        }
        var random = SplitMix64(seed: Seeded.mix(spec.seed, model.hash, UInt64(bitPattern: t)))
        var noise = random.nextGaussian()
        noise *= spec.noise * noiseScale
        let mean: Double
        switch model.metric {
        case .latency:
            let l = load(seconds)
            mean = model.level * (0.4 + 0.6 * l * l)
        case .cpu:
            mean = model.level * load(seconds)
        case .memory:
            let born = Double(lastRestart(instanceHash: model.instanceHash, at: t)) / 1000
            let age = (seconds - born) / model.memoryPeriod
            mean = model.level / 1.2 * (1 + 0.4 * (age - age.rounded(.down)))
            noise *= 0.1
        case .requests:
            mean = model.level
        }
        var value = mean * (1 + noise) + shift
        if dip { value = max(value, 0.1 * mean) }
        value = max(value, 0)
        if model.metric == .cpu { value = min(value, 1) }
        return value
    }

    /// The counter: the integral of its rate since the instance last (re)started.
    private func counter(_ model: SeriesModel, index: Int, at t: Int64) -> Double {
        let from = lastRestart(instanceHash: model.instanceHash, at: t)
        guard t > from else { return 0 }
        let a = Double(from) / 1000
        let b = Double(t) / 1000
        var total = model.level * rateIntegral(model, a, b, noiseScale: 1)
        for position in injectionsBySeries[index] {
            let injection = injections[position]
            guard injection.start < t else { break }
            guard injection.end > from else { continue }
            let o1 = Double(max(from, injection.start)) / 1000
            let o2 = Double(min(t, injection.end)) / 1000
            let m = injection.magnitude
            switch injection.kind {
            case .spike, .levelShift: total += m * model.level * rateIntegral(model, o1, o2, noiseScale: 1)
            case .dip: total += (1 / (1 + max(0, m)) - 1) * model.level * rateIntegral(model, o1, o2, noiseScale: 1)
            case .stuckValue: total -= model.level * rateIntegral(model, o1, o2, noiseScale: 1)
            case .trendDrift:
                let s = Double(injection.start) / 1000
                let length = Double(injection.end - injection.start) / 1000
                total += m * model.level * ((o2 - s) * (o2 - s) - (o1 - s) * (o1 - s)) / (2 * length)
            case .varianceChange:
                total += (m - 1) * model.level * rateIntegral(model, o1, o2, noiseScale: 1, noiseOnly: true)
            case .missingData: break
            }
        }
        return max(0, total.rounded(.down))
    }

    /// ∫ₐᵇ weekly(t)·(1 + A·daily(t) + noise(t)) dt, in seconds, split at UTC midnights.
    private func rateIntegral(_ model: SeriesModel, _ a: Double, _ b: Double, noiseScale: Double, noiseOnly: Bool = false)
        -> Double
    {
        var total = 0.0
        var lower = a
        let omega = 2 * Double.pi / Season.day
        while lower < b {
            let day = Season.dayIndex(lower)
            let upper = min(b, Double(day + 1) * Season.day)
            let weekly = Season.weekly(dayIndex: day, amplitude: spec.weeklyAmplitude)
            var part = noiseScale * model.waves.integral(lower, upper)
            if !noiseOnly {
                part += (upper - lower) - spec.dailyAmplitude * (sin(omega * upper) - sin(omega * lower)) / omega
            }
            total += weekly * part
            lower = upper
        }
        return total
    }

    /// The time of the instance's last restart at or before `t`, or the run's start. Restarts
    /// are a Poisson process: each block of `restartEvery` holds a seeded Poisson(1) number of
    /// them, placed uniformly and moved up to the next point time.
    func lastRestart(instanceHash: UInt64, at t: Int64) -> Int64 {
        guard let every = spec.restartEvery?.milliseconds, every > 0, t > start else { return start }
        var block = (t - start) / every
        while block >= 0 {
            var generator = Seeded.generator(spec.seed, instanceHash, 0x4E57_A47, UInt64(block))
            let count = Seeded.poisson(1, &generator)
            var latest: Int64?
            for _ in 0..<count {
                let raw = start + block * every + Int64(generator.nextUnit() * Double(every))
                let aligned = start + (raw - start + step - 1) / step * step
                if aligned <= t, aligned > start { latest = max(latest ?? aligned, aligned) }
            }
            if let latest { return latest }
            block -= 1
        }
        return start
    }

    /// The restart times of instance `instance` of `service` in `[from, to]`, in order.
    public func restarts(service: String, instance: Int, from: Int64, to: Int64) -> [Int64] {
        let hash = Seeded.string("\(service)-\(instance)")
        var out: [Int64] = []
        var t = to
        while t >= from {
            let restart = lastRestart(instanceHash: hash, at: t)
            guard restart > start, restart >= from else { break }
            out.append(restart)
            t = restart - 1
        }
        return out.reversed()
    }
}

/// One synthetic series' parameters.
struct SeriesModel: Sendable {
    enum Metric: Sendable { case requests, latency, cpu, memory }

    var labels: Labels
    var hash: UInt64
    var metric: Metric
    var service: Int
    var instance: Int
    var instanceHash: UInt64
    /// The typical level: requests per second for a counter, the mean value of a gauge.
    var level: Double
    var memoryPeriod: Double
    var waves: Waves
}

/// An anomaly resolved to a time range and a target.
struct Injection: Sendable, Hashable {
    var kind: AnomalyKind
    var start: Int64
    var end: Int64
    var magnitude: Double
    var service: Int
    /// Nil: every instance of the service.
    var instance: Int?
    var metric: String

    func affects(_ model: SeriesModel, services: [String]) -> Bool {
        model.service == service && (instance == nil || instance == model.instance) && model.labels.name == metric
    }
}
