/// A point in time, as milliseconds since the Unix epoch (Prometheus's resolution).
public struct Timestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var milliseconds: Int64

    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// From Unix seconds, rounded to the nearest millisecond.
    public init(seconds: Double) { milliseconds = Int64((seconds * 1000).rounded()) }

    /// Unix seconds.
    public var seconds: Double { Double(milliseconds) / 1000 }

    /// The current wall-clock time.
    public static var now: Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(milliseconds: Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.milliseconds < rhs.milliseconds }

    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(milliseconds: lhs.milliseconds + rhs.milliseconds)
    }

    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(milliseconds: lhs.milliseconds - rhs.milliseconds)
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2026-11-22T10:00:00.000Z`.
    public var description: String { TimeParser.formatRFC3339(self) }
}

extension Duration {
    /// Whole milliseconds, truncated.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Whole nanoseconds, truncated.
    public var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// One sample of one series: Prometheus's data model, float values only.
public struct Sample: Hashable, Sendable {
    public var labels: Labels
    public var timestamp: Timestamp
    public var value: Double

    public init(labels: Labels, timestamp: Timestamp, value: Double) {
        self.labels = labels
        self.timestamp = timestamp
        self.value = value
    }

    /// A staleness marker for `labels` at `timestamp`: the series ended there.
    public static func staleMarker(labels: Labels, timestamp: Timestamp) -> Sample {
        Sample(labels: labels, timestamp: timestamp, value: StaleMarker.value)
    }

    /// True when this sample is a staleness marker.
    public var isStale: Bool { StaleMarker.isStale(value) }

    /// Bitwise equality, so that NaN values and stale markers compare equal to themselves.
    public static func == (lhs: Sample, rhs: Sample) -> Bool {
        lhs.labels == rhs.labels && lhs.timestamp == rhs.timestamp
            && lhs.value.bitPattern == rhs.value.bitPattern
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(labels)
        hasher.combine(timestamp)
        hasher.combine(value.bitPattern)
    }
}

/// Prometheus's staleness marker: one particular NaN bit pattern, distinct from the NaN
/// that arithmetic produces.
public enum StaleMarker {
    public static let bitPattern: UInt64 = 0x7FF0_0000_0000_0002
    public static var value: Double { Double(bitPattern: bitPattern) }
    public static func isStale(_ value: Double) -> Bool { value.bitPattern == bitPattern }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
