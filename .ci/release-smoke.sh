#!/bin/sh
# Smoke test of a goreleaser snapshot in DIST (default dist/):
#   - checksums.txt matches every artifact;
#   - the linux/amd64 binary is static, runs --version and issues a
#     certificate with `sandbox` in a temporary directory;
#   - the .deb installs with `dpkg -i` into an empty root (its own dpkg
#     database, nothing from the host), and the installed binary, chrooted
#     into that root when we are root, runs --version and sandbox;
#   - the packaged man pages, completions and systemd units are in place.
set -eu

dist=${1:-dist}
dist=$(cd "$dist" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
  echo "release-smoke: $*" >&2
  exit 1
}
step() { echo "release-smoke: $*"; }

step "checksums"
(cd "$dist" && sha256sum --quiet --strict -c checksums.txt) || fail "checksums.txt does not match the artifacts"

bin=$dist/strictacme_linux_amd64_v1/strictacme
[ -x "$bin" ] || fail "no linux/amd64 binary at $bin"
go version -m "$bin" | grep -q 'CGO_ENABLED=0' || fail "$bin is not built with CGO_ENABLED=0"

# check_version BIN [--chroot ROOT]: --version says strictacme and a v-version.
check_version() {
  out=$(run "$@" --version) || fail "$1 --version failed: $out"
  case $out in
  "strictacme version v"*) step "$out" ;;
  *) fail "$1 --version printed: $out" ;;
  esac
}

# check_sandbox DIR BIN [--chroot ROOT]: sandbox run with DIR as its working
# directory issues a certificate into DIR/sandbox (DIR is inside ROOT when
# chrooted, where chroot(8) starts in /: the path is then given explicitly).
check_sandbox() {
  dir=$1
  shift
  if [ "${2:-}" = "--chroot" ]; then
    set -- "$@" sandbox --path "${dir#"$3"}/sandbox"
  else
    set -- "$@" sandbox
  fi
  (cd "$dir" && run "$@" >sandbox.log 2>&1) || {
    cat "$dir/sandbox.log" >&2
    fail "$1 sandbox failed"
  }
  n=$(find "$dir/sandbox/certificates" -name fullchain.pem | wc -l)
  [ "$n" -ge 1 ] || fail "$1 sandbox wrote no certificate"
  step "sandbox issued a certificate ($*)"
}

# run BIN [--chroot ROOT] ARGS...: BIN directly, or inside ROOT.
run() {
  b=$1
  shift
  if [ "${1:-}" = "--chroot" ]; then
    r=$2
    shift 2
    chroot "$r" "$b" "$@"
  else
    "$b" "$@"
  fi
}

step "release binary"
check_version "$bin"
mkdir "$work/bin"
check_sandbox "$work/bin" "$bin"

step "Debian package"
set -- "$dist"/strictacme_*_amd64.deb
[ -f "$1" ] || fail "no amd64 .deb in $dist"
deb=$1
root=$work/root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/tmp"
: >"$root/var/lib/dpkg/status"
: >"$root/var/lib/dpkg/available"
force=
[ "$(id -u)" = 0 ] || force=--force-not-root
# shellcheck disable=SC2086 # $force is one word or nothing
dpkg $force --root="$root" --log=/dev/null -i "$deb" || fail "dpkg -i $deb failed"
dpkg --root="$root" -s strictacme | grep -q '^Status: install ok installed' || fail "dpkg does not list strictacme as installed"
for f in /usr/bin/strictacme /usr/share/man/man1/strictacme.1.gz /usr/share/man/man1/strictacme-renew.1.gz \
  /usr/share/bash-completion/completions/strictacme /usr/share/zsh/vendor-completions/_strictacme \
  /usr/share/fish/vendor_completions.d/strictacme.fish /usr/lib/systemd/system/strictacme-renew.service \
  /usr/lib/systemd/system/strictacme-renew.timer /usr/lib/systemd/system/strictacme-serve.service \
  /usr/share/doc/strictacme/copyright /usr/share/doc/strictacme/examples/strictacme.toml; do
  dpkg --root="$root" -L strictacme | grep -qx "$f" || fail "the .deb does not install $f"
  [ -e "$root$f" ] || fail "$f is listed but missing"
done
grep -q '^ExecStart=/usr/bin/strictacme ' "$root/usr/lib/systemd/system/strictacme-renew.service" ||
  fail "the packaged renew unit does not run /usr/bin/strictacme"
if [ "$(id -u)" = 0 ]; then
  # Inside the root nothing but the package exists: no libc, no shell.
  check_version /usr/bin/strictacme --chroot "$root"
  check_sandbox "$root/tmp" /usr/bin/strictacme --chroot "$root"
else
  check_version "$root/usr/bin/strictacme"
  mkdir "$work/deb"
  check_sandbox "$work/deb" "$root/usr/bin/strictacme"
fi
step "ok"
