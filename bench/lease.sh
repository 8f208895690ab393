#!/usr/bin/env bash
# Benchmark: what a fault's lease costs (`src/fault/lease.rs`): one labelled
# volume created when a fault is applied and removed when it is reverted,
# plus the listing of leases a state-owning fault makes right after taking
# its own (the check for a rival taken in the same instant),
# through the Engine API socket as understudy does (curl here, so the
# figure is the engine's, not a CLI's start-up). Side by side in the same
# run: an empty request (`GET /_ping`), the floor of any Engine API call.
# Prints the median milliseconds of each and the lease's added cost.
# A benchmark, not a test: nothing here passes or fails.
#
#   bench/lease.sh [PAIRS]     (default 50 create/remove pairs)
#
# Every volume it creates is labelled io.understudy.bench=lease and removed,
# also on interrupt.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
PAIRS="${1:-50}"
SOCK="${DOCKER_SOCK:-/var/run/docker.sock}"
API="http://localhost/v1.41"
cleanup() {
  docker volume ls -q --filter label=io.understudy.bench=lease | xargs -r docker volume rm -f >/dev/null
}
trap cleanup EXIT
ms() { # curl args... -> milliseconds of the request
  curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$SOCK" "$@" | awk '{printf "%.3f\n", $1 * 1000}'
}
ping=() create=() list=() remove=()
for i in $(seq 1 "$PAIRS"); do
  name="understudy-lease-bench$i"
  ping+=("$(ms "$API/_ping")")
  create+=("$(ms -X POST -H 'Content-Type: application/json' "$API/volumes/create" \
    -d "{\"Name\":\"$name\",\"Labels\":{\"io.understudy.bench\":\"lease\",\"io.understudy.lease\":\"bench$i\",\"io.understudy.owner-pid\":\"1\",\"io.understudy.owner-host\":\"bench\",\"io.understudy.lease.containers\":\"a,b\"}}")")
  list+=("$(ms -G "$API/volumes" --data-urlencode 'filters={"label":["io.understudy.lease"]}')")
  remove+=("$(ms -X DELETE "$API/volumes/$name")")
done
p=$(printf '%s\n' "${ping[@]}" | median)
c=$(printf '%s\n' "${create[@]}" | median)
l=$(printf '%s\n' "${list[@]}" | median)
r=$(printf '%s\n' "${remove[@]}" | median)
echo "median over $PAIRS: ping ${p} ms, lease create ${c} ms, lease list ${l} ms, lease remove ${r} ms"
awk -v p="$p" -v c="$c" -v l="$l" -v r="$r" 'BEGIN {printf "a fault pays %.2f ms at apply (%.2f more if it owns a container: the listing that catches a rival taken in the same instant) and %.2f ms at revert for its lease (%.1fx / %.1fx / %.1fx an empty API call)\n", c, l, r, c / p, l / p, r / p}'
