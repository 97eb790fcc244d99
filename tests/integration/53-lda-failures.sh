#!/bin/sh
# Failure injection through the real delivery programs: the LDA must never
# lose mail.  A store it may not write (run as nobody), a store on a full
# filesystem: every message delivered unchanged, procmail logs success.  A
# closed stdout: exit 75, procmail rescues the original, maildrop exits 75.
# A guard that cannot be set up, an unreadable configuration: untagged.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
command -v procmail >/dev/null || fail "procmail not installed"
command -v maildrop >/dev/null || fail "maildrop not installed"

mnt=
madeetc=
cleanup() {
	[ -z "$mnt" ] || umount "$mnt" 2>/dev/null || true
	[ -z "$madeetc" ] || rmdir /etc/patchdigest 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

rules=$PD_SRC/etc/subsystems.rules
first=$(set_files | head -n 20)

# procmail rcfile: rc FILE MAILDIR LDA-COMMAND-LINE
rc() {
	cat >"$1" <<EOF
SHELL=/bin/sh
MAILDIR=$2
LOGFILE=$2/procmail.log
VERBOSE=no

:0 fw
| $3

:0
* ^X-Patch-Kind:
tagged/

:0
untagged/
EOF
}

# Each file delivered once to DIR/untagged exactly as it was sent, and
# procmail logged each delivery and no failure.  check_unchanged DIR FILE...
check_unchanged() {
	dir=$1
	shift
	python3 "$PD_SRC/tests/lib/lda-check.py" untagged "$dir" "$@" ||
	    fail "$dir: messages lost or changed"
	n=$(grep -c '^  Folder: untagged/' "$dir/procmail.log" || true)
	[ "$n" = "$#" ] || fail "$dir: procmail logged $n deliveries for $#"
	grep -E 'Rescue|Error|Couldn' "$dir/procmail.log" && fail "$dir: procmail failure"
	return 0
}

# 1. A store this user may not write: run as nobody against root's store.
mkdir "$T/db"
chmod 755 "$T"
conf "$T/pd.conf" "$T/db" "SubsystemRules $rules"
"$LDA" -c "$T/pd.conf" <"$(set_files | tail -n 1)" >/dev/null
before=$(counters "$T/db")
mkdir "$T/ro"
chown 65534:65534 "$T/ro"
rc "$T/ro.rc" "$T/ro" "\"$LDA\" -f -c \"$T/pd.conf\""
chmod 644 "$T/ro.rc" "$T/pd.conf"
for f in $first; do
	setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/ro" \
	    procmail -m "$T/ro.rc" <"$f" || fail "procmail as nobody: exit $?"
done
# shellcheck disable=SC2086
check_unchanged "$T/ro" $first
grep -q 'patchdigest-lda: store .*: .*untagged' "$T/ro/procmail.log" ||
    fail "the store error was not logged"
[ "$(counters "$T/db")" = "$before" ] || fail "the read-only store changed"

# 2. A store on a full filesystem (where this machine lets us mount one).
mkdir "$T/small"
if mount -t tmpfs -o size=96k tmpfs "$T/small" 2>/dev/null; then
	mnt=$T/small
	mkdir "$T/small/db" "$T/full"
	conf "$T/full.conf" "$T/small/db" "SubsystemRules $rules"
	rc "$T/full.rc" "$T/full" "\"$LDA\" -f -c \"$T/full.conf\""
	many=$(set_files | head -n 50)
	for f in $many; do
		procmail -m "$T/full.rc" <"$f" || fail "procmail, full store: exit $?"
	done
	[ -d "$T/full/tagged" ] || fail "full store: nothing was tagged before it filled"
	[ -d "$T/full/untagged" ] || fail "the store never filled up"
	# shellcheck disable=SC2086
	python3 "$PD_SRC/tests/lib/lda-check.py" either "$T/full" $many ||
	    fail "full store: messages lost or changed"
	grep -q 'patchdigest-lda: .*store .*untagged' "$T/full/procmail.log" ||
	    fail "full store not logged"
	grep -E 'Rescue|Error|Couldn' "$T/full/procmail.log" && fail "procmail failure"
	umount "$mnt"
	mnt=
else
	echo "tmpfs mount not permitted here: full-filesystem case skipped"
fi

# 3. stdout closed: the LDA exits 75, procmail's "fw" rescues the original.
mkdir "$T/closed"
rc "$T/closed.rc" "$T/closed" "\"$LDA\" -c \"$T/pd.conf\" >&-"
for f in $first; do
	procmail -m "$T/closed.rc" <"$f" || fail "procmail, closed stdout: exit $?"
done
resc=$(grep -c 'Rescue of unfiltered data' "$T/closed/procmail.log" || true)
[ "$resc" = "$(echo "$first" | wc -l)" ] || fail "$resc rescues logged"
sed -i '/Rescue of unfiltered data\|Program failure/d' "$T/closed/procmail.log"
# shellcheck disable=SC2086
check_unchanged "$T/closed" $first

# 4. maildrop: a failing xfilter makes maildrop exit 75, the MTA retries.
mkdir "$T/md"
maildirmake "$T/md/inbox"
cat >"$T/md.rc" <<EOF
xfilter "$LDA -c $T/pd.conf >&-"
to "$T/md/inbox"
EOF
chmod 600 "$T/md.rc"
st=0
maildrop "$T/md.rc" <"$(set_files | head -n 1)" 2>/dev/null || st=$?
[ "$st" = 75 ] || fail "maildrop exit $st after a failing xfilter, not 75"
[ -z "$(ls "$T/md/inbox/new")" ] || fail "maildrop delivered a failed filter's output"
# 5. The guard around the store step cannot be set up (a shim makes
# sigaction refuse SIGALRM): the message goes through untagged, unrecorded.
cc -shared -fPIC -o "$T/shim.so" "$PD_SRC/tests/lib/shim-noalrm.c" -ldl ||
    fail "cannot build the sigaction shim"
msg=$(set_files | head -n 1)
conf "$T/shim.conf" "$T/db-shim"
st=0
ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$T/shim.so" \
    "$LDA" -f -c "$T/shim.conf" <"$msg" >"$T/out" 2>"$T/err" || st=$?
[ "$st" = 0 ] || fail "unguarded: exit $st: $(cat "$T/err")"
cmp -s "$T/out" "$msg" || fail "unguarded: message changed or lost"
grep -q 'cannot guard the store step: Invalid argument; message passed on untagged' \
    "$T/err" || fail "unguarded: $(cat "$T/err")"
[ ! -e "$T/db-shim/data.mdb" ] || fail "unguarded: the store was written"

# An unreadable default configuration is not "no configuration": the LDA
# run as nobody says why and passes the mail on untagged (the defaults
# would have tagged and recorded it).  /etc/patchdigest is bound over in a
# mount namespace of its own, the machine's is never touched.
if [ ! -d /etc/patchdigest ]; then
	mkdir /etc/patchdigest
	madeetc=1
fi
mkdir "$T/etcpd"
printf 'Database %s\n' "$T/db-etc" >"$T/etcpd/patchdigest.conf"
chmod 600 "$T/etcpd/patchdigest.conf"
msg=$(set_files | head -n 1)
unshare -m sh -c 'mount --bind "$1" /etc/patchdigest &&
    exec setpriv --reuid=65534 --regid=65534 --clear-groups "$2" -f' \
    sh "$T/etcpd" "$LDA" <"$msg" >"$T/out" 2>"$T/err" || fail "unreadable conf: exit $?"
grep -q '/etc/patchdigest/patchdigest.conf: Permission denied; message passed on untagged' \
    "$T/err" || fail "unreadable default conf: $(cat "$T/err")"
cmp -s "$T/out" "$msg" || fail "unreadable default conf: message changed"
echo ok
