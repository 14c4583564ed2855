import Foundation
import GRDB
import SeismoCore

/// How the store cuts heads into chunks.
public struct ChunkOptions: Sendable, Hashable {
    /// A series' head is cut into a stored chunk when it holds this many samples.
    public var samplesPerChunk: Int
    /// A head still holding a sample of a commit this many commits old is cut anyway (an idle
    /// or slow series), so that the head log, which a reopen replays, stays bounded.
    public var maxHeadAgeInCommits: Int

    public init(samplesPerChunk: Int = 240, maxHeadAgeInCommits: Int = 4_096) {
        self.samplesPerChunk = max(2, samplesPerChunk)
        self.maxHeadAgeInCommits = max(16, maxHeadAgeInCommits)
    }
}

// DESIGN: raw samples and durability.
//
// A series' samples live in stored chunks (table `chunks`: one chunk per row, keyed by
// series and [min_t, max_t], chunks of one series never overlapping) and in its in-memory
// head, which holds only samples newer than the series' newest stored sample (its floor).
//
// `Appender.commit()` is the durability point, and everything it committed is in SQLite when
// it returns: in one transaction it writes the chunks cut from heads, rewrites stored chunks
// that late samples (at or below the floor) fall into, and appends one row to `head_log`
// with every sample that went into a head (per sample: zigzag varints of the series-id and
// timestamp deltas from the previous entry, then the value's 64 bits). Heads are changed in
// memory only after that transaction committed. Opening the store rebuilds the heads from `head_log` (samples above
// the floor, and not older than the last retention cutoff), so a crash loses nothing that was
// committed; Kafka replay is needed only for what was never committed. Log rows older than
// every head's oldest sample are deleted every 64 commits.
//
// Writes are idempotent, keyed by (series, timestamp): a second value at a timestamp
// replaces the first, and a sample already stored with the same bits changes nothing and is
// not logged again, so a replay of committed records neither duplicates nor grows the store.
//
// Every chunk has one row of `rollups` (its samples' 5 m buckets, see `RollupCodec`; 1 h
// buckets are merged from them when read),
// written in the same transaction as the chunk and rewritten with it, so rollups are never
// stale; queries add the heads' samples to them.

/// The heads of every series and what a reopen needs to know about them.
struct HeadState: Sendable {
    var heads: [Int64: SeriesHead] = [:]
    /// The newest timestamp of any stored chunk, per series.
    var floors: [Int64: Int64] = [:]
    var nextLogSequence: Int64 = 1
    /// Samples before this were deleted by retention (and are not rebuilt from the log).
    var retentionCutoff: Int64 = .min
    var commitsSinceTruncation = 0
}

/// What one write transaction changes in `HeadState`, applied only once it committed.
struct HeadChanges {
    /// The state when the write began (writes are serialised, so it stays current).
    var base: HeadState
    let options: ChunkOptions
    var heads: [Int64: SeriesHead] = [:]
    var floors: [Int64: Int64] = [:]
    var removed: Set<Int64> = []
    var nextLogSequence: Int64
    var retentionCutoff: Int64
    var commitsSinceTruncation: Int

    init(base: HeadState, options: ChunkOptions) {
        self.base = base
        self.options = options
        nextLogSequence = base.nextLogSequence
        retentionCutoff = base.retentionCutoff
        commitsSinceTruncation = base.commitsSinceTruncation
    }

    func head(_ id: Int64) -> SeriesHead { heads[id] ?? base.heads[id] ?? SeriesHead() }
    func floor(_ id: Int64) -> Int64? { floors[id] ?? base.floors[id] }

    /// Every non-empty head, as changed so far.
    func forEachHead(_ body: (Int64, SeriesHead) throws -> Void) rethrows {
        for (id, head) in base.heads where heads[id] == nil && !head.isEmpty { try body(id, head) }
        for (id, head) in heads where !head.isEmpty { try body(id, head) }
    }

    func apply(to state: inout HeadState) {
        for (id, head) in heads { state.heads[id] = head.isEmpty ? nil : head }
        state.floors.merge(floors) { _, new in new }
        for id in removed {
            state.heads[id] = nil
            state.floors[id] = nil
        }
        state.nextLogSequence = nextLogSequence
        state.retentionCutoff = retentionCutoff
        state.commitsSinceTruncation = commitsSinceTruncation
    }
}

/// One sample resolved to its series id.
struct IdentifiedSample: Sendable {
    var id: Int64
    var timestamp: Int64
    var value: Double
}

extension SQLiteStore {
    /// Runs `body` in one write transaction with the heads' pending changes, and applies them
    /// to the heads only once the transaction committed (inside the writer's serial access, so
    /// the next write sees them).
    func writeWithHeads<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database, inout HeadChanges) throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await writer.writeWithoutTransaction { db in
                var result: T?
                var changes: HeadChanges?
                try db.inTransaction {
                    var pending = HeadChanges(base: self.heads.withLock { $0 }, options: self.chunkOptions)
                    result = try body(db, &pending)
                    pending.base = HeadState()  // drop the snapshot so applying does not copy the heads
                    changes = pending
                    return .commit
                }
                guard let result, let changes else { throw StoreError(.io, "\(what): the transaction did not run") }
                self.heads.withLock { changes.apply(to: &$0) }
                return result
            }
        } catch {
            throw StoreError(error, what)
        }
    }

    /// Puts samples (sorted by series, then timestamp, ties in append order) into heads and
    /// chunks, and logs what went into heads.
    func writeSamples(_ db: Database, _ samples: [IdentifiedSample], _ changes: inout HeadChanges) throws {
        let sequence = changes.nextLogSequence
        var log = BitWriter()
        var previous: (id: Int64, timestamp: Int64) = (0, 0)
        var late: [(id: Int64, samples: [(Int64, Double)])] = []
        var cuts: [CutHead] = []
        var index = 0
        while index < samples.count {
            let id = samples[index].id
            var head = changes.head(id)
            var floor = changes.floor(id) ?? .min
            var touched = false
            var lateOfSeries: [(Int64, Double)] = []
            while index < samples.count && samples[index].id == id {
                let sample = samples[index]
                index += 1
                if sample.timestamp <= floor {
                    lateOfSeries.append((sample.timestamp, sample.value))
                    continue
                }
                guard try head.insert(sample.timestamp, sample.value, logSequence: sequence) else { continue }
                touched = true
                // Series ids and timestamps as deltas from the previous entry: samples come sorted by series.
                log.writeVarint(id &- previous.id)
                log.writeVarint(sample.timestamp &- previous.timestamp)
                log.write(sample.value.bitPattern, bits: 64)
                previous = (id, sample.timestamp)
                if head.count >= changes.options.samplesPerChunk {
                    let cut = try head.cut()
                    cuts.append(CutHead(id: id, timestamps: cut.timestamps, values: cut.values))
                    floor = cut.timestamps.last ?? floor
                    changes.floors[id] = floor
                }
            }
            if touched { changes.heads[id] = head }
            if !lateOfSeries.isEmpty { late.append((id, lateOfSeries)) }
        }
        // Cut chunks first: a late sample may belong in one.
        try insertChunks(db, cuts)
        for (id, samples) in late { try mergeIntoChunks(db, id, samples) }
        if log.bitCount > 0 {
            try db.execute(
                sql: "INSERT INTO head_log (seq, data) VALUES (?, ?)", arguments: [sequence, Data(log.finished)])
            changes.nextLogSequence += 1
        }
        changes.commitsSinceTruncation += 1
        if changes.commitsSinceTruncation >= 64 { try truncateLog(db, &changes, cutEverything: false) }
    }

    /// Cuts heads older than `maxHeadAgeInCommits` (every head when `cutEverything`), then
    /// deletes the log rows no head needs.
    func truncateLog(_ db: Database, _ changes: inout HeadChanges, cutEverything: Bool) throws {
        let horizon = changes.nextLogSequence - Int64(changes.options.maxHeadAgeInCommits)
        var oldestNeeded = changes.nextLogSequence
        var toCut: [(Int64, SeriesHead)] = []
        changes.forEachHead { id, head in
            let oldest = head.oldestLogSequence ?? changes.nextLogSequence
            if cutEverything || oldest < horizon {
                toCut.append((id, head))
            } else {
                oldestNeeded = min(oldestNeeded, oldest)
            }
        }
        try cutHeads(db, toCut, &changes)
        try db.execute(sql: "DELETE FROM head_log WHERE seq < ?", arguments: [oldestNeeded])
        changes.commitsSinceTruncation = 0
    }

    /// Cuts the heads `toCut` into chunks (see `insertChunks`) and records it in `changes`.
    func cutHeads(_ db: Database, _ toCut: [(Int64, SeriesHead)], _ changes: inout HeadChanges) throws {
        var cuts: [CutHead] = []
        for (id, head) in toCut {
            var head = head
            let cut = try head.cut()
            cuts.append(CutHead(id: id, timestamps: cut.timestamps, values: cut.values))
            changes.heads[id] = head
            changes.floors[id] = max(changes.floor(id) ?? .min, cut.timestamps.last ?? .min)
        }
        try insertChunks(db, cuts)
    }

    func insertChunk(_ db: Database, _ id: Int64, _ chunk: StoredChunk) throws {
        let statement = try db.cachedStatement(
            sql: "INSERT INTO chunks (series_id, min_t, max_t, count, data) VALUES (?, ?, ?, ?, ?)")
        try statement.execute(arguments: [id, chunk.minTimestamp, chunk.maxTimestamp, chunk.count, Data(chunk.data)])
        try Self.writeRollups(db, chunkID: db.lastInsertedRowID, timestamps: chunk.timestamps, values: chunk.values)
    }

    /// Merges samples at or below the series' floor into its stored chunks: each goes into
    /// the last chunk starting at or before it (the first chunk when it is older than all),
    /// so chunks stay disjoint. A chunk whose samples do not change is not rewritten.
    func mergeIntoChunks(_ db: Database, _ id: Int64, _ samples: [(Int64, Double)]) throws {
        let chunks = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT id, min_t FROM chunks WHERE series_id = ? ORDER BY min_t"), arguments: [id])
        guard !chunks.isEmpty else {
            // Retention removed every chunk: the samples make a chunk of their own.
            let merged = Self.merge(([], []), samples)
            try insertChunk(db, id, StoredChunk(timestamps: merged.timestamps, values: merged.values))
            return
        }
        let starts: [Int64] = chunks.map { $0[1] }
        var byChunk: [Int: [(Int64, Double)]] = [:]
        for sample in samples {
            let position = max(0, starts.partitioningIndex { $0 > sample.0 } - 1)
            byChunk[position, default: []].append(sample)
        }
        let read = try db.cachedStatement(sql: "SELECT data FROM chunks WHERE id = ?")
        let times = ChunkTimesReader(db)
        let update = try db.cachedStatement(
            sql: "UPDATE chunks SET min_t = ?, max_t = ?, count = ?, data = ? WHERE id = ?")
        for (position, samples) in byChunk {
            let rowID: Int64 = chunks[position][0]
            guard let data = try Data.fetchOne(read, arguments: [rowID]) else { continue }
            let stored = try Chunk.decode([UInt8](data), times: times)
            let merged = Self.merge(stored, samples)
            guard merged.timestamps != stored.timestamps
                || merged.values.map(\.bitPattern) != stored.values.map(\.bitPattern)
            else { continue }
            let chunk = StoredChunk(timestamps: merged.timestamps, values: merged.values)
            try update.execute(arguments: [chunk.minTimestamp, chunk.maxTimestamp, chunk.count, Data(chunk.data), rowID])
            try Self.writeRollups(db, chunkID: rowID, timestamps: merged.timestamps, values: merged.values)
        }
    }

    /// `stored` (sorted, distinct) with `samples` put in; a sample replaces one at its timestamp.
    static func merge(
        _ stored: (timestamps: [Int64], values: [Double]), _ samples: [(Int64, Double)]
    ) -> (timestamps: [Int64], values: [Double]) {
        var timestamps = stored.timestamps
        var values = stored.values
        for (timestamp, value) in samples {
            let index = timestamps.partitioningIndex { $0 >= timestamp }
            if index < timestamps.count && timestamps[index] == timestamp {
                values[index] = value
            } else {
                timestamps.insert(timestamp, at: index)
                values.insert(value, at: index)
            }
        }
        return (timestamps, values)
    }

    /// Cuts every head into a stored chunk and empties the head log (for shutdown, or before
    /// measuring the store's size). Queries return the same before and after.
    public func flushHeads() async throws(StoreError) {
        try await writeWithHeads("cannot flush heads") { db, changes in
            try self.truncateLog(db, &changes, cutEverything: true)
        }
    }

    /// The heads as the head log rebuilds them, with the floors of the stored chunks.
    static func rebuildHeads(_ db: Database) throws -> HeadState {
        var state = HeadState()
        let floors = try Row.fetchCursor(db, sql: "SELECT series_id, max(max_t) FROM chunks GROUP BY series_id")
        while let row = try floors.next() { state.floors[row[0]] = row[1] }
        state.retentionCutoff =
            try Int64.fetchOne(db, sql: "SELECT value FROM store_meta WHERE key = 'retention_cutoff'") ?? .min
        let known = Set(try Int64.fetchAll(db, sql: "SELECT id FROM series"))
        let rows = try Row.fetchCursor(db, sql: "SELECT seq, data FROM head_log ORDER BY seq")
        while let row = try rows.next() {
            let sequence: Int64 = row[0]
            let data: Data = row[1]
            var reader = BitReader([UInt8](data))
            var id: Int64 = 0
            var timestamp: Int64 = 0
            while !reader.isAtEnd {
                id &+= try reader.readVarint()
                timestamp &+= try reader.readVarint()
                let value = Double(bitPattern: try reader.read(bits: 64))
                guard known.contains(id), timestamp >= state.retentionCutoff, timestamp > state.floors[id] ?? .min
                else { continue }
                _ = try state.heads[id, default: SeriesHead()].insert(timestamp, value, logSequence: sequence)
            }
            state.nextLogSequence = sequence + 1
        }
        return state
    }

    /// Samples of series `id` in `[from, to]` from its stored chunks and `head`, in time order.
    static func samples(
        _ db: Database, id: Int64, head: SeriesHead?, from: Int64, to: Int64, times reader: ChunkTimesReader? = nil
    ) throws -> (timestamps: [Int64], values: [Double]) {
        var timestamps: [Int64] = []
        var values: [Double] = []
        let statement = try db.cachedStatement(
            sql: "SELECT min_t, max_t, data FROM chunks WHERE series_id = ? AND max_t >= ? AND min_t <= ? ORDER BY min_t")
        let rows = try Row.fetchCursor(statement, arguments: [id, from, to])
        var scratchT: [Int64] = []
        var scratchV: [Double] = []
        let times = reader ?? ChunkTimesReader(db)
        while let row = try rows.next() {
            let minT: Int64 = row[0]
            let maxT: Int64 = row[1]
            let data = [UInt8](row[2] as Data)
            if minT >= from && maxT <= to {
                try Chunk.decode(data, into: &timestamps, &values, times: times)
            } else {
                scratchT.removeAll(keepingCapacity: true)
                scratchV.removeAll(keepingCapacity: true)
                try Chunk.decode(data, into: &scratchT, &scratchV, times: times)
                for (t, v) in zip(scratchT, scratchV) where t >= from && t <= to {
                    timestamps.append(t)
                    values.append(v)
                }
            }
        }
        if let head, !head.isEmpty, head.lastTimestamp >= from, head.firstTimestamp <= to {
            // A head cut after the snapshot was taken is also in the chunks just read.
            let newest = timestamps.last ?? .min
            let (headT, headV) = try head.samples()
            for (t, v) in zip(headT, headV) where t > newest && t >= from && t <= to {
                timestamps.append(t)
                values.append(v)
            }
        }
        return (timestamps, values)
    }
}
