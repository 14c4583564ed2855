/// One label: a name and a value.
public struct Label: Hashable, Sendable, Comparable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Byte-wise, as Prometheus compares labels: `String`'s `==` would make the NFC and NFD
    /// spellings of "é" equal, although their bytes, and so their `stableHash`, differ.
    /// (`hash(into:)` stays `String`'s: byte-equal strings are also `==` as `String`s.)
    public static func == (lhs: Label, rhs: Label) -> Bool {
        lhs.name.hasSameUTF8(as: rhs.name) && lhs.value.hasSameUTF8(as: rhs.value)
    }

    /// By name, then by value, in UTF-8 byte order.
    public static func < (lhs: Label, rhs: Label) -> Bool {
        if !lhs.name.hasSameUTF8(as: rhs.name) { return lhs.name.utf8.lexicographicallyPrecedes(rhs.name.utf8) }
        return lhs.value.utf8.lexicographicallyPrecedes(rhs.value.utf8)
    }
}

extension String {
    /// True when both strings have the same UTF-8 bytes. Unlike `==`, canonically
    /// equivalent spellings (NFC "\u{E9}" and NFD "e\u{301}") are different.
    func hasSameUTF8(as other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        let contiguous = utf8.withContiguousStorageIfAvailable { lhs in
            other.utf8.withContiguousStorageIfAvailable { rhs in lhs.elementsEqual(rhs) }
        }
        if case let result?? = contiguous { return result }
        return utf8.elementsEqual(other.utf8)
    }
}

/// Bounds that protect workers from hostile label sets.
public struct LabelLimits: Sendable, Hashable {
    public var maxLabels: Int
    public var maxNameBytes: Int
    public var maxValueBytes: Int

    public init(maxLabels: Int = 128, maxNameBytes: Int = 256, maxValueBytes: Int = 16 * 1024) {
        self.maxLabels = maxLabels
        self.maxNameBytes = maxNameBytes
        self.maxValueBytes = maxValueBytes
    }

    public static let `default` = LabelLimits()
}

/// A series' identity: label pairs sorted by name, with unique, valid names.
///
/// As in Prometheus, a label with an empty value is the same as an absent label, so
/// empty values are dropped. The metric name is the `__name__` label.
public struct Labels: Hashable, Sendable, Sequence, CustomStringConvertible {
    /// The label that holds the metric name.
    public static let metricName = "__name__"

    /// The pairs, sorted by name.
    public private(set) var pairs: [Label]

    /// The empty label set.
    public init() { pairs = [] }

    /// Validates and sorts `pairs`. Throws on an invalid or duplicate name, an invalid
    /// metric name, invalid UTF-8 that was repaired upstream, or a set over `limits`.
    public init(validating pairs: some Sequence<Label>, limits: LabelLimits = .default) throws(SeismoError) {
        var sorted: [Label] = []
        for pair in pairs where !pair.value.isEmpty {
            sorted.append(pair)
        }
        if sorted.count > limits.maxLabels {
            throw SeismoError(
                .tooManyLabels, "label set has \(sorted.count) labels, over the limit of \(limits.maxLabels)")
        }
        sorted.sort()
        for (index, pair) in sorted.enumerated() {
            try Labels.validate(pair, limits: limits)
            if index > 0, sorted[index - 1].name == pair.name {
                throw SeismoError(.duplicateLabel, "duplicate label name", context: pair.name)
            }
        }
        self.pairs = sorted
    }

    /// Validates and sorts name/value pairs.
    public init(validating dictionary: [String: String], limits: LabelLimits = .default) throws(SeismoError) {
        try self.init(validating: dictionary.map { Label($0.key, $0.value) }, limits: limits)
    }

    /// Wraps pairs that are known to be sorted, unique and valid (decoded from our own
    /// store or wire format after validation). Checked in debug builds only.
    public init(uncheckedSorted pairs: [Label]) {
        assert(zip(pairs, pairs.dropFirst()).allSatisfy { $0.name < $1.name }, "labels not sorted")
        self.pairs = pairs
    }

    /// The value of label `name`, or nil when absent.
    public subscript(name: String) -> String? {
        var low = 0
        var high = pairs.count - 1
        while low <= high {
            let mid = (low + high) / 2
            let candidate = pairs[mid].name
            // Names are ASCII, so `String` order is byte order; `==` alone would also
            // accept canonical equivalents (the Kelvin sign for "K").
            if candidate == name { return candidate.hasSameUTF8(as: name) ? pairs[mid].value : nil }
            if candidate < name { low = mid + 1 } else { high = mid - 1 }
        }
        return nil
    }

    /// The metric name (`__name__`), when set.
    public var name: String? { self[Labels.metricName] }

    public var count: Int { pairs.count }
    public var isEmpty: Bool { pairs.isEmpty }

    public func makeIterator() -> IndexingIterator<[Label]> { pairs.makeIterator() }

    /// A copy with `name` set to `value` (or removed when `value` is empty).
    /// Throws when `name` or `value` is invalid.
    public func setting(_ name: String, to value: String) throws(SeismoError) -> Labels {
        var copy = pairs.filter { $0.name != name }
        copy.append(Label(name, value))
        return try Labels(validating: copy)
    }

    /// A copy without the named labels.
    public func removing(_ names: Set<String>) -> Labels {
        Labels(uncheckedSorted: pairs.filter { !names.contains($0.name) })
    }

    /// A copy with only the named labels.
    public func keeping(_ names: Set<String>) -> Labels {
        Labels(uncheckedSorted: pairs.filter { names.contains($0.name) })
    }

    /// The stable 64-bit hash of this set: xxHash64 over `name 0xFF value 0xFF …`.
    /// The same labels give the same hash on every machine and in every release.
    public var stableHash: UInt64 {
        var total = 0
        for pair in pairs { total += pair.name.utf8.count + pair.value.utf8.count + 2 }
        // Hashed from a temporary buffer (on the stack when small), not a new array.
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: total) { buffer in
            var at = 0
            for pair in pairs {
                at = Labels.copyUTF8(pair.name, into: buffer, at: at)
                buffer[at] = 0xFF
                at = Labels.copyUTF8(pair.value, into: buffer, at: at + 1)
                buffer[at] = 0xFF
                at += 1
            }
            return XXHash64.hash(UnsafeRawBufferPointer(buffer))
        }
    }

    /// Copies the UTF-8 bytes of `string` into `buffer` at `at`; returns the index after them.
    @inline(__always)
    private static func copyUTF8(_ string: String, into buffer: UnsafeMutableBufferPointer<UInt8>, at: Int) -> Int {
        let count = string.utf8.count
        let copied: Void? = string.utf8.withContiguousStorageIfAvailable { bytes in
            guard let source = bytes.baseAddress, count > 0 else { return }
            (buffer.baseAddress! + at).initialize(from: source, count: count)
        }
        if copied == nil {
            var index = at
            for byte in string.utf8 {
                buffer[index] = byte
                index += 1
            }
        }
        return at + count
    }

    /// Prometheus notation: `name{a="1", b="2"}`.
    public var description: String {
        var out = name ?? ""
        let rest = pairs.filter { $0.name != Labels.metricName }
        if rest.isEmpty && !out.isEmpty { return out }
        out += "{"
        out += rest.map { "\($0.name)=\"\(Labels.escape($0.value))\"" }.joined(separator: ", ")
        out += "}"
        return out
    }

    /// Escapes a label value as the text exposition format does.
    public static func escape(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count)
        for ch in value.unicodeScalars {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(ch)
            }
        }
        return out
    }

    /// True when `name` is a valid label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
    public static func isValidLabelName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            let ok =
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
                || (!first && byte >= 0x30 && byte <= 0x39)
            if !ok { return false }
            first = false
        }
        return !first
    }

    /// True when `name` is a valid metric name: `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    public static func isValidMetricName(_ name: String) -> Bool {
        var first = true
        for byte in name.utf8 {
            let ok =
                (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x41 && byte <= 0x5A) || byte == 0x5F
                || byte == 0x3A || (!first && byte >= 0x30 && byte <= 0x39)
            if !ok { return false }
            first = false
        }
        return !first
    }

    private static func validate(_ pair: Label, limits: LabelLimits) throws(SeismoError) {
        guard isValidLabelName(pair.name) else {
            throw SeismoError(.invalidLabelName, "invalid label name", context: pair.name)
        }
        guard pair.name.utf8.count <= limits.maxNameBytes else {
            throw SeismoError(.invalidLabelName, "label name longer than \(limits.maxNameBytes) bytes")
        }
        guard pair.value.utf8.count <= limits.maxValueBytes else {
            throw SeismoError(
                .invalidLabelValue, "value of label \(pair.name) longer than \(limits.maxValueBytes) bytes")
        }
        if pair.name == metricName, !isValidMetricName(pair.value) {
            throw SeismoError(.invalidMetricName, "invalid metric name", context: pair.value)
        }
    }
}

extension Labels: ExpressibleByDictionaryLiteral {
    /// For literals in code and tests; an invalid literal is a programming error.
    public init(dictionaryLiteral elements: (String, String)...) {
        do {
            try self.init(validating: elements.map { Label($0.0, $0.1) })
        } catch {
            preconditionFailure("invalid label literal: \(error)")
        }
    }
}
