import Testing

@testable import SeismoCore

/// Specification of `Span`: ids in hex, OpenTelemetry's enums, defaults.
@Suite("Span")
struct SpanTests {
    static let traceID: [UInt8] = [
        0x4B, 0xF9, 0x2F, 0x35, 0x77, 0xB3, 0x4D, 0xA6, 0xA3, 0xCE, 0x92, 0x9D, 0x0E, 0x0E, 0x47, 0x36,
    ]
    static let spanID: [UInt8] = [0x00, 0xF0, 0x67, 0xAA, 0x0B, 0xA9, 0x02, 0xB7]

    @Test(
        "hex is lowercase, two digits per byte, keeping leading zeros",
        arguments: [
            ([], ""), ([0x00], "00"), ([0x0F], "0f"), ([0xF0], "f0"), ([0xFF], "ff"),
            ([0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF], "0123456789abcdef"),
        ] as [([UInt8], String)])
    func hex(bytes: [UInt8], text: String) {
        #expect(Span.hex(bytes) == text)
    }

    @Test("hex of every byte value is its two-digit lowercase spelling")
    func hexAllBytes() {
        let all = (0...255).map { UInt8($0) }
        let digits = Array("0123456789abcdef")
        let expected = String(all.flatMap { [digits[Int($0) / 16], digits[Int($0) % 16]] })
        #expect(Span.hex(all) == expected)
        #expect(Span.hex(all).count == 512)
    }

    @Test("trace and span ids print as the W3C trace-context example does")
    func idHex() {
        let span = Span(
            traceID: Self.traceID, spanID: Self.spanID, service: "checkout", name: "GET /cart", startUnixNanos: 0,
            durationNanos: 0)
        #expect(span.traceIDHex == "4bf92f3577b34da6a3ce929d0e0e4736")
        #expect(span.spanIDHex == "00f067aa0ba902b7")
    }

    @Test("a span defaults to a root span of unspecified kind and unset status, without attributes")
    func defaults() {
        let span = Span(
            traceID: Self.traceID, spanID: Self.spanID, service: "checkout", name: "GET /cart", startUnixNanos: 5,
            durationNanos: 7)
        #expect(span.parentSpanID == nil)
        #expect(span.kind == .unspecified)
        #expect(span.status == .unset)
        #expect(span.statusMessage == "")
        #expect(span.attributes.isEmpty)
        #expect(span.startUnixNanos == 5)
        #expect(span.durationNanos == 7)
    }

    @Test("kinds and status codes carry OpenTelemetry's numbers")
    func otelNumbers() {
        #expect(Span.Kind.allCases.map(\.rawValue) == [0, 1, 2, 3, 4, 5])
        #expect(Span.Kind.server.rawValue == 2)
        #expect(Span.Kind.consumer.rawValue == 5)
        #expect(Span.StatusCode.allCases.map(\.rawValue) == [0, 1, 2])
        #expect(Span.StatusCode.error.rawValue == 2)
    }

    @Test("spans are equal when every field is")
    func equality() {
        let a = Span(
            traceID: Self.traceID, spanID: Self.spanID, service: "s", name: "n", startUnixNanos: 1, durationNanos: 2)
        var b = a
        #expect(a == b)
        b.parentSpanID = Self.spanID
        #expect(a != b)
    }
}
