import SeismoCore

/// What a stream emits when a window closes: the features of one window × group.
public struct WindowOutput: Sendable, Hashable {
    /// Why the window was emitted.
    public enum Emission: String, Sendable, Hashable {
        /// The watermark passed the window's end.
        case onTime
        /// A late record changed an already emitted window; this output replaces the earlier one.
        case update
    }

    public var stream: String
    /// Inclusive start, exclusive end, in event-time milliseconds.
    public var windowStart: Int64
    public var windowEnd: Int64
    public var group: Labels
    /// One value per `StreamSpec.featureNames`, in that order; NaN where undefined
    /// (e.g. `avg` of no samples, a ratio over zero).
    public var values: [Double]
    /// Samples that went into the window (over every aggregation).
    public var sampleCount: Int
    public var emission: Emission

    public init(
        stream: String, windowStart: Int64, windowEnd: Int64, group: Labels, values: [Double], sampleCount: Int,
        emission: Emission = .onTime
    ) {
        self.stream = stream
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.group = group
        self.values = values
        self.sampleCount = sampleCount
        self.emission = emission
    }

    public static func == (lhs: WindowOutput, rhs: WindowOutput) -> Bool {
        lhs.stream == rhs.stream && lhs.windowStart == rhs.windowStart && lhs.windowEnd == rhs.windowEnd
            && lhs.group == rhs.group && lhs.sampleCount == rhs.sampleCount && lhs.emission == rhs.emission
            && lhs.values.count == rhs.values.count
            && zip(lhs.values, rhs.values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(stream)
        hasher.combine(windowStart)
        hasher.combine(group)
    }
}
