#!/usr/bin/env bash
# Time to certificate of strictacme against lego v5.6.0 and a floor client, in
# one local ACME world: the peer harness in ../shared/peers (Pebble,
# pebble-challtestsrv with DoH, lego built by its install.sh).
#
#   bench/peers.sh [-r RUNS] [-s SHAPES] [-a RETRY_AFTERS] [-t TOOLS] [-L RUNS] [-p N] [-o DIR]
#     -r RUNS          paired runs per shape and Retry-After setting (default 5)
#     -s SHAPES        comma list of 1, 3, wild (apex + wildcard), 10, 100 (default: all)
#     -a RETRY_AFTERS  comma list of 0 (PEBBLE_RETRY_AFTER_AUTHZ=0 PEBBLE_RETRY_AFTER_ORDER=0)
#                      and default (Pebble's 3 s / 5 s) (default: both)
#     -t TOOLS         comma list of strictacme, lego, floor (default: all three)
#     -L RUNS          lego runs for 100 names, where one lego run takes about ten
#                      minutes (default: RUNS); the other tools still run RUNS times
#     -p N             strictacme's EXEC_PARALLEL: how many hook runs may overlap (default 8;
#                      1 runs them one at a time, as lego's exec provider always does)
#     -o DIR           results directory (default /tmp/strictacme-peers.<UTC time>)
#     -S DIR           only print the table of an earlier (or interrupted) run's DIR/runs.tsv
#   PEERS=DIR          the harness (default ../shared/peers from the repository root)
#   Other PEBBLE_* variables (e.g. PEBBLE_WFE_NONCEREJECT=50, PEBBLE_VA_NOSLEEP=0) reach
#   Pebble through the harness's world.sh.
#
# Each run gets a fresh account and state directory. Every tool writes the TXT records
# through challtestsrv's management API: strictacme and lego with the harness's exec hook
# (hooks/challtestsrv-exec.sh, `--dns exec`), the floor (bench/floor) by itself. The hook
# is safe to run several times at once (each /set-txt appends one value under
# challtestsrv's lock; /clear-txt runs only after every authorization is valid), so
# strictacme runs it with EXEC_PARALLEL (-p); lego's exec provider has no such setting
# and runs it once per record, one after the other.
# strictacme checks propagation over challtestsrv's DoH, lego over plain DNS to
# challtestsrv (its recursive check; its authoritative check needs a server on port 53
# that challtestsrv is not). Per round the order of strictacme and lego alternates; the
# floor runs last. A run counts only if its chain verifies against this Pebble's root
# and names every SAN.
#
# Runs as root inside a private network and mount namespace (unshare) whose only
# interface is loopback, with its own world, the way the harness's lego-baseline.sh
# does; /etc/resolv.conf there names 127.0.0.2, where nothing listens. Everything
# started is stopped on exit. Writes runs.tsv, summary.md and logs/ under DIR and
# prints the summary: medians, strictacme/lego per pair, strictacme/floor per round.
set -euo pipefail
set -f # "*.example.test" is a name, not a pattern

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -z "${PEERS:-}" ]]; then
	PEERS=$ROOT/../shared/peers
	if [[ ! -d $PEERS ]]; then
		# A linked worktree: the harness sits next to the main checkout.
		common=$(git -C "$ROOT" rev-parse --path-format=absolute --git-common-dir 2>/dev/null || true)
		[[ -z $common ]] || PEERS=$(dirname "$common")/../shared/peers
	fi
fi
[[ -d $PEERS ]] || { echo "peers.sh: harness not found at $PEERS; set PEERS" >&2; exit 2; }
PEERS=$(cd "$PEERS" && pwd)

# summarize DIR: the table of DIR/runs.tsv (also of a partial or interrupted run).
summarize() {
awk -F'\t' -v dir="$1" '
function median(a, n,    i, j, t) {
	if (n == 0) return -1
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(x, d) { return x < 0 ? "–" : sprintf("%." d "f", x) }
# phases K FILE SECS: from the step log of strictacme, the seconds its exec hook
# took to write the records, how long the clean-up ran on after the
# certificate was stored, the time of the run beyond the waits the CA asked
# for (the Retry-After of the order, which the log states), and the time of
# the run without the hook (the writes and the clean-up after the certificate).
function phases(k, file, secs,    line, ts, w0, w1, st, cl, ra, x) {
	w0 = w1 = st = cl = -1; ra = 0
	while ((getline line < file) > 0) {
		if (line !~ /^\[ *[0-9.]+s\]/) continue
		ts = line; sub(/^\[ */, "", ts); sub(/s\].*/, "", ts); ts += 0
		if (w0 < 0 && line ~ /\] write TXT /) w0 = ts
		if (line ~ /\] wrote [0-9]+ record/) w1 = ts
		if (line ~ /\] stored /) st = ts
		if (line ~ /\] cleaned up /) cl = ts
		if (line ~ /waiting [0-9.]+s as the CA asks/) { x = line; sub(/.*waiting /, "", x); sub(/s as the CA asks.*/, "", x); ra += x }
	}
	close(file)
	if (w0 >= 0 && w1 >= 0) wr[k, ++nw[k]] = w1 - w0
	if (st >= 0 && cl >= 0) af[k, ++na[k]] = (cl > st ? cl - st : 0)
	bw[k, ++nb[k]] = secs - ra
	nh[k, ++nn[k]] = secs - (w0 >= 0 && w1 >= 0 ? w1 - w0 : 0) - (st >= 0 && cl > st ? cl - st : 0)
}
NR > 1 {
	k = $1 "\t" $2; if (!(k in seen)) { seen[k] = 1; order[++m] = k; names[k] = $3 }
	runs[k, $5]++
	if ($6 == 0 && $8 == "ok") { okc[k, $5]++; t[k, $5, $4] = $7; okr[k, $5, $4] = 1 }
	if ($5 == "strictacme" && $6 == 0 && $8 == "ok") phases(k, dir "/logs/" $1 "-" $2 "-" $4 "-strictacme.log", $7)
	if ($4 > rounds[k]) rounds[k] = $4
}
END {
	print "| Retry-After | shape | names | strictacme/lego, median of pairs (min–max) | strictacme/floor, median of rounds | strictacme s | lego s | floor s | ok (strictacme, lego, floor) | strictacme: hook writes s, clean-up after the certificate s | strictacme s beyond the waits the CA asked for | strictacme s without its hook, ÷ floor |"
	print "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for (j = 1; j <= m; j++) {
		k = order[j]; split(k, kk, "\t")
		np = 0; nf = 0; delete pr; delete fr; lo = hi = -1
		for (tool in ms) delete ms[tool]
		split("strictacme lego floor", tools, " ")
		for (x = 1; x <= 3; x++) { n = 0; delete v
			for (r = 1; r <= rounds[k]; r++) if (okr[k, tools[x], r]) v[++n] = t[k, tools[x], r]
			ms[tools[x]] = median(v, n) }
		for (r = 1; r <= rounds[k]; r++) if (okr[k, "strictacme", r]) {
			if (okr[k, "lego", r]) { q = t[k, "strictacme", r] / t[k, "lego", r]; pr[++np] = q
				if (lo < 0 || q < lo) lo = q; if (q > hi) hi = q }
			if (okr[k, "floor", r] && t[k, "floor", r] > 0) fr[++nf] = t[k, "strictacme", r] / t[k, "floor", r]
		}
		pm = median(pr, np); fm = median(fr, nf)
		delete v; for (x = 1; x <= nw[k]; x++) v[x] = wr[k, x]; wm = median(v, nw[k] + 0)
		delete v; for (x = 1; x <= na[k]; x++) v[x] = af[k, x]; am = median(v, na[k] + 0)
		delete v; for (x = 1; x <= nb[k]; x++) v[x] = bw[k, x]; bm = median(v, nb[k] + 0)
		delete v; for (x = 1; x <= nn[k]; x++) v[x] = nh[k, x]; hm = median(v, nn[k] + 0)
		printf "| %s | %s | %s | %s | %s | %s | %s | %s | %d/%d, %d/%d, %d/%d | %s, %s | %s | %s |\n", \
			(kk[1] == 0 ? "0" : "3 s / 5 s"), kk[2], names[k], \
			(np ? sprintf("%s (%s–%s), %d pairs", fmt(pm, 4), fmt(lo, 4), fmt(hi, 4), np) : "–"), \
			(nf ? sprintf("%s, %d rounds", fmt(fm, 2), nf) : "–"), \
			fmt(ms["strictacme"], 2), fmt(ms["lego"], 2), fmt(ms["floor"], 3), \
			okc[k, "strictacme"], runs[k, "strictacme"], okc[k, "lego"], runs[k, "lego"], okc[k, "floor"], runs[k, "floor"], \
			fmt(wm, 2), fmt(am, 2), fmt(bm, 2), \
			(hm >= 0 && ms["floor"] > 0 ? sprintf("%s, %s", fmt(hm, 2), fmt(hm / ms["floor"], 2)) : fmt(hm, 2))
	}
}' "$1/runs.tsv"
}

ARGS=("$@")
RUNS=5 SHAPES=1,3,wild,10,100 RAS=0,default TOOLS=strictacme,lego,floor LARGE="" PARALLEL=8 OUT="" INSIDE=0
while (($#)); do
	case "$1" in
	-r) RUNS=$2; shift 2 ;;
	-s) SHAPES=$2; shift 2 ;;
	-a) RAS=$2; shift 2 ;;
	-t) TOOLS=$2; shift 2 ;;
	-L) LARGE=$2; shift 2 ;;
	-p) PARALLEL=$2; shift 2 ;;
	-o) OUT=$2; shift 2 ;;
	-S) summarize "$2"; exit ;;
	--inside) INSIDE=1; shift ;;
	-h | --help) sed -n '2,39p' "$0"; exit 0 ;;
	*) echo "peers.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
LARGE=${LARGE:-$RUNS}
[[ $RUNS =~ ^[1-9][0-9]*$ && $LARGE =~ ^[0-9]+$ ]] || { echo "peers.sh: -r and -L take whole numbers" >&2; exit 2; }
[[ $PARALLEL =~ ^[1-9][0-9]*$ ]] || { echo "peers.sh: -p takes a whole number from 1" >&2; exit 2; }
for s in ${SHAPES//,/ }; do
	case $s in 1 | 3 | wild | 10 | 100) ;; *) echo "peers.sh: -s: unknown shape $s (1, 3, wild, 10, 100)" >&2; exit 2 ;; esac
done
for a in ${RAS//,/ }; do
	case $a in 0 | default) ;; *) echo "peers.sh: -a: unknown setting $a (0, default)" >&2; exit 2 ;; esac
done
for t in ${TOOLS//,/ }; do
	case $t in strictacme | lego | floor) ;; *) echo "peers.sh: -t: unknown tool $t (strictacme, lego, floor)" >&2; exit 2 ;; esac
done
RUN_TIMEOUT=${RUN_TIMEOUT:-1200} # seconds; lego needs about 9 minutes for 100 names

# ---------- outside: build, then re-execute in a private loopback-only namespace ----------
if [[ $INSIDE == 0 ]]; then
	[[ $(id -u) == 0 ]] || { echo "peers.sh: needs root for a private network namespace (unshare --net)" >&2; exit 2; }
	OUT=${OUT:-/tmp/strictacme-peers.$(date -u +%Y%m%dT%H%M%SZ)}
	mkdir -p "$OUT/bin"
	for b in pebble pebble-challtestsrv lego worldtool; do
		if [[ ! -x $PEERS/bin/$b ]]; then
			echo "peers.sh: building the harness ($PEERS/install.sh)" >&2
			"$PEERS/install.sh" >&2
			break
		fi
	done
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$OUT/bin/strictacme" ./cmd/strictacme &&
		go build -o "$OUT/bin/floor" ./bench/floor)
	exec unshare --net --mount --propagation private -- "$0" --inside "${ARGS[@]}" -o "$OUT"
fi

# ---------- inside ----------
OUT=$(cd "$OUT" && pwd)
mkdir -p "$OUT/logs" "$OUT/run"
export WORLD_STATE="$OUT/world"
WORLD_UP=0
cleanup() {
	if [[ $WORLD_UP == 1 ]]; then "$PEERS/world.sh" down || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip link set lo up
if ip -o link | grep -qv ': lo:'; then
	echo "peers.sh: the namespace has links other than loopback" >&2
	exit 1
fi
printf 'nameserver 127.0.0.2\noptions timeout:1 attempts:1\n' >"$OUT/resolv.conf"
mount --bind "$OUT/resolv.conf" /etc/resolv.conf

SA=$OUT/bin/strictacme FLOOR=$OUT/bin/floor LEGO=$PEERS/bin/lego HOOK=$PEERS/hooks/challtestsrv-exec.sh

names_for() {
	local i n
	case $1 in
	wild) echo "example.test *.example.test"; return ;;
	*) n=$1 ;;
	esac
	printf 'example.test'
	for ((i = 1; i < n; i++)); do printf ' san%d.example.test' "$i"; done
	echo
}

# verify CERT CHAIN "names": "ok" or why not
verify() {
	local sans d
	[[ -s $1 ]] || { echo "no certificate file"; return; }
	openssl verify -CAfile "$WORLD_ISSUER_ROOT" -untrusted "$2" "$1" >/dev/null 2>&1 ||
		{ echo "chain does not verify against this Pebble's root"; return; }
	sans=$(openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null | tail -n +2 | tr -d ' ')
	for d in $3; do [[ ",$sans," == *",DNS:$d,"* ]] || { echo "SAN $d missing"; return; }; done
	echo ok
}

# run TOOL RA SHAPE ROUND: one timed run, one row in runs.tsv, one line on stdout.
run() {
	local tool=$1 ra=$2 shape=$3 i=$4 names d log rc=0 t0 t1 secs outcome
	names=$(names_for "$shape")
	d=$OUT/run/$ra-$shape-$i-$tool log=$OUT/logs/$ra-$shape-$i-$tool.log
	mkdir -p "$d"
	local -a cmd dflags=()
	local n
	for n in $names; do dflags+=(-d "$n"); done
	case $tool in
	strictacme)
		cmd=(env -i "PATH=$PATH" "HOME=$d" "EXEC_PATH=$HOOK" "EXEC_PARALLEL=$PARALLEL" "CHALLTESTSRV_MGMT=$CHALLTESTSRV_MGMT"
			"$SA" issue --server "$ACME_DIRECTORY" --ca-cert "$LEGO_CA_CERTIFICATES" --accept-tos
			--email bench@example.test --path "$d" --dns exec --resolver "$WORLD_DOH_URL" "${dflags[@]}") ;;
	lego)
		cmd=(env -i "PATH=$PATH" "EXEC_PATH=$HOOK" "EXEC_SEQUENCE_INTERVAL=0" "CHALLTESTSRV_MGMT=$CHALLTESTSRV_MGMT"
			"LEGO_CA_CERTIFICATES=$LEGO_CA_CERTIFICATES"
			"$LEGO" --log.format text run --accept-tos -m bench@example.test -s "$ACME_DIRECTORY" --path "$d"
			--dns exec --dns.resolvers "$WORLD_DNS" --dns.propagation.disable-ans "${dflags[@]}") ;;
	floor)
		cmd=("$FLOOR" -server "$ACME_DIRECTORY" -ca-cert "$LEGO_CA_CERTIFICATES" -mgmt "$CHALLTESTSRV_MGMT"
			-out "$d/chain.pem" -d "${names// /,}") ;;
	esac
	t0=$(date +%s%N)
	timeout "$RUN_TIMEOUT" "${cmd[@]}" >"$log" 2>&1 || rc=$?
	t1=$(date +%s%N)
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	if [[ $rc == 0 ]]; then
		case $tool in
		strictacme) outcome=$(verify "$d/certificates/example.test/cert.pem" "$d/certificates/example.test/fullchain.pem" "$names") ;;
		lego) outcome=$(verify "$d/certificates/example.test.crt" "$d/certificates/example.test.issuer.crt" "$names") ;;
		floor) outcome=$(verify "$d/chain.pem" "$d/chain.pem" "$names") ;;
		esac
	else
		outcome="exit $rc: $(grep -v '^\s*$' "$log" | tail -n 1 | cut -c1-200)"
	fi
	[[ $outcome == ok ]] && rm -rf "$d"
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$ra" "$shape" "$(wc -w <<<"$names")" "$i" "$tool" "$rc" "$secs" "$outcome" >>"$OUT/runs.tsv"
	printf '  %-8s %-5s #%-2s %-10s %8ss  %s\n' "ra=$ra" "$shape" "$i" "$tool" "$secs" "$outcome"
}

has() { [[ ",$TOOLS," == *",$1,"* ]]; }

{
	echo "# bench/peers.sh $(date -u +%FT%TZ)"
	echo "strictacme: $(git -C "$ROOT" describe --always --dirty 2>/dev/null || echo '?')  lego: $("$LEGO" --version 2>&1 | head -1)"
	echo "pebble: $(go version -m "$PEERS/bin/pebble" 2>/dev/null | awk '$1 == "mod" { print $2, $3 }')"
	echo "host: $(nproc) cores, $(awk '/model name/ { $1 = $2 = $3 = ""; print; exit }' /proc/cpuinfo | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg), $(uname -r)"
	echo "runs: $RUNS (lego on 100 names: $LARGE)  shapes: $SHAPES  retry-after: $RAS  tools: $TOOLS  strictacme EXEC_PARALLEL: $PARALLEL"
	env | grep '^PEBBLE_' | sort | tr '\n' ' ' || true
	echo
} | tee "$OUT/meta.txt"
printf 'retry_after\tshape\tnames\tround\ttool\trc\tsecs\toutcome\n' >"$OUT/runs.tsv"

for ra in ${RAS//,/ }; do
	if [[ $ra == 0 ]]; then
		export PEBBLE_RETRY_AFTER_AUTHZ=0 PEBBLE_RETRY_AFTER_ORDER=0
	else
		unset PEBBLE_RETRY_AFTER_AUTHZ PEBBLE_RETRY_AFTER_ORDER
	fi
	"$PEERS/world.sh" down >/dev/null 2>&1 || true
	WORLD_UP=1
	"$PEERS/world.sh" up
	# shellcheck source=/dev/null
	source <("$PEERS/world.sh" env)
	for shape in ${SHAPES//,/ }; do
		echo "== Retry-After $ra, shape $shape"
		for ((i = 1; i <= RUNS; i++)); do
			pair=(strictacme lego)
			((i % 2)) || pair=(lego strictacme)
			for t in "${pair[@]}" floor; do
				has "$t" || continue
				if [[ $t == lego && $shape == 100 ]] && ((i > LARGE)); then continue; fi
				run "$t" "$ra" "$shape" "$i"
			done
		done
	done
	"$PEERS/world.sh" down
	WORLD_UP=0
done

summarize "$OUT" >"$OUT/summary.md"
echo
cat "$OUT/summary.md"
echo
echo "results: $OUT"
