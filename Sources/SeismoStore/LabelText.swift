import GRDB
import SeismoCore

/// The text form of a label set in the `series` and `groups` tables: `a="1",b="x\"y"`,
/// pairs in label order, values escaped as in the exposition format (`\\`, `\"`, `\n`).
/// The encoding is injective, so comparing texts compares label sets byte for byte.
enum LabelText {
    static func encode(_ labels: Labels) -> String {
        var out = ""
        out.reserveCapacity(labels.pairs.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count + 4 })
        var first = true
        for pair in labels.pairs {
            if !first { out.append(",") }
            first = false
            out.append(pair.name)
            out.append("=\"")
            out.append(Labels.escape(pair.value))
            out.append("\"")
        }
        return out
    }

    /// Decodes text written by `encode`; throws `.corrupt` on anything else.
    static func decode(_ text: String) throws(StoreError) -> Labels {
        var pairs: [Label] = []
        var bytes = text.utf8[...]
        while !bytes.isEmpty {
            guard let eq = bytes.firstIndex(of: UInt8(ascii: "=")) else { throw corrupt(text) }
            let name = String(decoding: bytes[..<eq], as: UTF8.self)
            bytes = bytes[bytes.index(after: eq)...]
            guard bytes.first == UInt8(ascii: "\"") else { throw corrupt(text) }
            bytes = bytes.dropFirst()
            var value: [UInt8] = []
            var closed = false
            while let byte = bytes.first {
                bytes = bytes.dropFirst()
                if byte == UInt8(ascii: "\\") {
                    guard let next = bytes.first else { throw corrupt(text) }
                    bytes = bytes.dropFirst()
                    switch next {
                    case UInt8(ascii: "n"): value.append(UInt8(ascii: "\n"))
                    case UInt8(ascii: "\\"), UInt8(ascii: "\""): value.append(next)
                    default: throw corrupt(text)
                    }
                } else if byte == UInt8(ascii: "\"") {
                    closed = true
                    break
                } else {
                    value.append(byte)
                }
            }
            guard closed, !name.isEmpty else { throw corrupt(text) }
            pairs.append(Label(name, String(decoding: value, as: UTF8.self)))
            if let comma = bytes.first {
                guard comma == UInt8(ascii: ","), bytes.count > 1 else { throw corrupt(text) }
                bytes = bytes.dropFirst()
            }
        }
        return Labels(uncheckedSorted: pairs)
    }

    private static func corrupt(_ text: String) -> StoreError {
        StoreError(.corrupt, "stored label set is not valid: \(text.prefix(200))")
    }
}

/// How a sample value is stored: a REAL, NULL for NaN (SQLite stores NaN as NULL anyway),
/// and the text `stale` for Prometheus's staleness marker, which would otherwise be lost.
enum SampleValue {
    static let staleText = "stale"

    static func encode(_ value: Double) -> DatabaseValue {
        if value.isNaN { return StaleMarker.isStale(value) ? staleText.databaseValue : .null }
        return value.databaseValue
    }

    static func decode(_ value: DatabaseValue) -> Double {
        switch value.storage {
        case .double(let double): return double
        case .int64(let int): return Double(int)
        case .string(let text) where text == staleText: return StaleMarker.value
        default: return .nan
        }
    }
}

/// A label set as a dictionary key that hashes its UTF-8 bytes directly: cheaper than
/// `String`'s hashing, and consistent with `Label`'s byte-wise `==`.
struct SeriesKey: Hashable, Sendable {
    let labels: Labels

    init(_ labels: Labels) { self.labels = labels }

    static func == (lhs: SeriesKey, rhs: SeriesKey) -> Bool { lhs.labels == rhs.labels }

    func hash(into hasher: inout Hasher) {
        for pair in labels.pairs {
            var name = pair.name
            var value = pair.value
            name.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            hasher.combine(0xFF as UInt8)
            value.withUTF8 { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
            hasher.combine(0xFF as UInt8)
        }
    }
}
