#!/bin/sh
# SIGKILL during ingestion, through the real programs: `patchdigest import`
# killed at a random moment of a 1,300-message mbox (committed in batches), patchdigest-lda killed
# at random moments of single deliveries, patchdigest-milter killed at a
# random moment of a stream of messages.  After every kill the store opens
# (`patchdigest stats`), and after re-delivering everything its counters
# equal those of one clean run: nothing lost, nothing counted twice.
# 5 rounds of each; 50 with PD_FULL=1.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
. "$PD_SRC/tests/lib/milter.sh"
. "$PD_SRC/tests/reliability/lib.sh"
trap 'md_kill; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
command -v miltertest >/dev/null || fail "miltertest is not installed"

rounds=$(iterations 5 50)
# the ASan build is about 3 times slower: fewer rounds outside PD_FULL
[ "${PD_SANITIZE:-0}" != 1 ] || [ "$FULL" = 1 ] || rounds=3

# The store opens and reads after a kill (or was never created).
opens() {
	[ -f "$1/data.mdb" ] || return 0
	"$PD" -D "$1" stats >/dev/null || fail "$2: the store does not open after SIGKILL"
}

now_ms() { date +%s%3N; }

# same_counters DB WANT WHAT [FN]: the store's counters (by FN, default
# counters) equal WANT, or a diff.
same_counters() {
	"${4:-counters}" "$1" >"$T/got.json"
	printf '%s\n' "$2" >"$T/want.json"
	diff -u "$T/want.json" "$T/got.json" >&2 || fail "$3: counters differ from a clean run"
}

# ---- patchdigest import ----
xz -dc "$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" 2>/dev/null |
    head -c 12000000 >"$T/arch.mbox" || true
[ -s "$T/arch.mbox" ] || fail "cannot read the archive"
t0=$(now_ms)
"$PD" -D "$T/ref-import" import "$T/arch.mbox" >/dev/null || fail "clean import"
dur=$(( $(now_ms) - t0 ))
want=$(counters "$T/ref-import")
echo "import: clean run ${dur} ms"
i=0
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	db=$T/import-$i
	"$PD" -D "$db" import "$T/arch.mbox" >/dev/null 2>&1 &
	pid=$!
	at=$(rand $((dur + dur / 5 + 1)))
	msleep "$at"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	opens "$db" "import round $i"
	part=$("$PD" -D "$db" stats --json 2>/dev/null |
	    python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])' || echo 0)
	echo "import round $i: killed at ${at} ms with $part messages stored"
	"$PD" -D "$db" import "$T/arch.mbox" >/dev/null || fail "import round $i: re-import"
	same_counters "$db" "$want" "import round $i"
	rm -rf "$db"
done

# ---- patchdigest-lda ----
# 25 messages of the week (every one in PD_FULL runs)
if [ "$FULL" = 1 ]; then set_files; else set_files | head -n 25; fi >"$T/list"
conf "$T/lda.conf" "$T/ref-lda"
mkdir "$T/ref-lda"
while read -r f; do
	"$LDA" -c "$T/lda.conf" <"$f" >/dev/null || fail "clean LDA run: $f"
done <"$T/list"
# A killed delivery arrives again later: the range's last id may differ.
want=$(counters_unordered "$T/ref-lda")
i=0
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	db=$T/lda-$i
	mkdir "$db"
	conf "$T/lda-$i.conf" "$db"
	kills=0
	while read -r f; do
		# one delivery in two killed, 0 to 40 ms after its start
		# (the delay is chosen before, so that no fork comes between)
		d=$(rand 80)
		"$LDA" -c "$T/lda-$i.conf" <"$f" >/dev/null 2>&1 &
		pid=$!
		if [ "$d" -lt 40 ]; then
			[ "$d" -lt 2 ] || sleep "$(printf '0.%03d' "$d")"
			kill -KILL "$pid" 2>/dev/null && kills=$((kills + 1))
		fi
		wait "$pid" 2>/dev/null || true
	done <"$T/list"
	opens "$db" "LDA round $i"
	echo "LDA round $i: $kills deliveries killed"
	while read -r f; do
		"$LDA" -c "$T/lda-$i.conf" <"$f" >/dev/null || fail "LDA round $i: re-delivery"
	done <"$T/list"
	same_counters "$db" "$want" "LDA round $i" counters_unordered
	rm -rf "$db"
done

# ---- patchdigest-milter ----
sock=unix:$T/milter.sock
MD_LOG=$T/milter.log
conf "$T/m-ref.conf" "$T/ref-milter"
mkdir "$T/ref-milter"
md_start "$sock" "$T/m-ref.conf" || fail "milter did not start"
t0=$(now_ms)
feed_milter "$sock" "$T/list" QREF >"$T/feed.out" || { cat "$T/feed.out"; fail "clean milter run"; }
dur=$(( $(now_ms) - t0 ))
md_stop || fail "milter did not stop cleanly"
want=$(counters "$T/ref-milter")
echo "milter: clean run ${dur} ms"
i=0
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	db=$T/milter-$i
	mkdir "$db"
	conf "$T/m-$i.conf" "$db"
	md_start "$sock" "$T/m-$i.conf" || fail "milter round $i: no start"
	feed_milter "$sock" "$T/list" "QK$i." 1 >"$T/feed.out" &
	feeder=$!
	at=$(rand $((dur + 1)))
	msleep "$at"
	md_kill || true
	wait "$feeder" || true
	echo "milter round $i: killed at ${at} ms; $(tail -n 1 "$T/feed.out")"
	opens "$db" "milter round $i"
	# restarted over its stale socket, the whole stream again
	md_start "$sock" "$T/m-$i.conf" || fail "milter round $i: no restart after SIGKILL"
	feed_milter "$sock" "$T/list" "QR$i." >"$T/feed.out" ||
	    { cat "$T/feed.out"; fail "milter round $i: re-delivery"; }
	md_stop || fail "milter round $i: no clean stop"
	same_counters "$db" "$want" "milter round $i"
	rm -rf "$db"
done
echo ok
