import Foundation
import SeismoCore
import SeismoTesting
import SwiftProtobuf
import Testing

@testable import SeismoWire

@Suite("SignalCodec")
struct SignalCodecTests {
    // MARK: Round trips

    @Test("every seeded random batch round-trips exactly, NaN payloads and stale markers included")
    func randomRoundTrip() throws {
        var signals = RandomSignals(seed: 7)
        for _ in 0..<500 {
            let batch = signals.batch()
            let decoded = try SignalCodec.decode(SignalCodec.encode(batch))
            #expect(decoded == batch)
        }
    }

    @Test("label values that are canonically equivalent but differ in bytes keep their own bytes")
    func canonicalEquivalents() throws {
        let nfc = "caf\u{E9}"
        let nfd = "cafe\u{301}"
        let batch = SignalBatch(series: [
            SeriesSamples(labels: ["__name__": "m", "v": nfc], timestamps: [1], values: [1]),
            SeriesSamples(labels: ["__name__": "m", "v": nfd], timestamps: [1], values: [2]),
        ])
        let decoded = try SignalCodec.decode(SignalCodec.encode(batch))
        #expect(decoded.series.map { Array(($0.labels["v"] ?? "").utf8) } == [Array(nfc.utf8), Array(nfd.utf8)])
    }

    @Test("the string table holds each distinct string once, in order of first use, across many strings")
    func symbolTable() {
        var symbols = SymbolInterner()
        var refs: [UInt32] = []
        for round in 0..<3 {
            for i in 0..<5000 {
                refs.append(symbols.ref("s\(i)"))
                if round == 0 { #expect(refs.last == UInt32(i + 1)) }
            }
        }
        #expect(symbols.strings.count == 5001 && symbols.strings.first == "")
        #expect(symbols.ref("") == 0)
        #expect(Array(refs[0..<5000]) == Array(refs[5000..<10000]) && Array(refs[0..<5000]) == Array(refs[10000...]))
    }

    @Test("an empty batch round-trips and is a few bytes")
    func emptyBatch() throws {
        let bytes = SignalCodec.encode(SignalBatch())
        #expect(bytes.count <= 8)
        #expect(try SignalCodec.decode(bytes) == SignalBatch())
    }

    @Test("special values keep their exact bit patterns")
    func specialValues() throws {
        let values: [Double] = [
            .nan, -.nan, Double(bitPattern: 0x7FF8_0000_0000_0001), StaleMarker.value, .infinity, -.infinity, -0.0, 0,
            .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        let series = SeriesSamples(
            labels: ["__name__": "x"], timestamps: values.indices.map { Int64($0) }, values: values)
        let decoded = try SignalCodec.decode(SignalCodec.encode(SignalBatch(series: [series])))
        #expect(decoded.series.first?.values.map(\.bitPattern) == values.map(\.bitPattern))
        #expect(decoded.samples[3].isStale)
    }

    @Test("extreme and unordered timestamps survive the delta encoding")
    func extremeTimestamps() throws {
        let timestamps: [Int64] = [Int64.max, Int64.min, 0, -1, 1, Int64.min, Int64.max]
        let series = SeriesSamples(labels: ["a": "b"], timestamps: timestamps, values: timestamps.map { _ in 1 })
        let decoded = try SignalCodec.decode(SignalCodec.encode(SignalBatch(series: [series])))
        #expect(decoded.series.first.map { Array($0.timestamps) } == timestamps)
    }

    @Test("init(samples:) groups by series in order of first appearance, and samples flattens it back")
    func groupingSamples() {
        let a: Labels = ["__name__": "a"]
        let b: Labels = ["__name__": "b"]
        let samples = [
            Sample(labels: a, timestamp: Timestamp(milliseconds: 1), value: 1),
            Sample(labels: b, timestamp: Timestamp(milliseconds: 1), value: 2),
            Sample(labels: a, timestamp: Timestamp(milliseconds: 2), value: 3),
        ]
        let batch = SignalBatch(samples: samples)
        #expect(batch.series.map(\.labels) == [a, b])
        #expect(batch.series[0].values == [1, 3])
        #expect(batch.sampleCount == 3)
        #expect(batch.samples == [samples[0], samples[2], samples[1]])
    }

    @Test("series decoded from one record share storage but mutate independently")
    func sharedColumns() throws {
        let batch = SignalGenerator(seed: 3).batch(series: 3, points: 4)
        var decoded = try SignalCodec.decode(SignalCodec.encode(batch))
        decoded.series[0].append(timestamp: 99, value: 99)
        #expect(decoded.series[0].count == 5)
        #expect(decoded.series[1] == batch.series[1])
        #expect(decoded.series[1].timestamps[0] == batch.series[1].timestamps[0])
    }

    @Test("a realistic 1000-sample record is compact")
    func compactness() {
        let batch = SignalGenerator(seed: 1).batch(series: 10, points: 100)
        let bytes = SignalCodec.encode(batch)
        // Values are 8 bytes each; timestamps at a fixed step take ~3 bytes; labels once per series.
        #expect(bytes.count < 1000 * 12)
    }

    // MARK: Interoperability with protoc-generated code

    @Test("bytes from encode parse with the generated SwiftProtobuf code into the same content")
    func generatedCodeReadsOurBytes() throws {
        var signals = RandomSignals(seed: 11)
        for _ in 0..<100 {
            let batch = signals.batch()
            let message = try Seismo_Wire_V1_SignalBatch(serializedBytes: SignalCodec.encode(batch))
            #expect(message.schemaVersion == 1)
            #expect(message.source == batch.source)
            #expect(message.symbols.first == "")
            #expect(message.series.count == batch.series.count)
            for (wire, series) in zip(message.series, batch.series) {
                var time: Int64 = 0
                let timestamps = wire.timestamps.map { delta in
                    time = time &+ delta
                    return time
                }
                #expect(timestamps == Array(series.timestamps))
                #expect(wire.values.map(\.bitPattern) == series.values.map(\.bitPattern))
                let labels = stride(from: 0, to: wire.labels.count, by: 2).map {
                    Label(message.symbols[Int(wire.labels[$0])], message.symbols[Int(wire.labels[$0 + 1])])
                }
                #expect(labels == series.labels.pairs)
            }
            #expect(message.logs.count == batch.logs.count)
            for (wire, log) in zip(message.logs, batch.logs) {
                #expect(wire.body == log.body)
                #expect(wire.hasTraceID == (log.traceID != nil))
                #expect(wire.timeUnixNano == log.unixNanos)
            }
            #expect(message.spans.count == batch.spans.count)
            for (wire, span) in zip(message.spans, batch.spans) {
                #expect(message.symbols[Int(wire.service)] == span.service)
                #expect(wire.kind.rawValue == span.kind.rawValue)
                #expect(wire.hasParentSpanID == (span.parentSpanID != nil))
                #expect(wire.durationNanos == span.durationNanos)
            }
        }
    }

    @Test("bytes from the generated code decode, whatever the field order, with unknown fields skipped")
    func weReadGeneratedBytes() throws {
        var header = Seismo_Wire_V1_SignalBatch()
        header.schemaVersion = 1
        header.source = "python-producer"
        header.symbols = ["", "__name__", "up", "job", "api", "zone"]
        var body = Seismo_Wire_V1_SignalBatch()
        var series = Seismo_Wire_V1_Series()
        series.labels = [3, 4, 1, 2, 5, 0]  // unsorted, with an empty value
        series.timestamps = [1000, 15, 15]
        series.values = [1, 0, 1]
        body.series = [series]
        var span = Seismo_Wire_V1_Span()
        span.traceID = Data(repeating: 1, count: 16)
        span.service = 4
        span.kind = .server
        body.spans = [span]
        // Concatenated messages merge: here the series come before the string table.
        let unknownField: [UInt8] = [0xF8, 0x06, 0x2A]  // field 111, varint 42
        let bytes = try body.serializedBytes() + unknownField + header.serializedBytes()
        let decoded = try SignalCodec.decode(bytes as [UInt8])
        #expect(decoded.source == "python-producer")
        #expect(decoded.series.count == 1)
        #expect(decoded.series[0].labels == ["__name__": "up", "job": "api"])
        #expect(Array(decoded.series[0].timestamps) == [1000, 1015, 1030])
        #expect(decoded.spans.first?.service == "api")
        #expect(decoded.spans.first?.kind == .server)
        #expect(decoded.spans.first?.traceID == [UInt8](repeating: 1, count: 16))
    }

    @Test("unpacked repeated fields, as old protobuf writers produce, decode too")
    func unpackedFields() throws {
        var writer = ProtoWriter()
        writer.varintField(1, 1)
        for symbol in ["", "__name__", "up"] { writer.stringField(3, symbol) }
        var series = ProtoWriter()
        series.varintField(1, 1)
        series.varintField(1, 2)
        series.varintField(2, ProtoWriter.zigZag(5))
        series.varintField(2, ProtoWriter.zigZag(-2))
        series.fixed64Field(3, (1.5).bitPattern)
        series.fixed64Field(3, (2.5).bitPattern)
        writer.messageField(4, series)
        let decoded = try SignalCodec.decode(writer.bytes)
        #expect(decoded.series.first?.labels == ["__name__": "up"])
        #expect(decoded.series.first.map { Array($0.timestamps) } == [5, 3])
        #expect(decoded.series.first.map { Array($0.values) } == [1.5, 2.5])
    }

    // MARK: Validation

    private func message(
        version: UInt32 = 1, symbols: [String] = ["", "__name__", "up"], labels: [UInt32] = [1, 2],
        timestamps: [Int64] = [1], values: [Double] = [1]
    ) throws -> [UInt8] {
        var message = Seismo_Wire_V1_SignalBatch()
        message.schemaVersion = version
        message.symbols = symbols
        var series = Seismo_Wire_V1_Series()
        series.labels = labels
        series.timestamps = timestamps
        series.values = values
        message.series = [series]
        return try message.serializedBytes()
    }

    private func decodeError(_ bytes: [UInt8]) -> WireError.Code? {
        do {
            _ = try SignalCodec.decode(bytes)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("a newer schema version is rejected with a clear error, before anything else is read")
    func futureVersion() throws {
        let bytes = try message(version: 2, labels: [99])
        let error = #expect(throws: WireError.self) { try SignalCodec.decode(bytes) }
        #expect(error?.code == .unsupportedVersion)
        #expect(error?.message.contains("newer than this reader supports") == true)
    }

    @Test("a payload without a schema version is rejected")
    func missingVersion() throws {
        #expect(decodeError(try message(version: 0)) == .unsupportedVersion)
        #expect(decodeError([]) == .unsupportedVersion)
    }

    @Test("symbol references past the table are rejected")
    func symbolOutOfRange() throws {
        #expect(decodeError(try message(labels: [1, 3])) == .symbolOutOfRange)
        #expect(decodeError(try message(labels: [UInt32.max, 2])) == .symbolOutOfRange)
    }

    @Test("an odd number of label references is rejected")
    func oddLabelRefs() throws {
        #expect(decodeError(try message(labels: [1, 2, 1])) == .invalidLabels)
    }

    @Test("invalid and duplicate label names and invalid metric names are rejected")
    func invalidLabels() throws {
        #expect(decodeError(try message(symbols: ["", "1bad", "x"], labels: [1, 2])) == .invalidLabels)
        #expect(decodeError(try message(symbols: ["", "job", "a", "b"], labels: [1, 2, 1, 3])) == .invalidLabels)
        #expect(decodeError(try message(symbols: ["", "__name__", "not-a-metric"], labels: [1, 2])) == .invalidLabels)
        let long = String(repeating: "v", count: LabelLimits.default.maxValueBytes + 1)
        #expect(decodeError(try message(symbols: ["", "job", long], labels: [1, 2])) == .invalidLabels)
    }

    @Test("the first symbol must be the empty string")
    func firstSymbol() throws {
        #expect(decodeError(try message(symbols: ["x", "__name__", "up"])) == .malformed)
    }

    @Test("timestamps and values of different counts are rejected")
    func lengthMismatch() throws {
        #expect(decodeError(try message(timestamps: [1, 2], values: [1])) == .mismatchedLengths)
        #expect(decodeError(try message(timestamps: [], values: [1])) == .mismatchedLengths)
    }

    @Test("strings that are not UTF-8 are rejected")
    func invalidUTF8() throws {
        var writer = ProtoWriter()
        writer.varintField(1, 1)
        writer.bytesField(2, [0x61, 0xFF, 0x62])  // source
        #expect(decodeError(writer.bytes) == .malformed)
    }

    @Test("wrong wire types, bad varints and groups are malformed")
    func wireLevelErrors() throws {
        #expect(decodeError([0x08, 0x01, 0x22, 0x05, 0x08]) == .malformed)  // length past the end
        #expect(decodeError([0x08] + [UInt8](repeating: 0xFF, count: 10) + [0x01]) == .malformed)  // 11-byte varint
        #expect(decodeError([0x0A, 0x00]) == .malformed)  // version as length-delimited
        #expect(decodeError([0x08, 0x01, 0x23]) == .malformed)  // start group
        #expect(decodeError([0x08, 0x01, 0x07]) == .malformed)  // wire type 7
        #expect(decodeError([0x08, 0x01, 0x00]) == .malformed)  // field 0
    }

    @Test("every truncation of a valid payload throws or decodes; it never traps")
    func truncations() throws {
        var signals = RandomSignals(seed: 5)
        let bytes = SignalCodec.encode(signals.batchWithEverything())
        var failures = 0
        for length in 0..<bytes.count {
            do { _ = try SignalCodec.decode(bytes[0..<length]) } catch { failures += 1 }
        }
        #expect(failures > bytes.count / 2)
    }

    @Test("10,000 random byte strings throw or decode; they never trap")
    func randomBytes() {
        var random = SeededRandom(seed: 99)
        var decoded = 0
        for round in 0..<10_000 {
            var bytes = (0..<Int.random(in: 0..<200, using: &random)).map { _ in
                UInt8.random(in: 0...255, using: &random)
            }
            if round % 2 == 0 { bytes = [0x08, 0x01] + bytes }  // get past the version check
            if (try? SignalCodec.decode(bytes)) != nil { decoded += 1 }
        }
        #expect(decoded < 10_000)
    }

    @Test("10,000 mutations of valid payloads throw or decode; whatever decodes also parses with SwiftProtobuf")
    func mutations() throws {
        var signals = RandomSignals(seed: 21)
        var random = SeededRandom(seed: 22)
        let payloads = (0..<20).map { _ in SignalCodec.encode(signals.batch()) }
        for round in 0..<10_000 {
            var bytes = payloads[round % payloads.count]
            guard !bytes.isEmpty else { continue }
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.remove(at: index)
                default: bytes.insert(UInt8.random(in: 0...255, using: &random), at: index)
                }
                if bytes.isEmpty { break }
            }
            if let batch = try? SignalCodec.decode(bytes) {
                let message = try? Seismo_Wire_V1_SignalBatch(serializedBytes: bytes)
                #expect(message != nil)
                #expect(message?.series.count == batch.series.count)
            }
        }
    }

    @Test("WireError describes its code, message and offset")
    func errorDescription() {
        let error = WireError(.malformed, "truncated varint", offset: 12)
        #expect(error.description == "malformed: truncated varint (at byte 12)")
    }
}

extension RandomSignals {
    /// A batch with series, logs and spans, whatever the seed.
    mutating func batchWithEverything() -> SignalBatch {
        var batch = self.batch()
        batch.series.append(SeriesSamples(labels: ["__name__": "x"], timestamps: [1, 2], values: [1, .nan]))
        batch.logs.append(log())
        batch.spans.append(span())
        return batch
    }
}
