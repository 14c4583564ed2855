import SeismoCore

/// The samples of one event-time point (or slice) of a source.
public struct SourceBatch: Sendable, Equatable {
    /// The event time the batch is due at; pacing waits for it.
    public var time: Timestamp
    public var samples: [Sample]

    public init(time: Timestamp, samples: [Sample]) {
        self.time = time
        self.samples = samples
    }
}

/// A source of samples in event-time order, driven by `CollectorService`. A pure value:
/// no I/O and no clock, so it is tested without Kafka.
public protocol CollectorSource: Sendable {
    /// The next batch, or nil when the source is exhausted. Batch times never decrease.
    mutating func next() -> SourceBatch?
}
