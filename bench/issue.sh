#!/usr/bin/env bash
# Time to certificate and DNS queries per name on the in-process test world
# (Pebble + authoritative DNS + caching DoH resolver), for one order of 1, 10
# and 100 names, against the peer "one order per name" (how clients that
# present, wait and clean up name by name behave). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${COUNT:-5}
go test -run '^$' -bench 'BenchmarkObtain' -benchtime "${BENCHTIME:-3x}" -count "$count" ./internal/issue | tee /tmp/strictacme-bench-issue.txt
if command -v benchstat >/dev/null; then benchstat /tmp/strictacme-bench-issue.txt; fi
