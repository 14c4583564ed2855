import Foundation
import GRDB

// DESIGN: shared time sets.
//
// A scrape stamps every sample of a target with one time, so the series of a target (500
// for a node-exporter) have identical timestamps, and their heads, filled by the same
// commits, are cut into chunks with identical timestamp columns. Those are stored once: a
// commit groups the chunks it cuts by their timestamps, writes each group of two or more as
// one row of `chunk_times`, and its chunks as `SharedTimesChunk`s that name the row. A chunk
// cut alone keeps its timestamps inline (`AdaptiveChunk`).
//
// A shared chunk always has exactly its time set's timestamps: a chunk that changes (late
// samples, retention trimming it) is written inline again. So a time set's `max_t` is the
// `max_t` of every chunk naming it, and retention deletes the time sets it deletes the chunks
// of by the same cutoff. Other chunks keep naming a time set one of them left.

/// Reads time sets for one database access, keeping the latest `capacity` decoded.
final class ChunkTimesReader {
    let db: Database
    let capacity: Int
    private var cache: [Int64: [Int64]] = [:]

    init(_ db: Database, capacity: Int = 4_096) {
        self.db = db
        self.capacity = capacity
    }

    /// The timestamps of time set `id`.
    func times(_ id: Int64) throws(StoreError) -> [Int64] {
        if let cached = cache[id] { return cached }
        let data: Data?
        do {
            data = try Data.fetchOne(db.cachedStatement(sql: "SELECT data FROM chunk_times WHERE id = ?"), arguments: [id])
        } catch {
            throw StoreError(error, "cannot read time set \(id)")
        }
        guard let data else { throw StoreError(.corrupt, "time set \(id) is missing") }
        let times = try SharedTimesChunk.decodeTimes([UInt8](data))
        if cache.count >= capacity { cache.removeAll(keepingCapacity: true) }
        cache[id] = times
        return times
    }
}

/// The samples of a head cut in a write, to store as a chunk of series `id`.
struct CutHead {
    var id: Int64
    var timestamps: [Int64]
    var values: [Double]
}

extension SQLiteStore {
    /// Inserts chunks cut in one write: those with the same timestamps over one time set,
    /// the others with their timestamps inline.
    func insertChunks(_ db: Database, _ cuts: [CutHead]) throws {
        var groups: [[Int64]: [Int]] = [:]
        for (index, cut) in cuts.enumerated() where cut.timestamps.count > 2 {
            groups[cut.timestamps, default: []].append(index)
        }
        var shared = [Bool](repeating: false, count: cuts.count)
        let insertTimes = try db.cachedStatement(sql: "INSERT INTO chunk_times (max_t, data) VALUES (?, ?)")
        for (timestamps, members) in groups where members.count > 1 {
            try insertTimes.execute(arguments: [timestamps.last!, Data(SharedTimesChunk.encodeTimes(timestamps))])
            let timesID = db.lastInsertedRowID
            for index in members {
                let cut = cuts[index]
                let data = SharedTimesChunk.encode(timesID: timesID, values: cut.values)
                try insertChunk(db, cut.id, StoredChunk(timestamps: cut.timestamps, values: cut.values, data: data))
                shared[index] = true
            }
        }
        for (index, cut) in cuts.enumerated() where !shared[index] {
            try insertChunk(db, cut.id, StoredChunk(timestamps: cut.timestamps, values: cut.values))
        }
    }
}
