#!/usr/bin/env bash
# `make bench`: builds the benchmarks, runs the in-process ones (codec, crypto), then the handshake
# load and the messaging bench against a dedicated gateway process started next to the local fleet
# (`make up`'s), then the federation bench (two fleets of its own), and prints every figure as one table.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
DATA="${COMMUCAT_DATA_DIR:-$ROOT/.data}"
out=$(mktemp)
trap 'rm -f "$out"; [[ -n ${gw_pid:-} ]] && kill "$gw_pid" 2>/dev/null || true' EXIT

npx tsc -b tests/bench
for bench in tests/bench/dist/*.bench.js; do
  [[ $bench == *handshake-load* || $bench == *messaging* ]] && continue
  echo "running $(basename "$bench" .bench.js)…" >&2
  node "$bench" >>"$out"
done

bash scripts/fleet.sh up >/dev/null
eval "$(bash scripts/stack.sh env)"
export COMMUCAT_CONFIG="$ROOT/commucat.toml" COMMUCAT_TLS_CERT="$DATA/tls/gateway.crt" COMMUCAT_TLS_KEY="$DATA/tls/gateway.key"
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
admin=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
# A gateway of its own, so its CPU time is the benchmark's alone and the limiters let the load in
# (connect burst for the handshake load, per-connection frame budget for the messaging load).
COMMUCAT_BIND="127.0.0.1:$port" COMMUCAT_GATEWAY_ADMIN_BIND="127.0.0.1:$admin" COMMUCAT_GATEWAY_ID="bench-gw" \
  COMMUCAT_RATE_CONNECT_BURST=1000000 COMMUCAT_RATE_HTTP_BURST=1000000 COMMUCAT_RATE_FRAME_RATE=100000 COMMUCAT_RATE_FRAME_BURST=100000 COMMUCAT_LOG_LEVEL=warn \
  node services/gateway/dist/main.js >"$DATA/logs/bench-gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
export BENCH_GATEWAY_URL="https://127.0.0.1:$port/connect" BENCH_GATEWAY_PID=$gw_pid BENCH_CA="$DATA/tls/gateway.crt" BENCH_FLEET_RUN_DIR="$DATA/run"
BENCH_DOMAIN=$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).domain)' "$(curl -fsSk "https://127.0.0.1:$port/api/server-info")")
export BENCH_DOMAIN
echo "running handshake load…" >&2
node tests/bench/dist/handshake-load.bench.js >>"$out"
echo "running messaging (latency at offered rates, max throughput, drain, idle RSS; ~3 min)…" >&2
node tests/bench/dist/messaging.bench.js >>"$out"
# Two whole federated fleets (a.test, b.test) of their own, built on the test support, so a jest
# project (`bench`, which `make test` never selects); it appends its figures to $BENCH_OUT. Its
# progress goes to stderr with jest's report, and a failure still prints the table below.
echo "running federation (two federated fleets: throughput, fan-out, latency; ~3 min)…" >&2
federation=0
BENCH_OUT="$out" npx jest --selectProjects bench --runInBand >&2 || federation=$?

node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => JSON.parse(l));
  const w = [10, 82, 14, 12];
  const line = (c) => c.map((x, i) => String(x).padEnd(w[i])).join(" | ");
  console.log(line(["bench", "metric", "value", "unit"]));
  console.log(w.map((n) => "-".repeat(n)).join("-|-"));
  for (const r of rows) console.log(line([r.bench, r.metric, (r.value === null ? "n/a" : r.value.toLocaleString("en-US")), r.unit]));
' "$out"
exit $federation
