/// Exponential backoff: attempt `i` (from 1) waits `initial × 2^(i-1)` before the next
/// one, capped at `maximum`; `attempts` in all.
public struct RetryPolicy: Sendable, Hashable {
    public var attempts: Int
    public var initial: Duration
    public var maximum: Duration

    public init(attempts: Int, initial: Duration, maximum: Duration) {
        self.attempts = max(1, attempts)
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait after failed attempt `attempt` (1-based), or nil when it was the last.
    public func delay(after attempt: Int) -> Duration? {
        guard attempt < attempts else { return nil }
        var delay = initial
        for _ in 1..<attempt {
            delay = delay * 2
            if delay >= maximum { return maximum }
        }
        return min(delay, maximum)
    }

    /// Runs `operation` until it succeeds or the attempts are used up, sleeping on `clock`
    /// between attempts; rethrows the last error with the number of attempts made.
    public func run<C: Clock>(
        clock: C, _ operation: (Int) async throws -> Void
    ) async throws(RetryFailure) where C.Duration == Duration {
        var attempt = 1
        while true {
            do {
                try await operation(attempt)
                return
            } catch {
                guard let wait = delay(after: attempt), !Task.isCancelled else {
                    throw RetryFailure(attempts: attempt, last: "\(error)")
                }
                try? await clock.sleep(for: wait, tolerance: nil)
                attempt += 1
            }
        }
    }
}

/// Every attempt failed.
public struct RetryFailure: Error, Sendable {
    public var attempts: Int
    public var last: String
}
