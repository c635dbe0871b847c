#!/bin/sh
# Load-test `strictacme serve` DNS with dnsperf (DNS-OARC; Debian package
# "dnsperf") on loopback: TXT queries for N registered subdomains with two
# live values each.
#
#   bench/dnsperf.sh [ACCOUNTS] [SECONDS] [CLIENTS]     defaults: 10 10 4
#   bench/dnsperf.sh 100000
#
# Accounts are created by writing an acme-dns format SQLite database with
# python3 and importing it (`serve --import-acmedns`), so 100,000 accounts
# take seconds, not hours of bcrypt. Everything lives in a temp directory
# and listens on 127.0.0.1 only. Prints dnsperf's summary (queries per
# second, latency average and stddev).
set -eu
N=${1:-10}
SECS=${2:-10}
CLIENTS=${3:-4}
PORT=${PORT:-15353}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

if ! command -v dnsperf >/dev/null 2>&1; then
	echo "dnsperf.sh: installing dnsperf" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y dnsperf >&2 || {
		echo "dnsperf.sh: dnsperf is not available; use the Go benchmark instead:" >&2
		echo "  go test -run XXX -bench TXTLoopback ./internal/challengeserver/dnsserver" >&2
		exit 1
	}
fi

TMP=$(mktemp -d /tmp/strictacme-dnsperf.XXXXXX)
trap 'if [ -n "${PID:-}" ]; then kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; fi; rm -rf "$TMP"' EXIT INT TERM

(cd "$ROOT" && go build -o "$TMP/strictacme" ./cmd/strictacme)

python3 - "$TMP/acme-dns.db" "$TMP/queries" "$N" <<'PY'
import sqlite3, sys, time, uuid
db, queries, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = sqlite3.connect(db)
c.execute("CREATE TABLE records(Username TEXT UNIQUE NOT NULL PRIMARY KEY, Password TEXT UNIQUE NOT NULL, Subdomain TEXT UNIQUE NOT NULL, AllowFrom TEXT)")
c.execute("CREATE TABLE txt(Subdomain TEXT NOT NULL, Value TEXT NOT NULL DEFAULT '', LastUpdate INT)")
now = int(time.time())
with open(queries, "w") as q:
    for i in range(n):
        sub = str(uuid.uuid4())
        c.execute("INSERT INTO records VALUES (?,?,?,?)", (str(uuid.uuid4()), "$2a$10$bench%040d" % i, sub, "[]"))
        c.execute("INSERT INTO txt VALUES (?,?,?)", (sub, "A" * 42 + "1", now))
        c.execute("INSERT INTO txt VALUES (?,?,?)", (sub, "B" * 42 + "2", now))
        q.write("%s.auth.bench.test TXT\n" % sub)
c.commit()
PY

cat >"$TMP/serve.toml" <<TOML
[general]
listen = ["127.0.0.1:$PORT"]
domain = "auth.bench.test"
records = ["@ NS ns1", "ns1 A 127.0.0.1"]
[database]
engine = "sqlite"
connection = "$TMP/serve.db"
[api]
listen = ["127.0.0.1:0"]
metrics = false
lookup = false
[logconfig]
loglevel = "warning"
TOML

"$TMP/strictacme" serve -c "$TMP/serve.toml" --import-acmedns "sqlite3:$TMP/acme-dns.db" >&2
"$TMP/strictacme" serve -c "$TMP/serve.toml" &
PID=$!
sleep 2

echo "== strictacme serve: $N accounts, TXT, $CLIENTS clients, ${SECS}s, UDP 127.0.0.1:$PORT"
dnsperf -s 127.0.0.1 -p "$PORT" -d "$TMP/queries" -l "$SECS" -c "$CLIENTS" -q 200 -S 5 2>&1 |
	grep -E "Queries (sent|completed|lost)|Response codes|Queries per second|Average Latency|Latency StdDev"
