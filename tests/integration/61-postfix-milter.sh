#!/bin/sh
# End to end: Postfix on 127.0.0.1:2525 with patchdigest-milter on a unix
# socket given to Postfix in the documented relative form
# (smtpd_milters = unix:patchdigest/milter.sock, below the queue directory).
# The window_week-2022-11-28 set goes through SMTP: every message is
# delivered once with our tags (the same as `patchdigest-milter -t` gives),
# the store's counters equal those of `patchdigest import` of the same set,
# and with the milter stopped mail still flows (milter_default_action).
set -u
. "$PD_SRC/tests/lib/postfix.sh"
. "$PD_SRC/tests/lib/milter.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

corpus=$PD_SHARED/corpus/lore-kvmarm
set_list=$corpus/_sets/window_week-2022-11-28.txt
[ -f "$set_list" ] || fail "no $set_list"

tmp=$(mktemp -d /tmp/pd-e2e.XXXXXX)
chmod 755 "$tmp"
MD_LOG=$tmp/milter.log
cleanup() {
	md_kill
	pf_teardown
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

pf_setup || fail "postfix setup"

files=$(sed "s|^|$corpus/|" "$set_list")
n=$(echo "$files" | wc -l)

cat >"$tmp/patchdigest.conf" <<EOC || fail "config"
Database $tmp/db
# Postfix's smtpd runs as user postfix; the test milter runs as root.
UMask 000
EOC
sockdir=$PF_QUEUE/patchdigest
md_start "unix:$sockdir/milter.sock" "$tmp/patchdigest.conf" || fail "milter start"
pf_milter "unix:patchdigest/milter.sock" || fail "pf_milter"

# shellcheck disable=SC2086
python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$PF_PORT" $files || fail "SMTP send"
pf_wait_maildir "$n" 120 || fail "not all $n messages delivered"

# Every message tagged once, with the tags -t computes for the original.
python3 "$PD_SRC/tests/lib/maildir_tags.py" --placed "$PF_MAILDIR/new" >"$tmp/got" ||
    fail "tags repeated or not below Received:"
untagged=$(grep -vc 'X-Patch-Kind=' "$tmp/got")
[ "$untagged" = 0 ] || fail "$untagged delivered messages without X-Patch-Kind"
# Kind, Subsystem and Project (the series id may differ: -t does not know
# the store's threads).
# shellcheck disable=SC2086
python3 "$PD_SRC/tests/lib/expected_tags.py" "$PD_BUILD/patchdigest-milter" \
    "$tmp/patchdigest.conf" Kind,Subsystem,Project $files >"$tmp/want" ||
    fail "-t of the originals"
python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from expected_tags import filter_tags
for l in open(sys.argv[2]): print(filter_tags(l, ["Kind", "Subsystem", "Project"]))' \
    "$PD_SRC/tests/lib" "$tmp/got" | sort >"$tmp/got.cmp" || fail "filter"
diff "$tmp/want" "$tmp/got.cmp" >"$tmp/diff" ||
    { head -n 20 "$tmp/diff"; fail "tags via Postfix differ from -t's"; }
echo "all $n delivered messages carry the expected tags"

# One log line per message, with Postfix's queue id.
qids=$(grep -c '^patchdigest-milter: [0-9A-F]\{6,\}: .* kind=' "$MD_LOG")
[ "$qids" -ge "$n" ] || fail "only $qids log lines with a queue id for $n messages"

# The counters equal those of an import of the same set, in the same order.
# shellcheck disable=SC2086
"$PD_BUILD/patchdigest" import -D "$tmp/oracle" $files >/dev/null || fail "import"
got=$("$PD_BUILD/patchdigest" stats --json -D "$tmp/db") || fail "stats (milter)"
want=$("$PD_BUILD/patchdigest" stats --json -D "$tmp/oracle") || fail "stats (import)"
echo "milter: $got"
echo "import: $want"
[ "$got" = "$want" ] || fail "store counters differ from the import's"

# Milter stopped: Postfix accepts and delivers unchanged.
md_stop || fail "milter did not stop cleanly"
extra=$(echo "$files" | head -n 3)
# shellcheck disable=SC2086
python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$PF_PORT" $extra ||
    fail "SMTP send with the milter stopped"
pf_wait_maildir $((n + 3)) 60 || fail "mail does not flow without the milter"
python3 "$PD_SRC/tests/lib/maildir_tags.py" "$PF_MAILDIR/new" >"$tmp/got2" ||
    fail "repeated tags"
[ "$(grep -vc 'X-Patch-Kind=' "$tmp/got2")" = 3 ] ||
    fail "messages delivered without the milter carry tags"
echo "end to end passed"
