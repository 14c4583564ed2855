import CRdKafka

/// The error type of SeismoKafka: a stable code, a message, and librdkafka's own error
/// code and name where one exists.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong, stable across releases.
    public enum Code: String, Sendable, Hashable {
        /// A configuration key or value was rejected.
        case configuration
        /// The producer's local queue is full; retry after deliveries drain it.
        case queueFull
        /// An operation or a message did not complete in time.
        case timedOut
        /// The topic does not exist and was not created.
        case unknownTopic
        /// The partition does not exist.
        case unknownPartition
        /// No broker could be reached.
        case brokerUnreachable
        /// A record is larger than the broker or client accepts.
        case messageTooLarge
        /// The client hit an unrecoverable error (e.g. an idempotence violation).
        case fatal
        /// The handle was closed.
        case closed
        /// The broker does not support the request.
        case unsupported
        /// The operation is in conflict with the group's state (e.g. a rebalance).
        case rebalance
        /// Anything else librdkafka reports.
        case other
    }

    public var code: Code
    public var message: String
    /// librdkafka's `rd_kafka_resp_err_t`, when the error came from librdkafka.
    public var rdkafkaCode: Int32?

    public init(_ code: Code, _ message: String, rdkafkaCode: Int32? = nil) {
        self.code = code
        self.message = message
        self.rdkafkaCode = rdkafkaCode
    }

    /// Maps a librdkafka error code, with `context` prefixed to its message.
    init(rdkafka err: rd_kafka_resp_err_t, _ context: String) {
        let name = String(cString: rd_kafka_err2name(err))
        let text = String(cString: rd_kafka_err2str(err))
        self.init(KafkaError.code(for: err), "\(context): \(text) (\(name))", rdkafkaCode: err.rawValue)
    }

    /// Maps and consumes an `rd_kafka_error_t`.
    init(consuming error: OpaquePointer, _ context: String) {
        let err = rd_kafka_error_code(error)
        let fatal = rd_kafka_error_is_fatal(error) != 0
        let text = String(cString: rd_kafka_error_string(error))
        rd_kafka_error_destroy(error)
        self.init(fatal ? .fatal : KafkaError.code(for: err), "\(context): \(text)", rdkafkaCode: err.rawValue)
    }

    public var description: String { message }

    static func code(for err: rd_kafka_resp_err_t) -> Code {
        switch err {
        case RD_KAFKA_RESP_ERR__QUEUE_FULL: return .queueFull
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
            return .timedOut
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
            return .unknownTopic
        case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION: return .unknownPartition
        case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__RESOLVE:
            return .brokerUnreachable
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE: return .messageTooLarge
        case RD_KAFKA_RESP_ERR__FATAL: return .fatal
        case RD_KAFKA_RESP_ERR__DESTROY: return .closed
        case RD_KAFKA_RESP_ERR__INVALID_ARG, RD_KAFKA_RESP_ERR__UNKNOWN_PROTOCOL: return .configuration
        case RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION: return .unsupported
        case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS, RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION,
            RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID, RD_KAFKA_RESP_ERR__STATE:
            return .rebalance
        default: return .other
        }
    }
}
