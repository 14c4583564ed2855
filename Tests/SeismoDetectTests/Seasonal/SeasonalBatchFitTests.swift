import Foundation
import SeismoDetect
import Testing

/// Hourly grid over 14 days; the seasonal signal 10 + 0.01·t_h + 3·sin(2π t/day) with ±0.2 noise.
private let grid = (0..<(24 * 14)).map { Double($0) * 3_600 }
private func truth(_ t: Double) -> Double { 10 + 0.01 * t / 3_600 + 3 * sin(2 * Double.pi * t / 86_400) }
private func noisy(_ i: Int, seed: Double = 12.9898) -> Double {
    truth(grid[i]) + 0.2 * sin(Double(i) * seed).truncatingRemainder(dividingBy: 1)
}

@Suite("Seasonal forecast, batch fit")
struct SeasonalBatchFitTests {
    @Test("many series on one grid: each recovers its baseline as the single-series fit does, despite incidents and gaps")
    func matchesSingleFit() throws {
        let clean = grid.indices.map { noisy($0) }
        var incident = grid.indices.map { noisy($0, seed: 78.233) }
        for i in 100..<130 { incident[i] += 50 }  // a 30-hour incident
        var gappy = grid.indices.map { noisy($0, seed: 37.719) }
        for i in grid.indices where i % 7 == 3 || (200..<260).contains(i) { gappy[i] = .nan }
        let missing = [Double](repeating: .nan, count: grid.count)
        let series = try Matrix(rows: 4, columns: grid.count, elements: clean + incident + gappy + missing)

        let forecaster = SeasonalForecaster(configuration: SeasonalConfiguration(periods: [86_400]))
        let results = try forecaster.fit(times: grid, series: series)
        #expect(results.count == 4)
        for (r, values) in [clean, incident, gappy].enumerated() {
            let batch = try results[r].get()
            let single = try forecaster.fit(times: grid, values: values)
            #expect(batch.periods == [86_400])
            #expect(batch.residualScale < 0.3, "series \(r): scale \(batch.residualScale)")
            #expect(abs(batch.residualScale - single.residualScale) < 0.05)
            for t in grid {
                #expect(abs(batch.baseline(at: t) - truth(t)) < 0.5, "series \(r) at \(t)")
                #expect(abs(batch.baseline(at: t) - single.baseline(at: t)) < 0.15, "series \(r) at \(t)")
            }
        }
        #expect(throws: DetectError.self) { try results[3].get() }
    }

    @Test("without configured periods each series gets the periods the single-series fit detects")
    func detectsPeriodsPerSeries() throws {
        let daily = grid.indices.map { noisy($0) }
        let weekly = grid.indices.map { 5 + 3 * sin(2 * Double.pi * grid[$0] / 604_800) + 0.1 * sin(Double($0) * 4.1) }
        let results = try SeasonalForecaster().fit(
            times: grid, series: try Matrix(rows: 2, columns: grid.count, elements: daily + weekly))
        #expect(try results[0].get().periods == [86_400])
        let second = try results[1].get()
        #expect(second.periods == [604_800])
        #expect(second.periods == (try SeasonalForecaster().fit(times: grid, values: weekly)).periods)
        for i in stride(from: 0, to: grid.count, by: 12) {
            #expect(abs(second.baseline(at: grid[i]) - 5 - 3 * sin(2 * Double.pi * grid[i] / 604_800)) < 0.3)
        }
    }

    @Test("a grid that does not match the series, or is not increasing, is an error")
    func badInput() throws {
        let series = try Matrix(rows: 1, columns: 3, elements: [1, 2, 3])
        #expect(throws: DetectError.self) { try SeasonalForecaster().fit(times: [0, 1], series: series) }
        #expect(throws: DetectError.self) { try SeasonalForecaster().fit(times: [0, 2, 1], series: series) }
    }
}
