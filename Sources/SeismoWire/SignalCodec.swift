import SeismoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Encodes and decodes `SignalBatch` as the protobuf message `seismo.wire.v1.SignalBatch`
/// (`Proto/seismo/wire/v1/signals.proto`), the payload of records on signal topics.
///
/// The codec is written by hand for speed (no per-sample allocation when decoding) and is
/// tested against the protoc-generated code for the same schema, so the bytes are what any
/// protobuf library reads and writes for `signals.proto`.
public enum SignalCodec {
    /// The schema version this codec writes and the newest it reads.
    public static let schemaVersion: UInt32 = 1

    /// Encodes `batch`. Label pairs are written sorted, attributes sorted by key, and every
    /// repeated string once in the batch's string table.
    public static func encode(_ batch: SignalBatch) -> [UInt8] {
        var encoder = Encoder(capacity: batch.sampleCount * 10 + batch.series.count * 12)
        for series in batch.series { encoder.add(series) }
        for log in batch.logs { encoder.add(log) }
        for span in batch.spans { encoder.add(span) }
        return encoder.finish(source: batch.source)
    }

    /// Encodes a batch item by item, so that a caller packing records writes each item
    /// where it lies instead of copying it into a `SignalBatch` first. `finish` gives the
    /// bytes `encode` gives for a batch of the same items (series, then logs, then spans).
    struct Encoder {
        private var symbols = SymbolInterner()
        private var series: ProtoWriter
        private var logs = ProtoWriter()
        private var spans = ProtoWriter()
        private var message = ProtoWriter()
        private var refs: [UInt32] = []

        init(capacity: Int) { series = ProtoWriter(capacity: capacity) }

        mutating func add(_ one: SeriesSamples) {
            message.removeAll()
            symbols.labelRefs(one, into: &refs)
            message.packedVarints(SeriesField.labels, refs)
            message.packedDeltas(SeriesField.timestamps, one.timestamps)
            message.packedDoubles(SeriesField.values, one.values)
            series.messageField(BatchField.series, message)
        }

        mutating func add(_ log: LogRecord) {
            message.removeAll()
            symbols.labelRefs(log.labels, into: &refs)
            message.packedVarints(LogField.labels, refs)
            if log.unixNanos != 0 { message.fixed64Field(LogField.time, UInt64(bitPattern: log.unixNanos)) }
            if log.severity != .unspecified { message.varintField(LogField.severity, UInt64(log.severity.rawValue)) }
            if !log.body.isEmpty { message.stringField(LogField.body, log.body) }
            symbols.attributeRefs(log.attributes, into: &refs)
            message.packedVarints(LogField.attributes, refs)
            if let traceID = log.traceID { message.bytesField(LogField.traceID, traceID) }
            if let spanID = log.spanID { message.bytesField(LogField.spanID, spanID) }
            logs.messageField(BatchField.logs, message)
        }

        mutating func add(_ span: Span) {
            message.removeAll()
            if !span.traceID.isEmpty { message.bytesField(SpanField.traceID, span.traceID) }
            if !span.spanID.isEmpty { message.bytesField(SpanField.spanID, span.spanID) }
            if let parent = span.parentSpanID { message.bytesField(SpanField.parentSpanID, parent) }
            let service = symbols.ref(span.service)
            if service != 0 { message.varintField(SpanField.service, UInt64(service)) }
            let name = symbols.ref(span.name)
            if name != 0 { message.varintField(SpanField.name, UInt64(name)) }
            if span.kind != .unspecified { message.varintField(SpanField.kind, UInt64(span.kind.rawValue)) }
            if span.startUnixNanos != 0 {
                message.fixed64Field(SpanField.start, UInt64(bitPattern: span.startUnixNanos))
            }
            if span.durationNanos != 0 {
                message.varintField(SpanField.duration, ProtoWriter.zigZag(span.durationNanos))
            }
            if span.status != .unset { message.varintField(SpanField.status, UInt64(span.status.rawValue)) }
            if !span.statusMessage.isEmpty { message.stringField(SpanField.statusMessage, span.statusMessage) }
            symbols.attributeRefs(span.attributes, into: &refs)
            message.packedVarints(SpanField.attributes, refs)
            spans.messageField(BatchField.spans, message)
        }

        /// The encoded batch of everything added, with `source`.
        func finish(source: String) -> [UInt8] {
            let bodyCount = series.count + logs.count + spans.count
            var out = ProtoWriter(capacity: bodyCount + symbols.byteCount + source.utf8.count + 16)
            out.varintField(BatchField.schemaVersion, UInt64(schemaVersion))
            if !source.isEmpty { out.stringField(BatchField.source, source) }
            for symbol in symbols.strings { out.stringField(BatchField.symbols, symbol) }
            out.append(series)
            out.append(logs)
            out.append(spans)
            return out.bytes
        }
    }

    /// Decodes a payload written by `encode` or by any protobuf library from
    /// `signals.proto`. Throws `WireError` for malformed bytes, an unsupported schema
    /// version, out-of-range symbol references, invalid label sets (checked against
    /// `limits`) and columns of unequal length; never traps on bad input.
    public static func decode(_ bytes: some Collection<UInt8>, limits: LabelLimits = .default) throws(WireError)
        -> SignalBatch
    {
        let result = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(WireError) in try decode(buffer: buffer, limits: limits) }
        }
        if let result { return try result.get() }
        return try Array(bytes).withUnsafeBufferPointer { buffer in
            Result { () throws(WireError) in try decode(buffer: buffer, limits: limits) }
        }.get()
    }

    static func decode(buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits) throws(WireError) -> SignalBatch {
        var reader = BatchReader(buffer: buffer, limits: limits)
        return try reader.decode()
    }
}

/// Field numbers of `signals.proto`.
enum BatchField {
    static let schemaVersion: UInt32 = 1
    static let source: UInt32 = 2
    static let symbols: UInt32 = 3
    static let series: UInt32 = 4
    static let logs: UInt32 = 5
    static let spans: UInt32 = 6
}

enum SeriesField {
    static let labels: UInt32 = 1
    static let timestamps: UInt32 = 2
    static let values: UInt32 = 3
}

enum LogField {
    static let labels: UInt32 = 1
    static let time: UInt32 = 2
    static let severity: UInt32 = 3
    static let body: UInt32 = 4
    static let attributes: UInt32 = 5
    static let traceID: UInt32 = 6
    static let spanID: UInt32 = 7
}

enum SpanField {
    static let traceID: UInt32 = 1
    static let spanID: UInt32 = 2
    static let parentSpanID: UInt32 = 3
    static let service: UInt32 = 4
    static let name: UInt32 = 5
    static let kind: UInt32 = 6
    static let start: UInt32 = 7
    static let duration: UInt32 = 8
    static let status: UInt32 = 9
    static let statusMessage: UInt32 = 10
    static let attributes: UInt32 = 11
}

/// The encoder's string table: index 0 is "", every other string appears once.
///
/// An open-addressed table over the strings' UTF-8 bytes (xxHash64, byte compare), which
/// costs less per lookup than `[String: UInt32]` (SipHash over normalized text); strings
/// are compared byte for byte, as label values are.
struct SymbolInterner {
    private(set) var strings: [String] = [""]
    private(set) var byteCount = 2
    /// ref + 1 per slot; 0 is empty. At most half full.
    private var slots = [Int32](repeating: 0, count: 64)
    private var hashes: [UInt64] = [0]
    /// The bytes of string `ref` are `bytes[ends[ref - 1] ..< ends[ref]]` (from 0 for ref 0).
    private var bytes: [UInt8] = []
    private var ends: [Int] = [0]

    mutating func ref(_ string: String) -> UInt32 {
        if string.isEmpty { return 0 }
        if let found = string.utf8.withContiguousStorageIfAvailable({ ref(string, $0) }) { return found }
        let copied = Array(string.utf8)
        return copied.withUnsafeBufferPointer { ref(string, $0) }
    }

    private mutating func ref(_ string: String, _ utf8: UnsafeBufferPointer<UInt8>) -> UInt32 {
        let hash = XXHash64.hash(UnsafeRawBufferPointer(utf8))
        var mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 {
            let ref = Int(slots[slot]) - 1
            if hashes[ref] == hash, equal(ref, utf8) { return UInt32(ref) }
            slot = (slot + 1) & mask
        }
        let ref = strings.count
        strings.append(string)
        hashes.append(hash)
        bytes.append(contentsOf: utf8)
        ends.append(bytes.count)
        byteCount += utf8.count + 6
        if ref * 2 >= slots.count {
            grow()
            mask = slots.count - 1
            slot = Int(truncatingIfNeeded: hash) & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
        }
        slots[slot] = Int32(ref + 1)
        return UInt32(ref)
    }

    private func equal(_ ref: Int, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        let start = ends[ref - 1]
        guard ends[ref] - start == utf8.count else { return false }
        return bytes.withUnsafeBufferPointer { stored in
            guard let base = stored.baseAddress, let other = utf8.baseAddress else { return utf8.isEmpty }
            return memcmp(base + start, other, utf8.count) == 0
        }
    }

    private mutating func grow() {
        var grown = [Int32](repeating: 0, count: slots.count * 2)
        let mask = grown.count - 1
        for ref in 1..<strings.count {
            var slot = Int(truncatingIfNeeded: hashes[ref]) & mask
            while grown[slot] != 0 { slot = (slot + 1) & mask }
            grown[slot] = Int32(ref + 1)
        }
        slots = grown
    }

    /// The refs of a series' labels; prepared labels are looked up by symbol key, and
    /// their strings read only the first time a key is met in this batch.
    ///
    /// Series of one metric family mostly share names and many values at the same
    /// positions, so each key is first compared with the previous prepared series' key
    /// there (`lastKeys`, `lastRefs`).
    mutating func labelRefs(_ series: SeriesSamples, into refs: inout [UInt32]) {
        guard let prepared = series.prepared else { return labelRefs(series.labels, into: &refs) }
        refs.removeAll(keepingCapacity: true)
        prepared.symbolKeys.withUnsafeBufferPointer { keys in
            let shared = min(keys.count, lastKeys.count)
            for index in keys.indices {
                let key = keys[index]
                if index < shared, lastKeys[index] == key {
                    refs.append(lastRefs[index])
                } else if let known = memoized(key) {
                    refs.append(known)
                } else {
                    let pair = prepared.labels.pairs[index >> 1]
                    let ref = ref(index & 1 == 0 ? pair.name : pair.value)
                    remember(key, ref)
                    refs.append(ref)
                }
            }
            lastKeys.removeAll(keepingCapacity: true)
            lastKeys.append(contentsOf: keys)
        }
        lastRefs.removeAll(keepingCapacity: true)
        lastRefs.append(contentsOf: refs)
    }

    /// The symbol keys and refs of the last prepared series encoded.
    private var lastKeys: [UInt64] = []
    private var lastRefs: [UInt32] = []

    /// A symbol key (see `PreparedLabels`; never 0) and the ref of its string.
    private struct Memo {
        var key: UInt64 = 0
        var ref: UInt32 = 0
    }

    /// Open-addressed by symbol key; a key of 0 is an empty slot. At most half full.
    private var memo: [Memo] = []
    private var memoCount = 0

    @inline(__always)
    private static func slot(of key: UInt64, mask: Int) -> Int {
        let mixed = key &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed ^ (mixed >> 31)) & mask
    }

    @inline(__always)
    private func memoized(_ key: UInt64) -> UInt32? {
        memo.withUnsafeBufferPointer { table -> UInt32? in
            guard !table.isEmpty else { return nil }
            let mask = table.count - 1
            var slot = Self.slot(of: key, mask: mask)
            while true {
                let entry = table[slot]
                if entry.key == key { return entry.ref }
                if entry.key == 0 { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    private mutating func remember(_ key: UInt64, _ ref: UInt32) {
        if memo.isEmpty || memoCount * 2 >= memo.count {
            let old = memo
            memo = [Memo](repeating: Memo(), count: max(64, old.count * 2))
            for entry in old where entry.key != 0 { place(entry) }
        }
        place(Memo(key: key, ref: ref))
        memoCount += 1
    }

    private mutating func place(_ entry: Memo) {
        let mask = memo.count - 1
        var slot = Self.slot(of: entry.key, mask: mask)
        while memo[slot].key != 0 { slot = (slot + 1) & mask }
        memo[slot] = entry
    }

    mutating func labelRefs(_ labels: Labels, into refs: inout [UInt32]) {
        refs.removeAll(keepingCapacity: true)
        for label in labels.pairs {
            refs.append(ref(label.name))
            refs.append(ref(label.value))
        }
    }

    mutating func attributeRefs(_ attributes: [String: String], into refs: inout [UInt32]) {
        refs.removeAll(keepingCapacity: true)
        for key in attributes.keys.sorted() {
            refs.append(ref(key))
            refs.append(ref(attributes[key] ?? ""))
        }
    }
}
