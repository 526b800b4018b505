#!/usr/bin/env bash
# Alternate two checkouts on the sync, read and training-set benchmarks, in one run:
#
#   bench/old_vs_new.sh /path/to/old/checkout /path/to/new/checkout [rounds]
#
# Each checkout runs its own bench/ scripts with this checkout's virtualenv (.venv) and
# jars; round 1 runs old then new, round 2 the reads in the other order. Results go to
# stdout; copy the figures to bench/README.md with the machine and the load average.
set -euo pipefail
old=$(cd "$1" && pwd)
new=$(cd "$2" && pwd)
rounds=${3:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
python="$here/.venv/bin/python"
export SKEWLESS_JARS_DIR="${SKEWLESS_JARS_DIR:-$here/.cache/jars}"
root=$(mktemp -d /tmp/skewless-old-vs-new-XXXX)

stamp() { echo "=== round $1 $2 $3 $(date -u +%T) load $(cut -d' ' -f1 /proc/loadavg)"; }
for round in $(seq "$rounds"); do
  for tree in "$old" "$new"; do
    stamp "$round" "$tree" sync
    (cd "$tree" && "$python" bench/sync_bench.py --entities 100000 --repeat 3) 2>&1 | tail -8
  done
  for tree in "$new" "$old"; do
    stamp "$round" "$tree" read
    (cd "$tree" && "$python" bench/online_read_bench.py --entities 100000 --calls 2000) 2>&1 | tail -10
  done
  for tree in "$old" "$new"; do
    stamp "$round" "$tree" training-set
    (cd "$tree" && "$python" bench/training_set_bench.py --root "$root" --spines 1000000 --runs 3) \
      2>&1 | grep -v "written" | tail -4
  done
done
rm -rf "$root"
