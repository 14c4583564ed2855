#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Encodes and decodes `AnomalyEvent` as JSON (header `content-type: application/json`).
public enum AnomalyEventCodec {
    private static let nonFinite = (positiveInfinity: "+Inf", negativeInfinity: "-Inf", nan: "NaN")

    /// The event as compact JSON with sorted keys, so equal events give equal bytes.
    public static func encode(_ event: AnomalyEvent) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        do {
            return Array(try encoder.encode(event))
        } catch {
            // Every field is a string, an integer, or a double (non-finite ones become strings).
            preconditionFailure("AnomalyEvent is always encodable: \(error)")
        }
    }

    /// Decodes an event. Throws `.unsupportedVersion` for another `schema`, and
    /// `.invalidJSON` for anything that is not a valid `seismo.anomaly.v1` event.
    public static func decode(_ bytes: some Collection<UInt8>) throws(WireError) -> AnomalyEvent {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: nonFinite.positiveInfinity, negativeInfinity: nonFinite.negativeInfinity,
            nan: nonFinite.nan)
        do {
            return try decoder.decode(AnomalyEvent.self, from: Data(bytes))
        } catch let mismatch as AnomalyEvent.SchemaMismatch {
            throw WireError(
                .unsupportedVersion,
                "anomaly event schema \(mismatch.found.debugDescription) is not \(AnomalyEvent.schemaName)")
        } catch let error as DecodingError {
            throw WireError(.invalidJSON, describe(error))
        } catch {
            throw WireError(.invalidJSON, "\(error)")
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            return keys.isEmpty ? "" : " at \(keys.joined(separator: "."))"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field \(key.stringValue)\(path(context))"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            return "\(context.debugDescription)\(path(context))"
        @unknown default:
            return "\(error)"
        }
    }
}
