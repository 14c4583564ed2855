import SeismoCore

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
    public static func decode(_ bytes: [UInt8], limits: LabelLimits = .default) throws(WireError) -> Request {
        try bytes.withUnsafeBufferPointer { (buffer) throws(WireError) -> Request in
            var reader = ProtoReader(buffer)
            var request = Request()
            while !reader.isAtEnd {
                let (field, wireType) = try reader.tag()
                guard field == 1 else {
                    try reader.skip(wireType: wireType)
                    continue
                }
                try reader.expect(wireType, .lengthDelimited, field: field)
                let range = try reader.lengthDelimited()
                try decodeSeries(buffer, range, limits: limits, into: &request)
            }
            return request
        }
    }

    private static func decodeSeries(
        _ buffer: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, limits: LabelLimits, into request: inout Request
    ) throws(WireError) {
        var reader = ProtoReader(buffer, range: range)
        var pairs: [Label] = []
        var timestamps: [Int64] = []
        var values: [Double] = []
        var labelProblem: String?
        while !reader.isAtEnd {
            let (field, wireType) = try reader.tag()
            switch field {
            case 1:
                try reader.expect(wireType, .lengthDelimited, field: field)
                let labelRange = try reader.lengthDelimited()
                guard labelProblem == nil else { continue }
                if pairs.count >= limits.maxLabels {
                    labelProblem = "more than \(limits.maxLabels) labels"
                    continue
                }
                var label = ProtoReader(buffer, range: labelRange)
                var name: Range<Int>?
                var value: Range<Int>?
                while !label.isAtEnd {
                    let (f, w) = try label.tag()
                    if f == 1 || f == 2 {
                        try label.expect(w, .lengthDelimited, field: f)
                        if f == 1 { name = try label.lengthDelimited() } else { value = try label.lengthDelimited() }
                    } else {
                        try label.skip(wireType: w)
                    }
                }
                do {
                    pairs.append(Label(try label.string(name ?? 0..<0), try label.string(value ?? 0..<0)))
                } catch {
                    labelProblem = error.message
                }
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
                values.append(value)
            case 4:
                try reader.skip(wireType: wireType)
                request.skippedHistograms += 1
            default:
                try reader.skip(wireType: wireType)
            }
        }
        guard !timestamps.isEmpty else { return }
        if labelProblem == nil {
            do {
                let labels = try Labels(validating: pairs, limits: limits)
                if labels.name == nil { labelProblem = "series without a metric name (__name__)" } else {
                    request.series.append(SeriesSamples(labels: labels, timestamps: timestamps, values: values))
                    return
                }
            } catch {
                labelProblem = error.description
            }
        }
        request.rejectedSeries += 1
        request.rejectedSamples += timestamps.count
        if request.firstRejection == nil { request.firstRejection = labelProblem }
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
