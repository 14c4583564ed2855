/// Kafka record headers that Seismo writes, so readers can tell payloads apart.
public enum WireHeaders {
    /// The header naming the payload's media type.
    public static let contentType = "content-type"
    /// `content-type` of a `SignalBatch` encoded by `SignalCodec` (schema version 1).
    public static let signalBatchV1 = "application/vnd.seismo.signals.v1+protobuf"
    /// `content-type` of an `AnomalyEvent` encoded by `AnomalyEventCodec`.
    public static let anomalyEventJSON = "application/json"
}
