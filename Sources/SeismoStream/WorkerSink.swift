import SeismoCore
import SeismoWire

/// What a worker hands over at each flush: the windows that closed and the raw samples it
/// selected since the last flush.
public struct WorkerFlush: Sendable {
    public var outputs: [WindowOutput]
    /// Raw samples of series some stream selected (only when the pipeline stores raw samples).
    public var raw: [SeriesSamples]

    public init(outputs: [WindowOutput] = [], raw: [SeriesSamples] = []) {
        self.outputs = outputs
        self.raw = raw
    }

    public var isEmpty: Bool { outputs.isEmpty && raw.isEmpty }
    public var rawSampleCount: Int { raw.reduce(0) { $0 + $1.count } }
}

/// Where a worker's flushes go: the store, the detectors and the anomaly topic.
///
/// `write` returns only once everything derived from the flush is durable (rows committed
/// in the store, anomaly events acknowledged by the broker); the worker commits offsets
/// after it returns, and replays them when it throws. Writes must be idempotent, since a
/// replay after a crash writes the same flush again.
public protocol WindowSink: Sendable {
    func write(_ flush: WorkerFlush, worker: Int) async throws
}
