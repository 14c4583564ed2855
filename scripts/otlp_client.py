#!/usr/bin/env python3
"""Sends metrics, traces and logs to an OTLP/HTTP endpoint with the OpenTelemetry Python SDK
(the real client in Seismo's OTLP receiver test). Prints what it sent as JSON on stdout.
Traces go gzip-compressed (as the OpenTelemetry Collector sends by default), metrics and logs
uncompressed.

usage: otlp_client.py http://127.0.0.1:PORT
"""
import json
import logging
import sys

from opentelemetry import metrics, trace
from opentelemetry._logs import set_logger_provider
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

base = sys.argv[1].rstrip("/")
resource = Resource.create({"service.name": "shop", "service.namespace": "demo", "deployment.environment": "test"})

reader = PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=base + "/v1/metrics"), export_interval_millis=60_000)
meter_provider = MeterProvider(
    resource=resource,
    metric_readers=[reader],
    views=[View(instrument_name="checkout.duration", aggregation=ExplicitBucketHistogramAggregation([0.1, 1.0, 10.0]))],
)
meter = meter_provider.get_meter("shop.metrics", "1.0")
orders = meter.create_counter("orders", unit="1")
orders.add(3, {"region": "eu"})
orders.add(2, {"region": "eu"})
orders.add(7, {"region": "us"})
inflight = meter.create_up_down_counter("inflight.requests")
inflight.add(5)
inflight.add(-2)
duration = meter.create_histogram("checkout.duration", unit="s")
for value in (0.05, 0.5, 0.7, 3.0, 20.0):
    duration.record(value, {"method": "card"})

tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=base + "/v1/traces", compression=Compression.Gzip)))
tracer = tracer_provider.get_tracer("shop.tracing")
spans = []
with tracer.start_as_current_span("checkout", kind=trace.SpanKind.SERVER, attributes={"http.method": "POST"}) as root:
    with tracer.start_as_current_span("charge card", attributes={"amount": 12.5}) as child:
        child.set_status(trace.Status(trace.StatusCode.ERROR, "card declined"))
for span in (root, child):
    context = span.get_span_context()
    spans.append({"name": span.name, "trace_id": format(context.trace_id, "032x"), "span_id": format(context.span_id, "016x")})

logger_provider = LoggerProvider(resource=resource)
logger_provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter(endpoint=base + "/v1/logs")))
set_logger_provider(logger_provider)
log = logging.getLogger("shop")
log.propagate = False
log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=logger_provider))
log.setLevel(logging.INFO)
log.warning("payment retried", extra={"order.id": "o-17"})
log.error("payment failed")

ok = meter_provider.force_flush(30_000) and tracer_provider.force_flush(30_000)
logger_provider.force_flush(30_000)
meter_provider.shutdown()
tracer_provider.shutdown()
logger_provider.shutdown()
print(json.dumps({"flushed": bool(ok), "spans": spans}))
