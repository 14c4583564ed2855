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
    public static func decode(_ bytes: [UInt8], limits: LabelLimits = .default) throws(WireError) -> Request {
        try bytes.withUnsafeBufferPointer { (buffer) throws(WireError) -> Request in
            var decoder = Decoder(buffer: buffer, limits: limits)
            return try decoder.decode()
        }
    }

    /// One request's decoding state: scratch space reused from series to series.
    struct Decoder {
        let buffer: UnsafeBufferPointer<UInt8>
        let limits: LabelLimits
        var request = Request()
        /// The current series' label name and value ranges, in the order sent.
        var names: [Range<Int>] = []
        var values: [Range<Int>] = []
        /// Indices into `names`/`values` of the labels kept (non-empty values), sorted.
        var order: [Int] = []
        /// The samples of every series, in order; series are ranges of them.
        var timestamps: [Int64] = []
        var samples: [Double] = []
        var accepted: [(labels: Labels, end: Int)] = []

        init(buffer: UnsafeBufferPointer<UInt8>, limits: LabelLimits) {
            self.buffer = buffer
            self.limits = limits
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
                try decodeSeries(range)
            }
            let timestampColumn = timestamps[...]
            let valueColumn = samples[...]
            var start = 0
            request.series.reserveCapacity(accepted.count)
            for (labels, end) in accepted {
                request.series.append(
                    SeriesSamples(
                        labels: labels, timestamps: SampleColumn(timestampColumn[start..<end]),
                        values: SampleColumn(valueColumn[start..<end])))
                start = end
            }
            return request
        }

        private mutating func decodeSeries(_ range: Range<Int>) throws(WireError) {
            var reader = ProtoReader(buffer, range: range)
            names.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
            let firstSample = timestamps.count
            var labelProblem: String?
            while !reader.isAtEnd {
                let (field, wireType) = try reader.tag()
                switch field {
                case 1:
                    try reader.expect(wireType, .lengthDelimited, field: field)
                    let labelRange = try reader.lengthDelimited()
                    guard labelProblem == nil else { continue }
                    if names.count >= limits.maxLabels {
                        labelProblem = "more than \(limits.maxLabels) labels"
                        continue
                    }
                    var label = ProtoReader(buffer, range: labelRange)
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
                            labelProblem = error.message
                        }
                    }
                    names.append(name)
                    values.append(value)
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
            let sampleCount = timestamps.count - firstSample
            guard sampleCount > 0 else { return }
            if labelProblem == nil {
                do throws(SeismoError) {
                    // `fastLabels` only answers for a set with a metric name.
                    if let checked = fastLabels() {
                        accepted.append((checked, timestamps.count))
                        return
                    }
                    let labels = try Labels(validating: pairs(), limits: limits)
                    if labels.name == nil { labelProblem = "series without a metric name (__name__)" } else {
                        accepted.append((labels, timestamps.count))
                        return
                    }
                } catch {
                    labelProblem = error.description
                }
            }
            // Left out: its samples leave the shared columns again.
            timestamps.removeLast(sampleCount)
            samples.removeLast(sampleCount)
            request.rejectedSeries += 1
            request.rejectedSamples += sampleCount
            if request.firstRejection == nil { request.firstRejection = labelProblem }
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
