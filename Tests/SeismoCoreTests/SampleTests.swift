import Testing

@testable import SeismoCore

/// Specification of `Sample`, `StaleMarker`, `Timestamp` and `Duration.milliseconds`.
@Suite("Sample, StaleMarker and Timestamp")
struct SampleTests {
    static let labels: Labels = ["__name__": "up", "job": "api"]
    static let time = Timestamp(milliseconds: 1_795_341_600_000)

    // MARK: StaleMarker

    @Test("the stale marker is Prometheus's NaN with bit pattern 0x7ff0000000000002")
    func staleBitPattern() {
        #expect(StaleMarker.bitPattern == 0x7FF0_0000_0000_0002)
        #expect(StaleMarker.value.bitPattern == 0x7FF0_0000_0000_0002)
        #expect(StaleMarker.value.isNaN)
        #expect(StaleMarker.isStale(Double(bitPattern: 0x7FF0_0000_0000_0002)))
    }

    @Test(
        "ordinary NaNs and other values are not stale",
        arguments: [
            Double.nan, -Double.nan, Double.signalingNaN, 0.0 / 0.0, Double.infinity, -Double.infinity, 0, -0.0, 1,
            Double(bitPattern: 0x7FF8_0000_0000_0002), Double(bitPattern: 0xFFF0_0000_0000_0002),
            Double(bitPattern: 0x7FF0_0000_0000_0001),
        ])
    func ordinaryValuesAreNotStale(value: Double) {
        #expect(!StaleMarker.isStale(value))
        #expect(!Sample(labels: Self.labels, timestamp: Self.time, value: value).isStale)
    }

    @Test("the NaN that arithmetic produces is not the stale marker")
    func arithmeticNaNIsNotStale() {
        let zero = Double(Int.random(in: 0...0))
        let produced = zero / zero
        #expect(produced.isNaN)
        #expect(!StaleMarker.isStale(produced))
        #expect(!StaleMarker.isStale(Double.infinity - Double.infinity))
    }

    @Test("a stale marker sample carries the labels, the timestamp and the marker bits")
    func staleMarkerSample() {
        let sample = Sample.staleMarker(labels: Self.labels, timestamp: Self.time)
        #expect(sample.isStale)
        #expect(sample.labels == Self.labels)
        #expect(sample.timestamp == Self.time)
        #expect(sample.value.bitPattern == StaleMarker.bitPattern)
    }

    @Test("the stale marker survives being stored and copied through an array")
    func staleMarkerSurvivesCopies() {
        let samples = (0..<4).map {
            Sample.staleMarker(labels: Self.labels, timestamp: Timestamp(milliseconds: Int64($0)))
        }
        let copied = Array(samples.reversed().reversed())
        #expect(copied.allSatisfy { $0.isStale })
    }

    // MARK: Sample equality

    @Test("sample equality is bitwise: a NaN sample equals itself")
    func nanEqualsItself() {
        let a = Sample(labels: Self.labels, timestamp: Self.time, value: .nan)
        let b = Sample(labels: Self.labels, timestamp: Self.time, value: .nan)
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(
            Sample.staleMarker(labels: Self.labels, timestamp: Self.time)
                == .staleMarker(labels: Self.labels, timestamp: Self.time))
    }

    @Test("sample equality is bitwise: a stale marker is not an ordinary NaN")
    func staleIsNotNaN() {
        let stale = Sample.staleMarker(labels: Self.labels, timestamp: Self.time)
        let nan = Sample(labels: Self.labels, timestamp: Self.time, value: .nan)
        #expect(stale != nan)
        #expect(Set([stale, nan]).count == 2)
    }

    @Test("sample equality is bitwise: 0 and -0 differ")
    func signedZerosDiffer() {
        let positive = Sample(labels: Self.labels, timestamp: Self.time, value: 0.0)
        let negative = Sample(labels: Self.labels, timestamp: Self.time, value: -0.0)
        #expect(positive != negative)
    }

    @Test("samples differ when labels, timestamp or value differ")
    func samplesDiffer() {
        let base = Sample(labels: Self.labels, timestamp: Self.time, value: 1)
        #expect(base == Sample(labels: Self.labels, timestamp: Self.time, value: 1))
        #expect(base != Sample(labels: ["__name__": "up"], timestamp: Self.time, value: 1))
        #expect(base != Sample(labels: Self.labels, timestamp: Self.time + .milliseconds(1), value: 1))
        #expect(base != Sample(labels: Self.labels, timestamp: Self.time, value: 1.000_000_000_000_000_2))
    }

    // MARK: Timestamp

    @Test("Timestamp is milliseconds since the epoch; seconds converts both ways")
    func timestampSeconds() {
        #expect(Timestamp(seconds: 1.5).milliseconds == 1500)
        #expect(Timestamp(milliseconds: 1500).seconds == 1.5)
        #expect(Timestamp(seconds: -1.5).milliseconds == -1500)
        #expect(Timestamp(seconds: 1_795_341_600.123).milliseconds == 1_795_341_600_123)
    }

    @Test(
        "Timestamp(seconds:) rounds to the nearest millisecond",
        arguments: [
            (0.0004, 0), (0.0006, 1), (1.9999, 2000), (-0.0006, -1), (1_795_341_600.0004, 1_795_341_600_000),
        ] as [(Double, Int64)])
    func timestampRounds(seconds: Double, milliseconds: Int64) {
        #expect(Timestamp(seconds: seconds).milliseconds == milliseconds)
    }

    @Test("Timestamps order by time and move by durations")
    func timestampArithmetic() {
        let t = Timestamp(milliseconds: 10_000)
        #expect(t + .seconds(5) == Timestamp(milliseconds: 15_000))
        #expect(t - .milliseconds(250) == Timestamp(milliseconds: 9_750))
        #expect(t - .seconds(20) == Timestamp(milliseconds: -10_000))
        #expect(Timestamp(milliseconds: 1) < Timestamp(milliseconds: 2))
        #expect(!(Timestamp(milliseconds: 2) < Timestamp(milliseconds: 2)))
        #expect(
            [Timestamp(milliseconds: 3), Timestamp(milliseconds: -1), Timestamp(milliseconds: 0)].sorted().map(
                \.milliseconds) == [-1, 0, 3])
    }

    @Test("Timestamp prints as RFC 3339 in UTC with milliseconds")
    func timestampDescription() {
        #expect(Timestamp(milliseconds: 1_795_341_600_000).description == "2026-11-22T10:00:00.000Z")
        #expect(Timestamp(milliseconds: -1).description == "1969-12-31T23:59:59.999Z")
    }

    @Test("Timestamp.now is the wall clock, at millisecond resolution")
    func timestampNow() {
        let now = Timestamp.now
        // After 2025-01-01 and before 2100-01-01.
        #expect(now.milliseconds > 1_735_689_600_000)
        #expect(now.milliseconds < 4_102_444_800_000)
        #expect(Timestamp.now >= now)
    }

    // MARK: Duration.milliseconds

    @Test(
        "Duration.milliseconds gives whole milliseconds, truncating sub-millisecond parts",
        arguments: [
            (Duration.seconds(90), 90_000), (.milliseconds(1500), 1500), (.milliseconds(-1500), -1500), (.zero, 0),
            (.microseconds(1999), 1), (.nanoseconds(999_999), 0), (.seconds(86_400 * 365), 31_536_000_000),
        ] as [(Duration, Int64)])
    func durationMilliseconds(duration: Duration, milliseconds: Int64) {
        #expect(duration.milliseconds == milliseconds)
    }
}
