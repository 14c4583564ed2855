import Logging
import SeismoCore
import SeismoPipeline

/// Delivers notifications to the configured receivers, each attempt bounded by the
/// receiver's timeout and retried with exponential backoff; what every attempt fails to
/// deliver is handed to `deadLetter`.
public struct ReceiverDelivery<C: Clock>: Sendable where C.Duration == Duration {
    public let receivers: [String: ReceiverSpec]
    let poster: HTTPPoster
    let clock: C
    let externalURL: String
    let logger: Logger

    public init(receivers: [ReceiverSpec], poster: HTTPPoster = HTTPPoster(), clock: C, externalURL: String, logger: Logger) {
        self.receivers = Dictionary(receivers.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        self.poster = poster
        self.clock = clock
        self.externalURL = externalURL
        self.logger = logger
    }

    /// The URL and body a receiver gets for `notification` (nil for a receiver without a kind).
    public func request(for notification: AlertNotification, receiver: ReceiverSpec) -> (url: String, body: [UInt8])? {
        switch receiver.kind {
        case .webhook(let url): (url, Payloads.webhook(notification, externalURL: externalURL))
        case .slack(let url, let channel): (url, Payloads.slack(notification, channel: channel))
        case .pagerDuty(let url, let key): (url, Payloads.pagerDuty(notification, routingKey: key))
        case nil: nil
        }
    }

    /// Delivers `notification`; returns nil on success, or the failure after the last attempt.
    public func deliver(_ notification: AlertNotification) async -> RetryFailure? {
        guard let receiver = receivers[notification.receiver] else {
            return RetryFailure(attempts: 0, last: "no receiver is called '\(notification.receiver)'")
        }
        guard let (url, body) = request(for: notification, receiver: receiver) else { return nil }
        let policy = RetryPolicy(attempts: receiver.attempts, initial: receiver.backoff, maximum: receiver.maxBackoff)
        do {
            try await policy.run(clock: clock) { attempt in
                do { try await poster.post(url, body: body, timeout: receiver.timeout) } catch {
                    logger.debug("receiver \(receiver.name): attempt \(attempt) failed: \(error)")
                    throw error
                }
            }
            return nil
        } catch {
            logger.warning("receiver \(receiver.name): giving up after \(error.attempts) attempt(s): \(error.last)")
            return error
        }
    }
}
