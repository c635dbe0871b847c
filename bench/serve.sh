#!/usr/bin/env bash
# Load benchmark of `strictacme serve`'s DNS side and, when ACMEDNS_BIN names
# an acme-dns binary, of acme-dns in the same run: queries per second at
# saturation, p50/p99 latency at saturation and at a fixed rate, the server's
# CPU time per answered question, and resident memory (VmRSS, and its
# anonymous and file-backed parts) after each load, the time and CPU time
# from launch to the first answer (start-up) and the time of
# strictacme's import of the accounts, then the medians over the repeats
# and the strictacme/acme-dns ratios.
#
#   bench/serve.sh                                      strictacme alone, absolute figures
#   ACMEDNS_BIN=/path/to/acme-dns bench/serve.sh        both, with ratios
#
# The acme-dns binary is yours to supply (build it from its source; this
# script never downloads or builds it). Tested with acme-dns v2 (SQLite).
#
# Settings (environment):
#   ACCOUNTS="10 100000"  account counts, each a fresh pair of servers
#   REPEATS=3             rounds; servers alternate within each round
#   SECS=5                length of one load (each is also capped at MAXQ questions)
#   MAXQ=2000000          question cap of one load
#   WORKERS=16            closed-loop workers (questions in flight)
#   RATE=                 open-loop rate in qps; default half the lowest
#                         saturation qps measured at the first account count
#   SERVER_CPU=0          core the servers are pinned to (taskset)
#   LOAD_CPU=1            core the load generator is pinned to
#   PORT=15353            strictacme DNS port; acme-dns uses PORT+1, APIs PORT+2, PORT+3
#   OUT=                  keep the raw result lines in this file
#
# What is asked, each kind from its own question file:
#   txt      TXT at registered accounts' names (two live dns-01 values each)
#   unknown  TXT at names no account holds (NXDOMAIN)
#   static   A, NS and SOA at the zone apex (the configured records)
#
# Accounts are written straight into an acme-dns SQLite database (python3),
# which acme-dns serves as is and strictacme imports (`serve
# --import-acmedns`), so both hold the same accounts and values and 100,000
# accounts take seconds rather than hours of bcrypt. Everything runs in a
# temp directory and listens on 127.0.0.1 only; every server started here is
# stopped on exit.
set -euo pipefail

ACCOUNTS=${ACCOUNTS:-"10 100000"}
REPEATS=${REPEATS:-3}
SECS=${SECS:-5}
MAXQ=${MAXQ:-2000000}
WORKERS=${WORKERS:-16}
RATE=${RATE:-}
SERVER_CPU=${SERVER_CPU:-0}
LOAD_CPU=${LOAD_CPU:-1}
PORT=${PORT:-15353}
ACMEDNS_BIN=${ACMEDNS_BIN:-}
OUT=${OUT:-}
ZONE=auth.bench.test

die() {
	echo "serve.sh: $*" >&2
	exit 2
}

for v in REPEATS SECS MAXQ WORKERS PORT SERVER_CPU LOAD_CPU; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "$v=${!v}: want a whole number"
done
for n in $ACCOUNTS; do
	[[ $n =~ ^[0-9]+$ && $n -ge 1 ]] || die "ACCOUNTS: \"$n\" is not a count of at least 1"
done
[[ -z $RATE || $RATE =~ ^[0-9]+$ ]] || die "RATE=$RATE: want queries per second, a whole number"
if [[ -n $ACMEDNS_BIN && ! -x $ACMEDNS_BIN ]]; then
	die "ACMEDNS_BIN=$ACMEDNS_BIN: not an executable file; build acme-dns and give its path, or leave ACMEDNS_BIN unset"
fi
for tool in python3 taskset; do
	command -v "$tool" >/dev/null || die "$tool is needed"
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TMP=$(mktemp -d /tmp/strictacme-servebench.XXXXXX)
PIDS=()

stop_servers() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}
trap 'stop_servers; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# Static, as released (.goreleaser.yaml): a binary linked to libc maps
# it too, a megabyte more resident.
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$TMP/strictacme" ./cmd/strictacme && go build -o "$TMP/serveload" ./bench/serveload)

RESULTS=$TMP/results
: >"$RESULTS"

SERVERS=(strictacme)
[[ -n $ACMEDNS_BIN ]] && SERVERS+=(acme-dns)
declare -A DNSPORT=([strictacme]=$PORT [acme-dns]=$((PORT + 1)))

# rss PID: resident set size from /proc/PID/status (proc(5)), in kB, as
# result fields: rss_kb (VmRSS, what the ratios' RSS column compares) and
# its parts rss_anon_kb (RssAnon: the process's own memory: heap, stacks,
# SQLite's cache) and rss_file_kb (RssFile: pages of mapped files, nearly
# all of them the binary's own code and read-only data, so they grow with
# everything linked into it, used or not).
rss() {
	awk '/^VmRSS:/ { t = $2 } /^RssAnon:/ { a = $2 } /^RssFile:/ { f = $2 }
		END { printf "rss_kb=%s rss_anon_kb=%s rss_file_kb=%s", t, a, f }' "/proc/$1/status"
}

# cpu_ticks PID: user + system CPU time of the process so far, in clock
# ticks (proc(5): fields 14 and 15 of /proc/PID/stat; the name in
# parentheses is cut off first).
cpu_ticks() {
	sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}
HZ=$(getconf CLK_TCK)

# load LABEL SERVER QFILE [ARGS...]: one bounded load on the load core; the
# result line gets the server's RSS right after it and the server's CPU time
# per answered question (steadier than qps on a shared machine, and not
# limited by the load generator's core).
load() {
	local label=$1 server=$2 qfile=$3
	shift 3
	local line before after answered pid=${PID_OF[$server]}
	before=$(cpu_ticks "$pid")
	line=$(taskset -c "$LOAD_CPU" "$TMP/serveload" -s "127.0.0.1:${DNSPORT[$server]}" -q "$qfile" \
		-d "${SECS}s" -n "$MAXQ" -label "$label" "$@")
	after=$(cpu_ticks "$pid")
	answered=$(sed -n 's/.* answered=\([0-9]*\) .*/\1/p' <<<"$line")
	echo "$line $(rss "$pid") cpu_us_per_q=$(awk -v t=$((after - before)) -v hz="$HZ" -v n="${answered:-0}" \
		'BEGIN { if (n > 0) printf "%.1f", t * 1e6 / hz / n; else print "-" }')" | tee -a "$RESULTS"
}

# wait_ready SERVER: the server answers an apex SOA, within 60 s; sets
# STARTED_S[SERVER] to the seconds since STARTED_AT (its launch) and
# STARTED_CPU[SERVER] to the CPU seconds it used until then (on a shared
# machine the steadier figure: the wall time includes waiting for the
# core).
wait_ready() {
	local i
	for ((i = 0; i < 1200; i++)); do
		if ! kill -0 "${PID_OF[$1]}" 2>/dev/null; then
			die "$1 exited during start-up; the end of its log:
$(tail -n 5 "$DIR/$1.log")"
		fi
		if "$TMP/serveload" -s "127.0.0.1:${DNSPORT[$1]}" -q "$DIR/ready.q" -n 1 -c 1 -timeout 200ms 2>/dev/null |
			grep -q ' answered=1 '; then
			STARTED_S[$1]=$(awk -v a="$STARTED_AT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
			STARTED_CPU[$1]=$(awk -v t="$(cpu_ticks "${PID_OF[$1]}")" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
			return 0
		fi
		sleep 0.05
	done
	die "$1 did not answer within 60 s; the end of its log:
$(tail -n 5 "$DIR/$1.log")"
}

declare -A PID_OF STARTED_S STARTED_CPU
STARTED_AT=
FIRST=1
for N in $ACCOUNTS; do
	DIR=$TMP/$N
	mkdir -p "$DIR"
	echo "== $N accounts: writing the acme-dns database" >&2
	python3 - "$DIR" "$N" "$ZONE" <<'PY'
import base64, hashlib, os, sqlite3, sys, time, uuid
d, n, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(os.path.join(d, "acme-dns.db"))
# acme-dns v2's schema (pkg/database/db.go), at its db_version 1.
c.executescript("""
CREATE TABLE acmedns(Name TEXT, Value TEXT);
INSERT INTO acmedns VALUES ('db_version', '1');
CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL,
                     Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT);
CREATE TABLE txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT);
CREATE INDEX idx_txt_subdomain ON txt (Subdomain);
""")
now = int(time.time())
def digest():
    # A dns-01 value: base64url of a SHA-256 digest (RFC 8555 section 8.4).
    return base64.urlsafe_b64encode(hashlib.sha256(os.urandom(16)).digest()).rstrip(b"=").decode()
with open(os.path.join(d, "txt.q"), "w") as q:
    for i in range(n):
        sub = str(uuid.uuid4())
        c.execute("INSERT INTO records VALUES (?,?,?,?)", (str(uuid.uuid4()), "$2a$10$bench%040d" % i, sub, "[]"))
        c.execute("INSERT INTO txt VALUES (?,?,?)", (sub, digest(), now))
        c.execute("INSERT INTO txt VALUES (?,?,?)", (sub, digest(), now))
        q.write("%s.%s TXT\n" % (sub, zone))
c.commit()
with open(os.path.join(d, "unknown.q"), "w") as q:
    for i in range(1000):
        q.write("%s.%s TXT\n" % (uuid.uuid4(), zone))
with open(os.path.join(d, "static.q"), "w") as q:
    for t in ("A", "NS", "SOA"):
        q.write("%s %s\n" % (zone, t))
with open(os.path.join(d, "ready.q"), "w") as q:
    q.write("%s SOA\n" % zone)
PY

	cat >"$DIR/serve.toml" <<TOML
[general]
listen = "127.0.0.1:${DNSPORT[strictacme]}"
domain = "$ZONE"
nsname = "$ZONE"
nsadmin = "admin.$ZONE"
records = ["$ZONE. A 127.0.0.1", "$ZONE. NS $ZONE."]
[database]
engine = "sqlite"
connection = "$DIR/serve.db"
[api]
listen = "127.0.0.1:$((PORT + 2))"
lookup = false
[logconfig]
loglevel = "error"
TOML
	STARTED_AT=$(date +%s.%N)
	taskset -c "$SERVER_CPU" "$TMP/strictacme" serve -c "$DIR/serve.toml" --import-acmedns "sqlite3:$DIR/acme-dns.db" >"$DIR/import.log" 2>&1 ||
		die "importing the accounts into strictacme failed; $(tail -1 "$DIR/import.log")"
	echo "label=$N/import/acme-dns-db/strictacme secs=$(awk -v a="$STARTED_AT" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')" | tee -a "$RESULTS"

	STARTED_AT=$(date +%s.%N)
	taskset -c "$SERVER_CPU" "$TMP/strictacme" serve -c "$DIR/serve.toml" >"$DIR/strictacme.log" 2>&1 &
	PID_OF[strictacme]=$!
	PIDS+=("$!")
	wait_ready strictacme

	if [[ -n $ACMEDNS_BIN ]]; then
		cat >"$DIR/acme-dns.cfg" <<TOML
[general]
listen = "127.0.0.1:${DNSPORT[acme-dns]}"
protocol = "both"
domain = "$ZONE"
nsname = "$ZONE"
nsadmin = "admin.$ZONE"
records = ["$ZONE. A 127.0.0.1", "$ZONE. NS $ZONE."]
debug = false
[database]
engine = "sqlite"
connection = "$DIR/acme-dns.db"
[api]
ip = "127.0.0.1"
port = "$((PORT + 3))"
tls = "none"
disable_registration = true
corsorigins = ["*"]
use_header = false
header_name = "X-Forwarded-For"
[logconfig]
loglevel = "error"
logtype = "stdout"
logformat = "text"
TOML
		STARTED_AT=$(date +%s.%N)
		(cd "$DIR" && exec taskset -c "$SERVER_CPU" "$ACMEDNS_BIN" -c "$DIR/acme-dns.cfg") >"$DIR/acme-dns.log" 2>&1 &
		PID_OF[acme-dns]=$!
		PIDS+=("$!")
		wait_ready acme-dns
	fi

	for s in "${SERVERS[@]}"; do
		echo "label=$N/idle/started/$s $(rss "${PID_OF[$s]}") secs=${STARTED_S[$s]} cpu_s=${STARTED_CPU[$s]}" | tee -a "$RESULTS"
	done

	echo "== $N accounts: saturation, $WORKERS questions in flight, ${SECS}s a load, $REPEATS rounds" >&2
	for ((r = 1; r <= REPEATS; r++)); do
		for kind in txt unknown static; do
			for s in "${SERVERS[@]}"; do
				load "$N/$kind/saturation/$s" "$s" "$DIR/$kind.q" -c "$WORKERS"
			done
		done
	done

	if [[ $FIRST == 1 && -z $RATE ]]; then
		RATE=$(awk '/\/saturation\// { split($2, a, "="); if (min == "" || a[2] < min) min = a[2] }
			END { printf "%d", min * 0.5 }' "$RESULTS")
		[[ $RATE -ge 1 ]] || die "no saturation figure to derive RATE from; set RATE"
	fi
	FIRST=0
	echo "== $N accounts: fixed rate $RATE qps" >&2
	for ((r = 1; r <= REPEATS; r++)); do
		for kind in txt unknown static; do
			for s in "${SERVERS[@]}"; do
				load "$N/$kind/rate-$RATE/$s" "$s" "$DIR/$kind.q" -rate "$RATE" -c 4
			done
		done
	done
	stop_servers
done

[[ -z $OUT ]] || cp "$RESULTS" "$OUT"
echo
echo "machine: $(nproc) cores ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "servers on core $SERVER_CPU, load generator on core $LOAD_CPU"
"$TMP/serveload" -summary "$RESULTS"
