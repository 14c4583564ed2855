import SeismoCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Prometheus remote write 1.0 (`prometheus.WriteRequest`, prompb `remote.proto` and
/// `types.proto`): decoded by hand over `ProtoReader`.
///
/// Fields read: `WriteRequest.timeseries` (1); `TimeSeries.labels` (1), `.samples` (2),
/// `.histograms` (4, counted and skipped: native histograms are not remote write 1.0);
/// `Label.name` (1), `.value` (2); `Sample.value` (1, double), `.timestamp` (2, int64 ms).
/// Metadata (3), exemplars and unknown fields are skipped.
public enum RemoteWrite {
    /// A decoded request: the valid series, and what was rejected.
    public struct Request: Sendable, Equatable {
        public var series: [SeriesSamples] = []
        /// Series whose labels were invalid (bad or duplicate name, invalid UTF-8, over the limits).
        public var rejectedSeries = 0
        /// Samples of the rejected series.
        public var rejectedSamples = 0
        /// Why the first rejected series was rejected.
        public var firstRejection: String?
        /// Native histogram samples skipped.
        public var skippedHistograms = 0

        public init() {}

        /// Samples of the valid series.
        public var sampleCount: Int { series.reduce(0) { $0 + $1.count } }
    }

    /// Decodes the protobuf bytes of a `WriteRequest` (after Snappy). Throws
    /// `WireError(.malformed)` for bytes that are not a well-formed message; a series with
    /// invalid labels is left out and counted instead, so the rest of the request is kept.
    ///
    /// Labels are checked on their bytes and become `String`s only once valid: a series
    /// whose labels arrive sorted (as remote write requires) is checked in one pass and
    /// wrapped without sorting; any other set, and every invalid one, goes through
    /// `Labels(validating:)`, so results and messages are the same either way. The series
    /// of one request share two sample columns (one allocation each per request).
    ///
    /// With a `cache`, a series whose label bytes were decoded (and valid) before takes
    /// its labels from the cache instead, with its record key hash and encoder symbols
    /// precomputed; the result is the same as without it.
    public static func decode(
        _ bytes: [UInt8], limits: LabelLimits = .default, cache: RemoteWriteSeriesCache? = nil
    ) throws(WireError) -> Request {
        try bytes.withUnsafeBufferPointer { (buffer) throws(WireError) -> Request in
            var decoder = Decoder(buffer: buffer, limits: limits, cache: cache)
            return try decoder.decode()
        }
    }

    /// One request's decoding state: scratch space reused from series to series.
    ///
    /// Decodes in passes, so that a cache is locked twice per request rather than per
    /// series: every series' structure and samples first, then the cache lookups, then the
    /// labels of the series the cache did not hold (in order, so rejections are counted
    /// and worded as without a cache), then the insertions.
    struct Decoder {
        let buffer: UnsafeBufferPointer<UInt8>
        let limits: LabelLimits
        let cache: RemoteWriteSeriesCache?
        var request = Request()
        /// The current series' label name and value ranges, in the order sent.
        var names: [Range<Int>] = []
        var values: [Range<Int>] = []
        /// Indices into `names`/`values` of the labels kept (non-empty values), sorted.
        var order: [Int] = []
        /// The samples of every series, in order; series are ranges of them.
        var timestamps: [Int64] = []
        var samples: [Double] = []
        var pending: [Pending] = []

        /// A series with samples, before its labels are decoded.
        struct Pending {
            /// Its `TimeSeries` message.
            var message: Range<Int>
            /// The bytes of its `labels` fields when they are one run (the cache key).
            var run: Range<Int>?
            /// Its samples in the columns.
            var samples: Range<Int>
        }

        init(buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits, cache: RemoteWriteSeriesCache?) {
            self.buffer = buffer
            self.limits = limits
            self.cache = cache
            // Roughly one sample per 40 bytes for typical series; growth covers the rest.
            let estimate = min(buffer.count / 40, 1 << 20)
            timestamps.reserveCapacity(estimate)
            samples.reserveCapacity(estimate)
        }

        mutating func decode() throws(WireError) -> Request {
            var reader = ProtoReader(buffer)
            while !reader.isAtEnd {
                let (field, wireType) = try reader.tag()
                guard field == 1 else {
                    try reader.skip(wireType: wireType)
                    continue
                }
                try reader.expect(wireType, .lengthDelimited, field: field)
                let range = try reader.lengthDelimited()
                try scanSeries(range)
            }

            // Cache lookups, in one lock.
            var found = [PreparedLabels?](repeating: nil, count: pending.count)
            var hashes = [UInt64](repeating: 0, count: cache == nil ? 0 : pending.count)
            var probed: [Int] = []
            if let cache {
                var probes: [RemoteWriteSeriesCache.Probe] = []
                probes.reserveCapacity(pending.count)
                for (index, one) in pending.enumerated() {
                    guard let run = one.run else { continue }
                    hashes[index] = cache.hash(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: buffer[run])))
                    probes.append(.init(bytes: run, hash: hashes[index]))
                    probed.append(index)
                }
                for (position, prepared) in cache.lookup(probes, in: buffer, limits: limits).enumerated() {
                    found[probed[position]] = prepared
                }
            }

            // The labels of the others, in order; series go straight into the request.
            let timestampColumn = timestamps[...]
            let valueColumn = samples[...]
            request.series.reserveCapacity(pending.count)
            var insertions: [RemoteWriteSeriesCache.Insertion] = []
            var inserted: [Int] = []
            for index in pending.indices {
                let range = pending[index].samples
                if let prepared = found[index] {
                    request.series.append(
                        SeriesSamples(prepared: prepared, timestamps: timestampColumn[range], values: valueColumn[range]))
                    continue
                }
                switch try labels(of: pending[index]) {
                case .success(let labels):
                    if cache != nil, let run = pending[index].run {
                        insertions.append(.init(probe: .init(bytes: run, hash: hashes[index]), labels: labels))
                        inserted.append(request.series.count)
                    }
                    request.series.append(
                        SeriesSamples(
                            labels: labels, timestamps: SampleColumn(timestampColumn[range]), values: SampleColumn(valueColumn[range])))
                case .failure(let problem):
                    request.rejectedSeries += 1
                    request.rejectedSamples += range.count
                    if request.firstRejection == nil { request.firstRejection = problem.message }
                }
            }
            if let cache, !insertions.isEmpty {
                for (position, prepared) in cache.insert(insertions, in: buffer, limits: limits).enumerated() {
                    request.series[inserted[position]].prepared = prepared
                }
            }
            return request
        }

        /// Reads one `TimeSeries`: its samples into the columns and where its labels are
        /// (they are read when the cache does not have them).
        private mutating func scanSeries(_ range: Range<Int>) throws(WireError) {
            var reader = ProtoReader(buffer, range: range)
            let firstSample = timestamps.count
            var runStart = -1
            var runEnd = -1
            var contiguous = true
            while !reader.isAtEnd {
                let fieldStart = reader.position
                let (field, wireType) = try reader.tag()
                switch field {
                case 1:
                    try reader.expect(wireType, .lengthDelimited, field: field)
                    let message = try reader.lengthDelimited()
                    if runStart < 0 { runStart = fieldStart } else if fieldStart != runEnd { contiguous = false }
                    runEnd = message.upperBound
                case 2:
                    try reader.expect(wireType, .lengthDelimited, field: field)
                    var sample = ProtoReader(buffer, range: try reader.lengthDelimited())
                    var value = 0.0
                    var timestamp: Int64 = 0
                    while !sample.isAtEnd {
                        let (f, w) = try sample.tag()
                        switch (f, w) {
                        case (1, WireType.fixed64.rawValue): value = Double(bitPattern: try sample.fixed64())
                        case (2, WireType.varint.rawValue): timestamp = Int64(bitPattern: try sample.varint())
                        default: try sample.skip(wireType: w)
                        }
                    }
                    timestamps.append(timestamp)
                    samples.append(value)
                case 4:
                    try reader.skip(wireType: wireType)
                    request.skippedHistograms += 1
                default:
                    try reader.skip(wireType: wireType)
                }
            }
            let one = Pending(
                message: range, run: contiguous && runStart >= 0 ? runStart..<runEnd : nil,
                samples: firstSample..<timestamps.count)
            guard one.samples.isEmpty else {
                pending.append(one)
                return
            }
            // A series without samples is dropped; its labels must still be well-formed.
            _ = try labels(of: one)
        }

        /// Why a series' labels were refused.
        struct Problem: Error {
            var message: String
        }

        /// Decodes and validates the labels of `series`; throws only for malformed bytes.
        private mutating func labels(of series: Pending) throws(WireError) -> Result<Labels, Problem> {
            names.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            // Within a run every field is a label; otherwise the others are skipped again.
            var fields = ProtoReader(buffer, range: series.run ?? series.message)
            while !fields.isAtEnd {
                let (field, wireType) = try fields.tag()
                guard field == 1 else {
                    try fields.skip(wireType: wireType)
                    continue
                }
                try fields.expect(wireType, .lengthDelimited, field: field)
                let message = try fields.lengthDelimited()
                if names.count >= limits.maxLabels { return .failure(Problem(message: "more than \(limits.maxLabels) labels")) }
                var label = ProtoReader(buffer, range: message)
                var name = 0..<0
                var value = 0..<0
                while !label.isAtEnd {
                    let (f, w) = try label.tag()
                    if f == 1 || f == 2 {
                        try label.expect(w, .lengthDelimited, field: f)
                        if f == 1 { name = try label.lengthDelimited() } else { value = try label.lengthDelimited() }
                    } else {
                        try label.skip(wireType: w)
                    }
                }
                // ASCII is valid UTF-8; anything else is checked as `string` checks it.
                if !label.isASCII(name) || !label.isASCII(value) {
                    do {
                        _ = try label.string(name)
                        _ = try label.string(value)
                    } catch {
                        return .failure(Problem(message: error.message))
                    }
                }
                names.append(name)
                values.append(value)
            }
            do throws(SeismoError) {
                // `fastLabels` only answers for a set with a metric name.
                if let checked = fastLabels() { return .success(checked) }
                let labels = try Labels(validating: pairs(), limits: limits)
                guard labels.name != nil else { return .failure(Problem(message: "series without a metric name (__name__)")) }
                return .success(labels)
            } catch {
                return .failure(Problem(message: error.description))
            }
        }

        /// The current series' pairs as sent (every byte range is valid UTF-8 by now).
        private func pairs() -> [Label] {
            var out: [Label] = []
            out.reserveCapacity(names.count)
            for index in names.indices { out.append(Label(string(names[index]), string(values[index]))) }
            return out
        }

        private func string(_ range: Range<Int>) -> String {
            String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
        }

        /// The current series' labels when they are valid and include a metric name,
        /// built without sorting strings; nil when `Labels(validating:)` must decide
        /// (and word the error).
        private mutating func fastLabels() -> Labels? {
            order.removeAll(keepingCapacity: true)
            var sorted = true
            for index in names.indices where !values[index].isEmpty {
                if sorted, let last = order.last, compare(names[last], names[index]) >= 0 { sorted = false }
                order.append(index)
            }
            if !sorted {
                // By name, then value (`Label`'s order); equal names are refused below.
                let (buffer, names, values) = (self.buffer, self.names, self.values)
                order.sort { a, b in
                    let byName = Self.compare(buffer, names[a], names[b])
                    return byName != 0 ? byName < 0 : Self.compare(buffer, values[a], values[b]) < 0
                }
                for (a, b) in zip(order, order.dropFirst()) where compare(names[a], names[b]) == 0 { return nil }
            }
            var hasName = false
            for index in order {
                let name = names[index]
                let value = values[index]
                guard name.count <= limits.maxNameBytes, value.count <= limits.maxValueBytes, isLabelName(name) else {
                    return nil
                }
                if isMetricNameLabel(name) {
                    guard isMetricName(value) else { return nil }
                    hasName = true
                }
            }
            guard hasName else { return nil }
            var pairs: [Label] = []
            pairs.reserveCapacity(order.count)
            for index in order { pairs.append(Label(string(names[index]), string(values[index]))) }
            return Labels(uncheckedSorted: pairs)
        }

        /// Byte order of two ranges of the buffer: negative, zero or positive.
        @inline(__always)
        private func compare(_ a: Range<Int>, _ b: Range<Int>) -> Int { Self.compare(buffer, a, b) }

        @inline(__always)
        private static func compare(_ buffer: UnsafeBufferPointer<UInt8>, _ a: Range<Int>, _ b: Range<Int>) -> Int {
            let count = min(a.count, b.count)
            if count > 0 {
                let result = memcmp(buffer.baseAddress! + a.lowerBound, buffer.baseAddress! + b.lowerBound, count)
                if result != 0 { return Int(result) }
            }
            return a.count - b.count
        }

        /// `[a-zA-Z_][a-zA-Z0-9_]*`, as `Labels.isValidLabelName`.
        private func isLabelName(_ range: Range<Int>) -> Bool {
            guard !range.isEmpty else { return false }
            for index in range {
                let byte = buffer[index]
                let ok =
                    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
                    || (index != range.lowerBound && byte >= 0x30 && byte <= 0x39)
                if !ok { return false }
            }
            return true
        }

        /// `[a-zA-Z_:][a-zA-Z0-9_:]*`, as `Labels.isValidMetricName`.
        private func isMetricName(_ range: Range<Int>) -> Bool {
            guard !range.isEmpty else { return false }
            for index in range {
                let byte = buffer[index]
                let ok =
                    (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F || byte == 0x3A
                    || (index != range.lowerBound && byte >= 0x30 && byte <= 0x39)
                if !ok { return false }
            }
            return true
        }

        /// True when the bytes of `range` are `__name__` (compared as one 8-byte word).
        private func isMetricNameLabel(_ range: Range<Int>) -> Bool {
            guard range.count == 8 else { return false }
            let word = UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: range.lowerBound, as: UInt64.self)
            return word == Self.metricNameWord
        }

        /// The bytes `__name__` (5F 5F 6E 61 6D 65 5F 5F) loaded as one word.
        private static let metricNameWord = UInt64(littleEndian: 0x5F5F_656D_616E_5F5F)
    }

    /// The protobuf bytes of a `WriteRequest` holding `series` (not Snappy-compressed).
    public static func encode(_ series: [SeriesSamples]) -> [UInt8] {
        var out = ProtoWriter(capacity: series.count * 64)
        var inner = ProtoWriter()
        var piece = ProtoWriter()
        for one in series {
            inner.removeAll()
            for label in one.labels {
                piece.removeAll()
                piece.bytesField(1, Array(label.name.utf8))
                piece.bytesField(2, Array(label.value.utf8))
                inner.bytesField(1, piece.bytes)
            }
            for index in 0..<one.count {
                piece.removeAll()
                piece.fixed64Field(1, one.values[one.values.startIndex + index].bitPattern)
                piece.varintField(2, UInt64(bitPattern: one.timestamps[one.timestamps.startIndex + index]))
                inner.bytesField(2, piece.bytes)
            }
            out.bytesField(1, inner.bytes)
        }
        return out.bytes
    }
}
