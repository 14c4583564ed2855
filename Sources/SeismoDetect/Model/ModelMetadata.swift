import Foundation

/// The version of Seismo that writes model files.
public enum SeismoBuild {
    public static let version = "0.4.0-dev"
}

/// A parameter value in model metadata (plain JSON: number, string, bool or list).
public enum ModelValue: Sendable, Equatable, Codable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case list([ModelValue])

    public var number: Double? { if case .number(let x) = self { x } else { nil } }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var numbers: [Double]? {
        if case .list(let items) = self { items.compactMap(\.number).count == items.count ? items.compactMap(\.number) : nil } else { nil }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let x = try? c.decode(Double.self) {
            self = .number(x)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else {
            self = .list(try c.decode([ModelValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .number(let x): try c.encode(x)
        case .string(let s): try c.encode(s)
        case .bool(let b): try c.encode(b)
        case .list(let items): try c.encode(items)
        }
    }
}

/// `model.json`: what a model is, what it was trained on, how well, and where its weights are.
public struct ModelMetadata: Sendable, Equatable, Codable {
    /// A feature the model reads, with the training data's mean and standard deviation.
    public struct Feature: Sendable, Equatable, Codable {
        public var name: String
        public var mean: Double
        public var standardDeviation: Double
        /// Whether the model standardises the feature with these before scoring (the autoencoder does;
        /// the forests and the seasonal forecast are scale-free and only record them).
        public var applied: Bool

        enum CodingKeys: String, CodingKey {
            case name, mean, applied
            case standardDeviation = "standard_deviation"
        }
    }

    /// The data the model was fitted on.
    public struct TrainingWindow: Sendable, Equatable, Codable {
        /// RFC 3339 times of the first and last training row.
        public var from: String?
        public var to: String?
        public var rows: Int
        /// Rows left out because a feature was missing or not finite.
        public var skippedRows: Int
        public var groups: Int
        /// Where the rows came from (`csv:PATH` or `store:PATH#TABLE`).
        public var source: String

        public init(from: String?, to: String?, rows: Int, skippedRows: Int, groups: Int, source: String) {
            self.from = from
            self.to = to
            self.rows = rows
            self.skippedRows = skippedRows
            self.groups = groups
            self.source = source
        }

        enum CodingKeys: String, CodingKey {
            case from, to, rows, groups, source
            case skippedRows = "skipped_rows"
        }
    }

    /// The threshold on the raw score; scores are raw / `raw`, so above 1 is anomalous.
    public struct Threshold: Sendable, Equatable, Codable {
        public var raw: Double
        /// The target: the fraction of training rows allowed above the threshold.
        public var falsePositiveRate: Double
        /// The fraction of training rows actually above it.
        public var trainingExceedance: Double

        enum CodingKeys: String, CodingKey {
            case raw
            case falsePositiveRate = "false_positive_rate"
            case trainingExceedance = "training_exceedance"
        }
    }

    /// The weights file beside this one.
    public struct Weights: Sendable, Equatable, Codable {
        public var file: String
        public var bytes: Int
        /// Format version from the file header.
        public var formatVersion: Int

        enum CodingKeys: String, CodingKey {
            case file, bytes
            case formatVersion = "format_version"
        }
    }

    public var format = "seismo.model.v1"
    /// The detector type (`isolation_forest`, `extended_isolation_forest`, `autoencoder`, `seasonal`).
    public var type: String
    public var pipeline: String
    public var detector: String
    public var version: String
    public var createdAt: String
    public var seismoVersion: String
    public var seed: UInt64
    /// Training parameters with defaults filled in, as named in the pipeline YAML.
    public var parameters: [String: ModelValue]
    public var features: [Feature]
    public var trainingWindow: TrainingWindow
    /// `xxh64:` and 16 hex digits over the training rows (times, groups, values; see `models/README.md`).
    public var dataFingerprint: String
    public var metrics: [String: Double]
    public var threshold: Threshold
    public var weights: Weights

    enum CodingKeys: String, CodingKey {
        case format, type, pipeline, detector, version, seed, parameters, features, metrics, threshold, weights
        case createdAt = "created_at"
        case seismoVersion = "seismo_version"
        case trainingWindow = "training_window"
        case dataFingerprint = "data_fingerprint"
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return d
    }

    public func jsonData() throws -> Data { try Self.encoder.encode(self) }

    public static func decode(_ data: Data) throws -> ModelMetadata {
        do {
            return try decoder.decode(ModelMetadata.self, from: data)
        } catch {
            throw DetectError(.invalidData, "model.json: \(error)")
        }
    }
}
