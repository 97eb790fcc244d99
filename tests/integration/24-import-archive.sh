#!/bin/sh
# The whole kvmarm archive (21,367 messages, mboxrd, xz): every message is
# accounted for in the summary and in the store.  About 15 s normally; under
# the sanitizers only with PD_FULL=1.
set -eu
. "$PD_SRC/tests/lib/archive.sh"
: > "$T/empty.conf"
"$PD" -c "$T/empty.conf" -D "$T/db" import "$ARCHIVE" >"$T/out"
cat "$T/out"
python3 - "$T/out" <<'PY'
import re, sys
line = open(sys.argv[1]).read().strip()
m = re.match(r"read (\d+), stored (\d+), duplicates (\d+), unparseable (\d+)$", line)
assert m, line
read, stored, dups, bad = map(int, m.groups())
assert read == 21367, read
assert stored + dups + bad == read, line
assert dups >= 1, line	# the archive holds one Message-ID twice
PY
stored=$(sed -n 's/^read [0-9]*, stored \([0-9]*\),.*/\1/p' "$T/out")
"$PD" -c "$T/empty.conf" -D "$T/db" stats --json | python3 -c "
import json, sys; d = json.load(sys.stdin); assert d['messages'] == $stored, d['messages']"
echo "store size: $(du -sk "$T/db" | cut -f1) KiB for $stored messages"
echo ok
