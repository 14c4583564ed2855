import SeismoCore

/// What a collector has done so far: a snapshot, readable while it runs.
public struct CollectorStatistics: Sendable, Hashable {
    /// Samples a live source (scrape, probe, host) produced, before publishing.
    public var receivedSamples = 0
    /// Samples the broker acknowledged.
    public var publishedSamples = 0
    /// Records the broker acknowledged.
    public var records = 0
    /// Failed attempts: records the broker or the client refused (retried or dropped),
    /// and a source that could not be opened.
    public var errors = 0
    /// Samples given up after every retry; never dropped silently.
    public var dropped = 0
    /// Event-time batches read from the source.
    public var batches = 0
    /// Input lines the source could not use (file replay).
    public var parseIssues = 0
    /// Event time of the latest batch sent.
    public var lastEventTime: Timestamp?

    public init() {}
}
