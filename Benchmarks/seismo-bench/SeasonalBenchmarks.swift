import Foundation
import SeismoCore
import SeismoDetect

/// Release-build seasonal-forecast fit of 10,000 series × 14 days at 1-minute resolution (target: 60 s).
///
/// The series share one time grid and the configured periods (daily, weekly), as a fleet of similar
/// metrics does; they are generated in chunks (daily and weekly shapes of random amplitude and phase,
/// a trend, noise, an incident in one series of ten, 1% missing points) and only the `fit` calls are
/// timed, in wall time with OpenBLAS on every core (training mode).
/// `SEISMO_BENCH_SEASONAL_SERIES=N` fits N series instead and extrapolates to 10,000.
enum SeasonalBenchmarks {
    static let target = 10_000
    static let points = 14 * 1_440
    static let chunk = 1_000

    static func run() throws {
        let count = ProcessInfo.processInfo.environment["SEISMO_BENCH_SEASONAL_SERIES"].flatMap { Int($0) } ?? target
        try BLAS.setThreadCount(BLAS.trainingThreadCount)
        print(
            "SeismoDetect seasonal forecast fit (\(count) series x \(points) points, 1-minute grid, periods 1d+7d,"
                + " \(BLAS.trainingThreadCount) OpenBLAS threads)")
        let times = (0..<points).map { Double($0) * 60 }
        let forecaster = SeasonalForecaster(configuration: SeasonalConfiguration(periods: [86_400, 604_800]))
        var rng = SplitMix64(seed: 42)
        var seconds = 0.0
        var cpu = 0.0
        var failed = 0
        var done = 0
        while done < count {
            let m = min(chunk, count - done)
            let series = try Matrix(rows: m, columns: points, elements: generate(m, times: times, rng: &rng))
            let start = DispatchTime.now().uptimeNanoseconds
            let cpuStart = processCPUSeconds()
            let models = try forecaster.fit(times: times, series: series)
            seconds += Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
            cpu += processCPUSeconds() - cpuStart
            failed += models.filter { if case .failure = $0 { true } else { false } }.count
            done += m
        }
        let total = seconds * Double(target) / Double(count)
        let rate = Double(count) / seconds
        print(
            "  fit: \(Int(rate)) series/s, \(WireBenchmarks.formatted(rate * Double(points))) points/s; 10,000 series in "
                + "\(Double(Int(total * 10)) / 10) s\(count == target ? "" : " (extrapolated from \(count))")"
                + "  (target <= 60 s: \(total <= 60 ? "met" : "MISSED"))\(failed > 0 ? ", \(failed) failed" : "")")
        print(
            "  CPU time (all threads): \(Double(Int(cpu * Double(target) / Double(count) * 10)) / 10) s for 10,000 series"
                + " (wall time on an otherwise idle machine is about this over the thread count)")
    }

    /// User plus system CPU seconds of this process, all threads.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) * 1e-6
    }

    /// `m` series of `times.count` points, row after row.
    static func generate(_ m: Int, times: [Double], rng: inout SplitMix64) -> [Double] {
        let n = times.count
        var values = [Double](repeating: 0, count: m * n)
        for s in 0..<m {
            let level = 100 * rng.nextUnit()
            let daily = 1 + 20 * rng.nextUnit(), weekly = 5 * rng.nextUnit()
            let phase = 2 * Double.pi * rng.nextUnit()
            let slope = (rng.nextUnit() - 0.5) * 1e-5
            let noise = 0.5 + rng.nextUnit()
            let incident = s % 10 == 0 ? rng.next(below: n - 300) : -1
            for i in 0..<n {
                let t = times[i]
                var y = level + slope * t + daily * sin(2 * Double.pi * t / 86_400 + phase)
                    + weekly * sin(2 * Double.pi * t / 604_800) + noise * (rng.nextUnit() + rng.nextUnit() - 1)
                if incident >= 0, i >= incident, i < incident + 300 { y += 10 * daily }
                values[s * n + i] = rng.next(below: 100) == 0 ? .nan : y
            }
        }
        return values
    }
}
