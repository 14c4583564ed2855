import GRDB
import SeismoCore
import Synchronization

/// The SQLite store: raw samples in compressed chunks with in-memory heads (see `ChunkStore`),
/// a label index, feature tables, anomalies.
///
/// Writes go through `appender()`; one write transaction runs at a time (GRDB serialises
/// them), and reads run concurrently with writes (WAL). Every method is safe to call from
/// any task.
public final class SQLiteStore: Querier, Sendable {
    /// How a file-backed store opens its database.
    public struct Options: Sendable, Hashable {
        /// `synchronous=FULL` syncs the WAL on every commit (survives power loss);
        /// `NORMAL`, the default, syncs at checkpoints (survives a process crash).
        public var fullSync: Bool
        /// How long a write waits for a lock held by another process.
        public var busyTimeout: Duration
        /// Concurrent read connections.
        public var maximumReaders: Int
        /// Page cache per connection, in KiB.
        public var cacheKiB: Int
        /// The page size of a new database file (a power of two from 512 to 65,536; an existing
        /// file keeps its own). Bigger pages waste less space around chunks of a few hundred
        /// bytes to a few KiB.
        public var pageSize: Int
        /// WAL size, in 4 KiB units, that triggers a checkpoint (256 MiB by default). A large
        /// WAL lets a page that many commits change be copied into the database once per
        /// checkpoint: scrapes touch every series, so every commit changes most pages.
        /// After a checkpoint the WAL file is truncated to 64 MiB.
        public var walPages: Int

        public init(
            fullSync: Bool = false, busyTimeout: Duration = .seconds(5), maximumReaders: Int = 4, cacheKiB: Int = 65_536,
            pageSize: Int = 16_384, walPages: Int = 65_536
        ) {
            self.pageSize = pageSize
            self.fullSync = fullSync
            self.busyTimeout = busyTimeout
            self.maximumReaders = maximumReaders
            self.cacheKiB = cacheKiB
            self.walPages = walPages
        }
    }

    let writer: any DatabaseWriter
    let caches = Mutex(Caches())
    let chunkOptions: ChunkOptions
    /// Every series' head; changed only inside a write, after its transaction committed.
    let heads: Mutex<HeadState>

    /// Opens (creating when absent) the database at `path` in WAL mode and migrates it.
    public convenience init(path: String, options: Options = Options(), chunks: ChunkOptions = ChunkOptions())
        throws(StoreError)
    {
        var configuration = Configuration()
        configuration.label = "seismo-store"
        configuration.maximumReaderCount = max(1, options.maximumReaders)
        let seconds = Double(options.busyTimeout.components.seconds) + Double(options.busyTimeout.components.attoseconds) * 1e-18
        configuration.busyMode = .timeout(seconds)
        let pageSize = (9...16).map { 1 << $0 }.last { $0 <= options.pageSize } ?? 512
        let pragmas = """
            PRAGMA page_size = \(pageSize);
            PRAGMA synchronous = \(options.fullSync ? "FULL" : "NORMAL");
            PRAGMA cache_size = -\(max(2_000, options.cacheKiB));
            PRAGMA temp_store = MEMORY;
            PRAGMA wal_autocheckpoint = \(max(250, options.walPages * 4_096 / pageSize));
            PRAGMA journal_size_limit = 67108864;
            """
        configuration.prepareDatabase { db in try db.execute(sql: pragmas) }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError(error, "cannot open the database at \(path)")
        }
        try self.init(writer: pool, chunks: chunks)
    }

    /// Wraps `writer` (a `DatabasePool`, or a `DatabaseQueue` in tests), migrates it, and
    /// rebuilds the heads from the head log.
    public init(writer: any DatabaseWriter, chunks: ChunkOptions = ChunkOptions()) throws(StoreError) {
        self.writer = writer
        self.chunkOptions = chunks
        do {
            try Schema.migrator.migrate(writer)
        } catch {
            throw StoreError(error, "cannot migrate the database")
        }
        do {
            heads = Mutex(try writer.read { db in try Self.rebuildHeads(db) })
        } catch {
            throw StoreError(error, "cannot rebuild the heads from the head log")
        }
    }

    /// A store in memory, for tests.
    public static func inMemory(chunks: ChunkOptions = ChunkOptions()) throws(StoreError) -> SQLiteStore {
        let queue: DatabaseQueue
        do {
            queue = try DatabaseQueue()
        } catch {
            throw StoreError(error, "cannot open an in-memory database")
        }
        return try SQLiteStore(writer: queue, chunks: chunks)
    }

    /// A new, empty appender over this store.
    public func appender() -> SQLiteAppender { SQLiteAppender(store: self) }

    /// Runs `body` in one write transaction, converting errors to `StoreError`.
    func write<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw StoreError(error, what)
        }
    }

    /// Runs `body` in one read transaction (a snapshot), converting errors to `StoreError`.
    func read<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(StoreError) -> T {
        do {
            return try await writer.read(body)
        } catch {
            throw StoreError(error, what)
        }
    }
}

/// What the store keeps in memory: ids of known series and groups, columns of feature
/// tables. Entries are added only after the transaction that created them committed, and
/// `generation` changes whenever rows may have been deleted, so that a commit that started
/// before a deletion does not put back ids that no longer exist.
struct Caches {
    var generation = 0
    var series: [SeriesKey: Int64] = [:]
    var groups: [SeriesKey: Int64] = [:]
    /// Columns of each known feature table, in table order.
    var tables: [String: [String]] = [:]
}

extension StoreError {
    /// Wraps any error thrown by GRDB (or our own, unchanged) with what was being done.
    init(_ error: any Error, _ what: String) {
        if let error = error as? StoreError {
            self = error
        } else if let error = error as? DatabaseError {
            let code: Code = error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB ? .corrupt : .io
            self.init(code, "\(what): SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "unknown")")
        } else {
            self.init(.io, "\(what): \(error)")
        }
    }
}
