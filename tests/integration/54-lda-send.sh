#!/bin/sh
# patchdigest-lda -s: a due digest is sent by a child process, and the
# delivery never waits for it.  The fake sendmail blocks until the test
# opens a gate, so an LDA (or a pipe) that waited for the sending would hang
# here and the timeout would fail the test.
set -eu
. "$PD_SRC/tests/lib/lda.sh"

release() {		# lets a blocked fake sendmail go (never blocks itself)
	{ echo go 1<>"$T/gate"; } 2>/dev/null || true
}
cleanup() {
	release
	rm -rf "$T"
}
trap cleanup EXIT
wait_for() {	# FILE WHAT: up to 30 s for FILE to appear, else fail WHAT
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ "$i" -lt 300 ] || fail "$2"
		sleep 0.1
	done
}

mkdir "$T/db"
mkfifo "$T/gate"
cat >"$T/sendmail" <<EOF
#!/bin/sh
echo "\$*" >"$T/args"
cat >"$T/sent.tmp"
read -r x <"$T/gate"
mv "$T/sent.tmp" "$T/sent"
EOF
chmod 755 "$T/sendmail"
conf "$T/pd.conf" "$T/db" "SubsystemRules $PD_SRC/etc/subsystems.rules" \
    "Schedule every 1" "Sendmail $T/sendmail" \
    "DigestFrom digest@example.org" "DigestTo list@example.org"

# shellcheck disable=SC2046
msg=$(grep -l '^Subject: \[PATCH' $(set_files) | head -n 1)
[ -n "$msg" ] || fail "no patch in the set"

# -n -s: a dry run sends nothing (and records nothing)
"$LDA" -n -s -c "$T/pd.conf" <"$msg" >/dev/null || fail "-n -s exit $?"

# filter mode: the pipe to the reader closes although sendmail is blocked
# shellcheck disable=SC2016
timeout 60 sh -c '"$1" -s -c "$2" <"$3" | cat >"$4"' sh "$LDA" "$T/pd.conf" "$msg" \
    "$T/out" || fail "the delivery waited for the digest (exit $?)"
head -n 1 "$T/out" | grep -Eq '^X-Patch-Kind: (patch|cover)$' || fail "not tagged"
same_untagged "$T/out" "$msg" || fail "message changed"

wait_for "$T/sent.tmp" "no digest was handed to sendmail"
[ ! -e "$T/sent" ] || fail "-n -s sent a digest"
# a blocking open: "go" reaches sendmail's read even if it has not opened
# the gate yet (release's read-write open would drop it on close)
# shellcheck disable=SC2016
timeout 60 sh -c 'echo go >"$1"' sh "$T/gate" || fail "sendmail never read the gate"
wait_for "$T/sent" "sendmail did not finish"
grep -q 'list@example.org' "$T/args" || fail "sendmail args: $(cat "$T/args")"
grep -q '^From: .*digest@example.org' "$T/sent" || fail "digest without From"
grep -q '^To: .*list@example.org' "$T/sent" || fail "digest without To"
title=$(sed -n 's/^Subject: \[[^]]*\] *//p' "$msg" | head -n 1 | cut -c1-30)
grep -qF "$title" "$T/sent" || fail "the digest lacks \"$title\""

# the digest closed range 1 and was marked sent: range 2 is the open one
i=0
until "$PD" -D "$T/db" ranges | grep -q '^ *2 .*(open)'; do
	i=$((i + 1))
	[ "$i" -lt 300 ] || fail "range 1 not closed: $("$PD" -D "$T/db" ranges)"
	sleep 0.1
done
"$PD" -D "$T/db" ranges | grep -q '^ *1 .* 1 patches' || fail "range 1 lacks the patch"

# -f (the log on stderr) and a descriptor passed down to the LDA: the child
# sending the next digest keeps neither, so their reader sees the end at
# once, sendmail blocked as before
# shellcheck disable=SC2046
msg2=$(grep -l '^Subject: \[PATCH' $(set_files) | grep -vxF "$msg" | head -n 1)
[ -n "$msg2" ] || fail "no second patch in the set"
rm -f "$T/sent" "$T/sent.tmp"
# shellcheck disable=SC2016
timeout 60 sh -c '{ "$1" -f -s -c "$2" <"$3" 3>&1 2>&1 >/dev/null; } | cat >"$4"' \
    sh "$LDA" "$T/pd.conf" "$msg2" "$T/err2" ||
    fail "-f: the delivery waited for the digest on stderr or fd 3 (exit $?)"
wait_for "$T/sent.tmp" "no second digest was handed to sendmail"
release

# Without -f the LDA logs to syslog from the start: the child closes that
# socket with the rest, and must not then write its log line to the
# number, which the store's lock file took (glibc closed it on ENOTSOCK,
# dropping LMDB's locks).  A /dev/log of our own in a mount namespace of
# its own; strace sees the child's writes.
cat >"$T/syslog.sh" <<'EOF2'
set -eu
T=$1; shift
mkdir "$T/olddev"
mount --bind /dev "$T/olddev"
mount -t tmpfs none /dev
for f in null zero urandom random full; do
	: >"/dev/$f"
	mount --bind "$T/olddev/$f" "/dev/$f"
done
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(30)
open(sys.argv[1] + "/log.ready", "w").close()
with open(sys.argv[1] + "/syslog.txt", "ab") as out:
    while True:
        d = s.recv(4096)
        out.write(d + b"\n")
        out.flush()
        if b"digest(s)" in d:
            break
' "$T" &
while [ ! -e "$T/log.ready" ]; do sleep 0.1; done
strace -f -o "$T/strace.txt" -e trace=sendto "$@"
wait
EOF2
# shellcheck disable=SC2046
msg3=$(grep -l '^Subject: \[PATCH' $(set_files) | grep -vxF -e "$msg" -e "$msg2" | head -n 1)
[ -n "$msg3" ] || fail "no third patch in the set"
sed -i "s|^Sendmail .*|Sendmail /bin/true|" "$T/pd.conf"
# LeakSanitizer cannot work under ptrace: off for this run under make asan
ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
    timeout 120 unshare -m sh "$T/syslog.sh" "$T" "$LDA" -s -c "$T/pd.conf" <"$msg3" \
    >/dev/null 2>"$T/syslog.err" || fail "syslog run: $(cat "$T/syslog.err")"
grep -q 'sent [0-9]* digest(s)' "$T/syslog.txt" || fail "the child's log line: $(cat "$T/syslog.txt")"
! grep -q ENOTSOCK "$T/strace.txt" ||
    fail "the child wrote its log to a closed socket's number: $(grep ENOTSOCK "$T/strace.txt")"
echo ok
