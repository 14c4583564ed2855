/// A robust, causal level-shift detector for one series: the median of the last `recent` values
/// against the median of the `reference` values before them, in robust standard deviations
/// (1.4826 · MAD of the reference window). Spikes barely move a median, so this answers "has the
/// level moved", which the seasonal forecast's band (whose level correction follows a shift within
/// a few dozen points) answers only briefly.
public struct LevelShiftDetector: Sendable {
    public struct Configuration: Sendable, Equatable {
        /// Points in the recent window.
        public var recent = 24
        /// Points in the reference window before it.
        public var reference = 480
        public init() {}
    }

    public let configuration: Configuration
    private var window: [Double] = []  // the last recent + reference finite values, oldest first (ring)
    private var head = 0
    private var scaleFloor = 1e-9
    private var sortedScratch: [Double] = []

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Sets the smallest spread used (e.g. from the training data), so flat references don't divide by 0.
    public mutating func setScaleFloor(_ floor: Double) {
        if floor.isFinite, floor > 0 { scaleFloor = floor }
    }

    /// The shift score for `value`, using it and the points before it; 0 until both windows are full.
    /// NaN values are skipped (score 0, state unchanged).
    public mutating func update(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        let w = max(configuration.recent, 1), r = max(configuration.reference, 2)
        let capacity = w + r
        if window.count < capacity {
            window.append(value)
            if window.count < capacity { return 0 }
        } else {
            window[head] = value
            head = (head + 1) % capacity
        }
        // Oldest first: reference = first r, recent = last w.
        var reference = [Double](repeating: 0, count: r)
        var recent = [Double](repeating: 0, count: w)
        for i in 0..<capacity {
            let v = window[(head + i) % capacity]
            if i < r { reference[i] = v } else { recent[i - r] = v }
        }
        let centre = Self.median(&reference)
        for i in 0..<r { reference[i] = abs(reference[i] - centre) }
        let spread = max(1.4826 * Self.median(&reference), scaleFloor)
        return abs(Self.median(&recent) - centre) / spread
    }

    private static func median(_ values: inout [Double]) -> Double {
        let upper = Robust.select(&values, count: values.count, rank: values.count / 2)
        guard values.count % 2 == 0 else { return upper }
        let lower = Robust.select(&values, count: values.count / 2, rank: values.count / 2 - 1)
        return (lower + upper) / 2
    }
}
