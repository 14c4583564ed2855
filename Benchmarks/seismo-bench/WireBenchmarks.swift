import SeismoCore
import SeismoTesting
import SeismoWire

/// Release-build throughput of SeismoWire's hot paths, each printed beside its target.
enum WireBenchmarks {
    static func run() {
        print("SeismoWire (samples/s, one core)")
        let generator = SignalGenerator(seed: 42)
        for (series, points) in [(10, 100), (1000, 1)] {
            let batch = generator.batch(series: series, points: points)
            let payload = SignalCodec.encode(batch)
            let decode = measure(samplesPerRun: batch.sampleCount) {
                blackHole((try? SignalCodec.decode(payload))?.series.count ?? -1)
            }
            report("decode \(series) series x \(points) samples (\(payload.count) B)", decode, target: 5_000_000)
            // A consumer keeps one decoder across records; the stream repeats its series.
            var decoder = SignalDecoder()
            let cached = measure(samplesPerRun: batch.sampleCount) {
                blackHole((try? decoder.decode(payload))?.series.count ?? -1)
            }
            report(
                "decode \(series) series x \(points) samples, SignalDecoder (cached labels)", cached, target: 5_000_000)
            let encode = measure(samplesPerRun: batch.sampleCount) { blackHole(SignalCodec.encode(batch).count) }
            report("encode \(series) series x \(points) samples", encode, target: nil)
        }
        let text = Array(generator.exposition(series: 1000, points: 1).utf8)
        let parse = measure(samplesPerRun: 1000) {
            let result = ExpositionParser.parse(text, defaultTimestamp: Timestamp(milliseconds: 0))
            blackHole(result.samples.count)
        }
        report("parse exposition text, 1000 samples (\(text.count) B)", parse, target: 1_000_000)
        let openMetrics = text + Array("# EOF\n".utf8)
        let parseOpenMetrics = measure(samplesPerRun: 1000) {
            let result = ExpositionParser.parse(openMetrics, defaultTimestamp: Timestamp(milliseconds: 0), format: .openMetrics)
            blackHole(result.samples.count)
        }
        report("parse OpenMetrics text, 1000 samples", parseOpenMetrics, target: 1_000_000)
    }

    /// Samples per second of `body`, which handles `samplesPerRun` samples: the best of
    /// five rounds of about 0.2 s each, after a warm-up.
    static func measure(samplesPerRun: Int, _ body: () -> Void) -> Double {
        let clock = ContinuousClock()
        for _ in 0..<20 { body() }
        var best = 0.0
        for _ in 0..<5 {
            var runs = 0
            let start = clock.now
            var elapsed = Duration.zero
            while elapsed < .milliseconds(200) {
                body()
                runs += 1
                elapsed = clock.now - start
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            best = max(best, Double(runs * samplesPerRun) / seconds)
        }
        return best
    }

    static func report(_ name: String, _ rate: Double, target: Double?) {
        let figure = formatted(rate)
        var line = "  \(name): \(figure)/s"
        if let target { line += "  (target >= \(formatted(target))/s: \(rate >= target ? "met" : "MISSED"))" }
        print(line)
    }

    static func formatted(_ rate: Double) -> String {
        rate >= 1e6 ? "\(Double(Int(rate / 1e4)) / 100)M" : "\(Double(Int(rate / 10)) / 100)k"
    }

    @inline(never)
    static func blackHole(_ value: Int) {
        if value == Int.min { print("") }
    }
}
