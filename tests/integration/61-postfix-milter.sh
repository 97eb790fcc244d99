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

# shellcheck disable=SC2086
md_check_tags "$PF_MAILDIR/new" "$tmp/patchdigest.conf" $files ||
    fail "tags via Postfix"
echo "all $n delivered messages carry the expected tags"

# One log line per message, with Postfix's queue id.
qids=$(grep -c '^patchdigest-milter: [0-9A-F]\{6,\}: .* kind=' "$MD_LOG")
[ "$qids" -ge "$n" ] || fail "only $qids log lines with a queue id for $n messages"

# shellcheck disable=SC2086
md_same_counters "$tmp/db" $files || fail "counters"

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
