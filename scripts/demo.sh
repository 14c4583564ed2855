#!/usr/bin/env bash
# The foundation demo: start the embedded Kafka cluster, publish signals, read them back.
set -euo pipefail
cd "$(dirname "$0")/.."
SEISMO=${SEISMO:-.build/debug/seismo}
mkdir -p data
ADDR_FILE=data/broker.address
rm -f "$ADDR_FILE"

"$SEISMO" broker --brokers 3 --topic signals.demo:6 --address-file "$ADDR_FILE" &
BROKER=$!
trap 'kill $BROKER 2>/dev/null; wait $BROKER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s "$ADDR_FILE" ] && break; sleep 0.1; done
export SEISMO_BROKERS=$(cat "$ADDR_FILE")

echo
echo "== Publishing pipelines/examples/node.prom and pipelines/examples/latency.csv"
"$SEISMO" produce --topic signals.demo pipelines/examples/node.prom
"$SEISMO" produce --topic signals.demo pipelines/examples/latency.csv
echo
echo "== Topics"
"$SEISMO" topics
echo
echo "== Reading them back"
"$SEISMO" subscribe signals.demo --from-beginning --exit-at-end
cat <<MSG

The embedded Kafka cluster is running at $SEISMO_BROKERS
Look at it with any Kafka client, for example:
  kcat -b $SEISMO_BROKERS -L
  kcat -b $SEISMO_BROKERS -C -t signals.demo -e -f '%k %p %o %h\\n'
  SEISMO_BROKERS=$SEISMO_BROKERS $SEISMO subscribe signals.demo --from-beginning --json
Press Ctrl-C to stop.
MSG
wait $BROKER || true
