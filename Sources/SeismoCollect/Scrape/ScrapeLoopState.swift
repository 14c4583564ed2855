import SeismoCore
import SeismoWire

/// What one scrape of a target returned, before it is turned into samples.
public enum ScrapeOutcome: Sendable {
    /// The parsed body (samples without a timestamp carry the scrape's time).
    case parsed(ParseResult)
    /// The scrape failed (connection, status, timeout, body too large).
    case failed(String)
}

/// The samples one scrape publishes.
public struct ScrapeReport: Sendable {
    /// Scraped samples (target labels attached, metric-relabeled), stale markers for series
    /// that disappeared, and the report series (`up`, `scrape_*`).
    public var samples: [Sample]
    /// Lines of the body that could not be parsed.
    public var parseIssues: [ParseIssue]
    /// Why the scrape failed, if it did.
    public var failure: String?
}

/// The state of one target's scrape loop, as Prometheus keeps it: the series of the
/// previous scrape, so that a series that disappears (or every series, when the scrape
/// fails or the target goes away) gets a staleness marker. A pure value.
public struct ScrapeLoopState: Sendable {
    public let target: ScrapeTarget
    public let honorLabels: Bool
    public let honorTimestamps: Bool
    public let sampleLimit: Int
    let metricRelabeler: Relabeler
    /// The series of the previous successful scrape.
    public private(set) var lastSeries: Set<Labels> = []
    /// Whether report series were published (so that they get stale markers at the end).
    private var reported = false
    /// The (aligned) time of the previous scrape.
    private var lastTime: Timestamp?

    /// How far a scrape may start from the previous one plus the interval and still be
    /// stamped exactly there (Prometheus: 2 ms, for intervals over 200 ms). Scrapes a fixed
    /// interval apart then have timestamps a fixed interval apart, which their chunks store
    /// in about a bit each.
    public static let timestampTolerance: Int64 = 2

    public static let reportNames = [
        "up", "scrape_duration_seconds", "scrape_samples_scraped", "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    ]

    public init(target: ScrapeTarget, honorLabels: Bool, honorTimestamps: Bool, sampleLimit: Int, metricRelabeler: Relabeler) {
        self.target = target
        self.honorLabels = honorLabels
        self.honorTimestamps = honorTimestamps
        self.sampleLimit = sampleLimit
        self.metricRelabeler = metricRelabeler
    }

    /// The time to stamp a scrape that started at `time` with, when scrapes are `interval`
    /// apart: the previous scrape's time plus the interval when `time` is within
    /// `timestampTolerance` of it, else `time`.
    public mutating func align(_ time: Timestamp, interval: Duration?) -> Timestamp {
        var aligned = time
        if let interval, let last = lastTime, interval.milliseconds > 100 * Self.timestampTolerance,
            abs(time.milliseconds - (last.milliseconds + interval.milliseconds)) <= Self.timestampTolerance
        {
            aligned = Timestamp(milliseconds: last.milliseconds + interval.milliseconds)
        }
        lastTime = aligned
        return aligned
    }

    /// The samples of a scrape that started at `time` and took `duration`. With `interval`,
    /// the scrape's time is aligned first (see `align`): samples that carry the scrape's time
    /// get the aligned one, and samples with their own timestamps keep them.
    public mutating func process(_ outcome: ScrapeOutcome, time started: Timestamp, duration: Duration, interval: Duration? = nil)
        -> ScrapeReport
    {
        let time = align(started, interval: interval)
        var samples: [Sample] = []
        var issues: [ParseIssue] = []
        var failure: String?
        var scraped = 0
        var current: Set<Labels> = []
        switch outcome {
        case .failed(let reason):
            failure = reason
        case .parsed(let result):
            issues = result.issues
            scraped = result.samples.count
            samples.reserveCapacity(result.samples.count + Self.reportNames.count)
            for sample in result.samples {
                var labels = merge(sample.labels)
                if !metricRelabeler.isEmpty {
                    guard let relabeled = metricRelabeler.apply(labels) else { continue }
                    labels = relabeled
                }
                guard labels.name != nil else { continue }
                guard current.insert(labels).inserted else { continue }  // a duplicate series: the first wins
                let own = honorTimestamps && sample.timestamp != started
                samples.append(Sample(labels: labels, timestamp: own ? sample.timestamp : time, value: sample.value))
            }
            if sampleLimit > 0, samples.count > sampleLimit {
                failure = "sample limit exceeded: \(samples.count) > \(sampleLimit)"
                samples.removeAll()
                current.removeAll()
            }
        }
        let postRelabeling = samples.count
        let added = current.subtracting(lastSeries).count
        for gone in lastSeries where !current.contains(gone) {
            samples.append(.staleMarker(labels: gone, timestamp: time))
        }
        lastSeries = current
        let values: [Double] = [
            failure == nil ? 1 : 0, Double(duration.nanoseconds) / 1e9, Double(scraped), Double(postRelabeling),
            Double(added),
        ]
        for (name, value) in zip(Self.reportNames, values) {
            samples.append(Sample(labels: reportLabels(name), timestamp: time, value: value))
        }
        reported = true
        return ScrapeReport(samples: samples, parseIssues: issues, failure: failure)
    }

    /// Stale markers for every series of the target: it is gone from discovery.
    public mutating func end(at time: Timestamp) -> [Sample] {
        var out = lastSeries.map { Sample.staleMarker(labels: $0, timestamp: time) }
        if reported { out += Self.reportNames.map { .staleMarker(labels: reportLabels($0), timestamp: time) } }
        lastSeries = []
        reported = false
        return out
    }

    private func reportLabels(_ name: String) -> Labels {
        var pairs = target.labels.pairs
        pairs.append(Label(Labels.metricName, name))
        pairs.sort()
        return Labels(uncheckedSorted: pairs)
    }

    /// Attaches the target's labels. With `honor_labels`, a scraped label wins over a
    /// target label; otherwise the scraped one is kept as `exported_<name>`.
    func merge(_ scraped: Labels) -> Labels {
        let targetPairs = target.labels.pairs
        guard !targetPairs.isEmpty else { return scraped }
        var conflict = false
        for pair in targetPairs where scraped[pair.name] != nil {
            conflict = true
            break
        }
        if !conflict {
            // Both sorted: a merge.
            var out: [Label] = []
            out.reserveCapacity(scraped.count + targetPairs.count)
            var i = scraped.pairs.startIndex
            var j = targetPairs.startIndex
            while i < scraped.pairs.endIndex, j < targetPairs.endIndex {
                if scraped.pairs[i] < targetPairs[j] {
                    out.append(scraped.pairs[i])
                    i += 1
                } else {
                    out.append(targetPairs[j])
                    j += 1
                }
            }
            out += scraped.pairs[i...]
            out += targetPairs[j...]
            return Labels(uncheckedSorted: out)
        }
        var builder: [String: String] = [:]
        for pair in scraped { builder[pair.name] = pair.value }
        for pair in targetPairs {
            if let existing = builder[pair.name] {
                if honorLabels { continue }
                var exported = "exported_" + pair.name
                while builder[exported] != nil { exported = "exported_" + exported }
                builder[exported] = existing
            }
            builder[pair.name] = pair.value
        }
        return Relabeler.labels(builder)
    }
}
