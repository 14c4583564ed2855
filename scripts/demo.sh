#!/usr/bin/env bash
# The demo: pipelines/demo.yaml on the embedded defaults (in-process Kafka, SQLite in ./data).
# Synthetic metrics for a few services, anomalies injected on a compressed time scale,
# anomaly events printed as they happen. DEMO_SECONDS=0 runs until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
SEISMO=${SEISMO:-.build/debug/seismo}
DEMO_SECONDS=${DEMO_SECONDS:-75}
mkdir -p data
rm -f data/demo.sqlite data/demo.sqlite-wal data/demo.sqlite-shm data/demo-truth.json

echo "== seismo run pipelines/demo.yaml --data-dir ./data"
"$SEISMO" run pipelines/demo.yaml --data-dir ./data &
RUN=$!
trap 'kill -TERM $RUN 2>/dev/null; wait $RUN 2>/dev/null || true' EXIT INT TERM

if [ "$DEMO_SECONDS" = 0 ]; then
  wait $RUN
  exit
fi
sleep "$DEMO_SECONDS"
kill -TERM $RUN
wait $RUN || true
trap - EXIT INT TERM

echo
echo "== What was stored: the p99 latency per service, one row per window (last 30 minutes of event time)"
"$SEISMO" query 'http:latency_p99' --data-dir ./data --from 2026-01-01T00:00:00Z --to now | tail -n 12
echo
cat <<MSG
The store is in ./data/demo.sqlite; the injected anomalies' ground truth in ./data/demo-truth.json.
Query it again:
  $SEISMO query 'http:error_ratio{service="checkout"}' --data-dir ./data --from 2026-01-01T00:00:00Z --to now
Run the pipeline until Ctrl-C, and subscribe to its anomalies from another terminal:
  DEMO_SECONDS=0 make demo
  $SEISMO subscribe --brokers <the printed address> anomalies.demo
MSG
