import Logging
import SeismoCore
import SeismoKafka
import SeismoPipeline
import SeismoWire
import ServiceLifecycle

/// Builds the running service of any collector spec: push receivers and log tailing run
/// as their own services; sources that are read in event-time order run in `CollectorService`.
public enum Collectors {
    /// The service for `spec`, publishing to `topic` through `producer`. `onListening`
    /// gets the bound address of a push receiver.
    public static func service(
        spec: CollectorSpec, topic: TopicSpec, producer: KafkaProducer, logger: Logger = Logger(label: "seismo.collect"),
        onListening: @escaping @Sendable (String, Int) async -> Void = { _, _ in }
    ) -> any Service {
        var logger = logger
        logger[metadataKey: "collector"] = "\(spec.name)"
        switch spec.kind {
        case .remoteWrite(let rw):
            return receiver(spec.name, rw.listen, [RemoteWriteRoute()], topic, producer, logger, onListening)
        case .otlp(let otlp):
            let translator = OTLPTranslator(limits: labelLimits(otlp.listen), maxDeltaSeries: otlp.maxDeltaSeries)
            let routes: [any PushRoute] = OTLP.Signal.allCases.map { OTLPRoute($0, translator: translator) }
            return receiver(spec.name, otlp.listen, routes, topic, producer, logger, onListening)
        case .lokiPush(let loki):
            return receiver(spec.name, loki.listen, [LokiPushRoute()], topic, producer, logger, onListening)
        case .logs(let logs):
            return LogTailService(name: spec.name, spec: logs, publisher: SignalPublisher(source: spec.name, topic: topic, producer: producer), logger: logger)
        default:
            return CollectorService.make(spec: spec, topic: topic, producer: producer, logger: logger)
        }
    }

    static func labelLimits(_ listen: ReceiverListen) -> LabelLimits {
        LabelLimits(maxLabels: listen.maxLabels)
    }

    private static func receiver(
        _ name: String, _ listen: ReceiverListen, _ routes: [any PushRoute], _ topic: TopicSpec, _ producer: KafkaProducer,
        _ logger: Logger, _ onListening: @escaping @Sendable (String, Int) async -> Void
    ) -> ReceiverService {
        let receiver = PushReceiver(
            name: name, routes: routes, publisher: SignalPublisher(source: name, topic: topic, producer: producer),
            limits: PushLimits(maxBodyBytes: listen.maxBodyBytes, maxDecodedBytes: listen.maxDecodedBytes, labels: labelLimits(listen)),
            maxConcurrentRequests: listen.maxConcurrentRequests, logger: logger)
        return ReceiverService(receiver: receiver, host: listen.host, port: listen.port, logger: logger, onListening: onListening)
    }
}
