#!/bin/bash
# run.sh - the dnsperf harness of issue 8: mesos-dns-rs side by side with NSD, Knot DNS
# and a do-nothing responder, on loopback, one command.
#
#   benches/harness/run.sh [--tasks N] [--rounds R] [--duration S] [--quick]
#                          [--servers ours,nsd,knot,resp] [--phases one,two,perf,callgrind,churn]
#                          [--churn-tasks N,N] [--binary PATH] [--work DIR] [--wait-idle S]
#
# Defaults: 10,000 tasks, 3 rounds of 6 s runs, all phases, churn at 10,000 and 100,000
# tasks (about 15 minutes; 20 with --rounds 5).
# --quick: 2,000 tasks, 1 round of 2 s runs, 1,000 callgrind queries, churn at 2,000 tasks
# (about 2 minutes).
# Installs what it needs from Debian packages when missing, builds our release binary
# (unless --binary or --servers without "ours"), generates the synthetic cluster, the
# equivalent zone and the query mix, runs bench.py and prints WORKDIR/summary.md.
# Work files go to WORKDIR (default: <cargo target dir>/bench-harness).
# Servers and load generators run at nice -20 when allowed (set BENCH_NO_BOOST=1 not to),
# so other jobs on a shared machine disturb the figures less.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
export PATH="$PATH:/usr/sbin:/sbin" PYTHONDONTWRITEBYTECODE=1

TASKS=10000 ROUNDS=3 DURATION=6 CG_QUERIES=3000 WAIT_IDLE=15 CHURN=10000,100000
SERVERS=ours,nsd,knot,resp PHASES=one,two,perf,callgrind,churn BINARY= WORK=
while [ $# -gt 0 ]; do
	case $1 in
	--tasks) TASKS=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--duration) DURATION=$2; shift ;;
	--servers) SERVERS=$2; shift ;;
	--phases) PHASES=$2; shift ;;
	--binary) BINARY=$2; shift ;;
	--work) WORK=$2; shift ;;
	--wait-idle) WAIT_IDLE=$2; shift ;;
	--churn-tasks) CHURN=$2; shift ;;
	--quick) TASKS=2000 ROUNDS=1 DURATION=2 CG_QUERIES=1000 WAIT_IDLE=3 CHURN=2000 ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
WORK=${WORK:-$TARGET/bench-harness}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# 1. tools
need=()
command -v dnsperf > /dev/null || need+=(dnsperf)
command -v nsd > /dev/null || need+=(nsd)
command -v knotd > /dev/null || need+=(knot)
command -v kdig > /dev/null || need+=(knot-dnsutils)
command -v valgrind > /dev/null || need+=(valgrind)
command -v cc > /dev/null || need+=(gcc)
command -v taskset > /dev/null || need+=(util-linux)
command -v python3 > /dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	echo "installing ${need[*]}"
	sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
[ "$(nproc)" -ge 2 ] || { echo "run.sh: needs at least 2 CPUs (server and load on separate cores)" >&2; exit 1; }

# 2. our binary and the C tools
if [[ ,$SERVERS, == *,ours,* ]] && [ -z "$BINARY" ]; then
	(cd "$ROOT" && cargo build --release -q -p mesos-dns)
	BINARY=$TARGET/release/mesos-dns
fi
cc -O2 -Wall -o "$WORK/blast" "$HERE/blast.c"
cc -O2 -Wall -o "$WORK/responder" "$HERE/responder.c"

# 3. the synthetic cluster, the equivalent zone, the query mix
python3 "$HERE/synth.py" state "$WORK/cluster" --tasks "$TASKS" --master-port 25380
python3 "$HERE/synth.py" zone "$WORK/cluster/records.json" "$WORK/mesos.zone"
python3 "$HERE/synth.py" queries "$WORK/cluster/records.json" "$WORK/queries.txt"
{
	echo "$(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), Linux $(uname -r);" \
		"$(nsd -v 2>&1 | head -1), $(knotd -V 2>&1 | head -1), $(dnsperf -h 2>&1 | grep -i '^version' | head -1 | sed 's/Version/dnsperf/');" \
		"$TASKS tasks, $ROUNDS rounds of $DURATION s;" \
		"server and load at niceness $( [ -z "${BENCH_NO_BOOST:-}" ] && nice -n -20 nice 2> /dev/null || echo 0)"
} > "$WORK/machine.txt"

# 4. measure, then report
args=(--work "$WORK" --servers "$SERVERS" --phases "$PHASES" --rounds "$ROUNDS"
	--duration "$DURATION" --cg-queries "$CG_QUERIES" --wait-idle "$WAIT_IDLE" --churn-tasks "$CHURN")
[ -n "$BINARY" ] && args+=(--binary "$BINARY")
python3 "$HERE/bench.py" "${args[@]}"
python3 "$HERE/report.py" "$WORK"
echo "(results: $WORK/results.jsonl, summary: $WORK/summary.md)"
