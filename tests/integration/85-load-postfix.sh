#!/bin/sh
# Load through Postfix and the milter: 20 parallel SMTP sessions carry 5,000
# messages (100 without PD_FULL=1; unique Message-IDs over the week's
# mail).  Every message is delivered, the store counts exactly what one
# `patchdigest import` of the same messages counts, and the milter's open
# descriptors (/proc/PID/fd) and resident memory do not grow between a
# warm-up round and the end of the run.
set -u
. "$PD_SRC/tests/lib/postfix.sh"
. "$PD_SRC/tests/lib/milter.sh"
. "$PD_SRC/tests/lib/lda.sh"
. "$PD_SRC/tests/reliability/lib.sh"
total=$(iterations 100 5000)
# the series' sizes, not their ids (see counters_unordered)
SERIES_ORDER=counts

chmod 755 "$T"
MD_LOG=$T/milter.log
cleanup() {
	md_kill
	pf_teardown
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
pf_setup || fail "postfix setup"

set_files >"$T/week"
python3 "$PD_SRC/tests/lib/smtpsend.py" --unique 40 --out "$T/warm" $(cat "$T/week") ||
    fail "warm-up copies"
python3 "$PD_SRC/tests/lib/smtpsend.py" --unique "$total" --out "$T/load" $(cat "$T/week") ||
    fail "load copies"
# the load's Message-IDs must differ from the warm-up's
for f in "$T/load"/*.eml; do sed -i 's/^Message-ID: <pdtest\./Message-ID: <pdload./' "$f"; done
"$PD" -D "$T/ref" import "$T/warm" "$T/load" >/dev/null || fail "reference import"
want=$(counters_unordered "$T/ref")

cat >"$T/pd.conf" <<EOC
Database $T/db
UMask 000
EOC
md_start "unix:$PF_QUEUE/patchdigest/milter.sock" "$T/pd.conf" || fail "milter start"
pf_milter "unix:patchdigest/milter.sock" || fail "pf_milter"

fds() { ls "/proc/$MD_PID/fd" | wc -l; }
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$MD_PID/status"; }

python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$PF_PORT" -s 20 "$T/warm"/*.eml ||
    fail "warm-up send"
pf_wait_maildir 40 120 || fail "warm-up not delivered"
fd0=$(fds); rss0=$(rss)
python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$PF_PORT" -s 20 "$T/load"/*.eml ||
    fail "SMTP send"
pf_wait_maildir $((40 + total)) 900 || fail "not every message delivered"
sleep 1
fd1=$(fds); rss1=$(rss)
echo "milter fds $fd0 -> $fd1, RSS $rss0 kB -> $rss1 kB"
[ "$fd1" -le "$fd0" ] || fail "the milter's descriptors grew from $fd0 to $fd1"
# a leak of a few hundred bytes a message shows over 5,000 messages
[ "$rss1" -le $((rss0 + 16384)) ] || fail "the milter's memory grew from $rss0 to $rss1 kB"

untagged=$(grep -L '^X-Patch-Kind:' "$PF_MAILDIR/new"/* | wc -l)
[ "$untagged" = 0 ] || fail "$untagged messages delivered untagged"
got=$(counters_unordered "$T/db")
if [ "$got" != "$want" ]; then
	printf '%s\n' "$want" >"$T/want.json"; printf '%s\n' "$got" >"$T/got.json"
	diff -u "$T/want.json" "$T/got.json" | head -n 40
	fail "counters differ from one import"
fi
md_stop || fail "the milter did not stop cleanly"
echo ok
