import SeismoCore
import SeismoPipeline
import SeismoWire

/// Floor division (rounds toward −∞), so that windows before the epoch align too.
@inline(__always)
func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}

/// What the partition remembers about one series: where its samples go (the route cache)
/// and its previous sample, for rate and increase.
struct SeriesState: Sendable {
    /// The group's id, or −1 when the series is filtered out.
    var group: Int32 = -1
    /// Index of the list of aggregations whose selectors match the series.
    var matchSet: Int32 = -1
    /// True when one of those is rate or increase.
    var feedsCounter = false
    var hasPrevious = false
    var previousTimestamp: Int64 = .min
    var previousValue: Double = 0
    /// The record that held the previous sample: a window with the pair holds it back from commit.
    var previousOffset: Int64 = 0
    /// The latest event time seen for the series.
    var lastSeen: Int64 = .min
}

/// A window group: its labels and the latest event time routed to it.
struct GroupState: Sendable {
    var labels: Labels
    var lastSeen: Int64 = .min
}

/// A window to emit again because a late sample changed one of its groups.
struct DirtyWindow: Hashable, Sendable {
    var window: Int64
    var group: Int32
}

/// The aggregation states of one pane: a slice of event time of length `hop`, by group.
/// A window is the merge of `size / hop` consecutive panes.
struct Pane: Sendable {
    /// The smallest record offset that contributed to the pane.
    var minOffset: Int64
    /// Group id → slot, −1 when the group has no sample in the pane.
    var slotOfGroup: [Int32] = []
    var groupOfSlot: [Int32] = []
    var sampleCounts: [Int] = []
    /// `slot * aggregations + aggregation`.
    var states: [AggregationState] = []
    /// `slot * sketches + sketch`.
    var sketches: [QuantileSketch] = []

    init(minOffset: Int64) { self.minOffset = minOffset }

    @inline(__always)
    mutating func slot(for group: Int32, config: CompiledStream) -> Int {
        let index = Int(group)
        if index < slotOfGroup.count {
            let slot = slotOfGroup[index]
            if slot >= 0 { return Int(slot) }
        } else {
            slotOfGroup.append(contentsOf: repeatElement(-1, count: index - slotOfGroup.count + 1))
        }
        let slot = groupOfSlot.count
        slotOfGroup[index] = Int32(slot)
        groupOfSlot.append(group)
        sampleCounts.append(0)
        states.append(contentsOf: repeatElement(AggregationState(), count: config.kinds.count))
        sketches.append(contentsOf: config.sketchTemplates)
        return slot
    }

    @inline(__always)
    mutating func add(
        group: Int32, aggregations: [Int], value: Double, timestamp: Int64, increase: Double?, offset: Int64,
        config: CompiledStream
    ) {
        if offset < minOffset { minOffset = offset }
        let slot = slot(for: group, config: config)
        sampleCounts[slot] += 1
        let base = slot * config.kinds.count
        for aggregation in aggregations {
            let kind = config.kinds[aggregation]
            switch kind {
            case .rate, .increase:
                if let increase { states[base + aggregation].addIncrease(increase) }
            case .quantile(_, let sketch):
                states[base + aggregation].add(value, at: timestamp, kind: kind)
                sketches[slot * config.sketchTemplates.count + sketch].add(value)
            default:
                states[base + aggregation].add(value, at: timestamp, kind: kind)
            }
        }
    }
}

/// The panes of a partition by index: few (the panes of the open and updatable windows),
/// so arrays searched from the newest beat a dictionary, and mutate in place.
struct PaneTable: Sendable {
    private(set) var keys: [Int64] = []
    var values: [Pane] = []
    private var recent = 0

    var count: Int { keys.count }

    subscript(key: Int64) -> Pane? {
        guard let position = keys.lastIndex(of: key) else { return nil }
        return values[position]
    }

    /// The position of pane `key`, created (holding `offset`) when missing.
    @inline(__always)
    mutating func position(of key: Int64, offset: Int64) -> Int {
        if recent < keys.count, keys[recent] == key { return recent }
        if let position = keys.lastIndex(of: key) {
            recent = position
            return position
        }
        keys.append(key)
        values.append(Pane(minOffset: offset))
        recent = keys.count - 1
        return recent
    }

    mutating func removeAll(where expired: (Int64) -> Bool) {
        var position = 0
        while position < keys.count {
            if expired(keys[position]) {
                keys.remove(at: position)
                values.remove(at: position)
            } else {
                position += 1
            }
        }
        recent = 0
    }
}

/// The window state of one stream for one partition. Window `w` covers event time
/// `[w·hop, w·hop + size)`, that is panes `w ..< w + size/hop`.
struct PartitionWindows: Sendable {
    /// Max event time seen (as of the last finished record) minus allowed lateness, raised
    /// by the idle rule; never goes back. Nil until a finished record carried a sample.
    var watermark: Int64?
    /// Max event time of samples ingested since the last `recordDone`.
    var pendingMax: Int64 = .min
    var maxEventTime: Int64 = .min
    /// Processing time of the last record seen; nil before the first.
    var lastActivity: Int64?
    var lastDone: Int64?
    /// Every window with index ≤ this has been emitted.
    var emittedThrough: Int64 = .min
    /// The watermark of the last `close`: windows ending at or before it were returned.
    var closedWatermark: Int64?
    var panes = PaneTable()
    var dirty: Set<DirtyWindow> = []
    var lastSweep: Int64?

    var series = SeriesTable()
    var groupIndex: [Labels: Int32] = [:]
    var groups: [GroupState] = []
    var freeGroups: [Int32] = []
    var matchSets: [[Int]] = []
    var matchSetIndex: [[Int]: Int32] = [:]

    init() {}

    /// State for a partition whose previous owner had returned every window ending at or
    /// before `closedWatermark`.
    init(resumingAfter closedWatermark: Int64, config: CompiledStream) {
        watermark = closedWatermark
        self.closedWatermark = closedWatermark
        maxEventTime = closedWatermark + config.allowedLateness
        emittedThrough = floorDivide(closedWatermark - config.size, config.hop)
    }

    // MARK: Ingest

    mutating func ingest(_ samples: SeriesSamples, offset: Int64, now: Int64, config: CompiledStream) -> IngestCounts {
        lastActivity = now
        var counts = IngestCounts()
        let count = samples.count
        guard count > 0 else { return counts }
        let id = route(samples.labels, config: config)
        var state = series.states[id]
        let bound = CompiledStream.timestampBound
        var maxTimestamp = Int64.min

        if state.group < 0 {
            samples.timestamps.withUnsafeBufferPointer { timestamps in
                for t in timestamps where t > -bound && t < bound && t > maxTimestamp { maxTimestamp = t }
            }
            counts.filtered = count
        } else {
            let aggregations = matchSets[Int(state.matchSet)]
            let group = state.group
            if count == 1 {
                ingestSample(
                    samples.timestamps[0], samples.values[0], state: &state, group: group, aggregations: aggregations,
                    offset: offset, config: config, counts: &counts, maxTimestamp: &maxTimestamp)
            } else {
                samples.timestamps.withUnsafeBufferPointer { timestamps in
                    samples.values.withUnsafeBufferPointer { values in
                        for position in 0..<count {
                            ingestSample(
                                timestamps[position], values[position], state: &state, group: group,
                                aggregations: aggregations, offset: offset, config: config, counts: &counts,
                                maxTimestamp: &maxTimestamp)
                        }
                    }
                }
            }
            if maxTimestamp > groups[Int(group)].lastSeen { groups[Int(group)].lastSeen = maxTimestamp }
        }
        if maxTimestamp > state.lastSeen { state.lastSeen = maxTimestamp }
        if maxTimestamp > pendingMax { pendingMax = maxTimestamp }
        series.states[id] = state
        return counts
    }

    /// Folds one sample of a selected series into its pane.
    @inline(__always)
    private mutating func ingestSample(
        _ t: Int64, _ value: Double, state: inout SeriesState, group: Int32, aggregations: [Int], offset: Int64,
        config: CompiledStream, counts: inout IngestCounts, maxTimestamp: inout Int64
    ) {
        let bound = CompiledStream.timestampBound
        guard t > -bound, t < bound, !value.isNaN else {
            counts.invalid += 1
            return
        }
        let hop = config.hop, size = config.size, retention = config.retention
        if t > maxTimestamp { maxTimestamp = t }
        let pane = floorDivide(t, hop)
        let lastEnd = pane * hop + size
        var late = false, dropped = false
        if let watermark, lastEnd <= watermark {
            late = true
            dropped = lastEnd + retention <= watermark
        }
        // The series' previous sample moves on even for dropped samples, so a replay that
        // re-reads them pairs the next sample the same way.
        var increase: Double?
        var pairOffset = offset
        if !state.hasPrevious || t - state.previousTimestamp > config.pairGap {
            state.hasPrevious = true
            state.previousTimestamp = t
            state.previousValue = value
            state.previousOffset = offset
        } else if t > state.previousTimestamp {
            increase = value >= state.previousValue ? value - state.previousValue : value
            if state.feedsCounter { pairOffset = state.previousOffset }
            state.previousTimestamp = t
            state.previousValue = value
            state.previousOffset = offset
        } else if t < state.previousTimestamp, !dropped {
            counts.outOfOrder += 1
        }
        if dropped {
            counts.lateDropped += 1
            return
        }
        let position = panes.position(of: pane, offset: offset)
        panes.values[position].add(
            group: group, aggregations: aggregations, value: value, timestamp: t, increase: increase,
            offset: Swift.min(offset, pairOffset), config: config)
        if late { counts.lateUpdated += 1 } else { counts.accepted += 1 }
        // With `.update`, emitted windows that are still retained are emitted again.
        let panesBack = config.panesPerWindow - 1
        if config.latePolicy == .update, let watermark, pane - panesBack <= emittedThrough {
            for window in (pane - panesBack)...Swift.min(pane, emittedThrough)
            where window * hop + size + retention > watermark {
                dirty.insert(DirtyWindow(window: window, group: group))
            }
        }
    }

    mutating func recordDone(offset: Int64, now: Int64, config: CompiledStream) {
        lastActivity = now
        if lastDone.map({ offset > $0 }) ?? true { lastDone = offset }
        guard pendingMax > .min else { return }
        if pendingMax > maxEventTime { maxEventTime = pendingMax }
        pendingMax = .min
        raiseWatermark(to: maxEventTime - config.allowedLateness)
    }

    mutating func raiseWatermark(to candidate: Int64) {
        if watermark.map({ candidate > $0 }) ?? true { watermark = candidate }
    }

    /// The series' id in `series`, creating its route on first sight.
    private mutating func route(_ labels: Labels, config: CompiledStream) -> Int {
        let hash = SeriesTable.hash(labels)
        if let id = series.find(labels, hash: hash) { return id }
        var state = SeriesState()
        if config.selector.matches(labels) {
            var matching: [Int] = []
            for (aggregation, selector) in config.aggregationSelectors.enumerated() where selector.matches(labels) {
                matching.append(aggregation)
            }
            if !matching.isEmpty {
                state.matchSet = internMatchSet(matching)
                state.feedsCounter = matching.contains { config.kinds[$0].isCounter }
                state.group = internGroup(config.grouping.groupLabels(of: labels))
            }
        }
        return series.insert(labels, hash: hash, state: state)
    }

    private mutating func internMatchSet(_ set: [Int]) -> Int32 {
        if let id = matchSetIndex[set] { return id }
        let id = Int32(matchSets.count)
        matchSets.append(set)
        matchSetIndex[set] = id
        return id
    }

    private mutating func internGroup(_ labels: Labels) -> Int32 {
        if let id = groupIndex[labels] { return id }
        let id: Int32
        if let free = freeGroups.popLast() {
            id = free
            groups[Int(id)] = GroupState(labels: labels)
        } else {
            id = Int32(groups.count)
            groups.append(GroupState(labels: labels))
        }
        groupIndex[labels] = id
        return id
    }

    // MARK: Commit

    func committableOffset() -> Int64? {
        var result = lastDone.map { $0 + 1 }
        for pane in panes.values where result.map({ pane.minOffset < $0 }) ?? true { result = pane.minOffset }
        return result
    }

    // MARK: Close

    /// Emits the windows the watermark has passed and the windows late samples changed,
    /// oldest first; then drops panes no window needs and forgets long-unseen series.
    mutating func close(config: CompiledStream) -> [WindowOutput] {
        guard let watermark else { return [] }
        closedWatermark = watermark
        let hop = config.hop, size = config.size, panesBack = config.panesPerWindow - 1
        let target = floorDivide(watermark - size, hop)
        var onTime = Set<Int64>()
        if target > emittedThrough {
            for pane in panes.keys {
                let low = Swift.max(pane - panesBack, emittedThrough + 1), high = Swift.min(pane, target)
                if low <= high { for window in low...high { onTime.insert(window) } }
            }
        }
        var updates: [Int64: [Int32]] = [:]
        for entry in dirty { updates[entry.window, default: []].append(entry.group) }
        dirty.removeAll(keepingCapacity: true)
        if target > emittedThrough { emittedThrough = target }

        var outputs: [WindowOutput] = []
        for window in onTime.union(updates.keys).sorted() {
            if let groups = updates[window] {
                appendOutputs(of: window, groups: Set(groups), emission: .update, config: config, to: &outputs)
            } else {
                appendOutputs(of: window, groups: nil, emission: .onTime, config: config, to: &outputs)
            }
        }

        panes.removeAll { $0 * hop + size + config.retention <= watermark }
        if lastSweep.map({ watermark - $0 >= size }) ?? true {
            lastSweep = watermark
            sweep(before: watermark, config: config)
        }
        return outputs
    }

    /// Forgets series and groups unseen for their horizons of event time. A group is only
    /// forgotten after every pane holding it has expired, and after its series.
    private mutating func sweep(before watermark: Int64, config: CompiledStream) {
        let seriesLimit = watermark - config.seriesHorizon
        series.removeAll { $0.lastSeen < seriesLimit }
        let groupLimit = watermark - config.groupHorizon
        var staleGroups: [Labels] = []
        for (labels, id) in groupIndex where groups[Int(id)].lastSeen < groupLimit { staleGroups.append(labels) }
        for labels in staleGroups {
            if let id = groupIndex.removeValue(forKey: labels) {
                groups[Int(id)] = GroupState(labels: Labels())
                freeGroups.append(id)
            }
        }
    }

    /// The outputs of window `window` for `groups` (every group when nil), in the order the
    /// groups first appear in its panes.
    private func appendOutputs(
        of window: Int64, groups selected: Set<Int32>?, emission: WindowOutput.Emission, config: CompiledStream,
        to outputs: inout [WindowOutput]
    ) {
        let aggregationCount = config.kinds.count, sketchCount = config.sketchTemplates.count
        var order: [Int32] = []
        var mergedSlot: [Int32: Int] = [:]
        var states: [AggregationState] = []
        var sketches: [QuantileSketch] = []
        var sampleCounts: [Int] = []
        for paneIndex in window...(window + config.panesPerWindow - 1) {
            guard let pane = panes[paneIndex] else { continue }
            for (slot, group) in pane.groupOfSlot.enumerated() {
                if let selected, !selected.contains(group) { continue }
                let merged: Int
                if let existing = mergedSlot[group] {
                    merged = existing
                } else {
                    merged = order.count
                    mergedSlot[group] = merged
                    order.append(group)
                    sampleCounts.append(0)
                    states.append(contentsOf: repeatElement(AggregationState(), count: aggregationCount))
                    sketches.append(contentsOf: config.sketchTemplates)
                }
                sampleCounts[merged] += pane.sampleCounts[slot]
                for aggregation in 0..<aggregationCount {
                    states[merged * aggregationCount + aggregation].merge(
                        pane.states[slot * aggregationCount + aggregation])
                }
                for sketch in 0..<sketchCount {
                    sketches[merged * sketchCount + sketch].merge(pane.sketches[slot * sketchCount + sketch])
                }
            }
        }
        let start = window * config.hop
        outputs.reserveCapacity(outputs.count + order.count)
        for (merged, group) in order.enumerated() {
            let groupSketches = sketches[(merged * sketchCount)..<((merged + 1) * sketchCount)]
            var values: [Double] = []
            values.reserveCapacity(aggregationCount + config.derived.count)
            for (aggregation, kind) in config.kinds.enumerated() {
                values.append(
                    states[merged * aggregationCount + aggregation].result(
                        kind, windowSeconds: config.windowSeconds, sketches: groupSketches))
            }
            for expression in config.derived {
                let value = expression.evaluate { name in
                    guard let position = config.featureIndex[name], position < values.count else { return nil }
                    return values[position]
                }
                values.append(value)
            }
            outputs.append(
                WindowOutput(
                    stream: config.name, windowStart: start, windowEnd: start + config.size,
                    group: groups[Int(group)].labels, values: values, sampleCount: sampleCounts[merged],
                    emission: emission))
        }
    }

    // MARK: Statistics

    /// Windows holding samples that have not been emitted yet.
    func openWindows(config: CompiledStream) -> Int {
        var windows = Set<Int64>()
        for pane in panes.keys {
            let low = Swift.max(pane - config.panesPerWindow + 1, emittedThrough + 1)
            if low <= pane { for window in low...pane { windows.insert(window) } }
        }
        return windows.count
    }
}
