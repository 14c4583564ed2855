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
}
