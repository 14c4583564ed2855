import SeismoCore
import Testing

@testable import SeismoWire

@Suite("Remote write 1.0 decoding")
struct RemoteWriteTests {
    /// WriteRequest{timeseries: [{labels: [{__name__, up}], samples: [{value: 1.0, timestamp: 1000}]}]}, by hand.
    static let upBytes: [UInt8] =
        [0x0A, 0x1E, 0x0A, 0x0E, 0x0A, 0x08] + Array("__name__".utf8) + [0x12, 0x02] + Array("up".utf8)
        + [0x12, 0x0C, 0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0xE8, 0x07]

    @Test("decodes a WriteRequest from known bytes")
    func knownBytes() throws {
        let request = try RemoteWrite.decode(Self.upBytes)
        #expect(request.series == [SeriesSamples(labels: ["__name__": "up"], timestamps: [1000], values: [1])])
        #expect(request.rejectedSeries == 0)
    }

    @Test("encode and decode agree, NaN and stale markers included; unknown fields are skipped")
    func roundTrip() throws {
        let series = [
            SeriesSamples(labels: ["__name__": "a", "job": "x"], timestamps: [1, 2, 3], values: [1, .nan, StaleMarker.value]),
            SeriesSamples(labels: ["__name__": "b", "instance": "h:9"], timestamps: [-5], values: [-0.5]),
        ]
        var bytes = RemoteWrite.encode(series)
        #expect(try RemoteWrite.decode(bytes).series == series)
        // metadata (field 3) and an unknown varint field 9 after the series
        bytes += [0x1A, 0x02, 0x08, 0x01, 0x48, 0x07]
        #expect(try RemoteWrite.decode(bytes).series == series)
    }

    @Test("a series with invalid labels is rejected and counted; the others are kept")
    func invalidSeries() throws {
        let good = SeriesSamples(labels: ["__name__": "ok"], timestamps: [1], values: [1])
        var bytes = RemoteWrite.encode([good])
        // A series whose label name is "bad-name".
        var label: [UInt8] = [0x0A, 0x08] + Array("bad-name".utf8) + [0x12, 0x01, 0x76]
        var inner: [UInt8] = [0x0A, UInt8(label.count)] + label
        inner += [0x12, 0x0B, 0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0x01]
        bytes += [0x0A, UInt8(inner.count)] + inner
        // A series with invalid UTF-8 in a value.
        label = [0x0A, 0x08] + Array("__name__".utf8) + [0x12, 0x02, 0xC3, 0x28]
        inner = [0x0A, UInt8(label.count)] + label + [0x12, 0x0B, 0x09, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0x10, 0x01]
        bytes += [0x0A, UInt8(inner.count)] + inner
        let request = try RemoteWrite.decode(bytes)
        #expect(request.series == [good])
        #expect(request.rejectedSeries == 2)
        #expect(request.rejectedSamples == 2)
        #expect(request.firstRejection?.contains("bad-name") == true)
    }

    @Test("a series over the label limit is rejected without building its labels")
    func hugeLabelCount() throws {
        var pairs: [String: String] = ["__name__": "wide"]
        for i in 0..<5000 { pairs["l\(i)"] = "v" }
        let wide = SeriesSamples(labels: Labels(uncheckedSorted: pairs.sorted { $0.key < $1.key }.map { Label($0.key, $0.value) }), timestamps: [1], values: [1])
        let request = try RemoteWrite.decode(RemoteWrite.encode([wide]), limits: LabelLimits(maxLabels: 128))
        #expect(request.series.isEmpty)
        #expect(request.rejectedSeries == 1)
        #expect(request.firstRejection?.contains("128") == true)
    }

    @Test("every truncation of a valid request fails cleanly or decodes a prefix")
    func truncated() {
        let bytes = RemoteWrite.encode([
            SeriesSamples(labels: ["__name__": "a", "job": "x"], timestamps: [1, 2], values: [1, 2])
        ])
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            if let request = try? RemoteWrite.decode(prefix) {
                #expect(request.series.isEmpty, "prefix of \(length) bytes decoded to series")
            }
        }
        #expect(throws: WireError.self) { try RemoteWrite.decode(Array(bytes.dropLast())) }
    }

    /// One `TimeSeries` with `pairs` in the order given (remote write requires sorted
    /// labels; clients that do not sort still get the same labels).
    static func rawSeries(_ pairs: [(String, String)], samples: [(Int64, Double)] = [(1, 1)]) -> [UInt8] {
        var inner = ProtoWriter()
        var piece = ProtoWriter()
        for (name, value) in pairs {
            piece.removeAll()
            piece.bytesField(1, Array(name.utf8))
            piece.bytesField(2, Array(value.utf8))
            inner.bytesField(1, piece.bytes)
        }
        for (timestamp, value) in samples {
            piece.removeAll()
            piece.fixed64Field(1, value.bitPattern)
            piece.varintField(2, UInt64(bitPattern: timestamp))
            inner.bytesField(2, piece.bytes)
        }
        var out = ProtoWriter()
        out.bytesField(1, inner.bytes)
        return out.bytes
    }

    @Test("unsorted labels are sorted, empty values dropped, UTF-8 values kept byte for byte")
    func unsortedLabels() throws {
        let bytes =
            Self.rawSeries([("job", "x"), ("__name__", "m"), ("empty", ""), ("city", "Zürich"), ("a", "e\u{301}")], samples: [(7, 2)])
            + Self.rawSeries([("__name__", "m"), ("job", "y")], samples: [(8, 3), (9, 4)])
        let request = try RemoteWrite.decode(bytes)
        #expect(request.rejectedSeries == 0)
        #expect(request.series.count == 2)
        let first = try #require(request.series.first)
        #expect(first.labels.pairs.map(\.name) == ["__name__", "a", "city", "job"])
        #expect(first.labels == Labels(uncheckedSorted: [Label("__name__", "m"), Label("a", "e\u{301}"), Label("city", "Zürich"), Label("job", "x")]))
        #expect(Array(first.labels["a"]?.utf8 ?? "".utf8) == [0x65, 0xCC, 0x81])
        #expect(Array(first.timestamps) == [7] && Array(first.values) == [2])
        #expect(Array(request.series[1].timestamps) == [8, 9] && Array(request.series[1].values) == [3, 4])
    }

    @Test("each series is kept or rejected exactly as Labels(validating:) decides, with its message")
    func agreesWithLabelsValidating() throws {
        var random = SplitMix64(seed: 6)
        let names = ["__name__", "job", "instance", "a", "b_1", "Z", "_x", "1bad", "bad-name", "", "k\u{e9}", "long_name_xx"]
        let values = ["up", "api", "", "x y", "10.0.0.1:9100", "ünï", "1starts_digit", "ok:colon", "v"]
        let limits = LabelLimits(maxLabels: 6, maxNameBytes: 10, maxValueBytes: 12)
        for _ in 0..<2000 {
            var pairs: [(String, String)] = []
            for _ in 0..<random.next(below: 8) {
                pairs.append((names[random.next(below: names.count)], values[random.next(below: values.count)]))
            }
            if random.next(below: 3) > 0 { pairs.insert(("__name__", values[random.next(below: values.count)]), at: random.next(below: pairs.count + 1)) }
            if random.next(below: 2) == 0 { pairs.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) } }
            let request = try RemoteWrite.decode(Self.rawSeries(pairs, samples: [(1, 5), (2, 6)]), limits: limits)
            let expected: Result<Labels, SeismoError>
            if pairs.count > limits.maxLabels {
                #expect(request.series.isEmpty && request.rejectedSamples == 2, "\(pairs)")
                #expect(request.firstRejection == "more than \(limits.maxLabels) labels", "\(pairs)")
                continue
            }
            expected = Result { () throws(SeismoError) in try Labels(validating: pairs.map { Label($0.0, $0.1) }, limits: limits) }
            switch expected {
            case .success(let labels) where labels.name != nil:
                #expect(request.series == [SeriesSamples(labels: labels, timestamps: [1, 2], values: [5, 6])], "\(pairs)")
                #expect(request.rejectedSeries == 0, "\(pairs)")
            case .success:
                #expect(request.series.isEmpty && request.rejectedSamples == 2, "\(pairs)")
                #expect(request.firstRejection == "series without a metric name (__name__)", "\(pairs)")
            case .failure(let error):
                #expect(request.series.isEmpty && request.rejectedSamples == 2, "\(pairs)")
                #expect(request.firstRejection == error.description, "\(pairs)")
            }
        }
    }

    @Test("rejected series leave no samples behind in the series around them")
    func rejectedAmongAccepted() throws {
        var bytes: [UInt8] = []
        for i in 0..<30 {
            let name = i % 3 == 1 ? "bad-name" : "ok"
            bytes += Self.rawSeries([("__name__", "m"), (name, "\(i)")], samples: [(Int64(i), Double(i)), (Int64(i) + 100, 1)])
        }
        let request = try RemoteWrite.decode(bytes)
        #expect(request.rejectedSeries == 10 && request.rejectedSamples == 20)
        #expect(request.series.map { $0.labels["ok"] } == (0..<30).filter { $0 % 3 != 1 }.map { "\($0)" })
        for series in request.series {
            let i = Int64(series.labels["ok"] ?? "") ?? -1
            #expect(Array(series.timestamps) == [i, i + 100] && Array(series.values) == [Double(i), 1])
        }
    }
}
