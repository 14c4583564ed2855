import SeismoCore

/// One column of a series' samples: zero-based and random-access like an array. Series
/// decoded from one record share the record's column storage, so that decoding allocates
/// per record rather than per series; mutating a shared column copies it first.
public struct SampleColumn<Element: Sendable>: RandomAccessCollection, Sendable {
    private var storage: ArraySlice<Element>

    /// A column holding `elements`.
    public init(_ elements: [Element] = []) { storage = elements[...] }

    init(_ slice: ArraySlice<Element>) { storage = slice }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count }

    public subscript(position: Int) -> Element {
        precondition(position >= 0 && position < storage.count, "SampleColumn index out of range")
        return storage[storage.startIndex + position]
    }

    /// Calls `body` with the column's contiguous elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Element>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer(body)
    }

    mutating func append(_ element: Element) { storage.append(element) }

    mutating func reserveCapacity(_ count: Int) { storage.reserveCapacity(count) }
}

extension SampleColumn: Equatable where Element: Equatable {
    public static func == (lhs: SampleColumn, rhs: SampleColumn) -> Bool { lhs.elementsEqual(rhs) }
}

extension SampleColumn: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Element...) { self.init(elements) }
}

/// The samples of one series, in columns: `timestamps[i]` goes with `values[i]`.
public struct SeriesSamples: Sendable, Equatable {
    public var labels: Labels {
        didSet { prepared = nil }
    }
    /// `labels` with their key hash and encoder symbols, when a decoder had them cached
    /// (see `RemoteWriteSeriesCache`); always describes `labels` (changing them drops it).
    var prepared: PreparedLabels?
    /// Milliseconds since the Unix epoch, in the order the samples were added.
    public private(set) var timestamps: SampleColumn<Int64>
    /// One value per timestamp.
    public private(set) var values: SampleColumn<Double>

    /// A series with the given columns; `timestamps` and `values` must have equal counts.
    public init(labels: Labels, timestamps: [Int64] = [], values: [Double] = []) {
        self.init(labels: labels, timestamps: SampleColumn(timestamps), values: SampleColumn(values))
    }

    /// A series with the given columns; `timestamps` and `values` must have equal counts.
    public init(labels: Labels, timestamps: SampleColumn<Int64>, values: SampleColumn<Double>) {
        precondition(timestamps.count == values.count, "timestamps and values differ in count")
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
    }

    /// A series of cached labels over slices of shared columns.
    init(prepared: PreparedLabels, timestamps: ArraySlice<Int64>, values: ArraySlice<Double>) {
        labels = prepared.labels
        self.prepared = prepared
        self.timestamps = SampleColumn(timestamps)
        self.values = SampleColumn(values)
    }

    /// The number of samples.
    public var count: Int { timestamps.count }

    /// Appends one sample.
    public mutating func append(timestamp: Int64, value: Double) {
        timestamps.append(timestamp)
        values.append(value)
    }

    /// Reserves room for `count` samples in total.
    public mutating func reserveCapacity(_ count: Int) {
        timestamps.reserveCapacity(count)
        values.reserveCapacity(count)
    }

    /// The samples as rows.
    public var samples: [Sample] {
        var out: [Sample] = []
        out.reserveCapacity(count)
        appendSamples(to: &out)
        return out
    }

    func appendSamples(to out: inout [Sample]) {
        for (timestamp, value) in zip(timestamps, values) {
            out.append(Sample(labels: labels, timestamp: Timestamp(milliseconds: timestamp), value: value))
        }
    }

    /// Bitwise equality of values, so NaN and stale markers compare equal to themselves.
    public static func == (lhs: SeriesSamples, rhs: SeriesSamples) -> Bool {
        guard lhs.labels == rhs.labels, lhs.timestamps == rhs.timestamps, lhs.values.count == rhs.values.count
        else { return false }
        for (a, b) in zip(lhs.values, rhs.values) where a.bitPattern != b.bitPattern { return false }
        return true
    }
}

/// The content of one signal record: series in columns, log records and spans, and the
/// name of the collector that produced them. `SignalCodec` turns it into bytes and back.
public struct SignalBatch: Sendable, Equatable {
    public var series: [SeriesSamples]
    public var logs: [LogRecord]
    public var spans: [Span]
    /// The collector or producer that wrote the batch (e.g. `scrape/node`); may be empty.
    public var source: String

    public init(series: [SeriesSamples] = [], logs: [LogRecord] = [], spans: [Span] = [], source: String = "") {
        self.series = series
        self.logs = logs
        self.spans = spans
        self.source = source
    }

    /// Groups `samples` by label set, in order of first appearance; within a series the
    /// samples keep their order.
    public init(
        samples: some Sequence<Sample>, logs: [LogRecord] = [], spans: [Span] = [], source: String = ""
    ) {
        var index: [Labels: Int] = [:]
        var series: [SeriesSamples] = []
        for sample in samples {
            if let position = index[sample.labels] {
                series[position].append(timestamp: sample.timestamp.milliseconds, value: sample.value)
            } else {
                index[sample.labels] = series.count
                series.append(
                    SeriesSamples(
                        labels: sample.labels, timestamps: [sample.timestamp.milliseconds], values: [sample.value]))
            }
        }
        self.init(series: series, logs: logs, spans: spans, source: source)
    }

    /// All samples as rows, series by series.
    public var samples: [Sample] {
        var out: [Sample] = []
        out.reserveCapacity(sampleCount)
        for one in series { one.appendSamples(to: &out) }
        return out
    }

    /// The number of samples across all series.
    public var sampleCount: Int { series.reduce(0) { $0 + $1.count } }

    /// True when the batch holds no series, logs or spans.
    public var isEmpty: Bool { series.isEmpty && logs.isEmpty && spans.isEmpty }
}
