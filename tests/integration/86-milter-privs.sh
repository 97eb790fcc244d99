#!/bin/sh
# Privileges of patchdigest-milter, as far as they can be observed: started
# as root with -u nobody it runs as nobody (real, effective, saved, fs ids
# and no supplementary root group, /proc/PID/status), its socket and the
# store it creates are not open to others (UMask), and under strace -f it
# never executes a shell: the only program it starts is the configured
# sendmail, with -i and the configured recipients as fixed arguments.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
. "$PD_SRC/tests/lib/milter.sh"
. "$PD_SRC/tests/reliability/lib.sh"
[ "$(id -u)" = 0 ] || fail "must run as root"
command -v miltertest >/dev/null || fail "miltertest is not installed"
mpid=
# Under strace MD_PID is strace's: the milter itself ($mpid) is killed too.
trap '[ -z "$mpid" ] || kill -KILL "$mpid" 2>/dev/null || true; md_kill || true; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM

nobody=$(id -u nobody)
chmod 755 "$T"
mkdir "$T/sock" "$T/state" "$T/out"
chown nobody "$T/state" "$T/out"
# A sendmail that is no shell script: records the message, then its argv
# (what the test waits for), each by rename so that a later digest of the
# schedule never shows the test a file half rewritten.
cat >"$T/sendmail" <<EOF
#!/usr/bin/python3
import sys, os
d = "$T/out"
def put(name, data):
    with open(os.path.join(d, name + ".tmp"), "wb") as f:
        f.write(data)
    os.rename(os.path.join(d, name + ".tmp"), os.path.join(d, name))
put("mail", sys.stdin.buffer.read())
put("argv", ("\n".join(sys.argv[1:]) + "\n").encode())
EOF
chmod 755 "$T/sendmail"
conf "$T/pd.conf" "$T/state/db" "Sendmail $T/sendmail" "DigestFrom digest@example.org" \
    "DigestTo list@example.org" "DigestTo second@example.org" "Schedule every 2" "UMask 007"
set_files | head -n 12 >"$T/list"
sock=unix:$T/sock/milter.sock
MD_LOG=$T/milter.log

trace=
if command -v strace >/dev/null; then
	trace=$T/trace
	# strace runs the milter: MD_PID is strace's, the milter is its child
	PD_BUILD_SAVE=$PD_BUILD
	mkdir "$T/bin"
	cat >"$T/bin/patchdigest-milter" <<EOF
#!/bin/sh
# LeakSanitizer cannot run under ptrace: the ASan build keeps its other checks
[ "\${PD_SANITIZE:-0}" != 1 ] || ASAN_OPTIONS="\${ASAN_OPTIONS:-}:detect_leaks=0"
export ASAN_OPTIONS
exec strace -f -qq -s 256 -e trace=execve -o "$trace" "$PD_BUILD_SAVE/patchdigest-milter" "\$@"
EOF
	chmod 755 "$T/bin/patchdigest-milter"
	PD_BUILD=$T/bin
fi
md_start "$sock" "$T/pd.conf" -u nobody || fail "the milter does not start with -u nobody"
[ -z "$trace" ] || PD_BUILD=$PD_BUILD_SAVE
# the milter process itself (under strace: the child of strace)
mpid=$MD_PID
if [ -n "$trace" ]; then
	n=0
	until mpid=$(pgrep -P "$MD_PID" | head -n 1) && [ -n "$mpid" ]; do
		n=$((n + 1)); [ $n -le 100 ] || fail "no milter under strace"; sleep 0.05
	done
fi

feed_milter "$sock" "$T/list" QP >"$T/feed.out" || { cat "$T/feed.out"; fail "messages refused"; }

# ids: Uid/Gid lines are real, effective, saved, filesystem
uids=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$mpid/status")
gids=$(awk '/^Gid:/ { print $2, $3, $4, $5 }' "/proc/$mpid/status")
groups=$(awk '/^Groups:/ { $1 = ""; print }' "/proc/$mpid/status")
[ "$uids" = "$nobody $nobody $nobody $nobody" ] || fail "uids are $uids, not nobody ($nobody)"
case " $gids " in *" 0 "*) fail "a gid is still root: $gids" ;; esac
case " $groups " in *" 0 "*) fail "supplementary group root kept: $groups" ;; esac
echo "milter $mpid: uids $uids gids $gids groups$groups"

# socket and store: nothing for others
s=${sock#unix:}
[ -S "$s" ] || fail "no socket $s"
mode=$(stat -c %a "$s")
[ $((0$mode & 2)) = 0 ] || fail "socket is world-writable ($mode)"
[ -d "$T/state/db" ] || fail "the milter created no store"
for f in "$T/state/db" "$T/state/db"/*; do
	m=$(stat -c %a "$f")
	[ $((0$m & 7)) = 0 ] || fail "$f is open to others ($m)"
	[ "$(stat -c %u "$f")" = "$nobody" ] || fail "$f is not owned by nobody"
done
echo "socket $mode, store $(stat -c %a "$T/state/db")/$(stat -c %a "$T/state/db/data.mdb")"

# Schedule every 2: a digest goes out through the configured sendmail.
n=0
until [ -s "$T/out/argv" ]; do
	n=$((n + 1)); [ $n -le 400 ] || fail "no digest sent by the milter's schedule"; sleep 0.05
done
printf -- '-i\nlist@example.org\nsecond@example.org\n' >"$T/argv.want"
cmp -s "$T/out/argv" "$T/argv.want" || { cat "$T/out/argv"; fail "sendmail arguments"; }
grep -q '^Subject: KVM mailing list update from ' "$T/out/mail" || fail "the digest mail"
if [ -n "$trace" ]; then
	# SIGTERM to the milter itself; strace ends with it
	kill -TERM "$mpid"
	st=0
	wait "$MD_PID" || st=$?
	MD_PID=
	[ "$st" = 0 ] || fail "the milter exited $st on SIGTERM"
else
	md_stop || fail "the milter did not stop cleanly"
fi

if [ -n "$trace" ]; then
	# every program started: the milter, then only the sendmail
	grep 'execve(' "$trace" | grep -v 'ENOENT\|resumed' >"$T/execs" || true
	cat "$T/execs"
	grep -q "execve(\"$PD_BUILD/patchdigest-milter\"" "$T/execs" || fail "trace lacks the milter"
	grep -q "execve(\"$T/sendmail\", \[\"$T/sendmail\", \"-i\", \"list@example.org\", \"second@example.org\"\]" \
	    "$T/execs" || fail "sendmail not executed directly with fixed arguments"
	others=$(grep -v "execve(\"$PD_BUILD/patchdigest-milter\"\|execve(\"$T/sendmail\"" "$T/execs" || true)
	[ -z "$others" ] || fail "the milter executed something else: $others"
	! grep -qE 'execve\("[^"]*/(sh|bash|dash)"|\["[^"]*sh", "-c"' "$T/execs" || fail "a shell was executed"
else
	echo "strace not installed: exec check skipped"
fi

# A pid file in a directory of the user the milter becomes: a link put
# there (to a file of root's) is replaced, never written through.
mkdir "$T/run"
chown nobody "$T/run"
printf 'secret\n' >"$T/victim"
chmod 600 "$T/victim"
ln -s "$T/victim" "$T/run/m.pid"
md_start "unix:$T/sock/m2.sock" "$T/pd.conf" -u nobody -P "$T/run/m.pid" ||
    fail "no start with a pid file"
[ "$(cat "$T/victim")" = secret ] || fail "the pid file was written through a link"
[ ! -L "$T/run/m.pid" ] && [ "$(cat "$T/run/m.pid")" = "$MD_PID" ] ||
    fail "pid file: $(ls -l "$T/run")"
md_stop || fail "the milter with a pid file did not stop cleanly"
[ ! -e "$T/run/m.pid" ] || fail "the pid file was left behind"
echo ok
