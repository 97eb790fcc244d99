#!/bin/sh
# Crash safety: `patchdigest import` killed with SIGKILL mid-way, again and
# again at random points of its input, then run to the end: the counters
# equal those of one clean import.  The input comes through a FIFO held
# open, so every killed run is still inside its input, whatever the speed,
# and after a batch commit.
set -eu
PD="$PD_BUILD/patchdigest"
T=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null; rm -rf "$T"' EXIT
: > "$T/empty.conf"
# Some 700 messages of the archive (the cut message is one more).
xz -dc "$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" 2>/dev/null |
	head -c 6000000 >"$T/part.mbox" || true
size=$(wc -c <"$T/part.mbox")
test "$size" -eq 6000000

"$PD" -c "$T/empty.conf" -D "$T/ref" import "$T/part.mbox" >"$T/ref.out"
"$PD" -c "$T/empty.conf" -D "$T/ref" stats --json >"$T/ref.json"

rand() {	# 0 .. $1-1, $1 up to 2^32
	echo $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1 ))
}

mkfifo "$T/fifo"
for i in 1 2 3 4 5 6; do
	"$PD" -c "$T/empty.conf" -D "$T/db" import - <"$T/fifo" >"$T/run.out" 2>&1 &
	pid=$!
	exec 3>"$T/fifo"
	at=$(rand $((size - 300000)))
	# head returns once the importer has read all but a pipe buffer.
	head -c "$at" "$T/part.mbox" >&3
	# A batch older than a second commits at its next message: the
	# messages of the next 200 kB commit everything so far, those after
	# the commit are lost with the kill.
	sleep 1.2
	tail -c +$((at + 1)) "$T/part.mbox" | head -c 200000 >&3
	kill -KILL "$pid"
	status=0
	wait "$pid" 2>/dev/null || status=$?
	exec 3>&-
	test "$status" = 137
	echo "run $i killed after $at bytes"
	# Whatever was committed is a consistent store.
	"$PD" -c "$T/empty.conf" -D "$T/db" stats --json >/dev/null
done
"$PD" -c "$T/empty.conf" -D "$T/db" import "$T/part.mbox" >"$T/last.out"
cat "$T/ref.out" "$T/last.out"
"$PD" -c "$T/empty.conf" -D "$T/db" stats --json >"$T/db.json"
cmp "$T/ref.json" "$T/db.json"
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
assert last[2] > 0, "no killed run committed anything"
PY
echo ok
