import SeismoCore
import SeismoPipeline
import SeismoWire

/// What happened to the samples of one `ingest` call (or, summed, of many).
public struct IngestCounts: Sendable, Hashable {
    /// Samples folded into open windows.
    public var accepted = 0
    /// Samples of series that the stream's selector, or every aggregation's selector, rejects.
    public var filtered = 0
    /// NaN values, staleness markers, and timestamps beyond ±2^60 ms: not aggregated.
    public var invalid = 0
    /// Late samples dropped: policy `.drop`, or past `lateRetention` with `.update`.
    public var lateDropped = 0
    /// Late samples folded into closed windows that will be emitted again (policy `.update`).
    public var lateUpdated = 0
    /// Samples older than their series' previous sample (and not dropped): aggregated, but
    /// ignored by rate and increase.
    public var outOfOrder = 0

    public init() {}

    /// Adds `other`'s counts to these.
    public static func += (lhs: inout IngestCounts, rhs: IngestCounts) {
        lhs.accepted += rhs.accepted
        lhs.filtered += rhs.filtered
        lhs.invalid += rhs.invalid
        lhs.lateDropped += rhs.lateDropped
        lhs.lateUpdated += rhs.lateUpdated
        lhs.outOfOrder += rhs.outOfOrder
    }
}

/// The size of a `StreamWindows`' state, and its counts since it was created.
public struct StreamWindowStatistics: Sendable, Hashable {
    /// Assigned partitions.
    public var partitions = 0
    /// Windows holding samples that have not been emitted yet.
    public var openWindows = 0
    /// Panes (slices of length `hop`) kept for open or still updatable windows.
    public var panes = 0
    /// Window groups remembered (each holds its labels).
    public var groups = 0
    /// Series remembered (route cache and counter state).
    public var series = 0
    /// Every `ingest` call's counts, summed.
    public var totals = IngestCounts()
}

/// Window state of one stream in one worker, kept per assigned partition: a value-type
/// state machine without I/O or clocks. Processing time comes in as `now` (milliseconds,
/// monotonic); event time is the samples' timestamps.
///
/// - Windows: tumbling `[k·size, (k+1)·size)` aligned to the Unix epoch, or hopping windows
///   of `size` starting every `hop`. Samples go into panes of length `hop`, which windows
///   merge when they close, so one sample costs one update per aggregation.
/// - Watermark, per partition: max event time of its finished records (`recordDone`) minus
///   `allowedLateness`; a window closes when the watermark reaches its end. A partition
///   without records for `idleTimeout` takes the highest watermark of the partitions that
///   are not idle (at `advance`); a partition that never got a record is never idle.
/// - Late samples (every window of theirs closed) are counted; with `.update` and within
///   `lateRetention` of the close they are folded in, and the changed groups are emitted
///   again with `.update`. With `.update`, a hopping window's sample that is not late
///   also re-emits its emitted, retained windows.
/// - Rate and increase pair each sample with its series' previous one (also when the
///   previous one was dropped as late); pairs more than `2 × (size + allowedLateness)`
///   apart count as a new start. A window with a pair holds the previous sample's record
///   back from commit, so a replay rebuilds the pair.
/// - Commit: `committableOffset` plus `closedWatermark`, given to the next owner's
///   `assign(_:resumingAfter:)`, make a replay rebuild exactly the windows that could still
///   change, and return no window the previous owner had already finished.
/// - Memory: panes live while one of their windows is open or updatable; series state
///   (route and previous sample) is forgotten after `3 × size + 2 × allowedLateness +
///   lateRetention` of event time without samples, groups after another `lateRetention`.
///   State grows with the live series and groups; a sketch keeps at most
///   `QuantileSketch.bucketLimit` buckets per sign.
public struct StreamWindows: Sendable {
    /// The stream it windows.
    public let stream: StreamSpec
    let config: CompiledStream
    /// Assigned partitions and their states, in parallel arrays (arrays mutate in place;
    /// a dictionary's optional would copy the state on every call).
    var partitionIDs: [Int32] = []
    var partitions: [PartitionWindows] = []
    var totals = IngestCounts()

    /// Windows for `stream`; throws `.invalidStream` when its window settings cannot run
    /// (size or hop under 1ms, a hop that does not divide the size, negative durations, a
    /// quantile or relative error out of range, no features).
    public init(stream: StreamSpec) throws(StreamError) {
        self.stream = stream
        config = try CompiledStream(stream)
    }

    /// Starts keeping state for `partition` (a no-op when it is already assigned).
    ///
    /// To take over a partition exactly, pass the previous owner's `closedWatermark(of:)`,
    /// saved with the committed offset (e.g. in the commit's metadata), and replay from that
    /// offset: windows the previous owner returned are not returned again as on-time
    /// outputs (their samples count as late), and updatable ones are rebuilt in full.
    public mutating func assign(_ partition: Int32, resumingAfter closedWatermark: Int64? = nil) {
        guard !partitionIDs.contains(partition) else { return }
        partitionIDs.append(partition)
        if let closedWatermark {
            partitions.append(PartitionWindows(resumingAfter: closedWatermark, config: config))
        } else {
            partitions.append(PartitionWindows())
        }
    }

    /// The partitions with state, in ascending order.
    public var assignedPartitions: [Int32] { partitionIDs.sorted() }

    /// The position of `partition`'s state, assigning it when needed.
    @inline(__always)
    private mutating func position(of partition: Int32) -> Int {
        if partitionIDs.count == 1, partitionIDs[0] == partition { return 0 }
        if let position = partitionIDs.firstIndex(of: partition) { return position }
        partitionIDs.append(partition)
        partitions.append(PartitionWindows())
        return partitions.count - 1
    }

    /// Ingests the samples of one series from record `offset` of `partition` (assigning
    /// the partition when needed), processed at `now`. Late judgement uses the watermark
    /// as of the last `recordDone`, so the samples of one record never make each other late.
    @discardableResult
    public mutating func ingest(_ series: SeriesSamples, partition: Int32, offset: Int64, now: Int64)
        -> IngestCounts
    {
        let position = position(of: partition)
        let counts = partitions[position].ingest(series, offset: offset, now: now, config: config)
        totals += counts
        return counts
    }

    /// Marks record `offset` of `partition` fully ingested and moves its watermark; call
    /// once per record, also when nothing in it was selected.
    public mutating func recordDone(partition: Int32, offset: Int64, now: Int64) {
        let position = position(of: partition)
        partitions[position].recordDone(offset: offset, now: now, config: config)
    }

    /// Applies the idle timeout at `now`, then closes every window whose end ≤ its
    /// partition's watermark. Returns their outputs and the windows re-emitted by late
    /// updates, oldest window first (then by partition, then by group's first sample).
    public mutating func advance(now: Int64) -> [WindowOutput] {
        applyIdleTimeout(now: now, only: nil)
        var outputs: [WindowOutput] = []
        for position in partitionIDs.indices.sorted(by: { partitionIDs[$0] < partitionIDs[$1] }) {
            outputs += partitions[position].close(config: config)
        }
        return Self.oldestFirst(outputs)
    }

    /// The offset to commit for `partition`: every record before it is in windows already
    /// returned by `advance` and no longer updatable. Nil when nothing was processed.
    public func committableOffset(_ partition: Int32) -> Int64? {
        partitionIDs.firstIndex(of: partition).flatMap { partitions[$0].committableOffset() }
    }

    /// On revoke or shutdown: returns the outputs of `partition`'s windows that can close
    /// at `now` (idle timeout included), then drops its state. Windows still open are
    /// dropped without output: the next owner replays them from the committed offset.
    public mutating func revoke(_ partition: Int32, now: Int64) -> [WindowOutput] {
        guard let position = partitionIDs.firstIndex(of: partition) else { return [] }
        applyIdleTimeout(now: now, only: position)
        let outputs = partitions[position].close(config: config)
        partitionIDs.remove(at: position)
        partitions.remove(at: position)
        return outputs
    }

    /// The watermark as of the last `advance` (or `revoke`) of `partition`: every window
    /// ending at or before it has been returned. Commit it with `committableOffset` and give
    /// it to the next owner's `assign(_:resumingAfter:)`.
    public func closedWatermark(of partition: Int32) -> Int64? {
        partitionIDs.firstIndex(of: partition).flatMap { partitions[$0].closedWatermark }
    }

    /// `partition`'s watermark in event-time milliseconds; nil before its first finished
    /// record with samples.
    public func watermark(of partition: Int32) -> Int64? {
        partitionIDs.firstIndex(of: partition).flatMap { partitions[$0].watermark }
    }

    /// The size of the state and the counts so far.
    public var statistics: StreamWindowStatistics {
        var statistics = StreamWindowStatistics()
        statistics.partitions = partitions.count
        for partition in partitions {
            statistics.openWindows += partition.openWindows(config: config)
            statistics.panes += partition.panes.count
            statistics.groups += partition.groupIndex.count
            statistics.series += partition.series.count
        }
        statistics.totals = totals
        return statistics
    }

    /// Raises the watermark of idle partitions (all of them, or only the one at position
    /// `only`) to the highest watermark among partitions that are not idle.
    private mutating func applyIdleTimeout(now: Int64, only: Int?) {
        let timeout = config.idleTimeout
        func isIdle(_ partition: PartitionWindows) -> Bool {
            guard let last = partition.lastActivity else { return false }
            return now - last >= timeout
        }
        var activeMax: Int64?
        for partition in partitions where !isIdle(partition) {
            if let watermark = partition.watermark, activeMax.map({ watermark > $0 }) ?? true { activeMax = watermark }
        }
        guard let activeMax else { return }
        for position in only.map({ [$0] }) ?? Array(partitions.indices) where isIdle(partitions[position]) {
            partitions[position].raiseWatermark(to: activeMax)
        }
    }

    private static func oldestFirst(_ outputs: [WindowOutput]) -> [WindowOutput] {
        guard outputs.count > 1 else { return outputs }
        return outputs.enumerated().sorted {
            ($0.element.windowStart, $0.offset) < ($1.element.windowStart, $1.offset)
        }.map(\.element)
    }
}
