import SeismoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The metric names the synthetic collector exposes.
public enum SyntheticMetric {
    public static let requests = "http_requests_total"
    public static let latency = "http_request_duration_seconds"
    public static let cpu = "process_cpu_usage"
    public static let memory = "process_resident_memory_bytes"
    /// Every metric name, counters first.
    public static let all = [requests, latency, cpu, memory]
}

/// Deterministic hashing of values into random streams: the same inputs give the same
/// stream, so any point of a synthetic series can be computed on its own.
enum Seeded {
    static func mix(_ values: UInt64...) -> UInt64 {
        var generator = SplitMix64(seed: 0x5EE5_0C0D_EC0D_E5EE)
        var hash: UInt64 = 0
        for value in values {
            generator = SplitMix64(seed: generator.next() ^ value)
            hash = generator.next()
        }
        return hash
    }

    static func generator(_ values: UInt64...) -> SplitMix64 {
        var generator = SplitMix64(seed: 0xA5A5_1234_9876_5A5A)
        for value in values { generator = SplitMix64(seed: generator.next() ^ value) }
        return generator
    }

    /// A Poisson variate with mean `mean` (Knuth's method; a rounded normal above 30).
    static func poisson(_ mean: Double, _ generator: inout SplitMix64) -> Int {
        guard mean > 0 else { return 0 }
        if mean > 30 {
            return max(0, Int((mean + mean.squareRoot() * generator.nextGaussian()).rounded()))
        }
        let limit = exp(-mean)
        var product = generator.nextUnit()
        var count = 0
        while product > limit {
            count += 1
            product *= generator.nextUnit()
        }
        return count
    }

    static func string(_ text: String) -> UInt64 { XXHash64.hash(Array(text.utf8)) }
}

/// Time shapes shared by every synthetic series. Times are Unix seconds.
enum Season {
    static let day = 86_400.0

    /// The weekly factor of UTC day `dayIndex` (days since the epoch, a Thursday):
    /// weekdays `1 + 0.4a`, Saturday and Sunday `1 - a`, so the week averages 1.
    static func weekly(dayIndex: Int64, amplitude: Double) -> Double {
        let weekday = ((dayIndex + 4) % 7 + 7) % 7  // 0 = Sunday
        return weekday == 0 || weekday == 6 ? 1 - amplitude : 1 + 0.4 * amplitude
    }

    /// The daily shape in −1…1: lowest at midnight UTC, highest at noon.
    static func daily(_ t: Double) -> Double { -cos(2 * Double.pi * t / day) }

    static func dayIndex(_ t: Double) -> Int64 { Int64((t / day).rounded(.down)) }
}

/// A sum of sinusoids: the noise of a counter's rate, which has a closed-form integral.
struct Waves: Sendable {
    var omega: [Double]
    var phase: [Double]
    var amplitude: Double

    init(relativeSD: Double, minPeriod: Double, generator: inout SplitMix64) {
        omega = []
        phase = []
        for _ in 0..<4 {
            let period = minPeriod + generator.nextUnit() * 1800
            omega.append(2 * Double.pi / period)
            phase.append(generator.nextUnit() * 2 * Double.pi)
        }
        amplitude = relativeSD / 2.0.squareRoot()
    }

    func value(_ t: Double) -> Double {
        var sum = 0.0
        for i in omega.indices { sum += sin(omega[i] * t + phase[i]) }
        return amplitude * sum
    }

    /// ∫ₐᵇ value(t) dt.
    func integral(_ a: Double, _ b: Double) -> Double {
        var sum = 0.0
        for i in omega.indices {
            sum += (cos(omega[i] * a + phase[i]) - cos(omega[i] * b + phase[i])) / omega[i]
        }
        return amplitude * sum
    }
}
