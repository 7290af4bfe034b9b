#!/usr/bin/env bash
# Runs the whole test suite from a fresh clone. It first installs, from
# Debian's packages, the real components the tests talk to (dig, kdig,
# ZooKeeper, curl, NSD and Knot as zone-transfer secondaries) when they
# are missing, then runs every test in the workspace. Extra arguments go
# to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v dig >/dev/null 2>&1 || need+=(bind9-dnsutils)
command -v kdig >/dev/null 2>&1 || need+=(knot-dnsutils)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
[ -x /usr/share/zookeeper/bin/zkServer.sh ] || need+=(zookeeper)
[ -x /usr/sbin/nsd ] || need+=(nsd)
[ -x /usr/sbin/knotd ] || need+=(knot)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "tests/run.sh: installing ${need[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

exec cargo test --workspace --locked "$@"
