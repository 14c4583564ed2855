import Logging
import Metrics
import SeismoCore
import SeismoPipeline
import SeismoWire
import ServiceLifecycle
import Synchronization

/// What the log tailer has done so far.
public struct LogTailStatistics: Sendable, Hashable {
    /// Entries read (after multi-line joining).
    public var read = 0
    /// Records the broker acknowledged.
    public var published = 0
    /// Entries that did not parse (published raw) or could not become a record (dropped).
    public var parseErrors = 0
    /// Entries dropped (invalid labels).
    public var dropped = 0
    /// Lines cut at `maxLineBytes`.
    public var cutLines = 0
    /// Failed publish attempts (each retried) and unwritable positions.
    public var errors = 0
    /// Files being tailed now.
    public var files = 0
    /// Rotations seen (rename or truncation).
    public var rotations = 0
    public init() {}
}

/// Tails the files of a `LogsSpec`: finds them by glob on every poll, follows rotation
/// by rename (the old file is read to its end first) and by truncation, parses each entry
/// and publishes the records, then persists each file's read position.
///
/// Delivery: a position is persisted only after every record before it is acknowledged by
/// Kafka, and records are only made of whole lines before that position, so a restart
/// after a graceful stop neither skips nor repeats a line (after a crash, at most the last
/// unacknowledged batch repeats). A publish that fails is retried with backoff, holding
/// the batch; nothing more is read meanwhile (back-pressure on the files, which keep the
/// data). Bounded: at most `maxBytesPerPoll` per file and `maxRecordsPerPublish` per batch.
public final class LogTailService: Service, Sendable {
    public let name: String
    public let spec: LogsSpec
    private let publisher: SignalPublisher
    private let logger: Logger
    private let sleep: @Sendable (Duration) async throws -> Void
    private let state = Mutex(LogTailStatistics())
    private let maxBytesPerPoll: Int
    private let meters: (read: Counter, published: Counter, dropped: Counter, errors: Counter, duration: Metrics.Timer)

    public init(
        name: String, spec: LogsSpec, publisher: SignalPublisher, clock: some Clock<Duration> = ContinuousClock(),
        maxBytesPerPoll: Int = 4 << 20, logger: Logger = Logger(label: "seismo.logs")
    ) {
        self.name = name
        self.spec = spec
        self.publisher = publisher
        self.logger = logger
        self.maxBytesPerPoll = max(4096, maxBytesPerPoll)
        sleep = { try await clock.sleep(for: $0) }
        let dims = [("collector", name)]
        meters = (
            Counter(label: "seismo_logs_read_total", dimensions: dims),
            Counter(label: "seismo_logs_published_total", dimensions: dims),
            Counter(label: "seismo_logs_dropped_total", dimensions: dims),
            Counter(label: "seismo_logs_errors_total", dimensions: dims),
            Metrics.Timer(label: "seismo_logs_publish_duration_seconds", dimensions: dims, preferredDisplayUnit: .seconds)
        )
    }

    public var statistics: LogTailStatistics { state.withLock { $0 } }

    /// What one run holds: the parser, the open files and their positions.
    struct Session {
        let parser: LogLineParser
        let joiner: MultilineJoiner
        var files: [String: TailedFile] = [:]
        var positions: PositionStore
        var firstPoll = true
    }

    /// Opens a session: compiles the parser and loads the persisted positions.
    func open() throws(CollectError) -> Session {
        do {
            let parser = try LogLineParser(spec: spec)
            let start = try spec.multilineStart.map { (pattern) throws(CollectError) in try NamedRegex(pattern) }
            let positions = try PositionStore(path: spec.positionsPath)
            return Session(parser: parser, joiner: MultilineJoiner(start: start, maxLines: spec.multilineMaxLines), positions: positions)
        } catch {
            state.withLock { $0.errors += 1 }
            throw error
        }
    }

    /// Persists the positions and closes the files.
    func close(_ session: inout Session) {
        do { try session.positions.save() } catch {
            state.withLock { $0.errors += 1 }
            logger.error("\(error)")
        }
        for file in session.files.values { file.close() }
        session.files = [:]
    }

    public func run() async throws {
        var session: Session
        do { session = try open() } catch {
            logger.error("cannot start the logs collector: \(error)")
            throw error
        }
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !isShuttingDown {
                let progressed = await poll(&session)
                if !progressed {
                    do { try await cancelWhenGracefulShutdown { try await self.sleep(self.spec.pollInterval) } } catch { break }
                }
            }
        } onGracefulShutdown: {}
        close(&session)
        logger.info("logs collector stopped", metadata: ["published": "\(statistics.published)"])
    }

    private var isShuttingDown: Bool { Task.isShuttingDownGracefully }

    /// One round over every file; true when something was read.
    func poll(_ session: inout Session) async -> Bool {
        let parser = session.parser
        let joiner = session.joiner
        let firstPoll = session.firstPoll
        session.firstPoll = false
        var files = session.files
        var positions = session.positions
        defer {
            session.files = files
            session.positions = positions
        }
        let now = Timestamp.now.milliseconds * 1_000_000
        var records: [LogRecord] = []
        var read = 0
        var parseErrors = 0
        var dropped = 0
        var cut = 0
        var rotations = 0
        var bytes = 0
        func take(_ entry: String, _ path: String) {
            read += 1
            switch parser.parse(entry, file: path, readNanos: now) {
            case .parsed(let record): records.append(record)
            case .unparsed(let record, _):
                parseErrors += 1
                if let record { records.append(record) } else { dropped += 1 }
            }
        }

        let matched = FileGlob.expand(spec.paths)
        let matchedSet = Set(matched)
        // Files that were renamed away or replaced: read to the end, then let go.
        for (path, var file) in files {
            let current = FileGlob.identity(path)
            guard current != file.identity || !matchedSet.contains(path) else { continue }
            let result = file.read(maxBytes: Int.max, maxLineBytes: spec.maxLineBytes, final: true) { take($0, path) }
            bytes += result.bytes
            cut += result.cutLines
            file.close()
            files[path] = nil
            positions.remove(path)
            if current != nil { rotations += 1 }
        }
        for path in matched where files[path] == nil {
            guard let identity = FileGlob.identity(path) else { continue }
            let saved = positions.offset(of: path, identity: identity)
            if let file = TailedFile.open(path, at: saved, joiner: joiner, fromEnd: firstPoll && spec.startAtEnd) {
                files[path] = file
            }
        }
        var truncated = 0
        for path in files.keys.sorted() {
            guard var file = files[path] else { continue }
            if file.size < file.offset { truncated += 1 }
            let result = file.read(maxBytes: maxBytesPerPoll, maxLineBytes: spec.maxLineBytes, final: false) { take($0, path) }
            bytes += result.bytes
            cut += result.cutLines
            files[path] = file
        }
        rotations += truncated

        // Publish, retrying until it is acknowledged (or shutdown); then commit positions.
        var published = 0
        if !records.isEmpty {
            var attempt = 0
            while true {
                let started = ContinuousClock.now
                do {
                    for chunk in stride(from: 0, to: records.count, by: 10_000) {
                        let part = Array(records[chunk..<min(records.count, chunk + 10_000)])
                        published += try await publisher.publish(SignalBatch(logs: part))
                    }
                    meters.duration.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
                    break
                } catch {
                    attempt += 1
                    state.withLock { $0.errors += 1 }
                    meters.errors.increment()
                    logger.warning("cannot publish \(records.count) log record(s), attempt \(attempt): \(error)")
                    if Task.isCancelled || isShuttingDown {
                        // Positions stay where they were: the lines are read again after a restart.
                        return false
                    }
                    try? await sleep(.milliseconds(min(5000, 50 << min(attempt, 7))))
                    published = 0
                }
            }
        }
        for (path, var file) in files {
            file.committed = file.readable
            files[path] = file
            positions.set(path, identity: file.identity, offset: file.committed)
        }
        if bytes > 0 || rotations > 0 {
            do { try positions.save() } catch {
                state.withLock { $0.errors += 1 }
                logger.error("\(error)")
            }
        }
        meters.read.increment(by: Int64(read))
        meters.published.increment(by: Int64(published))
        if dropped > 0 { meters.dropped.increment(by: Int64(dropped)) }
        state.withLock {
            $0.read += read
            $0.published += published
            $0.parseErrors += parseErrors
            $0.dropped += dropped
            $0.cutLines += cut
            $0.rotations += rotations
            $0.files = files.count
        }
        return bytes > 0
    }
}
