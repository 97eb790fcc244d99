#!/bin/sh
# Concurrency: 1,000 messages with unique Message-IDs (corpus messages
# cycled) over 20 parallel SMTP sessions through Postfix and the milter:
# every message delivered once with one set of tags, and the store counts
# each exactly once -- the same counters as an import of the same messages
# (except series, whose threading depends on arrival order).
set -u
. "$PD_SRC/tests/lib/postfix.sh"
. "$PD_SRC/tests/lib/milter.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

count=1000
sessions=20
tmp=$(mktemp -d /tmp/pd-load.XXXXXX)
chmod 755 "$tmp"
MD_LOG=$tmp/milter.log
cleanup() {
	md_kill
	pf_teardown
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

python3 "$PD_SRC/tests/lib/smtpsend.py" --unique "$count" --out "$tmp/msgs" \
    "$PD_SHARED"/corpus/lore-kvmarm/*.eml || fail "cannot make the messages"
"$PD_BUILD/patchdigest" import -D "$tmp/oracle" "$tmp/msgs" >/dev/null || fail "import"

pf_setup || fail "postfix setup"
cat >"$tmp/patchdigest.conf" <<EOC || fail "config"
Database $tmp/db
UMask 000
EOC
md_start "unix:$tmp/milter.sock" "$tmp/patchdigest.conf" || fail "milter start"
pf_milter "unix:$tmp/milter.sock" || fail "pf_milter"

python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$PF_PORT" -s "$sessions" "$tmp/msgs"/*.eml ||
    fail "SMTP send"
pf_wait_maildir "$count" 300 || fail "not all $count messages delivered"
md_stop || fail "milter did not stop cleanly"

python3 "$PD_SRC/tests/lib/maildir_tags.py" "$PF_MAILDIR/new" >"$tmp/got" ||
    fail "repeated tags"
[ "$(grep -c 'X-Patch-Kind=' "$tmp/got")" = "$count" ] || fail "untagged messages"
[ "$(cut -f1 "$tmp/got" | sort -u | wc -l)" = "$count" ] || fail "duplicate deliveries"

counters() {	# db
	"$PD_BUILD/patchdigest" stats --json -D "$1" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k in ("range", "series"):
    d.pop(k, None)
print(json.dumps(d, sort_keys=True))'
}
got=$(counters "$tmp/db") || fail "stats (milter)"
want=$(counters "$tmp/oracle") || fail "stats (import)"
echo "milter: $got" | cut -c1-300
echo "import: $want" | cut -c1-300
case $got in *'"messages": '"$count"','*) ;; *) fail "not $count messages counted" ;; esac
[ "$got" = "$want" ] || fail "counters differ from the import's"
echo "load test passed"
