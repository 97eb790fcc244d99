#!/bin/sh
# patchdigest-milter driven by miltertest (tests/milter/*.lua) on a unix
# socket with a temporary store: forged tags removed and real ones inserted,
# replies and malformed mail accepted, several messages and an abort on one
# connection, a 60 MB message in bounded memory, a message 20,000 MIME
# levels deep; the store counts what an import of the same messages counts;
# reload (SIGHUP) with InternalHosts, and raising MapSizeMax of a full store;
# stale socket handling; clean SIGTERM.
set -u
. "$PD_SRC/tests/lib/milter.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

corpus=$PD_SHARED/corpus/lore-kvmarm
set_list=$corpus/_sets/window_week-2022-11-28.txt
[ -f "$set_list" ] || fail "no $set_list"
command -v miltertest >/dev/null || fail "miltertest is not installed"

tmp=$(mktemp -d /tmp/pd-mt.XXXXXX)
MD_LOG=$tmp/milter.log
trap 'md_kill; [ -n "${PD_KEEP:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Messages: patches with an n/m counter, a reply; a malformed one made here.
pick() {	# pattern count: files of the set whose Subject matches
	while read -r f; do
		if grep -m1 '^Subject:' "$corpus/$f" | grep -q -- "$1"; then
			echo "$corpus/$f"
		fi
	done <"$set_list" | head -n "$2"
}
patches=$(pick 'Subject: \[PATCH[^]]* 0*[1-9][0-9]*/[0-9]*\]' 5)
PATCH=$(echo "$patches" | sed -n 1p)
MSG1=$(echo "$patches" | sed -n 2p)
MSG2=$(echo "$patches" | sed -n 3p)
MSG3=$(echo "$patches" | sed -n 4p)
MSG4=$(echo "$patches" | sed -n 5p)
REPLY=$(pick 'Subject: Re:' 1)
{ [ -n "$MSG4" ] && [ -n "$REPLY" ]; } || fail "corpus set lacks patches or replies"

MALFORMED=$tmp/malformed.eml
{
	printf 'From: =?x-unknown?Q?broken=ZZ?= <\377\376@@>\n'
	printf 'Subject: =?utf-8?B?not base64!!?= [PATCH 1/ \001\n'
	printf 'Message-ID: <malformed.1@example.org>\n'
	printf 'Content-Type: multipart/mixed; boundary="never-closed"\n'
	printf 'Content-Transfer-Encoding: base64\n'
	printf 'X-Broken-Header-Without-Value:\n'
	printf '\n--never-closed\nContent-Type: text/plain; charset=no-such-charset\n'
	printf 'Content-Transfer-Encoding: quoted-printable\n\n=ZZ=\n\377\000\376 diff --git\n'
	printf '@@ -1,2 +1 @@\n--never-closed\nContent-Type: multipart/alternative\n\n'
} >"$MALFORMED"

# A patch nested 20,000 MIME levels deep: the connection threads' stacks
# are 1 MB (milter.c, small_stacks).
DEEP=$tmp/deep.eml
{
	printf 'From: Deep Nest <deep@example.org>\nSubject: [PATCH] deep: nested\n'
	printf 'Message-ID: <deep.1@example.org>\nMIME-Version: 1.0\n'
	i=0
	while [ $i -lt 20000 ]; do
		printf 'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' $i $i
		i=$((i + 1))
	done
	printf 'Content-Type: text/plain\n\n---\n a/x.c | 1 +\n'
	while [ $i -gt 0 ]; do
		i=$((i - 1))
		printf -- '--b%d--\n' $i
	done
} >"$DEEP"

# A Message-ID of 600 bytes (legal: RFC 5322 bounds only the line), past
# the store's keys: tagged and stored under the id derived from it.
LONGID=$tmp/longid.eml
{
	printf 'From: Long Id <long@example.org>\nSubject: [PATCH] long: id\n'
	printf 'Message-ID: <%s@example.org>\n\n---\n a/x.c | 1 +\n' \
	    "$(head -c 588 /dev/zero | tr '\0' l)"
} >"$LONGID"

# git send-email's old id, too long for X-Patch-Series' first line.
GITID=$tmp/gitid.eml
printf '%s\n' 'From: Shannon Zhao <shannon.zhao@example.org>' \
    'Subject: [PATCH 1/8] KVM: arm64: Long id' \
    'Message-ID: <1571912870-18471-1-git-send-email-shannon.zhao@linux.alibaba.com>' \
    'Date: Thu, 24 Oct 2019 18:27:50 +0800' '' 'Body.' >"$GITID"

# 60 MB of body in CRLF lines.
BIGBODY=$tmp/big.body
line=$(printf 'This line repeats to make a large body, far over MaxMessageSize. xxxxxxxxx\r')
yes "$line" | head -c 62914560 >"$BIGBODY" || fail "cannot write $BIGBODY"

cat >"$tmp/patchdigest.conf" <<EOC || fail "cannot write config"
Database $tmp/db
EOC

sock=unix:$tmp/milter.sock
md_start "$sock" "$tmp/patchdigest.conf" || fail "milter did not start"

limit=65536
[ "${PD_SANITIZE:-0}" = 1 ] && limit=100000000	# ASan's shadow memory
run_lua() {	# script [-D var=value...]: run one miltertest script
	echo "== $1"
	mt_script=$1
	shift
	miltertest "$@" -s "$PD_SRC/tests/milter/$mt_script" -D LIB="$PD_SRC/tests/milter/lib.lua" \
	    -D SOCK="$sock" -D PID="$MD_PID" -D PATCH="$PATCH" -D REPLY="$REPLY" \
	    -D MALFORMED="$MALFORMED" -D DEEP="$DEEP" -D LONGID="$LONGID" -D GITID="$GITID" -D MSG1="$MSG1" -D MSG2="$MSG2" -D MSG3="$MSG3" \
	    -D MSG4="$MSG4" -D BIGBODY="$BIGBODY" -D LIMIT_KB="$limit" \
	    >"$tmp/mt.out" 2>&1
	rc=$?
	cat "$tmp/mt.out"
	[ $rc = 0 ] || fail "$mt_script exited $rc"
	! grep -q '^FAIL' "$tmp/mt.out" || fail "$mt_script"
	# drain.lua ends with the daemon gone, as it should
	[ "$mt_script" = drain.lua ] || kill -0 "$MD_PID" 2>/dev/null ||
	    fail "the milter died during $mt_script"
}

reload() {	# SIGHUP the milter and wait for its "configuration reloaded"
	reloads=$(grep -c "configuration reloaded" "$MD_LOG")
	kill -HUP "$MD_PID"
	n=0
	until [ "$(grep -c "configuration reloaded" "$MD_LOG")" -gt "$reloads" ]; do
		n=$((n + 1)); [ $n -gt 100 ] && fail "no reload on SIGHUP"; sleep 0.1
	done
}
for s in tag.lua accept.lua session.lua big.lua; do
	run_lua "$s"
done

# One log line per message with the queue id, kind, series and subsystem.
grep -q "QIDTAG1: .* kind=patch series=[^ ]" "$MD_LOG" ||
    fail "no log line with queue id and kind for the patch"
grep -q "QIDREPLY: .* kind=reply" "$MD_LOG" || fail "no log line for the reply"
grep -q "QIDBIG: .*truncated" "$MD_LOG" || fail "the big message was not truncated"
# big.lua's last message was cut off by the shared budget after less than
# its first 8 MB, then sent 10 MB more once the budget was free: it must
# hold no more than it had (a hole, else).
held=$(sed -n 's/^.*QIDMANY24: .* tagged from the first \([0-9]*\)$/\1/p' "$MD_LOG")
[ -n "$held" ] && [ "$held" -le 8400000 ] ||
    fail "QIDMANY24 holds ${held:-?} bytes: later data after what was cut off"
grep -q "QIDDEEP: .* kind=patch" "$MD_LOG" || fail "no log line for the deep message"
grep -q "QIDLONG: .* kind=patch series=[0-9a-f]*@long-id.patchdigest.invalid" \
    "$MD_LOG" || fail "the long Message-ID was not stored under its derived id"
! grep -q "QIDABORT" "$MD_LOG" || fail "the aborted transaction was logged as a message"

# The store counts each message once, as an import of the same messages.
stats_of() {	# db: stats without the range's last id (arrival order)
	"$PD_BUILD/patchdigest" stats --json -D "$1" |
	    python3 -c 'import json,sys; d=json.load(sys.stdin); d["range"].pop("to",None); print(json.dumps(d, sort_keys=True))'
}
printf 'From: <sender@example.com>\n\nDummy message body.\n' >"$tmp/default.eml"
"$PD_BUILD/patchdigest" import -D "$tmp/oracle" "$PATCH" "$REPLY" "$MALFORMED" \
    "$DEEP" "$LONGID" "$GITID" "$tmp/default.eml" "$MSG1" "$MSG2" "$MSG3" >/dev/null || fail "import failed"
got=$(stats_of "$tmp/db") || fail "stats of the milter's store"
want=$(stats_of "$tmp/oracle") || fail "stats of the import"
echo "milter: $got"
echo "import: $want"
[ "$got" = "$want" ] || fail "store counters differ from the import's"

# -t runs the same path without an MTA and prints the tags.
"$PD_BUILD/patchdigest-milter" -c "$tmp/patchdigest.conf" -t "$PATCH" >"$tmp/t.out" ||
    fail "-t failed"
grep -q '^X-Patch-Kind: patch$' "$tmp/t.out" || fail "-t printed no patch tag"
# No header block, or binary data whose first line holds a colon: not mail,
# passed on untagged (what miltertest cannot send).
printf '\nSubject: [PATCH] x\n\nbody\n' >"$tmp/nohdr.eml"
printf 'L\321\215e:\001\000\377\n\200\n' >"$tmp/binary.eml"
for f in "$tmp/nohdr.eml" "$tmp/binary.eml"; do
	"$PD_BUILD/patchdigest-milter" -c "$tmp/patchdigest.conf" -t "$f" \
	    >"$tmp/t.out" 2>"$tmp/t.err" || fail "-t $f failed"
	[ ! -s "$tmp/t.out" ] || fail "-t tagged $f"
	grep -q 'not parseable: passed on unchanged' "$tmp/t.err" ||
	    fail "-t did not say $f is passed on"
done

# Reload: InternalHosts now holds the test client (192.0.2.10): a new
# message is still tagged, but not counted.
echo "InternalHosts 192.0.2.0/24, 2001:db8::/32" >>"$tmp/patchdigest.conf"
reload
before=$(stats_of "$tmp/db")
run_lua internal.lua
kill -0 "$MD_PID" || fail "SIGHUP stopped the milter"
[ "$(stats_of "$tmp/db")" = "$before" ] || fail "mail from InternalHosts was counted"
grep -q "QIDINTERNAL: .* internal" "$MD_LOG" || fail "internal message not logged as such"

# A second instance on the same socket refuses to start.
if "$PD_BUILD/patchdigest-milter" -f -c "$tmp/patchdigest.conf" -p "$sock" \
    >"$tmp/second.log" 2>&1; then
	fail "a second milter started on a live socket"
fi
grep -q "another process is listening" "$tmp/second.log" || fail "second: wrong error"

# SIGTERM: clean exit, socket removed.
md_stop || fail "SIGTERM did not stop the milter cleanly"

# In the background the starting command exits with the daemon's start: a
# user that does not exist is its failure (77), not a success.  The daemon
# keeps the working directory: a relative -c and Database mean what they
# mean in the foreground.
st=0
"$PD_BUILD/patchdigest-milter" -c "$tmp/patchdigest.conf" -p "unix:$tmp/bg.sock" \
    -u no-such-user-pd >/dev/null 2>&1 || st=$?
[ "$st" = 77 ] || fail "background start as a missing user exited $st, not 77"
[ ! -e "$tmp/bg.sock" ] || fail "a failed background start left its socket"
st=0
"$PD_BUILD/patchdigest-milter" -f -c "$tmp/patchdigest.conf" -p "unix:$tmp/bg.sock" \
    -P "$tmp/no-such-dir/pid" >/dev/null 2>&1 || st=$?
[ "$st" = 73 ] || fail "start with a pid file it cannot write exited $st, not 73"
[ ! -e "$tmp/bg.sock" ] || fail "a failed start left its socket"
printf 'Database db-rel\n' >"$tmp/rel.conf"
# (started with stdin closed: no pipe of the daemon's may take fd 0)
(cd "$tmp" && exec "$PD_BUILD/patchdigest-milter" -c rel.conf -p "unix:$tmp/bg.sock" \
    -P "$tmp/bg.pid" <&-) || fail "background start exited $?"
bgpid=$(cat "$tmp/bg.pid") || fail "no pid file after a background start"
[ -f "$tmp/db-rel/data.mdb" ] || fail "relative Database not under the start directory"
# libmilter's listener polls every 5 s: a daemon that lost its signal pipe
# to fd 0 had stopped by then
sleep 6
kill -0 "$bgpid" 2>/dev/null || fail "the background daemon stopped by itself"
kill -HUP "$bgpid" && sleep 0.5 && kill -0 "$bgpid" || fail "the daemon did not survive SIGHUP"
kill -TERM "$bgpid"
n=0
while kill -0 "$bgpid" 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 300 ] && fail "the background daemon ignores SIGTERM"; sleep 0.1
done
[ ! -e "$tmp/milter.sock" ] || fail "socket left behind after SIGTERM"

# A stale socket (killed milter) is removed and replaced.
md_start "$sock" "$tmp/patchdigest.conf" || fail "restart failed"
md_kill
[ -S "$tmp/milter.sock" ] || fail "no stale socket after SIGKILL"
md_start "$sock" "$tmp/patchdigest.conf" || fail "stale socket not replaced"
grep -q "removed stale socket" "$MD_LOG" || fail "stale socket not reported"
md_stop || fail "second SIGTERM"

# Something that is not a socket is never removed.
echo keep >"$tmp/milter.sock"
if "$PD_BUILD/patchdigest-milter" -f -c "$tmp/patchdigest.conf" -p "$sock" \
    >"$tmp/third.log" 2>&1; then
	fail "started over a regular file"
fi
[ "$(cat "$tmp/milter.sock")" = keep ] || fail "a regular file was replaced"
# A bad configuration: -n names the file and line and exits 78.
printf 'Database %s/db\nNoSuchKeyword 1\n' "$tmp" >"$tmp/bad.conf"
"$PD_BUILD/patchdigest-milter" -n -c "$tmp/bad.conf" 2>"$tmp/n.err"
[ $? = 78 ] || fail "-n with a bad configuration did not exit 78"
grep -q "bad.conf:2: unknown keyword" "$tmp/n.err" || fail "-n: $(cat "$tmp/n.err")"
# A schedule that could never send is refused at start, not when it is due.
printf 'Database %s/db\nSchedule daily 06:00\nDigestFrom d@example.org\n' "$tmp" >"$tmp/bad.conf"
"$PD_BUILD/patchdigest-milter" -n -c "$tmp/bad.conf" 2>"$tmp/n.err"
[ $? = 78 ] || fail "-n with a schedule and no DigestTo did not exit 78"
grep -q "bad.conf:2: Schedule needs DigestFrom and DigestTo" "$tmp/n.err" ||
    fail "-n: $(cat "$tmp/n.err")"
"$PD_BUILD/patchdigest-milter" -n -c "$tmp/patchdigest.conf" >/dev/null ||
    fail "-n rejects a good configuration"
# A MaxMessageSize its buffer sums wrapped on (tagging nothing) is refused.
printf 'MaxMessageSize 18446744073709551612\n' >"$tmp/bad.conf"
"$PD_BUILD/patchdigest-milter" -n -c "$tmp/bad.conf" 2>"$tmp/n.err"
[ $? = 78 ] || fail "-n with MaxMessageSize over 1G did not exit 78"
grep -q "bad.conf:1: MaxMessageSize: over 1G" "$tmp/n.err" || fail "-n: $(cat "$tmp/n.err")"
# A port libmilter would take modulo 65536: refused at its line by every
# program that reads the file, and as -p before anything starts.
printf 'Database %s/db\nSocket inet:99999@127.0.0.1\n' "$tmp" >"$tmp/bad.conf"
"$PD_BUILD/patchdigest-milter" -n -c "$tmp/bad.conf" 2>"$tmp/n.err"
[ $? = 78 ] || fail "-n with Socket port 99999 did not exit 78"
grep -q "bad.conf:2: Socket: the port is not 1-65535" "$tmp/n.err" ||
    fail "-n: $(cat "$tmp/n.err")"
"$PD_BUILD/patchdigest" -c "$tmp/bad.conf" ranges >/dev/null 2>"$tmp/n.err" &&
    fail "patchdigest took Socket port 99999"
grep -q "bad.conf:2: Socket: the port" "$tmp/n.err" || fail "patchdigest: $(cat "$tmp/n.err")"
for opt in -n -f; do
	"$PD_BUILD/patchdigest-milter" $opt -c "$tmp/patchdigest.conf" \
	    -p inet:99999@127.0.0.1 2>"$tmp/n.err"
	[ $? = 78 ] || fail "$opt -p inet:99999@127.0.0.1 did not exit 78"
	grep -q "^patchdigest-milter: -p inet:99999@127.0.0.1: the port" "$tmp/n.err" ||
	    fail "$opt -p: $(cat "$tmp/n.err")"
done
# An InternalHosts address that is none: refused at its line by every
# program (the milter alone refused it, and without the line).
printf 'Database %s/db\nInternalHosts 127.0.0.1 300.1.1.1\n' "$tmp" >"$tmp/bad.conf"
"$PD_BUILD/patchdigest-milter" -n -c "$tmp/bad.conf" 2>"$tmp/n.err"
[ $? = 78 ] || fail "-n with InternalHosts 300.1.1.1 did not exit 78"
grep -q "bad.conf:2: InternalHosts: not an IPv4" "$tmp/n.err" || fail "-n: $(cat "$tmp/n.err")"
"$PD_BUILD/patchdigest" -c "$tmp/bad.conf" ranges >/dev/null 2>"$tmp/n.err" &&
    fail "patchdigest took InternalHosts 300.1.1.1"
grep -q "bad.conf:2: InternalHosts: not an" "$tmp/n.err" ||
    fail "patchdigest: $(cat "$tmp/n.err")"
# What -n and -V print must reach stdout for them to exit 0.
if [ -w /dev/full ]; then
	"$PD_BUILD/patchdigest-milter" -n -c "$tmp/patchdigest.conf" >/dev/full 2>/dev/null
	[ $? = 74 ] || fail "-n to a full stdout did not exit 74"
	"$PD_BUILD/patchdigest-milter" -V >/dev/full 2>/dev/null
	[ $? = 74 ] || fail "-V to a full stdout did not exit 74"
fi
"$PD_BUILD/patchdigest-milter" -V >&- 2>"$tmp/n.err"
[ $? = 74 ] || fail "-V with stdout closed did not exit 74"
grep -q "^patchdigest-milter: stdout: closed" "$tmp/n.err" || fail "-V: $(cat "$tmp/n.err")"
"$PD_BUILD/patchdigest-milter" -t "$PATCH" -c "$tmp/patchdigest.conf" >&- 2>/dev/null
[ $? = 74 ] || fail "-t with stdout closed did not exit 74"

# The milter's own faults: a store that cannot be opened (its directory
# would be below a regular file).
rm -f "$tmp/milter.sock"
: >"$tmp/notadir"
printf 'Database %s/notadir/db\nOnError accept\n' "$tmp" >"$tmp/onerr.conf"
md_start "$sock" "$tmp/onerr.conf" || fail "start with an unusable store"
run_lua onerror.lua -D EXPECT=accept
# reloaded: a new connection gets OnError tempfail
printf 'Database %s/notadir/db\nOnError tempfail\n' "$tmp" >"$tmp/onerr.conf"
reload
run_lua onerror.lua -D EXPECT=tempfail
md_stop || fail "stop after the OnError checks"
# A full store, then MapSizeMax raised and reloaded: the store reopens with
# the new size (it kept the old one until a restart).
rm -f "$tmp/milter.sock"
printf 'Database %s/fulldb\nMapSize 128K\nMapSizeMax 128K\nOnError tempfail\n' \
    "$tmp" >"$tmp/full.conf"
md_start "$sock" "$tmp/full.conf" || fail "start with a small store"
run_lua full.lua -D EXPECT=full -D LOG="$MD_LOG"
sed -i 's/^MapSizeMax 128K$/MapSizeMax 64M/' "$tmp/full.conf"
run_lua full.lua -D EXPECT=room -D LOG="$MD_LOG"
md_stop || fail "stop after the full store"

# An inet socket on loopback: same filter; TCP_NODELAY set on the listener,
# and a reply to DATA (lib.lua).
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sock=inet:$port@127.0.0.1
md_start "$sock" "$tmp/patchdigest.conf" || fail "inet start"
run_lua tag.lua -D INET=1
! grep -q "TCP_NODELAY" "$MD_LOG" || fail "TCP_NODELAY not set"
md_stop || fail "inet stop"
# SIGTERM during a message: it is finished, then the daemon exits 0.
sock=unix:$tmp/milter.sock
md_start "$sock" "$tmp/patchdigest.conf" || fail "start for the drain check"
run_lua drain.lua
n=0
while kill -0 "$MD_PID" 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 300 ] && fail "no exit after SIGTERM"; sleep 0.1
done
wait "$MD_PID" || fail "exit status $? after SIGTERM"
MD_PID=
grep -q "QIDDRAIN: .* kind=patch" "$MD_LOG" || fail "the message in progress was not logged"
grep -q "QIDLATE: shutting down: message passed on unchanged" "$MD_LOG" ||
	fail "the message started after SIGTERM was not logged as passed on"
# libmilter's own signal thread stopping the filter (as it does on a
# signal it takes) is not a clean stop: exit 70, so that systemd restarts it.
md_start "$sock" "$tmp/patchdigest.conf" || fail "start for the unasked stop"
waiter=
for t in /proc/"$MD_PID"/task/*; do
	grep -q sigtimedwait "$t/wchan" && waiter=${t##*/}
done
[ -n "$waiter" ] || fail "no thread of libmilter's waits for signals"
python3 -c 'import ctypes, sys; sys.exit(ctypes.CDLL(None).tgkill(*map(int, sys.argv[1:])))' \
    "$MD_PID" "$waiter" 1 || fail "tgkill"
n=0
while kill -0 "$MD_PID" 2>/dev/null; do
	n=$((n + 1)); [ $n -gt 300 ] && fail "libmilter's stop did not end the daemon"; sleep 0.1
done
st=0
wait "$MD_PID" || st=$?
MD_PID=
[ "$st" = 70 ] || fail "exit $st after libmilter stopped by itself, not 70"
grep -q "libmilter stopped unasked" "$MD_LOG" || fail "the unasked stop was not logged"
echo "all milter checks passed"
