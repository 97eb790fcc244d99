#!/bin/sh
# The milter's own digest schedule: with "Schedule every 3", the third
# counted patch message makes the daemon close the range and hand the digest
# to the Sendmail program once, not ignoring SIGPIPE as the daemon does;
# the store shows the range closed and sent.  Then a daily schedule with the
# wall clock a day ahead of the kernel's (as if set back after the daemon
# read it): the check a minute after start still runs and sends the digest
# that fell due.
set -u
. "$PD_SRC/tests/lib/milter.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

# wait_digest TENTHS WHY: until the schedule logged one digest sent.
wait_digest() {
	n=0
	until [ -f "$tmp/sent.0" ] && grep -q "digest schedule: 1 digest" "$MD_LOG"; do
		n=$((n + 1)); [ $n -gt "$1" ] && { cat "$MD_LOG"; fail "$2"; }
		sleep 0.1
	done
}

corpus=$PD_SHARED/corpus/lore-kvmarm
tmp=$(mktemp -d /tmp/pd-sched.XXXXXX)
MD_LOG=$tmp/milter.log
trap 'md_kill; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Three patches of one series (n/m counters, n >= 1).
# shellcheck disable=SC2046 # file names without blanks
set -- $(grep -l '^Subject: \[PATCH v2 0*[1-9][0-9]*/50\]' "$corpus"/*.eml | head -n 3)
[ $# = 3 ] || fail "corpus lacks three parts of the v2 /50 series"

cat >"$tmp/sendmail" <<'EOS'
#!/bin/sh
# Stand-in sendmail: keeps each digest with its command line and the
# signals it was started ignoring.
n=$(ls "$(dirname "$0")"/sent.* 2>/dev/null | wc -l)
grep '^SigIgn:' /proc/$$/status >"$(dirname "$0")/signals.$n"
{ echo "ARGS: $*"; cat; } >"$(dirname "$0")/sent.$n"
EOS
chmod 755 "$tmp/sendmail"
cat >"$tmp/patchdigest.conf" <<EOC || fail "config"
Database $tmp/db
Schedule every 3
DigestFrom KVM patch digest <digest@example.org>
DigestTo subscribers@example.org
Sendmail $tmp/sendmail
ArchiveURL https://lore.kernel.org/kvm/%s/
EOC

sock=unix:$tmp/milter.sock
md_start "$sock" "$tmp/patchdigest.conf" || fail "milter start"
miltertest -s "$PD_SRC/tests/milter/sched.lua" -D LIB="$PD_SRC/tests/milter/lib.lua" \
    -D SOCK="$sock" -D PID="$MD_PID" -D MSG1="$1" -D MSG2="$2" -D MSG3="$3" \
    >"$tmp/mt.out" 2>&1
rc=$?
cat "$tmp/mt.out"
[ $rc = 0 ] || fail "sched.lua exited $rc"
! grep -q '^FAIL' "$tmp/mt.out" || fail "sched.lua"

wait_digest 300 "no digest sent"
md_stop || fail "milter did not stop cleanly"
cat "$MD_LOG"
[ ! -f "$tmp/sent.1" ] || fail "more than one digest sent"
grep -q '^ARGS: -i subscribers@example.org$' "$tmp/sent.0" || fail "sendmail arguments"
# SIGPIPE (bit 13) not ignored: the daemon's setting stays its own
ign=$(sed -n 's/^SigIgn:[[:space:]]*//p' "$tmp/signals.0")
[ $((0x$ign & 0x1000)) = 0 ] || fail "sendmail started with SIGPIPE ignored: $ign"
grep -q '^Subject: KVM mailing list update from 000000000 to ' "$tmp/sent.0" ||
    fail "digest subject"
"$PD_BUILD/patchdigest" ranges -D "$tmp/db" >"$tmp/ranges" || fail "ranges"
cat "$tmp/ranges"
[ "$(grep -c . "$tmp/ranges")" -ge 2 ] || fail "the range was not closed"

# The clock case: patches imported now, a daemon whose clock reads a day
# later; its periodic check (every 60 s) must find the digest due.
cc -shared -fPIC -o "$tmp/shim-clock.so" "$PD_SRC/tests/lib/shim-clock.c" -ldl ||
    fail "cannot build the clock shim"
rm -f "$tmp"/sent.* "$tmp"/signals.*
sed -e "s|^Database .*|Database $tmp/db2|" -e 's|^Schedule .*|Schedule daily 00:00|' \
    "$tmp/patchdigest.conf" >"$tmp/daily.conf" || fail "config"
"$PD_BUILD/patchdigest" -c "$tmp/daily.conf" import "$@" >/dev/null ||
    fail "import"
MD_LOG=$tmp/milter2.log
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
    LD_PRELOAD="$tmp/shim-clock.so" PD_CLOCK_SHIFT=86400 \
    md_start "unix:$tmp/milter2.sock" "$tmp/daily.conf" || fail "milter start"
wait_digest 900 "daily: no digest in 90 s"
md_stop || fail "milter did not stop cleanly"
grep -q '^Subject: KVM mailing list update from 000000000 to ' "$tmp/sent.0" ||
    fail "daily: digest subject"
echo "schedule test passed"
