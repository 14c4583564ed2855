import Foundation
import SeismoCore
import SeismoPipeline
import SeismoWire

/// Replays the samples of a CSV or Prometheus exposition file, in time order.
///
/// The file is parsed with SeismoWire's parsers; a bad line is an `issue` (with its line
/// number) and is skipped. Samples are ordered by timestamp (file order among equals) and
/// handed out one timestamp per batch. Exposition samples without a timestamp get the
/// replay's current time: that of the latest timestamped sample above them in the file, or
/// the replay's start (`now`) when there is none. With `loop`, each further pass shifts
/// every timestamp forward by the file's period: its span (last − first timestamp) plus
/// its smallest gap between timestamps (1 s when it has a single timestamp). Pacing
/// (`speed`) is the `CollectorService`'s job: it spaces batches by their event time.
public struct FileReplaySource: CollectorSource {
    public let spec: FileReplaySpec
    /// The lines that could not be used.
    public let issues: [ParseIssue]
    /// The shift between passes, in milliseconds.
    public let period: Int64
    /// The number of samples in one pass.
    public var sampleCount: Int { samples.count }

    private let samples: [Sample]
    private var position = 0
    private var pass: Int64 = 0

    /// Reads and parses `spec.path`. Throws `.unreadableFile` when the file cannot be read
    /// and `.emptyInput` when it holds no usable sample.
    public init(spec: FileReplaySpec, now: Timestamp = .now, defaultMetricName: String = "value") throws(CollectError) {
        guard let data = FileManager.default.contents(atPath: spec.path) else {
            throw CollectError(.unreadableFile, "cannot read the replay file", context: spec.path)
        }
        try self.init(spec: spec, contents: Array(data), now: now, defaultMetricName: defaultMetricName)
    }

    /// Parses `contents` as the file `spec.path`.
    public init(spec: FileReplaySpec, contents: [UInt8], now: Timestamp = .now, defaultMetricName: String = "value")
        throws(CollectError)
    {
        self.spec = spec
        var result: ParseResult
        switch spec.format {
        case .csv:
            result = CSVSignalParser.parse(contents, defaultMetricName: defaultMetricName, now: now)
        case .exposition:
            let unset = Timestamp(milliseconds: .min)
            result = ExpositionParser.parse(contents, defaultTimestamp: unset)
            var current = now
            for index in result.samples.indices {
                if result.samples[index].timestamp == unset {
                    result.samples[index].timestamp = current
                } else {
                    current = result.samples[index].timestamp
                }
            }
        }
        issues = result.issues
        guard !result.samples.isEmpty else {
            throw CollectError(
                .emptyInput, "no samples to replay (\(result.issues.count) line(s) rejected)", context: spec.path)
        }
        // A stable sort by time.
        samples = result.samples.enumerated().sorted {
            ($0.element.timestamp, $0.offset) < ($1.element.timestamp, $1.offset)
        }.map(\.element)
        let first = samples[0].timestamp.milliseconds
        let last = samples[samples.count - 1].timestamp.milliseconds
        var gap = Int64.max
        for (a, b) in zip(samples, samples.dropFirst()) where b.timestamp > a.timestamp {
            gap = min(gap, b.timestamp.milliseconds - a.timestamp.milliseconds)
        }
        period = last - first + (gap == .max ? 1000 : gap)
    }

    /// The samples of the next timestamp; after the last, nil, or with `loop` the first
    /// again, shifted by `period`.
    public mutating func next() -> SourceBatch? {
        if position == samples.count {
            guard spec.loop else { return nil }
            position = 0
            pass += 1
        }
        let shift = pass * period
        let time = samples[position].timestamp
        var batch: [Sample] = []
        while position < samples.count, samples[position].timestamp == time {
            var sample = samples[position]
            sample.timestamp = Timestamp(milliseconds: sample.timestamp.milliseconds + shift)
            batch.append(sample)
            position += 1
        }
        return SourceBatch(time: Timestamp(milliseconds: time.milliseconds + shift), samples: batch)
    }
}
