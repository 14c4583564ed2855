#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Joins lines into entries: a line that matches `start` begins an entry, any other line
/// continues the current one (joined with `\n`), up to `maxLines`. Without a rule every
/// line is an entry. Tracks the byte offset where the pending entry began, so a read
/// position never points past a line that was not yet published.
struct MultilineJoiner: Sendable {
    let start: NamedRegex?
    let maxLines: Int
    private(set) var pending: [String] = []
    /// Offset of the first byte of the pending entry.
    private(set) var pendingStart: Int64 = 0
    private(set) var pendingEnd: Int64 = 0

    init(start: NamedRegex?, maxLines: Int) {
        self.start = start
        self.maxLines = max(1, maxLines)
    }

    /// Adds the line that spans `[from, to)`; returns an entry (text, end offset) it completed.
    mutating func add(_ line: String, from: Int64, to: Int64) -> (String, Int64)? {
        guard let start else { return (line, to) }
        var out: (String, Int64)?
        if !pending.isEmpty, start.matches(line) || pending.count >= maxLines {
            out = flush()
        }
        if pending.isEmpty { pendingStart = from }
        pending.append(line)
        pendingEnd = to
        return out
    }

    /// The pending entry, if any, now complete.
    mutating func flush() -> (String, Int64)? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll(keepingCapacity: true) }
        return (pending.joined(separator: "\n"), pendingEnd)
    }

    var hasPending: Bool { !pending.isEmpty }
}

/// The identity of a file, which survives a rename and changes when a new file takes the path.
struct FileIdentity: Sendable, Hashable, Codable {
    var device: UInt64
    var inode: UInt64
}

/// One tailed file: an open descriptor (so a renamed file is read to its end), the read
/// offset, the incomplete last line, and the multi-line state.
struct TailedFile {
    let path: String
    let identity: FileIdentity
    let fd: Int32
    /// Bytes read so far (whole lines are handed on; `partial` holds the rest).
    var offset: Int64
    /// Up to here every line is in a published record: the position to persist.
    var committed: Int64
    /// Where `committed` moves once the records read so far are published.
    var readable: Int64
    var partial: [UInt8] = []
    var joiner: MultilineJoiner
    /// Polls in a row that found nothing new.
    var idlePolls = 0

    /// Opens `path`; nil when it cannot be opened (gone, no permission).
    static func open(_ path: String, at offset: Int64?, joiner: MultilineJoiner, fromEnd: Bool) -> TailedFile? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            _ = Glibc.close(fd)
            return nil
        }
        let identity = FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        var start = offset ?? (fromEnd ? Int64(info.st_size) : 0)
        if start > Int64(info.st_size) { start = 0 }  // truncated while we were away
        return TailedFile(path: path, identity: identity, fd: fd, offset: start, committed: start, readable: start, joiner: joiner)
    }

    func close() { _ = Glibc.close(fd) }

    /// The current size of the open file.
    var size: Int64 {
        var info = stat()
        return fstat(fd, &info) == 0 ? Int64(info.st_size) : offset
    }

    /// Reads what was appended (up to `maxBytes`), handing each complete entry to `emit`.
    /// At the end of a rotated or deleted file (`final`), the incomplete line and the
    /// pending entry are handed on too. Returns the bytes read.
    mutating func read(maxBytes: Int, maxLineBytes: Int, final: Bool, emit: (String) -> Void) -> (bytes: Int, cutLines: Int) {
        if size < offset {  // truncated in place (copytruncate)
            if let (entry, _) = joiner.flush() { emit(entry) }
            partial.removeAll()
            offset = 0
            committed = 0
            readable = 0
        }
        var total = 0
        var cutLines = 0
        var buffer = [UInt8](repeating: 0, count: min(maxBytes, 1 << 20))
        while total < maxBytes {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
            guard n > 0 else { break }
            total += n
            var lineStart = 0
            let lineBase = offset - Int64(partial.count)
            buffer.withUnsafeBufferPointer { bytes in
                for index in 0..<n where bytes[index] == 0x0A {
                    var line = partial
                    partial.removeAll(keepingCapacity: true)
                    line.append(contentsOf: bytes[lineStart..<index])
                    if line.last == 0x0D { line.removeLast() }
                    let to = offset + Int64(index) + 1
                    if line.count > maxLineBytes {
                        line.removeLast(line.count - maxLineBytes)
                        cutLines += 1
                    }
                    let text = String(decoding: line, as: UTF8.self)
                    let entryFrom = lineStart == 0 ? lineBase : offset + Int64(lineStart)
                    if let (entry, end) = joiner.add(text, from: entryFrom, to: to) {
                        emit(entry)
                        readable = end
                    }
                    if !joiner.hasPending { readable = to }
                    lineStart = index + 1
                }
                partial.append(contentsOf: bytes[lineStart..<n])
                if partial.count > maxLineBytes * 2 { partial.removeLast(partial.count - maxLineBytes * 2) }
            }
            offset += Int64(n)
            if n < buffer.count { break }
        }
        if joiner.hasPending { readable = joiner.pendingStart }
        idlePolls = total == 0 ? idlePolls + 1 : 0
        if final || idlePolls >= 1 {
            // Nothing more arrived since the last poll: the pending entry is complete.
            if let (entry, end) = joiner.flush() {
                emit(entry)
                readable = end
            }
        }
        if final, !partial.isEmpty {
            emit(String(decoding: partial, as: UTF8.self))
            partial.removeAll()
            readable = offset
        }
        return (total, cutLines)
    }
}

/// Read positions by path, persisted as JSON (written to a temporary file, then renamed).
struct PositionStore: Sendable {
    struct Entry: Codable, Sendable, Hashable {
        var device: UInt64
        var inode: UInt64
        var offset: Int64
    }

    struct File: Codable {
        var version = 1
        var files: [String: Entry]
    }

    let path: String?
    private(set) var entries: [String: Entry] = [:]

    /// Loads `path` (a missing file is empty); throws when it exists but cannot be read.
    init(path: String?) throws(CollectError) {
        self.path = path
        guard let path, FileManager.default.fileExists(atPath: path) else { return }
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            entries = try JSONDecoder().decode(File.self, from: data).files
        } catch {
            throw CollectError(.unreadableFile, "cannot read the log positions file: \(error)", context: path)
        }
    }

    func offset(of path: String, identity: FileIdentity) -> Int64? {
        guard let entry = entries[path], entry.device == identity.device, entry.inode == identity.inode else { return nil }
        return entry.offset
    }

    mutating func set(_ path: String, identity: FileIdentity, offset: Int64) {
        entries[path] = Entry(device: identity.device, inode: identity.inode, offset: offset)
    }

    mutating func remove(_ path: String) { entries[path] = nil }

    func save() throws(CollectError) {
        guard let path else { return }
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(File(files: entries))
            let temporary = path + ".tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else {
                throw CollectError(.unwritableFile, "cannot rename \(temporary) to \(path)")
            }
        } catch let error as CollectError {
            throw error
        } catch {
            throw CollectError(.unwritableFile, "cannot write the log positions file: \(error)", context: path)
        }
    }
}

/// Expands file globs (`glob(3)`), sorted, files only.
enum FileGlob {
    static func expand(_ patterns: [String]) -> [String] {
        var out: Set<String> = []
        for pattern in patterns {
            var result = glob_t()
            defer { globfree(&result) }
            guard glob(pattern, 0, nil, &result) == 0 else { continue }
            for index in 0..<Int(result.gl_pathc) {
                guard let raw = result.gl_pathv[index] else { continue }
                let path = String(cString: raw)
                var info = stat()
                if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG { out.insert(path) }
            }
        }
        return out.sorted()
    }

    /// The identity of the file now at `path`.
    static func identity(_ path: String) -> FileIdentity? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileIdentity(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}
