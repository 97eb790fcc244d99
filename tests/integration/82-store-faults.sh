#!/bin/sh
# Store faults through the real programs.  A missing store, one locked by
# a writer that never finishes, a corrupt one (random bytes over all of
# data.mdb or over some of its pages, the file cut short), a
# read-only one (a read-only remount), a full one (a tiny MapSizeMax, and a
# full 2 MB tmpfs): patchdigest-lda passes every message on unchanged with
# exit 0 and logs the store's fault, patchdigest-milter accepts every
# message, `patchdigest stats` prints one line saying what is wrong and how
# to recover.  Once the fault is gone (space freed, the store moved away and
# rebuilt, the filesystem writable again), re-delivered mail is counted
# exactly as by one clean run.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
. "$PD_SRC/tests/lib/milter.sh"
. "$PD_SRC/tests/reliability/lib.sh"
command -v miltertest >/dev/null || fail "miltertest is not installed"
mnt=
cleanup() {
	md_kill || true
	[ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

nmsg=20
set_files | head -n $nmsg >"$T/list"
"$PD" -D "$T/ref" import $(cat "$T/list") >/dev/null || fail "reference import"
want=$(counters_unordered "$T/ref")
sock=unix:$T/milter.sock
MD_LOG=$T/milter.log

# lda_pass CONF WHAT: each message through the LDA (filter mode): exit 0,
# and the output without X-Patch-* lines is the input.  stderr in lda.err.
lda_pass() {
	: >"$T/lda.err"
	while read -r f; do
		st=0
		# san_aside (tests/lib/lda.sh): LMDB's own faults on a corrupt
		# map, in the LDA's store step, are what this test provokes
		san_aside "$T/san" "$LDA" -f -c "$1" <"$f" >"$T/out" 2>>"$T/lda.err" || st=$?
		[ "$st" = 0 ] || fail "$2: the LDA exits $st for $f"
		untag "$T/out" >"$T/out.u"
		cmp -s "$T/out.u" "$f" || fail "$2: $f did not pass unchanged"
	done <"$T/list"
}

# milter_pass CONF WHAT: every message accepted by a milter on this store.
milter_pass() {
	md_start "$sock" "$1" || fail "$2: the milter does not start"
	feed_milter "$sock" "$T/list" Q >"$T/feed.out" ||
	    { cat "$T/feed.out"; fail "$2: the milter did not accept every message"; }
	grep -q "^accepted $nmsg " "$T/feed.out" || { cat "$T/feed.out"; fail "$2: not all accepted"; }
	md_stop || fail "$2: the milter did not stop cleanly"
}

# stats_error DB WHAT: stats fails with one line naming the fault and a way out.
# Its check of every page, in a child, may fault inside LMDB: san_aside.
stats_error() {
	st=0
	san_aside "$T/san" "$PD" -D "$1" stats >"$T/stats.out" 2>"$T/stats.err" || st=$?
	[ "$st" != 0 ] || fail "$2: stats succeeded"
	[ "$(wc -l <"$T/stats.err")" = 1 ] || { cat "$T/stats.err"; fail "$2: not one line"; }
	grep -qE 'move|import|create|permission|mount|free|space|MapSize|check' "$T/stats.err" ||
	    fail "$2: no way to recover in: $(cat "$T/stats.err")"
	echo "$2: $(cat "$T/stats.err")"
}

# ---- missing ----
conf "$T/missing.conf" "$T/nonexistent"
lda_pass "$T/missing.conf" missing
grep -q 'does not exist' "$T/lda.err" || fail "missing: the LDA did not log it"
[ ! -e "$T/nonexistent" ] || fail "missing: the LDA created a store elsewhere"
stats_error "$T/nonexistent" missing
milter_pass "$T/missing.conf" "missing (milter)"

# ---- locked: a writer that never finishes holds the lock ----
# mdb_load, given a header and then nothing, waits in its write transaction.
# The LDA's store step waits for the lock until its 120 s alarm; the test
# sends that SIGALRM itself once the LDA is seen waiting.  Then the milter.
db=$T/locked
"$PD" -D "$db" import $(cat "$T/list") >/dev/null || fail "locked: import"
mkfifo "$T/fifo"
(printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n'; sleep 60) >"$T/fifo" &
holder=$!
mdb_load -f "$T/fifo" "$db" &
loader=$!
f=$(head -n 1 "$T/list")
"$LDA" -f -D "$db" <"$f" >"$T/out" 2>"$T/lda.err" &
lda=$!
sleep 2
kill -0 "$lda" 2>/dev/null || fail "locked: the LDA did not wait for the lock: $(cat "$T/lda.err")"
kill -ALRM "$lda"
st=0
wait "$lda" || st=$?
kill -KILL "$loader" "$holder" 2>/dev/null || true
wait "$loader" "$holder" 2>/dev/null || true
[ "$st" = 0 ] || fail "locked: the LDA exits $st"
cmp -s "$T/out" "$f" || fail "locked: $f did not pass unchanged"
grep -q 'took over 120 s.*write lock' "$T/lda.err" || fail "locked: not logged: $(cat "$T/lda.err")"
# the lock of the killed writer is released: the next delivery is recorded
"$LDA" -f -D "$db" <"$f" >"$T/out" || fail "locked: after the writer died"
grep -q '^X-Patch-' "$T/out" || fail "locked: not tagged after the writer died"
echo "locked: $(cat "$T/lda.err")"
# The milter, three messages at once: the one that gets to LMDB's lock
# waits there (it has no timeout); the two others are passed on untagged
# after 30 s instead of waiting too (they did, for as long as the writer);
# once the writer is gone the first is recorded and tagged.
conf "$T/locked.conf" "$db"
md_start "$sock" "$T/locked.conf" || fail "locked: the milter does not start"
(printf 'VERSION=3\nformat=bytevalue\ntype=btree\nHEADER=END\n'; sleep 120) >"$T/fifo" &
holder=$!
mdb_load -f "$T/fifo" "$db" &
loader=$!
sleep 1
for i in 1 2 3; do
	set_files | sed -n "$((nmsg + i))p" >"$T/one$i"
	feed_milter "$sock" "$T/one$i" "LOCK$i" 0 120 >"$T/feed$i.out" 2>&1 &
	eval "feed$i=\$!"
done
n=0
while :; do
	done=0
	for i in 1 2 3; do
		eval "kill -0 \$feed$i 2>/dev/null" || done=$((done + 1))
	done
	[ "$done" -ge 2 ] && break
	n=$((n + 1))
	[ "$n" -le 500 ] || fail "locked: the milter held every message 50 s"
	sleep 0.1
done
[ "$done" = 2 ] || fail "locked: no message waited for the writer: $(cat "$T"/feed?.out; tail -n 5 "$MD_LOG")"
[ "$(grep -l '^accepted 1 tagged 0 of 1' "$T"/feed?.out | wc -l)" = 2 ] ||
    fail "locked: $(cat "$T"/feed?.out)"
grep -q 'database busy for 30 s' "$MD_LOG" || fail "locked: the milter did not log it"
kill -KILL "$loader" "$holder" 2>/dev/null || true
wait "$loader" "$holder" 2>/dev/null || true
for i in 1 2 3; do
	eval "wait \$feed$i" || fail "locked: message $i: $(cat "$T/feed$i.out")"
done
[ "$(grep -l '^accepted 1 tagged 1 of 1' "$T"/feed?.out | wc -l)" = 1 ] ||
    fail "locked: the waiting message was not tagged: $(cat "$T"/feed?.out)"
md_stop || fail "locked: the milter did not stop cleanly"
echo "locked (milter): two passed on after 30 s, one recorded after the writer"

# ---- corrupt: the whole file, cut short, pages in the middle, every leaf
# of the messages database (which opening the store does not read), and
# its branch pages' keys (which only lookups by key read) ----
noise() {	# bytes: the same pseudo-random bytes every run
	python3 -c 'import random, sys
sys.stdout.buffer.write(random.Random(82).randbytes(int(sys.argv[1])))' "$1"
}
for how in whole truncated pages leaf branch; do
	db=$T/corrupt-$how
	"$PD" -D "$db" import $(cat "$T/list") >/dev/null || fail "corrupt: import"
	size=$(stat -c %s "$db/data.mdb")
	# Seeded noise, so that every run damages the same bytes.
	if [ "$how" = whole ]; then
		noise "$size" >"$T/noise"
		dd if="$T/noise" of="$db/data.mdb" conv=notrunc 2>/dev/null
	elif [ "$how" = truncated ]; then
		truncate -s $((size / 2)) "$db/data.mdb"
	elif [ "$how" = pages ]; then
		noise 32768 | dd of="$db/data.mdb" bs=4096 seek=2 count=8 \
		    iflag=fullblock conv=notrunc 2>/dev/null
	elif [ "$how" = leaf ]; then
		python3 "$PD_SRC/tests/lib/zero_leaves.py" "$db/data.mdb" messages \
		    >/dev/null || fail "leaf: cannot find the messages database"
		"$PD" -D "$db" ranges >/dev/null || fail "leaf: opening the store saw it"
	else
		# separator keys: a walk of the leaves still reads every record
		python3 "$PD_SRC/tests/lib/zero_leaves.py" "$db/data.mdb" messages keys \
		    >/dev/null || fail "branch: no branch page in the messages database"
	fi
	conf "$T/corrupt.conf" "$db"
	lda_pass "$T/corrupt.conf" "corrupt $how"
	# (keys that lead lookups astray do not fault: the LDA, which checks
	# no pages, stores and tags as on a sound store)
	[ "$how" = branch ] || [ -s "$T/lda.err" ] || fail "corrupt $how: the LDA logged nothing"
	# LMDB checks its meta pages (a whole-file overwrite is always
	# reported as corrupt) and the store checks the file's length against
	# them, but nothing checks the other pages: a damaged inner page can
	# crash a reader.  The LDA guards its store step (a crash re-runs it,
	# untagged); the milter, stats, send and import read every page in a
	# child first (pd_store_check) and say so before they start; the
	# child's faults inside LMDB san_aside sets apart.
	stats_error "$db" "corrupt $how"
	grep -qx "patchdigest: store $db: store is corrupt.*" "$T/stats.err" ||
	    fail "corrupt $how: stats: $(cat "$T/stats.err")"
	for cmd in send "import $(head -n 1 "$T/list")"; do
		st=0
		# shellcheck disable=SC2086 # the command and its file
		san_aside "$T/san" "$PD" -D "$db" $cmd >/dev/null 2>"$T/cmd.err" || st=$?
		[ "$st" = 1 ] || fail "corrupt $how: $cmd exits $st"
		grep -qx "patchdigest: store $db: store is corrupt.*" "$T/cmd.err" ||
		    fail "corrupt $how: $cmd: $(cat "$T/cmd.err")"
	done
	san_env=${ASAN_OPTIONS:-}
	[ "${PD_SANITIZE:-0}" != 1 ] || export ASAN_OPTIONS="$san_env:log_path=$T/san/asan"
	milter_pass "$T/corrupt.conf" "corrupt $how (milter)"
	[ "${PD_SANITIZE:-0}" != 1 ] || export ASAN_OPTIONS="$san_env"
	grep -q 'cannot open database .*: store is corrupt' "$MD_LOG" ||
	    fail "corrupt $how: the milter did not log it"
	: >"$MD_LOG"
	# recovery as the message says: move it away and re-import
	mv "$db" "$db.bad"
	"$PD" -D "$db" import $(cat "$T/list") >/dev/null || fail "corrupt $how: re-import"
	[ "$(counters_unordered "$db")" = "$want" ] || fail "corrupt $how: rebuilt store differs"
done

# ---- full: a tiny MapSizeMax ----
mkdir "$T/small"
conf "$T/small.conf" "$T/small" "MapSize 32K" "MapSizeMax 64K"
lda_pass "$T/small.conf" "MapSizeMax (LDA)"
grep -q 'store is full' "$T/lda.err" || fail "MapSizeMax: no 'store is full' logged"
milter_pass "$T/small.conf" "MapSizeMax (milter)"
grep -q 'store is full' "$MD_LOG" || fail "MapSizeMax: the milter did not log it"
stored=$("$PD" -D "$T/small" stats --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')
[ "$stored" -lt $nmsg ] || fail "MapSizeMax: the store never filled"
echo "MapSizeMax: $stored of $nmsg stored before full"
# room again: everything re-delivered is counted once
conf "$T/small.conf" "$T/small" "MapSize 32K" "MapSizeMax 64M"
lda_pass "$T/small.conf" "MapSizeMax raised"
[ "$(counters_unordered "$T/small")" = "$want" ] || fail "MapSizeMax raised: counters differ"

# ---- full disk and read-only: a small tmpfs ----
mkdir "$T/fs"
if ! mount -t tmpfs -o size=2m tmpfs "$T/fs" 2>/dev/null; then
	echo "tmpfs mount not permitted here: full-disk and read-only cases skipped"
	san_lmdb_only "$T/san" || fail "a sanitizer report of the LDA outside LMDB"
	echo ok
	exit 0
fi
mnt=$T/fs
mkdir "$T/fs/db"
conf "$T/fs.conf" "$T/fs/db"
"$LDA" -c "$T/fs.conf" <"$(head -n 1 "$T/list")" >/dev/null || fail "tmpfs: first delivery"
# fill what is left of the filesystem
dd if=/dev/zero of="$T/fs/filler" bs=4096 2>/dev/null || true
lda_pass "$T/fs.conf" "disk full (LDA)"
grep -qiE 'full|space' "$T/lda.err" || fail "disk full: not logged: $(head -n 3 "$T/lda.err")"
milter_pass "$T/fs.conf" "disk full (milter)"
"$PD" -D "$T/fs/db" stats >/dev/null || fail "disk full: the store does not open"
rm "$T/fs/filler"
lda_pass "$T/fs.conf" "disk freed"
[ "$(counters_unordered "$T/fs/db")" = "$want" ] || fail "disk freed: counters differ"

# read-only filesystem
mount -o remount,ro "$T/fs" || fail "cannot remount read-only"
lda_pass "$T/fs.conf" "read-only (LDA)"
[ -s "$T/lda.err" ] || fail "read-only: the LDA logged nothing"
milter_pass "$T/fs.conf" "read-only (milter)"
st=0
"$PD" -D "$T/fs/db" stats >/dev/null 2>"$T/stats.err" || st=$?
if [ "$st" != 0 ]; then
	stats_error "$T/fs/db" "read-only"
fi
mount -o remount,rw "$T/fs" || fail "cannot remount read-write"
"$PD" -D "$T/fs/db" stats >/dev/null || fail "read-write again: stats"
[ "$(counters_unordered "$T/fs/db")" = "$want" ] || fail "read-only: counters changed"
# import filling the disk: says so, exit 1, and its summary counts only
# what its commits stored
st=0
"$PD" -c /dev/null -D "$T/fs/db2" import "$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" \
    >"$T/imp.out" 2>"$T/imp.err" || st=$?
cat "$T/imp.err" "$T/imp.out"
[ "$st" = 1 ] || fail "import on a full disk exited $st"
grep -q 'store is full' "$T/imp.err" || fail "import on a full disk: $(cat "$T/imp.err")"
n=$(sed -n 's/^read [0-9]*, stored \([0-9]*\),.*/\1/p' "$T/imp.out")
[ "$("$PD" -D "$T/fs/db2" stats --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])')" = "$n" ] ||
    fail "import on a full disk: the summary says $n stored"
rm -rf "$T/fs/db2"
umount "$T/fs"
mnt=
san_lmdb_only "$T/san" || fail "a sanitizer report of the LDA outside LMDB"
echo ok
