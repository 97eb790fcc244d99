#!/bin/sh
# Crash safety: `patchdigest import` killed with SIGKILL at random points,
# again and again, then run to the end: the counters equal one clean import.
set -eu
PD="$PD_BUILD/patchdigest"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.conf"
# A few thousand messages of the archive (the cut message is just one more).
xz -dc "$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" 2>/dev/null |
	head -c 12000000 >"$T/part.mbox" || true
test -s "$T/part.mbox"

t0=$(date +%s%N)
"$PD" -c "$T/empty.conf" -D "$T/ref" import "$T/part.mbox" >"$T/ref.out"
# Kill points spread over the time a clean import takes here.
span=$(( ($(date +%s%N) - t0) / 1000000 ))
[ "$span" -ge 100 ] || span=100
"$PD" -c "$T/empty.conf" -D "$T/ref" stats --json >"$T/ref.json"

rand() {	# 0 .. $1-1
	echo $(( $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % $1 ))
}

# Kill runs at random points until one finishes by itself: each killed
# run leaves some batches committed and one cut short.
killed=0
runs=0
while [ $runs -lt 20 ]; do
	runs=$((runs + 1))
	"$PD" -c "$T/empty.conf" -D "$T/db" import "$T/part.mbox" >"$T/run.out" 2>&1 &
	pid=$!
	ms=$(( span / 10 + $(rand $((span * 8 / 10))) ))
	sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
	kill -KILL "$pid" 2>/dev/null || true
	status=0
	wait "$pid" 2>/dev/null || status=$?
	# Whatever was committed is a consistent store.
	"$PD" -c "$T/empty.conf" -D "$T/db" stats --json >/dev/null
	[ "$status" = 0 ] && break
	[ "$status" = 137 ] && killed=$((killed + 1))
done
echo "killed $killed of $runs runs"
test "$killed" -ge 1
"$PD" -c "$T/empty.conf" -D "$T/db" import "$T/part.mbox" >"$T/last.out"
cat "$T/ref.out" "$T/last.out"
"$PD" -c "$T/empty.conf" -D "$T/db" stats --json >"$T/db.json"
cmp "$T/ref.json" "$T/db.json"
# The last run found every message already stored or stored the rest.
python3 - "$T/ref.out" "$T/last.out" <<'PY'
import re, sys
def nums(f):
    m = re.match(r"read (\d+), stored (\d+), duplicates (\d+), unparseable (\d+)$",
                 open(f).read().strip())
    assert m, open(f).read()
    return [int(x) for x in m.groups()]
ref, last = nums(sys.argv[1]), nums(sys.argv[2])
assert ref[0] == last[0]
assert last[1] + last[2] == ref[1] + ref[2], (ref, last)
PY
echo ok
