#!/bin/sh
# Load through the LDA: 8 patchdigest-lda processes in parallel on one
# store, fed 5,000 archive messages in total (200 without PD_FULL=1).  Every
# delivery exits 0 and passes the message on, and the counters equal those
# of one `patchdigest import` of the same messages: nothing lost under
# contention, nothing counted twice.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
. "$PD_SRC/tests/reliability/lib.sh"
total=$(iterations 200 5000)
workers=8
# the series' sizes, not their ids (see counters_unordered)
SERIES_ORDER=counts

# The first $total messages of the archive, one file each (mboxrd unescaped).
mkdir "$T/msgs"
xz -dc "$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" 2>/dev/null |
    awk -v d="$T/msgs" -v max="$total" '
	/^From / { if (++n > max) exit; if (f) close(f); f = sprintf("%s/%05d.eml", d, n); next }
	f { sub(/^>(>*From )/, "", $0) || 1; print > f }' || true
[ "$(ls "$T/msgs" | wc -l)" = "$total" ] || fail "could not split $total messages"
"$PD" -D "$T/ref" import "$T/msgs" >/dev/null || fail "reference import"
want=$(counters_unordered "$T/ref")

mkdir "$T/db"
conf "$T/pd.conf" "$T/db"
ls "$T/msgs" >"$T/all"
w=0
while [ $w -lt $workers ]; do
	awk -v w=$w -v k=$workers 'NR % k == w' "$T/all" >"$T/share.$w"
	(
		while read -r f; do
			st=0
			"$LDA" -f -c "$T/pd.conf" <"$T/msgs/$f" >"$T/out.$w" 2>>"$T/err.$w" || st=$?
			[ $st = 0 ] || { echo "$f: exit $st" >>"$T/fail.$w"; continue; }
			[ -s "$T/out.$w" ] || echo "$f: no output" >>"$T/fail.$w"
		done <"$T/share.$w"
	) &
	w=$((w + 1))
done
wait
if ls "$T"/fail.* >/dev/null 2>&1; then
	head -n 20 "$T"/fail.*
	fail "some deliveries failed"
fi
if grep -h 'store' "$T"/err.* 2>/dev/null | head -n 5 | grep .; then
	fail "store errors under load"
fi
got=$(counters_unordered "$T/db")
if [ "$got" != "$want" ]; then
	printf '%s\n' "$want" >"$T/want.json"
	printf '%s\n' "$got" >"$T/got.json"
	diff -u "$T/want.json" "$T/got.json" | head -n 40
	fail "counters after $total parallel deliveries differ from one import"
fi
echo "$total messages through $workers parallel LDAs: counters exact"
echo ok
