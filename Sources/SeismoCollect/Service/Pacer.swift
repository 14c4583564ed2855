/// Paces a run against a clock: elapsed time since the run's origin, and sleeps until an
/// offset from it.
protocol Pacer: Sendable {
    func elapsed() -> Duration
    func sleep(until offset: Duration) async throws
}

struct ClockPacer<C: Clock<Duration>>: Pacer {
    let clock: C
    let origin: C.Instant

    init(clock: C) {
        self.clock = clock
        origin = clock.now
    }

    func elapsed() -> Duration { origin.duration(to: clock.now) }

    func sleep(until offset: Duration) async throws {
        try await clock.sleep(until: origin.advanced(by: offset), tolerance: nil)
    }
}
