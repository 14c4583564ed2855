/// A fitted model that a weights file can hold (layout per kind in `models/README.md`).
public protocol PersistableModel: Sendable {
    static var kind: ModelKind { get }
    /// Writes everything needed to rebuild the model, little-endian.
    func encodePayload(into writer: inout ModelWriter)
    /// Rebuilds the model from ``encodePayload(into:)``'s bytes; throws `invalidData` on damage.
    static func decodePayload(from reader: inout ModelReader) throws -> Self
}

extension PersistableModel {
    /// The complete weights file: header, payload, checksum.
    public func weightsFileBytes() -> [UInt8] {
        var writer = ModelWriter()
        encodePayload(into: &writer)
        return WeightsFile.encode(kind: Self.kind, payload: writer.bytes)
    }

    /// Reads a weights file of this kind.
    public static func decode(weightsFile bytes: [UInt8]) throws -> Self {
        let decoded = try WeightsFile.decode(bytes)
        guard decoded.kind == Self.kind else {
            throw DetectError(.invalidData, "weights file holds a \(decoded.kind.typeName) model, expected \(Self.kind.typeName)")
        }
        var reader = decoded.payload
        let model = try decodePayload(from: &reader)
        guard reader.isAtEnd else { throw DetectError(.invalidData, "weights payload has trailing bytes") }
        return model
    }
}

/// Checks made while decoding: node indices in range, counts that agree.
enum PayloadCheck {
    static func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw DetectError(.invalidData, "weights: \(message())") }
    }

    /// Every child index is -1 or a valid node.
    static func nodes(_ indices: [Int32], count: Int, _ what: String) throws {
        try require(indices.allSatisfy { $0 >= -1 && Int($0) < count }, "\(what) index out of range")
    }
}
