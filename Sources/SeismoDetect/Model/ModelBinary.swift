import SeismoCore

/// The kinds of weights file, as numbered in the file header (`models/README.md`).
public enum ModelKind: UInt16, Sendable, CaseIterable, Codable {
    case isolationForest = 1
    case extendedIsolationForest = 2
    case autoencoder = 3
    case seasonal = 4

    /// The detector type name used in metadata and pipeline YAML.
    public var typeName: String {
        switch self {
        case .isolationForest: "isolation_forest"
        case .extendedIsolationForest: "extended_isolation_forest"
        case .autoencoder: "autoencoder"
        case .seasonal: "seasonal"
        }
    }

    public init?(typeName: String) {
        guard let kind = Self.allCases.first(where: { $0.typeName == typeName }) else { return nil }
        self = kind
    }
}

/// Writes the little-endian payload of a weights file.
public struct ModelWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    mutating func u8(_ x: UInt8) { bytes.append(x) }
    mutating func u16(_ x: UInt16) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ x: UInt64) { withUnsafeBytes(of: x.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i32(_ x: Int32) { u32(UInt32(bitPattern: x)) }
    mutating func f32(_ x: Float) { u32(x.bitPattern) }
    mutating func f64(_ x: Double) { u64(x.bitPattern) }
    mutating func int(_ x: Int) { u64(UInt64(bitPattern: Int64(x))) }
    mutating func bool(_ x: Bool) { u8(x ? 1 : 0) }

    /// A string: u32 byte count, then UTF-8.
    mutating func string(_ s: String) {
        u32(UInt32(s.utf8.count))
        bytes.append(contentsOf: s.utf8)
    }

    /// An array: u64 element count, then the elements.
    mutating func array<T>(_ values: [T], _ element: (inout ModelWriter, T) -> Void) {
        u64(UInt64(values.count))
        for v in values { element(&self, v) }
    }

    mutating func f64s(_ values: [Double]) { array(values) { $0.f64($1) } }
    mutating func f32s(_ values: [Float]) { array(values) { $0.f32($1) } }
    mutating func i32s(_ values: [Int32]) { array(values) { $0.i32($1) } }
    mutating func strings(_ values: [String]) { array(values) { $0.string($1) } }
}

/// Reads what ``ModelWriter`` wrote; every read is bounds-checked and throws `invalidData`.
public struct ModelReader: Sendable {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        position = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { position == end }

    private mutating func take(_ count: Int) throws -> Int {
        guard count >= 0, end - position >= count else {
            throw DetectError(.invalidData, "weights file truncated at byte \(position) (needs \(count) more)")
        }
        defer { position += count }
        return position
    }

    private mutating func fixed<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let start = try take(MemoryLayout<T>.size)
        var x: T = 0
        for i in 0..<MemoryLayout<T>.size { x |= T(bytes[start + i]) << (8 * i) }
        return x
    }

    mutating func u8() throws -> UInt8 { try fixed(UInt8.self) }
    mutating func u16() throws -> UInt16 { try fixed(UInt16.self) }
    mutating func u32() throws -> UInt32 { try fixed(UInt32.self) }
    mutating func u64() throws -> UInt64 { try fixed(UInt64.self) }
    mutating func i32() throws -> Int32 { Int32(bitPattern: try u32()) }
    mutating func f32() throws -> Float { Float(bitPattern: try u32()) }
    mutating func f64() throws -> Double { Double(bitPattern: try u64()) }
    mutating func int() throws -> Int {
        let x = Int64(bitPattern: try u64())
        guard let value = Int(exactly: x) else { throw DetectError(.invalidData, "integer \(x) out of range") }
        return value
    }
    mutating func bool() throws -> Bool {
        switch try u8() {
        case 0: return false
        case 1: return true
        case let b: throw DetectError(.invalidData, "byte \(position - 1): boolean must be 0 or 1, got \(b)")
        }
    }

    mutating func string() throws -> String {
        let count = Int(try u32())
        let start = try take(count)
        guard let s = String(validating: bytes[start..<(start + count)], as: UTF8.self) else {
            throw DetectError(.invalidData, "byte \(start): string is not UTF-8")
        }
        return s
    }

    /// An array of `size`-byte elements (the size bounds the count before anything is allocated).
    mutating func array<T>(elementSize: Int, _ element: (inout ModelReader) throws -> T) throws -> [T] {
        let count = try u64()
        guard count <= UInt64(max(0, end - position) / max(1, elementSize)) else {
            throw DetectError(.invalidData, "byte \(position): array of \(count) elements does not fit in the file")
        }
        var out: [T] = []
        out.reserveCapacity(Int(count))
        for _ in 0..<count { out.append(try element(&self)) }
        return out
    }

    mutating func f64s() throws -> [Double] { try array(elementSize: 8) { try $0.f64() } }
    mutating func f32s() throws -> [Float] { try array(elementSize: 4) { try $0.f32() } }
    mutating func i32s() throws -> [Int32] { try array(elementSize: 4) { try $0.i32() } }
    mutating func strings() throws -> [String] { try array(elementSize: 4) { try $0.string() } }
}

/// The weights file: a 16-byte header, the payload, and a checksum (see `models/README.md`).
///
/// | bytes | content |
/// |---|---|
/// | 0–3 | magic `SMDW` |
/// | 4–5 | format version, u16 (1) |
/// | 6–7 | model kind, u16 (``ModelKind``) |
/// | 8–15 | payload length *n*, u64 |
/// | 16 ..< 16+*n* | payload |
/// | 16+*n* ..< 24+*n* | xxHash64 (seed 0) of the payload, u64 |
public enum WeightsFile {
    public static let magic: [UInt8] = Array("SMDW".utf8)
    public static let formatVersion: UInt16 = 1

    /// The whole file for `payload`.
    public static func encode(kind: ModelKind, payload: [UInt8]) -> [UInt8] {
        var header = ModelWriter()
        header.u16(formatVersion)
        header.u16(kind.rawValue)
        header.u64(UInt64(payload.count))
        var out = magic + header.bytes + payload
        var tail = ModelWriter()
        tail.u64(XXHash64.hash(payload))
        out += tail.bytes
        return out
    }

    /// Checks the header and checksum; returns the kind and a reader over the payload.
    public static func decode(_ bytes: [UInt8]) throws -> (kind: ModelKind, payload: ModelReader) {
        guard bytes.count >= 24, Array(bytes[0..<4]) == magic else {
            throw DetectError(.invalidData, "not a Seismo weights file (magic SMDW missing)")
        }
        var header = ModelReader(bytes, range: 4..<16)
        let version = try header.u16()
        guard version == formatVersion else {
            throw DetectError(.invalidData, "weights format version \(version) is not supported (this build reads \(formatVersion))")
        }
        let rawKind = try header.u16()
        guard let kind = ModelKind(rawValue: rawKind) else {
            throw DetectError(.invalidData, "unknown model kind \(rawKind) in weights header")
        }
        let length = try header.u64()
        guard length == UInt64(bytes.count - 24) else {
            throw DetectError(.invalidData, "weights payload is \(bytes.count - 24) bytes, header says \(length)")
        }
        let payloadEnd = 16 + Int(length)
        var tail = ModelReader(bytes, range: payloadEnd..<bytes.count)
        let checksum = try tail.u64()
        let actual = bytes[16..<payloadEnd].withUnsafeBytes { XXHash64.hash($0) }
        guard checksum == actual else { throw DetectError(.invalidData, "weights checksum mismatch: the file is damaged") }
        return (kind, ModelReader(bytes, range: 16..<payloadEnd))
    }
}
