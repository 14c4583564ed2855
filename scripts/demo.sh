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
# The replay starts at 2026-01-05T00:00Z (pipelines/demo.yaml) and runs at 240x: 75 s is 5 h.
RANGE="--from 2026-01-05T00:00:00Z --to 2026-01-05T06:00:00Z"
echo "== What was stored: the p99 latency per service over the replayed event time (a chart per series)"
"$SEISMO" query 'http:latency_p99' --data-dir ./data $RANGE | tail -n 12
echo
cat <<MSG
The store is in ./data/demo.sqlite; the injected anomalies' ground truth in ./data/demo-truth.json.
Query it again:
  $SEISMO query 'http:error_ratio{service="checkout"}' --data-dir ./data $RANGE
Run the pipeline until Ctrl-C, and subscribe to its anomalies from another terminal:
  DEMO_SECONDS=0 make demo
  $SEISMO subscribe --brokers <the printed address> anomalies.demo
MSG
