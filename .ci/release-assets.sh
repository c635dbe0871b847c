#!/bin/sh
# Generates what the release packages ship besides the binary, into
# build/assets/ (run by goreleaser's before hook, from the repository root):
#   man/*.1.gz           man pages, from the CLI help (strictacme man)
#   completions/*        bash, zsh and fish completions (strictacme completion)
#   systemd/*            the example units, with the packaged binary path
set -eu

out=build/assets
rm -rf "$out"
mkdir -p "$out/man" "$out/completions" "$out/systemd"

# A host build only writes text: its output is the same on every platform.
bin=$(mktemp -d)/strictacme
trap 'rm -rf "$(dirname "$bin")"' EXIT
CGO_ENABLED=0 go build -o "$bin" ./cmd/strictacme

"$bin" man "$out/man"
# -n: no name or time stamp in the gzip header, so rebuilds are identical.
gzip -9n "$out"/man/*.1

"$bin" completion bash >"$out/completions/strictacme.bash"
"$bin" completion zsh >"$out/completions/_strictacme"
"$bin" completion fish >"$out/completions/strictacme.fish"

# The examples install the binary by hand into /usr/local/bin; the packages
# put it in /usr/bin.
for unit in examples/systemd/strictacme-renew.service examples/systemd/strictacme-renew.timer \
  examples/serve/strictacme-serve.service; do
  sed 's|/usr/local/bin/strictacme|/usr/bin/strictacme|g' "$unit" >"$out/systemd/$(basename "$unit")"
done
