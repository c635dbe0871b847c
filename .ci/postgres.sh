#!/bin/sh
# Start a throwaway PostgreSQL cluster on loopback for the challenge server's
# tests and print the DSN as an export line. Usage in CI:
#
#   eval "$(.ci/postgres.sh)"      # sets STRICTACME_TEST_POSTGRES
#   go test ./internal/challengeserver/...
#
# Installs Debian's postgresql package when no initdb is found. The cluster
# lives in a temporary directory, listens on 127.0.0.1 only (port
# $PGPORT, default 55432), trusts local connections and is not persistent.
# Stop it with: pg_ctl -D "$STRICTACME_TEST_PGDATA" stop (as the postgres user
# when run as root). Progress goes to stderr; stdout carries only the exports.
set -eu

PGPORT=${PGPORT:-55432}

find_bin() {
	for d in /usr/lib/postgresql/*/bin /usr/local/bin /usr/bin; do
		if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
	done
	return 1
}

BIN=$(find_bin || true)
if [ -z "$BIN" ]; then
	echo "postgres.sh: installing postgresql" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2 || {
		apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
	}
	BIN=$(find_bin)
fi

DATA=$(mktemp -d /tmp/strictacme-pg.XXXXXX)
run() { "$@"; }
if [ "$(id -u)" = 0 ]; then
	chown postgres "$DATA"
	run() { su postgres -s /bin/sh -c "$*"; }
fi

run "$BIN/initdb" -D "$DATA/data" -U postgres -A trust --no-sync >&2
run "$BIN/pg_ctl" -D "$DATA/data" -l "$DATA/log" -w \
	-o "\"-c listen_addresses=127.0.0.1 -p $PGPORT -k $DATA -c fsync=off\"" start >&2
"$BIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres strictacme_test >&2

echo "export STRICTACME_TEST_POSTGRES='postgres://postgres@127.0.0.1:$PGPORT/strictacme_test?sslmode=disable'"
echo "export STRICTACME_TEST_PGDATA='$DATA/data'"
