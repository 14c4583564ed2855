/// One alert's lifecycle, with Prometheus's alerting-rule semantics, as a value that the
/// rule evaluation drives: each evaluation says whether the alert's condition holds at a
/// time, and the machine answers with the transition it made.
///
/// - inactive → pending when the condition first holds (`activeAt`);
/// - pending → firing once it has held for `for` (at once when `for` is zero);
/// - pending → inactive when it stops holding before that (a pending alert is never sent);
/// - firing → resolved when it stops holding, after `keep_firing_for` has passed since it
///   first stopped;
/// - resolved → pending when it holds again: a new alert with a new `activeAt`.
///
/// Times are milliseconds in the evaluation's own time (event time for anomaly rules, wall
/// time for query rules); the machine never reads a clock.
public struct AlertStateMachine: Sendable, Hashable, Codable {
    public enum Phase: String, Sendable, Hashable, Codable, CaseIterable {
        case inactive, pending, firing, resolved
    }

    /// What one evaluation changed.
    public enum Transition: Sendable, Hashable {
        case none
        case pending
        case fired
        case resolved
        /// A pending alert whose condition stopped before `for` passed.
        case cleared
    }

    /// How long the condition must hold before firing, and how long a firing alert stays
    /// firing after the condition stops (milliseconds).
    public struct Timing: Sendable, Hashable, Codable {
        public var holdFor: Int64
        public var keepFiringFor: Int64

        public init(holdFor: Int64 = 0, keepFiringFor: Int64 = 0) {
            self.holdFor = max(0, holdFor)
            self.keepFiringFor = max(0, keepFiringFor)
        }
    }

    public private(set) var phase: Phase = .inactive
    /// When the condition started holding (the current or last alert).
    public private(set) var activeAt: Int64?
    public private(set) var firedAt: Int64?
    public private(set) var resolvedAt: Int64?
    /// The last evaluation at which the condition held.
    public private(set) var lastTrueAt: Int64?
    /// When the condition stopped while firing (for `keep_firing_for`).
    public private(set) var keepFiringSince: Int64?

    public init() {}

    /// Firing, or resolved and so still to be reported as resolved.
    public var isReportable: Bool { phase == .firing || phase == .resolved }

    /// One evaluation: whether the condition holds at `time`. Evaluations must not go back
    /// in time; an earlier time is ignored.
    @discardableResult
    public mutating func evaluate(holds: Bool, at time: Int64, timing: Timing) -> Transition {
        if let last = lastEvaluation, time < last { return .none }
        lastEvaluation = time
        if holds {
            lastTrueAt = time
            keepFiringSince = nil
            var transition = Transition.none
            if phase == .inactive || phase == .resolved {
                phase = .pending
                activeAt = time
                firedAt = nil
                resolvedAt = nil
                transition = .pending
            }
            if phase == .pending, let activeAt, time - activeAt >= timing.holdFor {
                phase = .firing
                firedAt = time
                return .fired
            }
            return transition
        }
        switch phase {
        case .inactive, .resolved:
            return .none
        case .pending:
            phase = .inactive
            return .cleared
        case .firing:
            if timing.keepFiringFor > 0 {
                let since = keepFiringSince ?? time
                keepFiringSince = since
                if time - since < timing.keepFiringFor { return .none }
            }
            phase = .resolved
            resolvedAt = time
            keepFiringSince = nil
            return .resolved
        }
    }

    private var lastEvaluation: Int64?
}
