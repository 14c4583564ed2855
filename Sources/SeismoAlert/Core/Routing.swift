import SeismoCore

/// A node of the routing tree with every inherited setting filled in (milliseconds).
public struct Route: Sendable, Hashable {
    /// Position in the tree: `0` for the root, `0.2.1` for the second child of its third child.
    public var id: String
    public var receiver: String
    public var matchers: [Matcher]
    /// Nil groups by every label (`group_by: ['...']`).
    public var groupBy: [String]?
    public var groupWait: Int64
    public var groupInterval: Int64
    public var repeatInterval: Int64
    public var `continue`: Bool
    public var routes: [Route]

    public init(
        id: String = "0", receiver: String, matchers: [Matcher] = [], groupBy: [String]? = [], groupWait: Int64 = 30_000,
        groupInterval: Int64 = 300_000, repeatInterval: Int64 = 14_400_000, continue: Bool = false, routes: [Route] = []
    ) {
        self.id = id
        self.receiver = receiver
        self.matchers = matchers
        self.groupBy = groupBy
        self.groupWait = groupWait
        self.groupInterval = groupInterval
        self.repeatInterval = repeatInterval
        self.continue = `continue`
        self.routes = routes
    }

    /// The routes an alert with `labels` goes to, as Alertmanager matches: depth first, the
    /// first matching child (and later siblings while the matched child has `continue`),
    /// else this node itself.
    public func match(_ labels: AlertLabels) -> [Route] {
        guard matchers.matches(labels) else { return [] }
        var all: [Route] = []
        for child in routes {
            let matched = child.match(labels)
            all.append(contentsOf: matched)
            if !matched.isEmpty, !child.continue { break }
        }
        return all.isEmpty ? [self] : all
    }

    /// The labels of `labels` this route groups by.
    public func groupLabels(_ labels: AlertLabels) -> AlertLabels {
        guard let groupBy else { return labels }
        var out: AlertLabels = [:]
        for name in groupBy { if let value = labels[name] { out[name] = value } }
        return out
    }
}
