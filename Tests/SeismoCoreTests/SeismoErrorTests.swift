import Testing

@testable import SeismoCore

/// Specification of `SeismoError`: a stable code, a message, optional context.
@Suite("SeismoError")
struct SeismoErrorTests {
    @Test("codes are stable strings")
    func codes() {
        let codes: [SeismoError.Code] = [
            .invalidLabelName, .invalidLabelValue, .invalidMetricName, .duplicateLabel, .tooManyLabels,
            .invalidMatcher, .invalidRegex, .invalidDuration, .invalidTime,
        ]
        #expect(
            codes.map(\.rawValue) == [
                "invalidLabelName", "invalidLabelValue", "invalidMetricName", "duplicateLabel", "tooManyLabels",
                "invalidMatcher", "invalidRegex", "invalidDuration", "invalidTime",
            ])
    }

    @Test("description is the message, followed by the quoted context when there is one")
    func description() {
        #expect(SeismoError(.invalidTime, "invalid time").description == "invalid time")
        #expect(
            SeismoError(.invalidLabelName, "invalid label name", context: "a-b").description
                == #"invalid label name: "a-b""#)
        #expect(SeismoError(.invalidMatcher, "bad", context: "x=\"1\"\n").description == #"bad: "x=\"1\"\n""#)
    }

    @Test("errors from parsers carry the offending input as context")
    func parsersGiveContext() {
        let duration = #expect(throws: SeismoError.self) { try DurationParser.parse("5 minutes") }
        #expect(duration?.context == "5 minutes")
        #expect(duration?.description.hasSuffix(#": "5 minutes""#) == true)
    }
}
