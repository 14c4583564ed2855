import SeismoCore

/// A line of text input that could not be used, and why.
public struct ParseIssue: Sendable, Hashable, CustomStringConvertible {
    /// 1-based line number.
    public var line: Int
    public var message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// What a text parser read: the samples of every good line and an issue per bad line.
public struct ParseResult: Sendable, Equatable {
    public var samples: [Sample]
    public var issues: [ParseIssue]

    public init(samples: [Sample] = [], issues: [ParseIssue] = []) {
        self.samples = samples
        self.issues = issues
    }
}

/// Number spellings shared by the text formats.
enum TextNumbers {
    /// Parses a float as Prometheus does: decimal or exponent notation, `NaN`, `Inf`,
    /// `+Inf`, `-Inf` (case-insensitive, also `infinity`).
    static func double(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        if let whole = wholeNumber(bytes) { return whole }
        if let special = special(bytes) { return special }
        // Reject what `Double(String)` accepts but Prometheus does not: spaces and `nan(…)`.
        for byte in bytes {
            switch byte {
            case 0x30...0x39, 0x2B, 0x2D, 0x2E, 0x45, 0x65, 0x78, 0x58, 0x70, 0x50, 0x61...0x66, 0x41...0x46:
                continue
            default:
                return nil
            }
        }
        return Double(String(decoding: bytes, as: UTF8.self))
    }

    /// An optionally signed run of at most 15 digits, which a `Double` holds exactly: the
    /// value `Double(String)` gives (`-0` included), without making a `String`.
    @inline(__always)
    private static func wholeNumber(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let signed = bytes[0] == 0x2B || bytes[0] == 0x2D
        guard bytes.count - (signed ? 1 : 0) <= 15, let value = int64(bytes) else { return nil }
        return value == 0 && bytes[0] == 0x2D ? -0.0 : Double(value)
    }

    private static func special(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        var start = 0
        var negative = false
        if bytes[0] == 0x2B || bytes[0] == 0x2D {
            negative = bytes[0] == 0x2D
            start = 1
        }
        let rest = bytes.count - start
        guard rest == 3 || rest == 8 else { return nil }
        var lowered: UInt64 = 0
        for index in start..<bytes.count { lowered = lowered << 8 | UInt64(bytes[index] | 0x20) }
        switch (lowered, rest) {
        case (0x6E_616E, 3): return start == 0 ? .nan : nil  // nan
        case (0x69_6E66, 3), (0x696E_6669_6E69_7479, 8): return negative ? -.infinity : .infinity  // inf, infinity
        default: return nil
        }
    }

    /// Parses a decimal Int64 with an optional sign.
    static func int64(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard !bytes.isEmpty else { return nil }
        var index = 0
        var negative = false
        if bytes[0] == 0x2B || bytes[0] == 0x2D {
            negative = bytes[0] == 0x2D
            index = 1
        }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (next, o2) =
                negative ? times10.subtractingReportingOverflow(Int64(digit)) : times10.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { return nil }
            value = next
            index += 1
        }
        return value
    }
}
