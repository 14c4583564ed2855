import Foundation
import Testing
@testable import SeismoPipeline

/// The repository root (this file is Tests/SeismoPipelineTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// A minimal valid spec to build variations on.
let minimalSpec = """
    pipeline: t
    kafka:
      topics:
        signals.t: {key_by: [service]}
    streams:
      - name: s
        topic: signals.t
        window: {size: 1m}
        by: [service]
        aggregations:
          n: {fn: count}
    """

/// The issues of loading `yaml`, or an empty list when it loads.
func issues(_ yaml: String) -> [PipelineIssue] {
    do {
        _ = try PipelineLoader.load(yaml: yaml, file: "t.yaml")
        return []
    } catch {
        return error.issues
    }
}

/// Loads `yaml`, failing the test with every issue when it does not load.
func load(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Pipeline {
    do {
        return try PipelineLoader.load(yaml: yaml, file: "t.yaml")
    } catch {
        Issue.record("\(error)", sourceLocation: sourceLocation)
        throw error
    }
}

/// The single issue of loading `yaml`.
func onlyIssue(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> PipelineIssue {
    let found = issues(yaml)
    #expect(found.count == 1, "\(found.map(\.description))", sourceLocation: sourceLocation)
    return try #require(found.first, sourceLocation: sourceLocation)
}
