#!/usr/bin/env bash
# Benchmark: maximum keep-alive throughput of `understudy load --rate max`
# against wrk and oha, on the same local nginx, alternating runs; prints
# each tool's median requests/s and the ratios understudy/wrk and
# understudy/oha. A benchmark, not a test: nothing here passes or fails.
#
#   bench/loadgen.sh [ROUNDS] [SECONDS]     (default 5 rounds of 10 s)
#
# Environment: CONNECTIONS (default 64), BENCH_PORT (default 18080).
#
# The target is nginx from Debian with a private configuration in a temp
# dir: one worker, access_log off, `return 200 "ok"`, keep-alive for
# (practically) unlimited requests. Each peer runs in its best
# configuration on this 2-core machine, where nginx holds one core: wrk
# with one thread (-t1), oha with --no-tui (its default worker threads,
# which measured faster than --worker-threads 1), understudy with its
# default single load thread. Missing tools are installed: nginx and wrk
# with apt-get, oha with `cargo install oha --locked` into a private
# CARGO_INSTALL_ROOT under target/ (its compile time is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
SECONDS_PER_RUN="${2:-10}"
CONNECTIONS="${CONNECTIONS:-64}"
PORT="${BENCH_PORT:-18080}"
URL="http://127.0.0.1:${PORT}/"
BIN=target/release/understudy
TOOLS="$PWD/target/bench-tools"

# shellcheck source=bench/lib.sh
source bench/lib.sh
need_apt nginx nginx
need_apt wrk wrk
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"

OHA="$TOOLS/bin/oha"
if [ ! -x "$OHA" ]; then
  echo "installing oha with cargo install --locked into $TOOLS (compiles from source)" >&2
  t0=$(date +%s)
  CARGO_INSTALL_ROOT="$TOOLS" cargo install oha --locked --quiet >&2
  echo "oha compiled in $(( $(date +%s) - t0 ))s" >&2
fi

echo "building understudy (release)" >&2
cargo build --release --quiet

ports_free "$PORT"

DIR="$(mktemp -d)"
NGINX_PID=""
cleanup() {
  if [ -n "$NGINX_PID" ]; then kill "$NGINX_PID" 2>/dev/null || true; wait "$NGINX_PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT

nginx_conf "$DIR" "$PORT"
"$NGINX" -p "$DIR" -c "$DIR/nginx.conf" &
NGINX_PID=$!
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/${PORT}") 2>/dev/null && break
  sleep 0.1
done

run_understudy() {
  "$BIN" load "$URL" --rate max --concurrency "$CONNECTIONS" --duration "${SECONDS_PER_RUN}s" --json - 2>/dev/null |
    sed -n 's/^  "achieved_rps": \([0-9.e+]*\),$/\1/p'
}
run_wrk() {
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" "$URL" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p'
}
run_oha() {
  "$OHA" --no-tui -c "$CONNECTIONS" -z "${SECONDS_PER_RUN}s" "$URL" | sed -n 's/^[[:space:]]*Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p'
}

echo "warm-up" >&2
SECONDS_PER_RUN=2 run_understudy >/dev/null
SECONDS_PER_RUN=2 run_wrk >/dev/null

ours=(); wrks=(); ohas=()
for round in $(seq "$ROUNDS"); do
  u=$(run_understudy); w=$(run_wrk); o=$(run_oha)
  printf 'round %d: understudy %.0f  wrk %.0f  oha %.0f req/s\n' "$round" "$u" "$w" "$o"
  ours+=("$u"); wrks+=("$w"); ohas+=("$o")
done

mu=$(printf '%s\n' "${ours[@]}" | median)
mw=$(printf '%s\n' "${wrks[@]}" | median)
mo=$(printf '%s\n' "${ohas[@]}" | median)
echo "--- ${CONNECTIONS} connections, one nginx worker, ${ROUNDS} x ${SECONDS_PER_RUN}s, medians"
printf 'understudy load --rate max   %10.0f req/s\n' "$mu"
printf 'wrk -t1                      %10.0f req/s\n' "$mw"
printf 'oha --no-tui                 %10.0f req/s\n' "$mo"
awk -v u="$mu" -v w="$mw" -v o="$mo" 'BEGIN { printf "understudy/wrk %.2fx   understudy/oha %.2fx\n", u / w, u / o }'
