import SeismoCore
import Testing
@testable import SeismoStream

@Suite struct QuantileSketchTests {
    let quantiles = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 1]

    /// Gaussian, heavy-tailed, negative and zero values.
    func randomValues(_ count: Int, seed: UInt64) -> [Double] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in
            switch random.next(below: 4) {
            case 0: 0
            case 1: random.nextGaussian() * 100
            case 2: -1 / (random.nextUnit() + 1e-6)
            default: 1e6 * random.nextUnit() * random.nextUnit()
            }
        }
    }

    func exact(_ sorted: [Double], _ q: Double) -> Double { sorted[Int((q * Double(sorted.count - 1)).rounded(.down))] }

    @Test(arguments: [0.01, 0.001, 0.05])
    func answersWithinTheRelativeError(alpha: Double) {
        let values = randomValues(20_000, seed: 42)
        var sketch = QuantileSketch(relativeError: alpha)
        for value in values { sketch.add(value) }
        let sorted = values.sorted()
        #expect(sketch.count == values.count)
        #expect(sorted.first! < 0 && sorted.contains(0) && sorted.last! > 0)
        for q in quantiles {
            let truth = exact(sorted, q)
            let estimate = sketch.quantile(q)
            #expect(abs(estimate - truth) <= alpha * abs(truth) * (1 + 1e-9), "q=\(q) truth=\(truth) estimate=\(estimate)")
        }
    }

    @Test func mergeEqualsOneSketchOverEverything() {
        let values = randomValues(9_000, seed: 9)
        var whole = QuantileSketch(relativeError: 0.01)
        var parts = [QuantileSketch](repeating: QuantileSketch(relativeError: 0.01), count: 3)
        for (index, value) in values.enumerated() {
            whole.add(value)
            parts[index % 3].add(value)
        }
        var merged = QuantileSketch(relativeError: 0.01)
        for part in parts { merged.merge(part) }
        #expect(merged.count == whole.count)
        for q in quantiles { #expect(merged.quantile(q) == whole.quantile(q)) }
    }

    @Test func emptyAndSpecialValues() {
        var sketch = QuantileSketch(relativeError: 0.01)
        #expect(sketch.quantile(0.5).isNaN)
        sketch.add(.nan)
        sketch.add(.infinity)
        #expect(sketch.isEmpty)
        sketch.add(0)
        sketch.add(-0.0)
        #expect(sketch.quantile(0.5) == 0)
        sketch.add(-5)
        #expect(abs(sketch.quantile(0) + 5) <= 0.05)
    }

    @Test func wideRangesCollapseOnlyTheSmallestMagnitudes() {
        var sketch = QuantileSketch(relativeError: 0.01)
        var values: [Double] = []
        for exponent in -300...300 { values.append(1.5 * pow10(exponent)) }
        for value in values { sketch.add(value) }
        let sorted = values.sorted()
        #expect(sketch.bucketLimit < 2_200)
        // The top 18 decades keep their accuracy; lower ones collapse into one bucket.
        for q in [0.98, 0.99, 1.0] {
            let truth = exact(sorted, q)
            #expect(abs(sketch.quantile(q) - truth) <= 0.01 * truth * (1 + 1e-9))
        }
    }

    private func pow10(_ exponent: Int) -> Double {
        var result = 1.0
        for _ in 0..<abs(exponent) { result *= 10 }
        return exponent < 0 ? 1 / result : result
    }
}

@Suite struct BenchmarkTests {
    /// The harness entry point runs and windows everything (no timing asserted).
    @Test func benchmarkRuns() {
        let result = StreamWindowsBenchmark.run(series: 100, samples: 2_000)
        #expect(result.samples == 2_000)
        #expect(result.outputs == 20 * 4)  // 20 scrapes of 15 s: windows of 1 min closed as the data goes
    }
}
