import Logging
import ServiceLifecycle

/// Picks up newly promoted models without a restart: every `interval` on `clock`, asks the sink's
/// detectors to re-read each trained detector's `CURRENT` pointer (a few `stat`/`read` calls; a
/// model is only loaded when the pointer names another version). Stops on graceful shutdown.
struct ModelReloadService<C: Clock>: Service where C.Duration == Duration {
    let interval: Duration
    let clock: C
    let reload: @Sendable () -> Void

    init(interval: Duration, clock: C, reload: @escaping @Sendable () -> Void) {
        self.interval = interval
        self.clock = clock
        self.reload = reload
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await clock.sleep(for: interval)
                } catch {
                    return
                }
                reload()
            }
        }
    }
}

extension DetectorBank.ModelChange {
    /// Logs the change at a level that fits it.
    func log(_ logger: Logger, pipeline: String) {
        switch self {
        case .installed(let detector, let version):
            logger.notice("model loaded", metadata: ["pipeline": "\(pipeline)", "detector": "\(detector)", "version": "\(version)"])
        case .removed(let detector):
            logger.warning("model unpromoted; detector scores nothing", metadata: ["pipeline": "\(pipeline)", "detector": "\(detector)"])
        case .failed(let detector, let version, let reason):
            logger.error(
                "promoted model not loaded; keeping the previous one",
                metadata: ["pipeline": "\(pipeline)", "detector": "\(detector)", "version": "\(version)", "reason": "\(reason)"])
        }
    }
}
