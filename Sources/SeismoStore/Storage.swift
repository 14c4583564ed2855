import SeismoCore

/// Rows of one write: samples, window rows and anomalies, buffered in memory and written in
/// one transaction by `commit()`. Writes are idempotent: a sample is keyed by (series,
/// timestamp), a window row by (table, stream, window, group), an anomaly by its id, and a
/// second write of the same key replaces the first, so a replay never duplicates.
public protocol Appender: Sendable {
    /// Adds one raw sample of the series `labels`.
    mutating func append(_ labels: Labels, timestamp: Int64, value: Double)
    /// Adds one window output: a row of `row.table`, and (when `asSeries`) one sample per
    /// feature in the series `{__name__="<stream>:<feature>", <group labels>}` at the window end.
    mutating func append(_ row: WindowRow, asSeries: Bool)
    /// Adds one anomaly.
    mutating func append(_ anomaly: AnomalyRecord)
    /// Rows buffered so far.
    var pendingCount: Int { get }
    /// Writes every buffered row in one transaction and empties the buffer; on error,
    /// nothing of it is stored and the buffer is kept.
    mutating func commit() async throws(StoreError)
    /// Empties the buffer without writing.
    mutating func rollback()
}

/// Reads what was stored.
public protocol Querier: Sendable {
    /// Series matching every matcher, with their samples in `[from, to]` (milliseconds,
    /// inclusive), sorted by labels; series without samples in range are left out.
    func select(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [StoredSeries]
    /// Label sets of series matching every matcher that have samples in `[from, to]`.
    func series(_ matchers: [Matcher], from: Int64, to: Int64) async throws(StoreError) -> [Labels]
    /// Sorted label names of series matching the matchers (all series when empty).
    func labelNames(_ matchers: [Matcher]) async throws(StoreError) -> [String]
    /// Sorted values of label `name` over series matching the matchers.
    func labelValues(_ name: String, matching matchers: [Matcher]) async throws(StoreError) -> [String]
    /// Rows of feature table `table` whose window ends in `[from, to]`, by window end then group.
    func featureRows(table: String, from: Int64, to: Int64) async throws(StoreError) -> [WindowRow]
    /// Anomalies whose window ends in `[from, to]`, newest first, at most `limit`.
    func anomalies(from: Int64, to: Int64, limit: Int) async throws(StoreError) -> [AnomalyRecord]
    /// Series matching every matcher, as buckets of `resolution` (min, max, sum, count, last)
    /// starting in `[bucket(from), to]`, sorted by labels; each bucket aggregates all its
    /// samples, also those outside `[from, to]`. For long ranges and big steps: pick the
    /// resolution with `Resolution.suggested(window:step:)`. The default implementation
    /// computes the buckets from `select`; `SQLiteStore` reads its stored rollups.
    func selectRollups(_ matchers: [Matcher], from: Int64, to: Int64, resolution: Resolution)
        async throws(StoreError) -> [RollupSeries]
}

/// A stored series and its samples in time order.
public struct StoredSeries: Sendable, Hashable {
    public var labels: Labels
    public var timestamps: [Int64]
    public var values: [Double]

    public init(labels: Labels, timestamps: [Int64], values: [Double]) {
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }
}

/// One window × group output of a stream: a row of a feature table.
public struct WindowRow: Sendable, Hashable {
    /// The feature table's name.
    public var table: String
    public var stream: String
    public var windowStart: Int64
    public var windowEnd: Int64
    public var group: Labels
    /// Feature names and values, in the stream's feature order; NaN where undefined.
    public var features: [(name: String, value: Double)]
    /// Samples that went into the window.
    public var sampleCount: Int

    public init(
        table: String, stream: String, windowStart: Int64, windowEnd: Int64, group: Labels,
        features: [(name: String, value: Double)], sampleCount: Int
    ) {
        self.table = table
        self.stream = stream
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.group = group
        self.features = features
        self.sampleCount = sampleCount
    }

    public static func == (lhs: WindowRow, rhs: WindowRow) -> Bool {
        lhs.table == rhs.table && lhs.stream == rhs.stream && lhs.windowStart == rhs.windowStart
            && lhs.windowEnd == rhs.windowEnd && lhs.group == rhs.group && lhs.sampleCount == rhs.sampleCount
            && lhs.features.count == rhs.features.count
            && zip(lhs.features, rhs.features).allSatisfy {
                $0.name == $1.name && ($0.value == $1.value || ($0.value.isNaN && $1.value.isNaN))
            }
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(table)
        hasher.combine(stream)
        hasher.combine(windowStart)
        hasher.combine(windowEnd)
        hasher.combine(group)
    }

    /// The value of feature `name`.
    public subscript(feature name: String) -> Double? { features.first { $0.name == name }?.value }
}

/// A stored anomaly: the fields queries filter on, and the event's JSON as published.
public struct AnomalyRecord: Sendable, Hashable {
    /// The event id (deterministic: pipeline, detector, group, window), the key of the row.
    public var id: String
    public var pipeline: String
    public var detector: String
    public var group: Labels
    public var windowStart: Int64
    public var windowEnd: Int64
    public var score: Double
    public var threshold: Double
    public var severity: String
    /// The event as JSON (schema `seismo.anomaly.v1`).
    public var json: String

    public init(
        id: String, pipeline: String, detector: String, group: Labels, windowStart: Int64, windowEnd: Int64,
        score: Double, threshold: Double, severity: String, json: String
    ) {
        self.id = id
        self.pipeline = pipeline
        self.detector = detector
        self.group = group
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.score = score
        self.threshold = threshold
        self.severity = severity
        self.json = json
    }
}

/// The error type of SeismoStore.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// The database could not be opened, migrated or written.
        case io
        /// A name (table, column) or value the store cannot hold.
        case invalidInput
        /// A stored row could not be read back.
        case corrupt
    }

    public var code: Code
    public var message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "store \(code.rawValue): \(message)" }
}
