#!/usr/bin/env bash
# Benchmark: `understudy shadow up` of the demo until every clone is ready,
# side by side with `docker-compose up -d` of the same project until every
# container is healthy, alternating, several rounds; prints medians and the
# ratio. Also times `shadow down` against `docker-compose down -v`.
#
#   bench/shadow.sh [ROUNDS]        (default 5; needs Docker and docker-compose)
#
# "ready" for understudy means each clone's own healthcheck command passed
# (run through exec as soon as it starts); the script also reports when the
# engine itself first shows every clone healthy (its next healthcheck tick).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS="${1:-5}"
BIN=target/release/understudy
cargo build --release --quiet
export UNDERSTUDY_STATE_DIR="$(mktemp -d)"
PROD=benchshop
COMPOSE_FILE=scenarios/shop/compose.yaml

now_ms() { date +%s%3N; }
# shellcheck source=bench/lib.sh
source bench/lib.sh

all_healthy() { # label...
  local ids states args=()
  for l in "$@"; do args+=(--filter "label=$l"); done
  ids=$(docker ps -aq "${args[@]}")
  [ -n "$ids" ] || return 1
  # Containers without a healthcheck (the shadow's fault proxies) count
  # once running; every other one must be healthy.
  states=$(docker inspect --format '{{if .State.Health}}{{.State.Health.Status}}{{else}}{{if .State.Running}}none{{else}}down{{end}}{{end}}' $ids | sort -u | grep -vx none || true)
  [ "$states" = "healthy" ]
}

cleanup() {
  "$BIN" shadow down --all >/dev/null 2>&1 || true
  for p in $(docker ps -aq --filter label=com.docker.compose.project 2>/dev/null | xargs -r docker inspect --format '{{index .Config.Labels "com.docker.compose.project"}}' | sort -u | grep '^benchother' || true); do
    docker-compose -p "$p" -f "$COMPOSE_FILE" down -v >/dev/null 2>&1 || true
  done
  "$BIN" demo -p "$PROD" down >/dev/null 2>&1 || true
  rm -rf "$UNDERSTUDY_STATE_DIR"
}
trap cleanup EXIT

"$BIN" demo -p "$PROD" up >/dev/null
"$BIN" demo build >/dev/null

ours=(); ours_engine=(); theirs=(); our_down=(); their_down=(); bare=()
run_ours() {
  local t0 t1 t2 id t3
  t0=$(now_ms)
  id=$("$BIN" shadow up --group "$PROD" --new --json | sed -n 's/^  "id": "\(.*\)",$/\1/p')
  t1=$(now_ms)
  until all_healthy "io.understudy.shadow=$id" "io.understudy.role=shadow"; do sleep 0.05; done
  t2=$(now_ms)
  "$BIN" shadow down "$id" >/dev/null
  t3=$(now_ms)
  ours+=($((t1 - t0))); ours_engine+=($((t2 - t0))); our_down+=($((t3 - t2)))
}
# The same clones without the fault proxies: the like-for-like comparison
# with compose, which creates the application's 4 containers only.
run_bare() {
  local t0 t1 id
  t0=$(now_ms)
  id=$("$BIN" shadow up --group "$PROD" --new --no-proxies --json | sed -n 's/^  "id": "\(.*\)",$/\1/p')
  t1=$(now_ms)
  "$BIN" shadow down "$id" >/dev/null
  bare+=($((t1 - t0)))
}
run_theirs() {
  local p t0 t1 t2
  p="benchother$1"
  t0=$(now_ms)
  docker-compose -p "$p" -f "$COMPOSE_FILE" up -d >/dev/null 2>&1
  until all_healthy "com.docker.compose.project=$p"; do sleep 0.05; done
  t1=$(now_ms)
  docker-compose -p "$p" -f "$COMPOSE_FILE" down -v >/dev/null 2>&1
  t2=$(now_ms)
  theirs+=($((t1 - t0))); their_down+=($((t2 - t1)))
}

for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) -eq 1 ]; then run_ours; run_theirs "$i"; run_bare; else run_bare; run_theirs "$i"; run_ours; fi
  echo "round $i: understudy ready ${ours[-1]} ms (engine healthy ${ours_engine[-1]} ms; without proxies ${bare[-1]} ms), compose healthy ${theirs[-1]} ms"
done

m_ours=$(printf '%s\n' "${ours[@]}" | median)
m_bare=$(printf '%s\n' "${bare[@]}" | median)
m_engine=$(printf '%s\n' "${ours_engine[@]}" | median)
m_theirs=$(printf '%s\n' "${theirs[@]}" | median)
m_od=$(printf '%s\n' "${our_down[@]}" | median)
m_td=$(printf '%s\n' "${their_down[@]}" | median)
echo
echo "median over $ROUNDS rounds (4 app containers + 3 fault proxies + ingress vs 4 containers):"
echo "  understudy shadow up, ready:            ${m_ours} ms"
echo "  understudy shadow up, engine healthy:   ${m_engine} ms"
echo "  docker-compose up -d, engine healthy:   ${m_theirs} ms"
echo "  ratio (shadow ready / compose healthy): $(awk -v a="$m_ours" -v b="$m_theirs" 'BEGIN {printf "%.2fx", a/b}')"
echo "  ratio (engine healthy, both):           $(awk -v a="$m_engine" -v b="$m_theirs" 'BEGIN {printf "%.2fx", a/b}')"
echo "  understudy shadow up --no-proxies, ready: ${m_bare} ms (the same 4 containers + ingress as compose's 4)"
echo "  ratio (no proxies, ready / compose):    $(awk -v a="$m_bare" -v b="$m_theirs" 'BEGIN {printf "%.2fx", a/b}')"
echo "  understudy shadow down:                 ${m_od} ms"
echo "  docker-compose down -v:                 ${m_td} ms"
