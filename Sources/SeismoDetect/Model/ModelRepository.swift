import Foundation

/// Model files on disk: `<root>/<pipeline>/<detector>/<version>/{model.json,weights.bin}`, with the
/// live version named by `<root>/<pipeline>/<detector>/CURRENT` (one line, replaced atomically).
///
/// Versions are `v1`, `v2`, …; a version directory is written under a temporary name and renamed
/// into place, so a reader never sees half a model.
public struct ModelRepository: Sendable {
    public static let metadataFile = "model.json"
    public static let weightsFile = "weights.bin"
    public static let pointerFile = "CURRENT"

    public let root: String

    public init(root: String) { self.root = root }

    /// A stored model: its metadata and fitted weights.
    public struct StoredModel: Sendable, Equatable {
        public var metadata: ModelMetadata
        public var model: TrainedModel
    }

    /// One row of ``list()``.
    public struct Listing: Sendable, Equatable {
        public var pipeline: String
        public var detector: String
        public var version: String
        public var isCurrent: Bool
        /// Nil when `model.json` cannot be read (the reason is in `problem`).
        public var metadata: ModelMetadata?
        public var problem: String?
    }

    public func directory(pipeline: String, detector: String) -> String {
        (root as NSString).appendingPathComponent("\(pipeline)/\(detector)")
    }

    public func directory(pipeline: String, detector: String, version: String) -> String {
        (directory(pipeline: pipeline, detector: detector) as NSString).appendingPathComponent(version)
    }

    /// Versions of (pipeline, detector), oldest first.
    public func versions(pipeline: String, detector: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory(pipeline: pipeline, detector: detector))) ?? []
        return names.compactMap { name in Self.versionNumber(name).map { (name, $0) } }.sorted { $0.1 < $1.1 }.map(\.0)
    }

    static func versionNumber(_ name: String) -> Int? {
        guard name.hasPrefix("v"), let n = Int(name.dropFirst()), n >= 1, "v\(n)" == name else { return nil }
        return n
    }

    /// Writes a trained model as the next version and returns the version name.
    public func write(
        _ result: TrainingResult, pipeline: String, detector: String, seed: UInt64, window: ModelMetadata.TrainingWindow,
        data: TrainingSet, createdAt: Date = Date()
    ) throws -> (version: String, metadata: ModelMetadata) {
        let fm = FileManager.default
        let parent = directory(pipeline: pipeline, detector: detector)
        try create(parent)
        let weights = result.model.weightsFileBytes()
        let standardisation = data.standardisation()
        let applied = result.model.kind == .autoencoder
        let features = data.featureNames.enumerated().map { i, name in
            ModelMetadata.Feature(
                name: name, mean: standardisation[i].mean, standardDeviation: standardisation[i].standardDeviation,
                applied: applied)
        }
        for attempt in 0..<100 {
            let version = "v\((versions(pipeline: pipeline, detector: detector).last.flatMap(Self.versionNumber) ?? 0) + 1)"
            let metadata = ModelMetadata(
                type: result.model.kind.typeName, pipeline: pipeline, detector: detector, version: version,
                createdAt: ISO8601DateFormatter().string(from: createdAt), seismoVersion: SeismoBuild.version, seed: seed,
                parameters: result.parameters, features: features, trainingWindow: window,
                dataFingerprint: data.fingerprint, metrics: result.metrics,
                threshold: .init(
                    raw: result.model.rawThreshold, falsePositiveRate: result.falsePositiveRate,
                    trainingExceedance: result.trainingExceedance),
                weights: .init(file: Self.weightsFile, bytes: weights.count, formatVersion: Int(WeightsFile.formatVersion)))
            let staging = (parent as NSString).appendingPathComponent(".\(version).tmp-\(ProcessInfo.processInfo.processIdentifier)-\(attempt)")
            try? fm.removeItem(atPath: staging)
            try create(staging)
            do {
                try Data(weights).write(to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent(Self.weightsFile)))
                try metadata.jsonData().write(
                    to: URL(fileURLWithPath: (staging as NSString).appendingPathComponent(Self.metadataFile)))
            } catch {
                try? fm.removeItem(atPath: staging)
                throw DetectError(.io, "cannot write model files in \(staging): \(error)")
            }
            // rename(2) fails when the target exists: another trainer took this version; try the next.
            if rename(staging, (parent as NSString).appendingPathComponent(version)) == 0 { return (version, metadata) }
            try? fm.removeItem(atPath: staging)
        }
        throw DetectError(.io, "cannot allocate a model version in \(parent)")
    }

    /// Reads a version's metadata.
    public func metadata(pipeline: String, detector: String, version: String) throws -> ModelMetadata {
        let path = (directory(pipeline: pipeline, detector: detector, version: version) as NSString)
            .appendingPathComponent(Self.metadataFile)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DetectError(.io, "no model \(pipeline)/\(detector)/\(version) (\(path) is missing)")
        }
        return try ModelMetadata.decode(data)
    }

    /// Reads and checks a version: the weights decode, and agree with the metadata on type and features.
    public func load(pipeline: String, detector: String, version: String) throws -> StoredModel {
        let metadata = try metadata(pipeline: pipeline, detector: detector, version: version)
        let path = (directory(pipeline: pipeline, detector: detector, version: version) as NSString)
            .appendingPathComponent(metadata.weights.file)
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw DetectError(.io, "\(path) is missing")
        }
        let model: TrainedModel
        do {
            model = try TrainedModel.decode(weightsFile: [UInt8](bytes))
        } catch let error as DetectError {
            throw DetectError(error.code, "\(path): \(error.message)")
        }
        guard model.kind.typeName == metadata.type else {
            throw DetectError(.invalidData, "\(path) holds a \(model.kind.typeName) model, model.json says \(metadata.type)")
        }
        guard model.featureNames == metadata.features.map(\.name) else {
            throw DetectError(
                .invalidData, "\(path) reads features \(model.featureNames), model.json lists \(metadata.features.map(\.name))")
        }
        return StoredModel(metadata: metadata, model: model)
    }

    /// The promoted version, or nil when nothing is promoted.
    public func current(pipeline: String, detector: String) -> String? {
        let path = (directory(pipeline: pipeline, detector: detector) as NSString).appendingPathComponent(Self.pointerFile)
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return name.isEmpty ? nil : name
    }

    /// Makes `version` live: checks that it loads, then replaces `CURRENT` atomically (write + rename).
    @discardableResult
    public func promote(pipeline: String, detector: String, version: String) throws -> StoredModel {
        let stored = try load(pipeline: pipeline, detector: detector, version: version)
        let parent = directory(pipeline: pipeline, detector: detector)
        let staging = (parent as NSString).appendingPathComponent(".CURRENT.tmp-\(ProcessInfo.processInfo.processIdentifier)")
        do {
            try Data((version + "\n").utf8).write(to: URL(fileURLWithPath: staging))
        } catch {
            throw DetectError(.io, "cannot write \(staging): \(error)")
        }
        guard rename(staging, (parent as NSString).appendingPathComponent(Self.pointerFile)) == 0 else {
            try? FileManager.default.removeItem(atPath: staging)
            throw DetectError(.io, "cannot replace \(parent)/CURRENT (errno \(errno))")
        }
        return stored
    }

    /// Every version under the root, by pipeline, detector and version.
    public func list(pipeline: String? = nil) -> [Listing] {
        let fm = FileManager.default
        let pipelines = pipeline.map { [$0] } ?? ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted()
        var out: [Listing] = []
        for p in pipelines where !p.hasPrefix(".") {
            let detectors = ((try? fm.contentsOfDirectory(atPath: (root as NSString).appendingPathComponent(p))) ?? []).sorted()
            for d in detectors where !d.hasPrefix(".") {
                let current = self.current(pipeline: p, detector: d)
                for v in versions(pipeline: p, detector: d) {
                    var listing = Listing(pipeline: p, detector: d, version: v, isCurrent: v == current)
                    do {
                        listing.metadata = try metadata(pipeline: p, detector: d, version: v)
                    } catch {
                        listing.problem = "\(error)"
                    }
                    out.append(listing)
                }
            }
        }
        return out
    }

    private func create(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw DetectError(.io, "cannot create \(path): \(error)")
        }
    }
}
