#!/usr/bin/env bash
# Benchmark: what the fault proxy costs on the no-fault path. Side by side in
# one run, alternating rounds, against one local nginx:
#   direct         -> nginx
#   proxy tcp      -> understudy proxy (protocol tcp, no faults) -> nginx
#   proxy http     -> understudy proxy (protocol http, no faults) -> nginx
#   noxious        -> a Toxiproxy port in Rust (no toxics) -> nginx
# Each round measures throughput at max rate (64 keep-alive connections) and
# latency at a moderate fixed rate (2000 req/s). Prints the medians, the
# throughput ratio proxy/direct and the added p50 in microseconds.
# A benchmark, not a test: nothing here passes or fails.
#
#   bench/proxy.sh [ROUNDS] [SECONDS]     (default 3 rounds of 10 s)
#
# Environment: CONNECTIONS (64), RATE (2000), BENCH_PORT (18090; the proxies
# take the next ports), LOADGEN (understudy | wrk; default understudy when
# `understudy load` works).
#
# The load generator is `understudy load` (release build). With LOADGEN=wrk
# (or when `understudy load` is not usable) throughput comes from `wrk -t1`
# and the latency column from the same wrk run (max rate, not fixed rate).
#
# noxious: its server binary is not published on crates.io (only the core
# library `noxious` is), so this script builds a 30-line runner around
# `noxious::proxy::ProxyRunner` (what its server runs per proxy) into
# target/bench-tools; if that fails, the column is skipped with a message.
#
# 2 cores are shared by nginx (one worker), the proxy and the load generator,
# so the ratio is the cost of an extra hop on a saturated machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-3}"
SECS="${2:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
RATE="${RATE:-2000}"
PORT="${BENCH_PORT:-18090}"
TCP_PORT=$((PORT + 1)); HTTP_PORT=$((PORT + 2)); NOX_PORT=$((PORT + 3)); CTL_PORT=$((PORT + 4))
BIN="$PWD/target/release/understudy"
TOOLS="$PWD/target/bench-tools"

# shellcheck source=bench/lib.sh
source bench/lib.sh
need_apt nginx nginx
need_apt wrk wrk
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

echo "building understudy (release)" >&2
cargo build --release --quiet

ports_free "$PORT" "$TCP_PORT" "$HTTP_PORT" "$NOX_PORT" "$CTL_PORT"

NOXIOUS="$TOOLS/noxious-peer/target/release/noxious-peer"
if [ ! -x "$NOXIOUS" ]; then
  echo "building the noxious runner (crate noxious from crates.io) in $TOOLS/noxious-peer" >&2
  mkdir -p "$TOOLS/noxious-peer/src"
  cat >"$TOOLS/noxious-peer/Cargo.toml" <<'EOF'
[package]
name = "noxious-peer"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
noxious = "1.0.4"
bmrng = "0.4"
tokio = { version = "1", features = ["rt-multi-thread", "macros", "net", "signal"] }

[profile.release]
codegen-units = 4
EOF
  cat >"$TOOLS/noxious-peer/src/main.rs" <<'EOF'
//! noxious-peer LISTEN UPSTREAM: one noxious proxy without toxics.
use noxious::proxy::{ProxyConfig, ProxyRunner, Runner, Toxics};
use noxious::signal::{Close, Stop};
use noxious::socket::TcpListener;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (listen, upstream) = (args.next().unwrap_or_default(), args.next().unwrap_or_default());
    let config = ProxyConfig { name: "bench".into(), listen, upstream, enabled: true, rand_seed: None };
    let (listener, info) =
        ProxyRunner::initialize_proxy::<TcpListener>(config, Toxics::empty()).await?;
    let (stop, _stopper) = Stop::new();
    let (_close, closer) = Close::new();
    let (_events, receiver) = bmrng::channel(1);
    ProxyRunner::run_proxy(listener, info, receiver, stop, closer).await
}
EOF
  t0=$(date +%s)
  if (cd "$TOOLS/noxious-peer" && CARGO_TARGET_DIR="$TOOLS/noxious-peer/target" cargo build --release --quiet >&2); then
    echo "noxious runner built in $(( $(date +%s) - t0 ))s" >&2
  else
    echo "noxious did not build; its column is skipped" >&2
  fi
fi

DIR="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$DIR"
}
trap cleanup EXIT

nginx_conf "$DIR" "$PORT"
cat >"$DIR/proxy.toml" <<EOF
[[proxy]]
name = "bench-tcp"
listen = "127.0.0.1:${TCP_PORT}"
upstream = "127.0.0.1:${PORT}"
protocol = "tcp"

[[proxy]]
name = "bench-http"
listen = "127.0.0.1:${HTTP_PORT}"
upstream = "127.0.0.1:${PORT}"
protocol = "http"
EOF

wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "nothing listens on $1" >&2; return 1; }

"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" & PIDS+=($!)
wait_port "$PORT"
"$BIN" proxy --config "$DIR/proxy.toml" --listen-control "127.0.0.1:${CTL_PORT}" --token bench 2>"$DIR/proxy.log" & PIDS+=($!)
wait_port "$HTTP_PORT"
TARGETS=(direct tcp http)
declare -A URLS=([direct]="http://127.0.0.1:${PORT}/" [tcp]="http://127.0.0.1:${TCP_PORT}/" [http]="http://127.0.0.1:${HTTP_PORT}/" [noxious]="http://127.0.0.1:${NOX_PORT}/")
if [ -x "$NOXIOUS" ]; then
  "$NOXIOUS" "127.0.0.1:${NOX_PORT}" "127.0.0.1:${PORT}" 2>/dev/null & PIDS+=($!)
  wait_port "$NOX_PORT" && TARGETS+=(noxious)
fi

LOADGEN="${LOADGEN:-}"
if [ -z "$LOADGEN" ]; then
  if "$BIN" load "${URLS[direct]}" --rate 100 --duration 1s --json - 2>/dev/null | grep -q achieved_rps; then
    LOADGEN=understudy
  else
    echo "understudy load is not usable; using wrk" >&2
    LOADGEN=wrk
  fi
fi

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# throughput URL -> req/s
throughput() {
  if [ "$LOADGEN" = understudy ]; then
    "$BIN" load "$1" --rate max --concurrency "$CONNECTIONS" --duration "${SECS}s" --json - 2>/dev/null | json 'd["achieved_rps"]'
  else
    wrk -t1 -c"$CONNECTIONS" -d"${SECS}s" "$1" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
  fi
}
# p50 URL -> microseconds (corrected = from the intended send time)
p50() {
  if [ "$LOADGEN" = understudy ]; then
    "$BIN" load "$1" --rate "$RATE" --duration "${SECS}s" --json - 2>/dev/null | json 'd["latency_ms"]["corrected"]["p50"] * 1000'
  else
    wrk -t1 -c"$CONNECTIONS" -d"${SECS}s" --latency "$1" |
      awk '/^ +50%/ { v=$2; if (v ~ /us$/) print v+0; else if (v ~ /ms$/) print v*1000; else print v*1e6 }'
  fi
}

echo "warm-up" >&2
for t in "${TARGETS[@]}"; do SECS=2 throughput "${URLS[$t]}" >/dev/null; done

declare -A RPS P50
for round in $(seq "$ROUNDS"); do
  line="round $round:"
  for t in "${TARGETS[@]}"; do
    r=$(throughput "${URLS[$t]}"); l=$(p50 "${URLS[$t]}")
    RPS[$t]+="$r "; P50[$t]+="$l "
    line+=$(printf '  %s %.0f req/s p50 %.0fus' "$t" "$r" "$l")
  done
  echo "$line"
done

echo "--- ${LOADGEN}: throughput at max rate (${CONNECTIONS} connections), p50 at ${RATE} req/s; ${ROUNDS} x ${SECS}s, medians"
[ -x "$NOXIOUS" ] || echo "(noxious skipped: it did not build)"
md_rps=$(printf '%s\n' ${RPS[direct]} | median); md_p50=$(printf '%s\n' ${P50[direct]} | median)
for t in "${TARGETS[@]}"; do
  m_rps=$(printf '%s\n' ${RPS[$t]} | median); m_p50=$(printf '%s\n' ${P50[$t]} | median)
  awk -v t="$t" -v r="$m_rps" -v l="$m_p50" -v dr="$md_rps" -v dl="$md_p50" \
    'BEGIN { printf "%-8s %10.0f req/s  %5.2fx direct   p50 %7.0f us  (%+.0f us)\n", t, r, r / dr, l, l - dl }'
done
