import SeismoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decodes one `seismo.wire.v1.SignalBatch` payload from untrusted bytes.
///
/// Three passes over the top-level fields, so that field order does not matter (as
/// protobuf requires): the first finds the schema version (checked before anything else
/// is interpreted), the second reads the string table, the third the series, logs and
/// spans. Each series' `Labels` is built once from the string table; each symbol's
/// validity as a label name or value is computed at most once per batch.
///
/// With an enabled `cache` (kept by `SignalDecoder` across records), a series whose
/// referenced symbol bytes are already in the cache takes its `Labels` from there, and
/// symbols become `String`s only when a cache miss, a log or a span needs them. Every
/// structural check (UTF-8 of every symbol, reference ranges, column lengths) still runs
/// on every record, so a cache never turns malformed input into a result.
struct BatchReader {
    private let buffer: UnsafeBufferPointer<UInt8>
    private let limits: LabelLimits
    /// Label sets remembered across records; disabled (capacity 0) for `SignalCodec.decode`.
    var cache: LabelCache
    /// One per symbol; with an enabled cache, "" until `materialize` makes the string.
    private var symbols: [String] = []
    private var symbolFlags: [UInt8] = []
    /// With an enabled cache: each symbol's bytes in `buffer`, and its string id in the
    /// cache (-1 until a series references it; reset when the cache clears).
    private var symbolRanges: [Range<Int>] = []
    private var symbolIDs: [Int32] = []
    /// Whether this record's string table is the previous record's (`reusePreviousTable`).
    private var reusedTable = false
    /// With an enabled cache: series read so far (with packed labels), and the first
    /// ones' label reference bytes and labels (see `rememberSeries`).
    private var seriesIndex = 0
    private var memoRefs: [UInt8] = []
    private var memoEnds: [Int] = []
    private var memoLabels: [Labels] = []
    private var refs: [UInt64] = []
    /// Sample columns of all series in the batch; each series is a view of a range.
    private var timestamps: [Int64] = []
    private var values: [Double] = []

    init(buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits, cache: LabelCache = LabelCache.disabled) {
        self.buffer = buffer
        self.limits = limits
        self.cache = cache
    }

    mutating func decode() throws(WireError) -> SignalBatch {
        // Our encoder writes the version first, then the source and string table, then the
        // series, logs and spans: such a payload is read in one pass. Anything else (other
        // field orders, and every error, so that errors are exactly the three passes')
        // goes through the three passes from the start.
        let (hits, misses) = (cache.hits, cache.misses)
        do {
            if let batch = try decodeInOrder() { return batch }
        } catch {}
        (cache.hits, cache.misses) = (hits, misses)
        resetRecordState()
        return try decodeAnyOrder()
    }

    private mutating func resetRecordState() {
        symbols.removeAll(keepingCapacity: true)
        symbolFlags.removeAll(keepingCapacity: true)
        symbolRanges.removeAll(keepingCapacity: true)
        symbolIDs.removeAll(keepingCapacity: true)
        reusedTable = false
        seriesIndex = 0
        memoRefs.removeAll()
        memoEnds.removeAll()
        memoLabels.removeAll()
        refs.removeAll(keepingCapacity: true)
        timestamps.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
    }

    /// One pass, for a payload whose first field is the version and whose symbols all come
    /// before any series, log or span; nil for any other payload. Throws for malformed
    /// input, but not necessarily the three passes' error.
    private mutating func decodeInOrder() throws(WireError) -> SignalBatch? {
        var reader = ProtoReader(buffer)
        guard !reader.isAtEnd else { return nil }
        let (firstField, firstType) = try reader.tag()
        guard firstField == BatchField.schemaVersion, firstType == WireType.varint.rawValue else { return nil }
        let version = try reader.varint()
        guard version != 0, version <= UInt64(SignalCodec.schemaVersion) else { return nil }

        var batch = SignalBatch()
        let caching = cache.isEnabled
        var inBody = false
        var materializedAll = false
        var seriesLabels: [Labels] = []
        var seriesEnds: [Int] = []
        // Every series takes at least 2 bytes, every sample at least 8 (its value).
        seriesLabels.reserveCapacity(buffer.count / 16)
        seriesEnds.reserveCapacity(buffer.count / 16)
        timestamps.reserveCapacity(buffer.count / 8)
        values.reserveCapacity(buffer.count / 8)
        var tableStart = -1
        var tableEnd = -1
        var tableContiguous = true
        while !reader.isAtEnd {
            let tagStart = reader.position
            let (field, wireType) = try reader.tag()
            switch field {
            case BatchField.schemaVersion:
                return nil
            case BatchField.symbols:
                guard !inBody else { return nil }
                if symbolFlags.isEmpty {
                    tableStart = tagStart
                    if caching, let end = reusePreviousTable(at: tagStart) {
                        reader.move(to: end)
                        tableEnd = end
                        continue
                    }
                } else if tagStart != tableEnd {
                    tableContiguous = false
                }
                try reader.expect(wireType, .lengthDelimited, field: field)
                let range = try reader.lengthDelimited()
                if symbolFlags.isEmpty, !range.isEmpty { return nil }
                try appendSymbol(range, caching: caching)
                tableEnd = reader.position
            case BatchField.source:
                try reader.expect(wireType, .lengthDelimited, field: field)
                batch.source = try reader.string(try reader.lengthDelimited())
            case BatchField.series:
                if !inBody {
                    guard !symbolFlags.isEmpty else { return nil }
                    inBody = true
                }
                try reader.expect(wireType, .lengthDelimited, field: field)
                seriesLabels.append(try decodeSeries(try reader.lengthDelimited()))
                seriesEnds.append(timestamps.count)
            case BatchField.logs, BatchField.spans:
                if !inBody {
                    guard !symbolFlags.isEmpty else { return nil }
                    inBody = true
                }
                if caching, !materializedAll {
                    // Logs and spans read symbols directly.
                    for index in symbols.indices { materialize(index) }
                    materializedAll = true
                }
                try reader.expect(wireType, .lengthDelimited, field: field)
                if field == BatchField.logs {
                    batch.logs.append(try decodeLog(try reader.lengthDelimited()))
                } else {
                    batch.spans.append(try decodeSpan(try reader.lengthDelimited()))
                }
            default:
                try reader.skip(wireType: wireType)
            }
        }
        if !seriesLabels.isEmpty, symbolFlags.isEmpty { return nil }
        if caching { rememberTable(tableStart..<max(tableStart, tableEnd), contiguous: tableContiguous) }
        makeSeries(seriesLabels, ends: seriesEnds, into: &batch)
        return batch
    }

    /// When the payload at `start` begins with the previous record's string table (the
    /// exact bytes of its symbol fields, as consecutive scrapes of one target write it),
    /// takes that table's symbols and their string ids instead of reading them again, and
    /// returns where the table ends. The bytes were checked (UTF-8, first symbol empty)
    /// when the previous record was read, and equal bytes read the same.
    private mutating func reusePreviousTable(at start: Int) -> Int? {
        let table = cache.previousTable
        guard !table.isEmpty, buffer.count - start >= table.count else { return nil }
        let equal = table.withUnsafeBytes { table in
            memcmp(buffer.baseAddress! + start, table.baseAddress!, table.count) == 0
        }
        guard equal else { return nil }
        let count = cache.previousRanges.count
        for range in cache.previousRanges {
            symbolRanges.append(range.lowerBound + start..<range.upperBound + start)
        }
        if cache.previousClears == cache.clears {
            symbolIDs.append(contentsOf: cache.previousIDs)
        } else {
            symbolIDs.append(contentsOf: repeatElement(-1, count: count))
        }
        // Materialized on demand, from the interned string or from the bytes.
        symbols.append(contentsOf: repeatElement("", count: count))
        symbolFlags.append(contentsOf: repeatElement(0, count: count))
        reusedTable = true
        return start + table.count
    }

    /// The labels of the previous record's series `index`, when its label references were
    /// these same bytes: with the same string table, the same references name the same
    /// strings, so they decode to the same (already validated) labels.
    @inline(__always)
    private func previousSeriesLabels(_ index: Int, packed: Range<Int>) -> Labels? {
        guard index < cache.previousSeriesLabels.count else { return nil }
        let start = index == 0 ? 0 : cache.previousSeriesEnds[index - 1]
        let end = cache.previousSeriesEnds[index]
        guard end - start == packed.count else { return nil }
        let equal = cache.previousSeriesRefs.withUnsafeBytes { refs in
            memcmp(buffer.baseAddress! + packed.lowerBound, refs.baseAddress! + start, packed.count) == 0
        }
        return equal ? cache.previousSeriesLabels[index] : nil
    }

    /// Notes series labels and their reference bytes, for the next record's
    /// `previousSeriesLabels` (kept only if this record is read in one pass, and its
    /// series, in order, are the first ones of the record: a series with labels spread
    /// over several fields stops the list).
    @inline(__always)
    private mutating func rememberSeries(_ packed: Range<Int>, _ labels: Labels) {
        guard memoLabels.count == seriesIndex - 1 else { return }
        memoRefs.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[packed]))
        memoEnds.append(memoRefs.count)
        memoLabels.append(labels)
    }

    /// Keeps this record's string table (its bytes, the symbols' ranges within them and
    /// their string ids) for `reusePreviousTable`, when its symbol fields were consecutive.
    private mutating func rememberTable(_ table: Range<Int>, contiguous: Bool) {
        guard contiguous, !table.isEmpty, table.count <= cache.byteCapacity else {
            cache.previousTable.removeAll()
            cache.previousRanges.removeAll()
            cache.previousIDs.removeAll()
            cache.previousSeriesRefs.removeAll()
            cache.previousSeriesEnds.removeAll()
            cache.previousSeriesLabels.removeAll()
            return
        }
        swap(&cache.previousSeriesRefs, &memoRefs)
        swap(&cache.previousSeriesEnds, &memoEnds)
        swap(&cache.previousSeriesLabels, &memoLabels)
        if !(reusedTable && cache.previousTable.count == table.count) {
            cache.previousTable.removeAll(keepingCapacity: true)
            cache.previousTable.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[table]))
            cache.previousRanges.removeAll(keepingCapacity: true)
            for range in symbolRanges {
                cache.previousRanges.append(range.lowerBound - table.lowerBound..<range.upperBound - table.lowerBound)
            }
        }
        cache.previousIDs.removeAll(keepingCapacity: true)
        cache.previousIDs.append(contentsOf: symbolIDs)
        cache.previousClears = cache.clears
    }

    /// Appends one string-table entry.
    @inline(__always)
    private mutating func appendSymbol(_ range: Range<Int>, caching: Bool) throws(WireError) {
        let reader = ProtoReader(buffer)
        if caching {
            symbolRanges.append(range)
            symbolIDs.append(-1)
            if reader.isASCII(range) {
                symbols.append("")
                symbolFlags.append(0)
                return
            }
        }
        let symbol = try reader.string(range)
        symbols.append(symbol)
        symbolFlags.append(flags(of: symbol))
    }

    /// The batch's series, as views of the batch columns. Views are made only now: a view
    /// made earlier would make the next append to the columns copy them.
    private func makeSeries(_ labels: [Labels], ends: [Int], into batch: inout SignalBatch) {
        batch.series.reserveCapacity(labels.count)
        var start = 0
        for index in labels.indices {
            let end = ends[index]
            batch.series.append(
                SeriesSamples(
                    labels: labels[index], timestamps: SampleColumn(timestamps[start..<end]),
                    values: SampleColumn(values[start..<end])))
            start = end
        }
    }

    /// Three passes, for any field order.
    private mutating func decodeAnyOrder() throws(WireError) -> SignalBatch {
        // Pass 1: structure and version.
        var reader = ProtoReader(buffer)
        var version: UInt64 = 0
        var symbolCount = 0
        var seriesCount = 0
        var logCount = 0
        var spanCount = 0
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            if field == BatchField.schemaVersion {
                try reader.expect(wireType, .varint, field: field)
                version = try reader.varint()
                continue
            }
            try reader.skip(wireType: wireType)
            switch field {
            case BatchField.symbols: symbolCount += 1
            case BatchField.series: seriesCount += 1
            case BatchField.logs: logCount += 1
            case BatchField.spans: spanCount += 1
            default: break
            }
        }
        guard version != 0 else {
            throw WireError(.unsupportedVersion, "schema version is missing: not a Seismo signal batch")
        }
        guard version <= UInt64(SignalCodec.schemaVersion) else {
            throw WireError(
                .unsupportedVersion,
                "schema version \(version) is newer than this reader supports (\(SignalCodec.schemaVersion)); upgrade the consumer"
            )
        }

        // Pass 2: string table and source.
        var batch = SignalBatch()
        let caching = cache.isEnabled
        symbols.reserveCapacity(symbolCount)
        symbolFlags.reserveCapacity(symbolCount)
        if caching {
            symbolRanges.reserveCapacity(symbolCount)
            symbolIDs.reserveCapacity(symbolCount)
        }
        reader = ProtoReader(buffer)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case BatchField.symbols:
                try reader.expect(wireType, .lengthDelimited, field: field)
                try appendSymbol(try reader.lengthDelimited(), caching: caching)
            case BatchField.source:
                try reader.expect(wireType, .lengthDelimited, field: field)
                batch.source = try reader.string(try reader.lengthDelimited())
            default:
                try reader.skip(wireType: wireType)
            }
        }
        if caching {
            if let first = symbolRanges.first, !first.isEmpty {
                throw WireError(.malformed, "the first symbol must be the empty string")
            }
            // Logs and spans read symbols directly.
            if logCount + spanCount > 0 {
                for index in symbols.indices { materialize(index) }
            }
        } else if let first = symbols.first, !first.isEmpty {
            throw WireError(.malformed, "the first symbol must be the empty string")
        }

        // Pass 3: series, logs, spans.
        var seriesLabels: [Labels] = []
        var seriesEnds: [Int] = []
        seriesLabels.reserveCapacity(seriesCount)
        seriesEnds.reserveCapacity(seriesCount)
        if seriesCount > 0 {
            // Every sample takes at least 8 bytes (its value), so this bounds the count.
            timestamps.reserveCapacity(buffer.count / 8)
            values.reserveCapacity(buffer.count / 8)
        }
        batch.logs.reserveCapacity(logCount)
        batch.spans.reserveCapacity(spanCount)
        reader = ProtoReader(buffer)
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case BatchField.series:
                try reader.expect(wireType, .lengthDelimited, field: field)
                seriesLabels.append(try decodeSeries(try reader.lengthDelimited()))
                seriesEnds.append(timestamps.count)
            case BatchField.logs:
                try reader.expect(wireType, .lengthDelimited, field: field)
                batch.logs.append(try decodeLog(try reader.lengthDelimited()))
            case BatchField.spans:
                try reader.expect(wireType, .lengthDelimited, field: field)
                batch.spans.append(try decodeSpan(try reader.lengthDelimited()))
            default:
                try reader.skip(wireType: wireType)
            }
        }
        makeSeries(seriesLabels, ends: seriesEnds, into: &batch)
        return batch
    }

    // MARK: Messages

    /// Appends the series' samples to the batch columns and returns its labels.
    private mutating func decodeSeries(_ range: Range<Int>) throws(WireError) -> Labels {
        var reader = ProtoReader(buffer, range: range)
        refs.removeAll(keepingCapacity: true)
        let timestampStart = timestamps.count
        let valueStart = values.count
        var previous: Int64 = 0
        var packedLabels: Range<Int>?
        var gathered = false
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case SeriesField.labels:
                // One packed field is the norm: read it in place. Anything else (several
                // fields, unpacked values) is gathered into `refs`.
                if wireType == WireType.lengthDelimited.rawValue, packedLabels == nil, !gathered {
                    packedLabels = try reader.lengthDelimited()
                } else {
                    if let packed = packedLabels {
                        var items = ProtoReader(buffer, range: packed)
                        while !items.isAtEnd { refs.append(try items.varint()) }
                        packedLabels = nil
                    }
                    gathered = true
                    try readRefs(&reader, wireType: wireType, field: field)
                }
            case SeriesField.timestamps:
                if wireType == WireType.lengthDelimited.rawValue {
                    try reader.appendDeltas(try reader.lengthDelimited(), previous: &previous, to: &timestamps)
                } else {
                    try reader.expect(wireType, .varint, field: field)
                    previous = previous &+ Self.unZigZag(try reader.varint())
                    timestamps.append(previous)
                }
            case SeriesField.values:
                if wireType == WireType.lengthDelimited.rawValue {
                    let packed = try reader.lengthDelimited()
                    guard packed.count % 8 == 0 else {
                        throw WireError(.malformed, "packed doubles of \(packed.count) bytes", offset: packed.lowerBound)
                    }
                    reader.appendDoubles(packed, to: &values)
                } else {
                    try reader.expect(wireType, .fixed64, field: field)
                    values.append(Double(bitPattern: try reader.fixed64()))
                }
            default:
                try reader.skip(wireType: wireType)
            }
        }
        let timestampCount = timestamps.count - timestampStart
        let valueCount = values.count - valueStart
        guard timestampCount == valueCount else {
            throw WireError(
                .mismatchedLengths, "series has \(timestampCount) timestamps but \(valueCount) values",
                offset: range.lowerBound)
        }
        if cache.isEnabled {
            if let packedLabels {
                let index = seriesIndex
                seriesIndex += 1
                if reusedTable, let labels = previousSeriesLabels(index, packed: packedLabels) {
                    cache.hits += 1
                    rememberSeries(packedLabels, labels)
                    return labels
                }
                let labels = try cachedLabels(packed: packedLabels, at: range.lowerBound)
                rememberSeries(packedLabels, labels)
                return labels
            }
            // Labels spread over several fields or not packed (valid protobuf, but no
            // writer we know does it): not cached.
            for ref in refs where ref < UInt64(symbols.count) { materialize(Int(ref)) }
        }
        if let packedLabels {
            var source = PackedRefs(reader: ProtoReader(buffer, range: packedLabels))
            return try makeLabels(&source, count: reader.varintCount(packedLabels), at: range.lowerBound)
        }
        var source = ArrayRefs(refs: refs)
        return try makeLabels(&source, count: refs.count, at: range.lowerBound)
    }

    private mutating func decodeLog(_ range: Range<Int>) throws(WireError) -> LogRecord {
        var reader = ProtoReader(buffer, range: range)
        var labelRefs: [UInt64] = []
        var attributeRefs: [UInt64] = []
        var unixNanos: Int64 = 0
        var severity = LogRecord.Severity.unspecified
        var body = ""
        var traceID: [UInt8]?
        var spanID: [UInt8]?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case LogField.labels:
                try readRefs(&reader, wireType: wireType, field: field)
                labelRefs.append(contentsOf: refs)
                refs.removeAll(keepingCapacity: true)
            case LogField.time:
                try reader.expect(wireType, .fixed64, field: field)
                unixNanos = Int64(bitPattern: try reader.fixed64())
            case LogField.severity:
                try reader.expect(wireType, .varint, field: field)
                let number = try reader.varint()
                guard let decoded = Self.severity(number) else {
                    throw reader.error("severity number \(number) is outside 0...24")
                }
                severity = decoded
            case LogField.body:
                try reader.expect(wireType, .lengthDelimited, field: field)
                body = try reader.string(try reader.lengthDelimited())
            case LogField.attributes:
                try readRefs(&reader, wireType: wireType, field: field)
                attributeRefs.append(contentsOf: refs)
                refs.removeAll(keepingCapacity: true)
            case LogField.traceID:
                try reader.expect(wireType, .lengthDelimited, field: field)
                traceID = reader.bytes(try reader.lengthDelimited())
            case LogField.spanID:
                try reader.expect(wireType, .lengthDelimited, field: field)
                spanID = reader.bytes(try reader.lengthDelimited())
            default:
                try reader.skip(wireType: wireType)
            }
        }
        var source = ArrayRefs(refs: labelRefs)
        let labels = try makeLabels(&source, count: labelRefs.count, at: range.lowerBound)
        let attributes = try makeAttributes(attributeRefs, at: range.lowerBound)
        return LogRecord(
            labels: labels, unixNanos: unixNanos, severity: severity, body: body, attributes: attributes,
            traceID: traceID, spanID: spanID)
    }

    private mutating func decodeSpan(_ range: Range<Int>) throws(WireError) -> Span {
        var reader = ProtoReader(buffer, range: range)
        var attributeRefs: [UInt64] = []
        var traceID: [UInt8] = []
        var spanID: [UInt8] = []
        var parentSpanID: [UInt8]?
        var service = ""
        var name = ""
        var kind = Span.Kind.unspecified
        var start: Int64 = 0
        var duration: Int64 = 0
        var status = Span.StatusCode.unset
        var statusMessage = ""
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case SpanField.traceID:
                try reader.expect(wireType, .lengthDelimited, field: field)
                traceID = reader.bytes(try reader.lengthDelimited())
            case SpanField.spanID:
                try reader.expect(wireType, .lengthDelimited, field: field)
                spanID = reader.bytes(try reader.lengthDelimited())
            case SpanField.parentSpanID:
                try reader.expect(wireType, .lengthDelimited, field: field)
                parentSpanID = reader.bytes(try reader.lengthDelimited())
            case SpanField.service:
                try reader.expect(wireType, .varint, field: field)
                service = try symbol(try reader.varint(), at: reader.position)
            case SpanField.name:
                try reader.expect(wireType, .varint, field: field)
                name = try symbol(try reader.varint(), at: reader.position)
            case SpanField.kind:
                try reader.expect(wireType, .varint, field: field)
                let raw = try reader.varint()
                guard let decoded = Int(exactly: raw).flatMap(Span.Kind.init(rawValue:)) else {
                    throw reader.error("unknown span kind \(raw)")
                }
                kind = decoded
            case SpanField.start:
                try reader.expect(wireType, .fixed64, field: field)
                start = Int64(bitPattern: try reader.fixed64())
            case SpanField.duration:
                try reader.expect(wireType, .varint, field: field)
                duration = Self.unZigZag(try reader.varint())
            case SpanField.status:
                try reader.expect(wireType, .varint, field: field)
                let raw = try reader.varint()
                guard let decoded = Int(exactly: raw).flatMap(Span.StatusCode.init(rawValue:)) else {
                    throw reader.error("unknown span status \(raw)")
                }
                status = decoded
            case SpanField.statusMessage:
                try reader.expect(wireType, .lengthDelimited, field: field)
                statusMessage = try reader.string(try reader.lengthDelimited())
            case SpanField.attributes:
                try readRefs(&reader, wireType: wireType, field: field)
                attributeRefs.append(contentsOf: refs)
                refs.removeAll(keepingCapacity: true)
            default:
                try reader.skip(wireType: wireType)
            }
        }
        let attributes = try makeAttributes(attributeRefs, at: range.lowerBound)
        return Span(
            traceID: traceID, spanID: spanID, parentSpanID: parentSpanID, service: service, name: name, kind: kind,
            startUnixNanos: start, durationNanos: duration, status: status, statusMessage: statusMessage,
            attributes: attributes)
    }

    // MARK: Symbols, labels, attributes

    /// Appends a `repeated uint32` field's values (packed or not) to `refs`.
    private mutating func readRefs(_ reader: inout ProtoReader, wireType: UInt8, field: UInt32) throws(WireError) {
        if wireType == WireType.lengthDelimited.rawValue {
            let packed = try reader.lengthDelimited()
            var items = ProtoReader(buffer, range: packed)
            while !items.isAtEnd { refs.append(try items.varint()) }
        } else {
            try reader.expect(wireType, .varint, field: field)
            refs.append(try reader.varint())
        }
    }

    /// The labels of the `refCount` references packed in `packed`: from the cache when
    /// their strings are there, otherwise built by `makeLabels` (which validates, and
    /// throws for malformed references exactly as without a cache) and then cached.
    private mutating func cachedLabels(packed: Range<Int>, at offset: Int) throws(WireError) -> Labels {
        // Every reference takes at least one byte. The key lives on the stack; a miss
        // (rare in a steady stream) builds it again to insert it.
        let capacity = max(packed.count, 1)
        let (found, lookup) = withUnsafeTemporaryAllocation(of: Int32.self, capacity: capacity) { key in
            let lookup = cacheKey(packed, into: key)
            guard lookup.cacheable else { return (Labels?.none, lookup) }
            return (cache.find(hash: lookup.hash, key: UnsafeBufferPointer(rebasing: key[0..<lookup.length])), lookup)
        }
        if let found { return found }
        if !lookup.cacheable, lookup.valid { cache.misses += 1 }
        // A miss, or malformed references. `makeLabels` reads the symbols up to the first
        // reference out of range.
        let symbolCount = UInt64(symbols.count)
        var scan = ProtoReader(buffer, range: packed)
        while !scan.isAtEnd, let ref = try? scan.varint(), ref < symbolCount { materialize(Int(ref)) }
        var source = PackedRefs(reader: ProtoReader(buffer, range: packed))
        let labels = try makeLabels(&source, count: scan.varintCount(packed), at: offset)
        if lookup.cacheable {
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: capacity) { key in
                let again = cacheKey(packed, into: key)
                guard again.cacheable, again.hash == lookup.hash, again.length == lookup.length else { return }
                let clears = cache.clears
                cache.insert(labels, hash: again.hash, key: UnsafeBufferPointer(rebasing: key[0..<again.length]))
                if cache.clears != clears { for index in symbolIDs.indices { symbolIDs[index] = -1 } }
            }
        }
        return labels
    }

    /// The cache key of the references packed in `packed`, in `key`: `valid` is false for
    /// malformed references, `cacheable` also when a string could not be interned.
    private mutating func cacheKey(_ packed: Range<Int>, into key: UnsafeMutableBufferPointer<Int32>)
        -> (hash: UInt64, length: Int, valid: Bool, cacheable: Bool)
    {
        // A clear while interning invalidates the ids gathered so far: start again once;
        // a series whose strings alone fill the cache is not cached.
        for attempt in 0..<2 {
            let clears = cache.clears
            let lookup = keyOf(packed, into: key)
            if cache.clears == clears { return lookup }
            for index in symbolIDs.indices { symbolIDs[index] = -1 }
            if attempt == 1 { return (lookup.hash, lookup.length, lookup.valid, false) }
        }
        return (0, 0, false, false)
    }

    /// Reads the references packed in `packed` into `key` as string ids, interning the
    /// strings not yet mapped in this record; `valid` is false for malformed references
    /// (or more than `key` holds), `cacheable` also when a string could not be interned.
    @inline(__always)
    private mutating func keyOf(_ packed: Range<Int>, into key: UnsafeMutableBufferPointer<Int32>)
        -> (hash: UInt64, length: Int, valid: Bool, cacheable: Bool)
    {
        let symbolCount = UInt64(symbols.count)
        var hash: UInt64 = 0
        var length = 0
        var cacheable = true
        var refCount = 0
        var scan = ProtoReader(buffer, range: packed)
        while !scan.isAtEnd {
            guard let ref = try? scan.varint(), ref < symbolCount, length < key.count else {
                return (0, 0, false, false)
            }
            refCount += 1
            var id = symbolIDs[Int(ref)]
            if id < 0 {
                id = intern(Int(ref))
                if id < 0 {
                    cacheable = false
                    continue
                }
            }
            hash = LabelCache.combine(hash, cache.stringHashes[Int(id)])
            key[length] = id
            length += 1
        }
        guard refCount % 2 == 0 else { return (0, 0, false, false) }
        return (hash, length, true, cacheable)
    }

    /// Symbol `index`'s string id in the cache, -1 when it could not be stored.
    private mutating func intern(_ index: Int) -> Int32 {
        let bytes = UnsafeBufferPointer(rebasing: buffer[symbolRanges[index]])
        switch cache.intern(bytes, hash: cache.hash(symbol: bytes)) {
        case .found(let id):
            symbolIDs[index] = id
            return id
        case .inserted(let id):
            cache.setFlags(id, flags(of: cache.strings[Int(id)]))
            symbolIDs[index] = id
            return id
        case .notStored:
            return -1
        }
    }

    /// Makes symbol `index`'s string and flags, when an enabled cache left them out.
    private mutating func materialize(_ index: Int) {
        guard symbolFlags[index] & Flag.materialized == 0 else { return }
        let id = symbolIDs[index]
        if id >= 0 {
            // Interned from these bytes in this record (ids are reset when the cache clears).
            symbols[index] = cache.strings[Int(id)]
            symbolFlags[index] = cache.stringFlags[Int(id)]
            return
        }
        // `appendSymbol` checked that the bytes are ASCII; anything else was materialized there.
        let symbol = String(decoding: UnsafeBufferPointer(rebasing: buffer[symbolRanges[index]]), as: UTF8.self)
        symbols[index] = symbol
        symbolFlags[index] = flags(of: symbol)
    }

    private func symbol(_ ref: UInt64, at offset: Int) throws(WireError) -> String {
        guard ref < UInt64(symbols.count) else {
            throw WireError(
                .symbolOutOfRange, "symbol reference \(ref) is past the table of \(symbols.count)", offset: offset)
        }
        return symbols[Int(ref)]
    }

    private enum Flag {
        static let materialized: UInt8 = 1
        static let validName: UInt8 = 2
        static let validMetricName: UInt8 = 4
        static let valueTooLong: UInt8 = 8
        static let isMetricNameLabel: UInt8 = 16
    }

    /// What `Labels(validating:)` checks about `symbol` as a label name or value.
    private func flags(of symbol: String) -> UInt8 {
        let byteCount = symbol.utf8.count
        var flags = Flag.materialized
        if byteCount <= limits.maxNameBytes, Labels.isValidLabelName(symbol) { flags |= Flag.validName }
        if Labels.isValidMetricName(symbol) { flags |= Flag.validMetricName }
        if byteCount > limits.maxValueBytes { flags |= Flag.valueTooLong }
        if symbol == Labels.metricName { flags |= Flag.isMetricNameLabel }
        return flags
    }

    /// Builds `Labels` from the name/value references in `refs`, with the same rules as
    /// `Labels(validating:limits:)`; pairs that are not sorted go through it directly.
    private func makeLabels(_ source: inout some RefSequence, count refCount: Int, at offset: Int) throws(WireError)
        -> Labels
    {
        guard refCount % 2 == 0 else {
            throw WireError(.invalidLabels, "odd number of label references (\(refCount))", offset: offset)
        }
        let count = UInt64(symbols.count)
        var pairs: [Label] = []
        pairs.reserveCapacity(refCount / 2)
        var sorted = true
        var previousName = -1
        while let nameRef = try source.next() {
            guard let valueRef = try source.next() else {
                throw WireError(.invalidLabels, "odd number of label references", offset: offset)
            }
            guard nameRef < count, valueRef < count else {
                throw WireError(
                    .symbolOutOfRange, "label reference \(max(nameRef, valueRef)) is past the table of \(count)",
                    offset: offset)
            }
            let name = Int(nameRef)
            let value = Int(valueRef)
            if symbols[value].isEmpty { continue }
            let nameFlags = symbolFlags[name]
            guard nameFlags & Flag.validName != 0 else {
                throw WireError(.invalidLabels, "invalid label name \(symbols[name].debugDescription)", offset: offset)
            }
            let valueFlags = symbolFlags[value]
            guard valueFlags & Flag.valueTooLong == 0 else {
                throw WireError(
                    .invalidLabels, "value of label \(symbols[name]) longer than \(limits.maxValueBytes) bytes",
                    offset: offset)
            }
            if nameFlags & Flag.isMetricNameLabel != 0, valueFlags & Flag.validMetricName == 0 {
                throw WireError(.invalidLabels, "invalid metric name \(symbols[value].debugDescription)", offset: offset)
            }
            if sorted, previousName >= 0, !(symbols[previousName] < symbols[name]) { sorted = false }
            previousName = name
            pairs.append(Label(symbols[name], symbols[value]))
        }
        guard pairs.count <= limits.maxLabels else {
            throw WireError(
                .invalidLabels, "label set has \(pairs.count) labels, over the limit of \(limits.maxLabels)",
                offset: offset)
        }
        if sorted { return Labels(uncheckedSorted: pairs) }
        do {
            return try Labels(validating: pairs, limits: limits)
        } catch {
            throw WireError(.invalidLabels, error.description, offset: offset)
        }
    }

    private func makeAttributes(_ refs: [UInt64], at offset: Int) throws(WireError) -> [String: String] {
        guard !refs.isEmpty else { return [:] }
        guard refs.count % 2 == 0 else {
            throw WireError(.malformed, "odd number of attribute references (\(refs.count))", offset: offset)
        }
        var attributes: [String: String] = [:]
        attributes.reserveCapacity(refs.count / 2)
        var index = 0
        while index < refs.count {
            let key = try symbol(refs[index], at: offset)
            let value = try symbol(refs[index + 1], at: offset)
            index += 2
            guard attributes.updateValue(value, forKey: key) == nil else {
                throw WireError(.malformed, "duplicate attribute key \(key.debugDescription)", offset: offset)
            }
        }
        return attributes
    }

    // MARK: Scalars

    @inline(__always)
    static func unZigZag(_ value: UInt64) -> Int64 {
        Int64(bitPattern: value >> 1) ^ -Int64(bitPattern: value & 1)
    }

    /// OpenTelemetry's SeverityNumber ranges to `LogRecord.Severity`.
    static func severity(_ number: UInt64) -> LogRecord.Severity? {
        switch number {
        case 0: .unspecified
        case 1...4: .trace
        case 5...8: .debug
        case 9...12: .info
        case 13...16: .warn
        case 17...20: .error
        case 21...24: .fatal
        default: nil
        }
    }
}

/// Label or attribute references, read one at a time.
protocol RefSequence {
    mutating func next() throws(WireError) -> UInt64?
}

/// References packed in place in the payload.
struct PackedRefs: RefSequence {
    var reader: ProtoReader

    @inline(__always)
    mutating func next() throws(WireError) -> UInt64? {
        reader.isAtEnd ? nil : try reader.varint()
    }
}

/// References gathered into an array.
struct ArrayRefs: RefSequence {
    let refs: [UInt64]
    var index = 0

    init(refs: [UInt64]) { self.refs = refs }

    @inline(__always)
    mutating func next() throws(WireError) -> UInt64? {
        guard index < refs.count else { return nil }
        defer { index += 1 }
        return refs[index]
    }
}

