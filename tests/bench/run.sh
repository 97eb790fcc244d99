#!/bin/sh
# make bench: patchdigest against its baselines, measured in the same run.
# See tests/bench/README.md.  Prints progress on stderr and ONE table
# (Markdown) on stdout.  Never fails on a time: a figure that cannot be
# taken is printed as "n/a (reason)".
#
# Environment (defaults in brackets):
#   BUILD              build directory [build]
#   PD_SHARED          the shared data directory [../shared]
#   BENCH_RUNS         runs of each whole-archive timing, median taken [3]
#   BENCH_LDA_N        messages delivered once per process [2000]
#   BENCH_NM_N         of those, for notmuch insert (~10-30 ms each) [500]
#   BENCH_PI_N         of those, for public-inbox-mda (~130-500 ms each) [100]
#   BENCH_PF_N         messages of the Postfix throughput runs [2000]
#   BENCH_PF_SESSIONS  parallel SMTP sessions [20]
#   BENCH_PF_ROUNDS    interleaved rounds of the Postfix cases, median [3]
#   BENCH_LAT_N        messages of the one-session latency runs [200]
#   BENCH_DIGEST_N     messages of the digest range [10000]
#   BENCH_SM_INET_N    messages of the Sendmail inet latency run [50]
#   BENCH_NOTMUCH=0    skip notmuch (new, insert); BENCH_PI=0 skip
#                      public-inbox; BENCH_POSTFIX=0 skip Postfix;
#                      BENCH_SENDMAIL=0 skip Sendmail
#   BENCH_KEEP=1       keep the temporary directory
set -u
cd "$(dirname "$0")/../.."
PD_SRC=$(pwd)
BUILD=$(cd "${BUILD:-build}" && pwd)
PD_SHARED=${PD_SHARED:-$(cd "$PD_SRC/../shared" 2>/dev/null && pwd)}
ARCHIVE=$PD_SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz
MAINT=$PD_SHARED/data/linux-6.12/MAINTAINERS
MAINT_FILES=$PD_SHARED/data/linux-6.12/files.txt.xz
RUNS=${BENCH_RUNS:-3}
LDA_N=${BENCH_LDA_N:-2000}
NM_N=${BENCH_NM_N:-500}
PI_N=${BENCH_PI_N:-100}
PF_N=${BENCH_PF_N:-2000}
PF_S=${BENCH_PF_SESSIONS:-20}
PF_ROUNDS=${BENCH_PF_ROUNDS:-3}
TICKS=$(getconf CLK_TCK)
LAT_N=${BENCH_LAT_N:-200}
DIGEST_N=${BENCH_DIGEST_N:-10000}
SM_INET_N=${BENCH_SM_INET_N:-50}

if [ ! -f "$ARCHIVE" ]; then
	echo "bench: $ARCHIVE not found" >&2
	exit 1
fi
T=$(mktemp -d /tmp/pd-bench.XXXXXX) || exit 1
chmod 755 "$T"		# Postfix's smtpd must reach milter sockets in here
BIN=$T/bin
TABLE=$T/table
: >"$TABLE"
PIDS=

cleanup() {
	for p in $PIDS; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	PIDS=
	if [ -n "${PF_TMP:-}" ]; then
		pf_teardown
	fi
	[ -z "${SM_PID:-}" ] || sm_teardown
	[ -z "${SM_SOCKDIR:-}" ] || rm -rf "$SM_SOCKDIR"
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "bench: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

say() {
	echo "bench: $*" >&2
}

now() {
	date +%s.%N
}

# calc EXPR [FORMAT]: floating point through awk.
calc() {
	awk "BEGIN { printf \"${2:-%.2f}\", $1 }"
}

# row FIGURE OURS BASELINE RATIO GOAL
row() {
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >>"$TABLE"
}

# ratio A B: A/B with 2 decimals, n/a when either is not a number.
ratio() {
	case "$1$2" in
	*[!0-9.]*|"") echo "n/a" ;;
	*) awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a";
	    else printf "%.2f", a / b }' ;;
	esac
}

mb() {	# KB -> MB
	calc "${1:-0} / 1024" %.1f
}

median() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'
}

# timed OUT CMD...: runs CMD under peakrss; OUT gets "secs maxrss_kb
# anon_kb file_kb"; CMD's stdout goes to OUT.stdout, stderr to OUT.stderr.
# Returns CMD's status.
timed() {
	out=$1; shift
	"$BIN/peakrss" "$@" >"$out.stdout" 2>"$out.stderr"
	st=$?
	tail -n 1 "$out.stderr" >"$out"
	return $st
}

# Wall time of CMD in seconds with ns resolution, CMD's output discarded.
walltime() {
	t0=$(now)
	"$@" >/dev/null 2>&1
	st=$?
	t1=$(now)
	calc "$t1 - $t0" "%.4f"
	return $st
}

lasterr() {
	tail -n 1 "$1" 2>/dev/null | cut -c1-60
}

# --- Build the baselines -------------------------------------------------

mkdir -p "$BIN"
CC=${CC:-cc}
CF="-std=gnu11 -D_GNU_SOURCE -O2 -g -Wall -Wextra"
GM_CFLAGS=$(pkg-config --cflags gmime-3.0)
GM_LIBS=$(pkg-config --libs gmime-3.0)
# shellcheck disable=SC2086
$CC $CF $GM_CFLAGS -o "$BIN/bare-parse" tests/bench/bare-parse.c $GM_LIBS &&
    $CC $CF -o "$BIN/peakrss" tests/bench/peakrss.c &&
    $CC $CF -o "$BIN/fsync-floor" tests/bench/fsync-floor.c || {
	say "cannot build bare-parse, peakrss or fsync-floor"; exit 1; }
# shellcheck disable=SC2086
$CC $CF -pthread -o "$BIN/noop-milter" tests/bench/noop-milter.c -lmilter ||
	say "cannot build noop-milter (libmilter-dev?)"
# shellcheck disable=SC2086
$CC $CF -Iinclude -Ilib $GM_CFLAGS $(pkg-config --cflags lmdb) \
    -o "$BIN/bench-maint" tests/bench/bench-maint.c "$BUILD/libpatchdigest.a" \
    $GM_LIBS $(pkg-config --libs lmdb) -lpthread ||
	say "cannot build bench-maint"
# The LDA as LDA_LINK=shared would link it: what its static link saves.
# shellcheck disable=SC2086
$CC -o "$BIN/lda-shared" "$BUILD"/lda/*.o "$BUILD/libpatchdigest.a" \
    $GM_LIBS $(pkg-config --libs lmdb) -lpthread ||
	say "cannot link lda-shared"

# The programs under test, copied so that a rebuild during the run (make in
# another shell) cannot break it.
for p in patchdigest patchdigest-lda patchdigest-milter; do
	cp "$BUILD/$p" "$BIN/$p" 2>/dev/null || say "$BUILD/$p missing"
done
PD=$BIN/patchdigest
LDA=$BIN/patchdigest-lda
MILTER=$BIN/patchdigest-milter

# Optional peers, installed when possible (Debian packages).
want_pkg() {	# command package
	command -v "$1" >/dev/null 2>&1 && return 0
	[ "$(id -u)" = 0 ] || return 1
	say "installing $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends "$2" >"$T/apt-$2.log" 2>&1 || {
		DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		    --no-install-recommends "$2" >"$T/apt-$2.log" 2>&1
	}
	command -v "$1" >/dev/null 2>&1
}
HAVE_NOTMUCH=0
HAVE_PI=0
[ "${BENCH_NOTMUCH:-1}" = 1 ] && want_pkg notmuch notmuch && HAVE_NOTMUCH=1
[ "${BENCH_PI:-1}" = 1 ] && want_pkg public-inbox-mda public-inbox && HAVE_PI=1

# --- Data ------------------------------------------------------------------

say "decompressing the archive"
MBOX=$T/kvmarm.mbox
xz -dc "$ARCHIVE" >"$MBOX" || { say "cannot decompress $ARCHIVE"; exit 1; }
MBOX_BYTES=$(wc -c <"$MBOX")
NMSG=$(grep -c '^From ' "$MBOX")
# The first DIGEST_N messages, as an mbox of their own.
awk -v n="$DIGEST_N" '/^From / { if (++c > n) exit } { print }' "$MBOX" \
    >"$T/head.mbox"
NHEAD=$(grep -c '^From ' "$T/head.mbox")
# The first messages as files of their own (mboxrd unescaped): the Maildir that
# notmuch indexes, and the input of the once-per-message runs.
MD=$T/maildir
mkdir -p "$MD/new" "$MD/cur" "$MD/tmp"
SPLIT_N=$DIGEST_N
[ "$LDA_N" -gt "$SPLIT_N" ] && SPLIT_N=$LDA_N
[ "$LAT_N" -gt "$SPLIT_N" ] && SPLIT_N=$LAT_N
awk -v d="$MD/new" -v max="$SPLIT_N" '
	/^From / { if (f) close(f); if (n >= max) exit
		   f = sprintf("%s/%06d.bench", d, ++n); next }
	/^>+From / { sub(/^>/, "") }
	{ print > f }' "$MBOX"
say "$NMSG messages, $MBOX_BYTES bytes"

cat >"$T/bench.conf" <<EOF || exit 1
Database $T/store
ListName kvmarm
DigestFrom bench@localhost
DigestTo bench@localhost
Sendmail $T/sink
UMask 000
EOF
printf '#!/bin/sh\ncat >/dev/null\n' >"$T/sink" && chmod 755 "$T/sink"

# --- 1. import vs bare GMime parse ------------------------------------------

say "import vs bare parse ($RUNS runs each)"
: >"$T/bare.times"
: >"$T/import.times"
IMPORT_OK=1
i=0
while [ "$i" -lt "$RUNS" ]; do
	i=$((i + 1))
	timed "$T/bare" "$BIN/bare-parse" "$MBOX" || say "bare-parse failed"
	cat "$T/bare" >>"$T/bare.times"
	rm -rf "$T/store"
	if [ "$IMPORT_OK" = 1 ]; then
		if timed "$T/import" "$PD" -c "$T/bench.conf" import "$MBOX"; then
			cat "$T/import" >>"$T/import.times"
		else
			IMPORT_OK=0
			IMPORT_ERR=$(tail -n 2 "$T/import.stderr" | head -n 1 | cut -c1-60)
		fi
	fi
done
BARE_S=$(cut -d' ' -f1 "$T/bare.times" | median)
BARE_RSS=$(cut -d' ' -f2 "$T/bare.times" | median)
BARE_RATE=$(calc "$NMSG / $BARE_S" "%.0f")
BARE_MBS=$(calc "$MBOX_BYTES / 1e6 / $BARE_S" "%.1f")
if [ "$IMPORT_OK" = 1 ]; then
	IMP_S=$(cut -d' ' -f1 "$T/import.times" | median)
	IMP_RSS=$(cut -d' ' -f2 "$T/import.times" | median)
	IMP_ANON=$(cut -d' ' -f3 "$T/import.times" | median)
	IMP_FILE=$(cut -d' ' -f4 "$T/import.times" | median)
	IMP_RATE=$(calc "$NMSG / $IMP_S" "%.0f")
	IMP_MBS=$(calc "$MBOX_BYTES / 1e6 / $IMP_S" "%.1f")
	row "import, whole archive: msgs/s" "$IMP_RATE" "bare parse $BARE_RATE" \
	    "$(ratio "$IMP_RATE" "$BARE_RATE")" ">= 0.70"
	row "import: MB/s" "$IMP_MBS" "bare parse $BARE_MBS" \
	    "$(ratio "$IMP_MBS" "$BARE_MBS")" ">= 0.70"
	row "import: peak RSS, whole archive (MB)" \
	    "$(mb "$IMP_RSS") (heap $(mb "$IMP_ANON"), mapped $(mb "$IMP_FILE"))" \
	    "bare parse $(mb "$BARE_RSS")" "$(ratio "$IMP_RSS" "$BARE_RSS")" "< 100 MB"
else
	row "import, whole archive: msgs/s" "n/a (import failed: $IMPORT_ERR)" \
	    "bare parse $BARE_RATE" "n/a" ">= 0.70"
fi

# Store size after the full import (the last run's store).
store_used() {	# dir: bytes of LMDB pages in use
	mdb_stat -e "$1" 2>/dev/null | awk '
		/Page size:/ { ps = $3 }
		/Number of pages used:/ { pu = $5 }
		END { if (ps && pu) print ps * pu }'
}
STORE_BPM=
if [ "$IMPORT_OK" = 1 ] && [ -f "$T/store/data.mdb" ]; then
	used=$(store_used "$T/store")
	[ -n "$used" ] || used=$(du -B1 "$T/store/data.mdb" | cut -f1)
	STORE_BPM=$(calc "$used / $NMSG" "%.0f")
	STORE_FILE=$(wc -c <"$T/store/data.mdb")
fi

# --- 2. digest of a closed range vs its import time --------------------------

say "digest of a $NHEAD-message range"
rm -rf "$T/store"
if [ "$IMPORT_OK" = 1 ] &&
    timed "$T/import-head" "$PD" -c "$T/bench.conf" import "$T/head.mbox"; then
	HEAD_S=$(cut -d' ' -f1 "$T/import-head")
	used=$(store_used "$T/store")
	[ -n "$used" ] && HEAD_BPM=$(calc "$used / $NHEAD" "%.0f")
	HEAD_RSS=$(cut -d' ' -f2 "$T/import-head")
	HEAD_ANON=$(cut -d' ' -f3 "$T/import-head")
	HEAD_FILE=$(cut -d' ' -f4 "$T/import-head")
	row "import: peak RSS, $NHEAD msgs (MB)" \
	    "$(mb "$HEAD_RSS") (heap $(mb "$HEAD_ANON"), mapped $(mb "$HEAD_FILE"))" \
	    "whole: $(mb "$IMP_RSS") (heap $(mb "$IMP_ANON"))" \
	    "heap $(ratio "$IMP_ANON" "$HEAD_ANON")" "heap flat (~1.0)"
	# The open range rendered, then closed by send (render + store), then
	# the closed range printed.
	if D_OPEN=$(walltime "$PD" -c "$T/bench.conf" digest) &&
	    D_SEND=$(walltime "$PD" -c "$T/bench.conf" send --force) &&
	    D_CLOSED=$(walltime "$PD" -c "$T/bench.conf" digest --range 1); then
		"$PD" -c "$T/bench.conf" digest --range 1 >"$T/digest.txt" 2>&1
		row "digest --range 1 (closed, $NHEAD msgs): s" "$D_CLOSED" \
		    "import of it $HEAD_S" "$(ratio "$D_CLOSED" "$HEAD_S")" "<= 0.05"
		row "digest of the open range (render): s" "$D_OPEN" \
		    "import of it $HEAD_S" "$(ratio "$D_OPEN" "$HEAD_S")" "<= 0.05"
		row "send --force (render + close): s" "$D_SEND" \
		    "import of it $HEAD_S" "$(ratio "$D_SEND" "$HEAD_S")" "-"
	else
		row "digest --range 1 (closed, $NHEAD msgs): s" "n/a (digest/send failed)" \
		    "import of it $HEAD_S" "n/a" "<= 0.05"
	fi
else
	row "digest --range 1 (closed): s" "n/a (import failed)" "n/a" "n/a" "<= 0.05"
fi

# --- 3. store size vs notmuch ------------------------------------------------

# notmuch indexes the same DIGEST_N messages as the range above (the whole
# archive would take minutes): bytes per message compare like for like.
NM_BPM=
NM_RATE=
HEAD_BPM=${HEAD_BPM:-}
if [ "$HAVE_NOTMUCH" = 1 ]; then
	say "notmuch new on $NHEAD messages"
	NMD=$T/nm
	mkdir -p "$NMD/new" "$NMD/cur" "$NMD/tmp"
	ls "$MD/new" | head -n "$NHEAD" | while read -r f; do
		ln "$MD/new/$f" "$NMD/new/$f"
	done
	export NOTMUCH_CONFIG="$T/notmuch-config"
	cat >"$NOTMUCH_CONFIG" <<EOF
[database]
path=$NMD
[user]
name=Bench
primary_email=bench@localhost
[new]
tags=new
[maildir]
synchronize_flags=false
EOF
	if NM_S=$(walltime notmuch new); then
		NM_RATE=$(calc "$NHEAD / $NM_S" "%.0f")
		NM_BYTES=$(du -sb "$NMD/.notmuch" | cut -f1)
		NM_BPM=$(calc "$NM_BYTES / $NHEAD" "%.0f")
	else
		NM_ERR="notmuch new failed"
	fi
else
	NM_ERR="notmuch not installed"
fi
row "store bytes/msg, first $NHEAD msgs (LMDB pages used)" "${HEAD_BPM:-n/a}" \
    "notmuch ${NM_BPM:-n/a (${NM_ERR:-?})}" "$(ratio "${HEAD_BPM:-x}" "${NM_BPM:-x}")" \
    "<= 0.25"
if [ -n "$STORE_BPM" ]; then
	row "store bytes/msg, whole archive (file $(calc "$STORE_FILE / 1048576" %.0f) MB)" \
	    "$STORE_BPM" "-" "-" "-"
fi
if [ -n "$NM_RATE" ] && [ -n "${HEAD_S:-}" ]; then
	HEAD_RATE=$(calc "$NHEAD / $HEAD_S" "%.0f")
	row "import msgs/s vs notmuch new ($NHEAD msgs)" "$HEAD_RATE" \
	    "notmuch new $NM_RATE" "$(ratio "$HEAD_RATE" "$NM_RATE")" "(peer)"
fi

# --- 4. MAINTAINERS load and classification ----------------------------------

say "MAINTAINERS load and classification"
if [ -x "$BIN/bench-maint" ] &&
    "$BIN/bench-maint" "$MAINT" "$MAINT_FILES" "$MBOX" >"$T/maint" 2>"$T/maint.err"; then
	mval() { awk -v k="$1" '$1 == k { print $2 }' "$T/maint"; }
	row "MAINTAINERS load ($(mval sections) sections): ms" "$(mval load_ms)" "-" "-" "< 50"
	row "MAINTAINERS + file list load: ms" "$(mval load_files_ms)" "-" "-" "< 50"
	row "classifier_new (MAINTAINERS + list): ms" "$(mval classifier_new_ms)" "-" "-" "< 50"
	row "file matches/s ($(mval paths) paths of $(mval patches) patches)" \
	    "$(mval match_per_s)" "-" "-" ">= 100000"
	row "pd_classify of every patch: msgs/s" "$(mval classify_per_s)" "-" "-" "-"
else
	row "MAINTAINERS load: ms" "n/a ($(lasterr "$T/maint.err"))" "-" "-" "< 50"
fi

# --- 5. once per message: LDA and peers ------------------------------------

# Messages in the store: proof that the runs really stored them.
stored() {
	"$PD" -c "$T/bench.conf" stats 2>/dev/null |
	    awk '/^messages/ { sub(/,$/, "", $2); print $2; n = 1 } END { if (!n) print "none" }'
}

# per_msg NAME N CMD...: runs CMD once per message file (stdin), N files;
# prints ms per message.  Fails if any run failed, unless NAME ends in "?"
# (a peer that refuses some mail by policy): then "ms (K refused)".
per_msg() {
	name=$1; n=$2; shift 2
	ls "$MD/new" | head -n "$n" >"$T/files"
	fails=0
	t0=$(now)
	while read -r f; do
		"$@" <"$MD/new/$f" >/dev/null 2>>"$T/per_msg.err" ||
		    fails=$((fails + 1))
	done <"$T/files"
	t1=$(now)
	ms=$(calc "($t1 - $t0) * 1000 / $n" "%.2f")
	case $name in
	*\?) [ "$fails" = "$n" ] && { echo "all $n failed"; return 1; }
	    [ "$fails" = 0 ] && echo "$ms" || echo "$ms ($fails refused)" ;;
	*) [ "$fails" = 0 ] || { echo "$fails failed"; return 1; }
	    echo "$ms" ;;
	esac
}

say "once per message: $LDA_N messages"
: >"$T/per_msg.err"
FSYNC_MS=$("$BIN/fsync-floor" "$T" 200) || FSYNC_MS="n/a"
FSYNC_GAP_MS=$("$BIN/fsync-floor" "$T" 100 5) || FSYNC_GAP_MS="n/a"
TRUE_MS=$(per_msg true "$LDA_N" /bin/true)
BARE1_MS=$(per_msg bare "$LDA_N" "$BIN/bare-parse" -1)
rm -rf "$T/store"
mkdir "$T/store"	# the LDA creates a store only in an existing directory
if LDA_MS=$(per_msg lda "$LDA_N" "$LDA" -c "$T/bench.conf"); then
	row "patchdigest-lda per message, durable: ms" \
	    "$LDA_MS ($(stored) stored)" "bare GMime $BARE1_MS" \
	    "$(ratio "$LDA_MS" "$BARE1_MS")" "<= 1.5"
else
	row "patchdigest-lda per message: ms" "n/a ($LDA_MS: $(lasterr "$T/per_msg.err"))" \
	    "bare GMime $BARE1_MS" "n/a" "<= 1.5"
	LDA_MS=
fi
rm -rf "$T/store-shared"
mkdir "$T/store-shared"
sed "s|^Database .*|Database $T/store-shared|" "$T/bench.conf" >"$T/shared.conf"
if [ -n "$LDA_MS" ] &&
    SHARED_MS=$(per_msg lda-shared "$NM_N" "$BIN/lda-shared" -c "$T/shared.conf"); then
	row "  the LDA linked shared (LDA_LINK=shared; $NM_N msgs): ms" "$LDA_MS" \
	    "linked shared $SHARED_MS" "$(ratio "$LDA_MS" "$SHARED_MS")" "-"
fi
row "  fork+exec floor (/bin/true): ms" "$TRUE_MS" "-" "-" "-"
row "  one fdatasync on this disk, back to back / after 5 ms idle (an LMDB commit does 2): ms" \
    "$FSYNC_MS / $FSYNC_GAP_MS" "-" "-" "-"
GIT_DIR_MI=$T/mailinfo
mkdir -p "$GIT_DIR_MI"
if GIT_MS=$(per_msg git "$LDA_N" git mailinfo "$GIT_DIR_MI/msg" "$GIT_DIR_MI/patch"); then
	row "  git mailinfo per message: ms" "${LDA_MS:-n/a}" "git mailinfo $GIT_MS" \
	    "$(ratio "${LDA_MS:-x}" "$GIT_MS")" "(peer)"
fi
if command -v procmail >/dev/null 2>&1; then
	mkdir -p "$T/pm/Maildir/new" "$T/pm/Maildir/cur" "$T/pm/Maildir/tmp"
	cat >"$T/procmailrc" <<EOF
MAILDIR=$T/pm
LOGFILE=$T/pm/log
:0
$T/pm/Maildir/
EOF
	if PM_MS=$(per_msg procmail "$LDA_N" procmail -m "$T/procmailrc"); then
		row "  procmail -m to Maildir per message: ms" "${LDA_MS:-n/a}" \
		    "procmail $PM_MS" "$(ratio "${LDA_MS:-x}" "$PM_MS")" "(peer)"
	fi
else
	row "  procmail per message: ms" "${LDA_MS:-n/a}" "n/a (procmail missing)" "n/a" "(peer)"
fi
if [ "$HAVE_NOTMUCH" = 1 ]; then
	NMI=$T/nm-insert
	mkdir -p "$NMI/new" "$NMI/cur" "$NMI/tmp"
	sed "s|^path=.*|path=$NMI|" "$T/notmuch-config" >"$T/nmi-config"
	if NOTMUCH_CONFIG=$T/nmi-config notmuch new >/dev/null 2>&1 &&
	    NMI_MS=$(export NOTMUCH_CONFIG="$T/nmi-config"
	        per_msg notmuch "$NM_N" notmuch insert); then
		row "  notmuch insert per message ($NM_N msgs): ms" "${LDA_MS:-n/a}" "notmuch $NMI_MS" \
		    "$(ratio "${LDA_MS:-x}" "$NMI_MS")" "<= 0.33"
	else
		row "  notmuch insert per message: ms" "${LDA_MS:-n/a}" \
		    "n/a (notmuch insert failed: $(lasterr "$T/per_msg.err"))" "n/a" "<= 0.33"
	fi
else
	row "  notmuch insert per message: ms" "${LDA_MS:-n/a}" "n/a (not installed)" "n/a" "<= 0.33"
fi
if [ "$HAVE_PI" = 1 ]; then
	export PI_CONFIG="$T/pi-config"
	if public-inbox-init -V2 -L basic bench "$T/pi" http://localhost/bench \
	    bench-list@localhost >"$T/pi-init.log" 2>&1 &&
	    git config -f "$PI_CONFIG" publicinboxmda.spamcheck none &&
	    PI_MS=$(export ORIGINAL_RECIPIENT=bench-list@localhost
	        per_msg "pi?" "$PI_N" public-inbox-mda --no-precheck); then
		row "  public-inbox-mda per message ($PI_N msgs): ms" "${LDA_MS:-n/a}" \
		    "public-inbox-mda $PI_MS" "$(ratio "${LDA_MS:-x}" "${PI_MS%% *}")" "<= 0.02"
	else
		row "  public-inbox-mda per message: ms" "${LDA_MS:-n/a}" \
		    "n/a (setup or mda failed: $(lasterr "$T/per_msg.err"))" "n/a" "<= 0.02"
	fi
	unset PI_CONFIG
else
	row "  public-inbox-mda per message: ms" "${LDA_MS:-n/a}" "n/a (not installed)" "n/a" "<= 0.02"
fi

# --- 6. Postfix with milters -------------------------------------------------

# start_milter SOCKET CMD...: starts a milter in the background and waits
# for its socket.
start_milter() {
	sock=$1; shift
	(umask 000; exec "$@") >"$T/milter.log" 2>&1 &
	MPID=$!
	PIDS="$PIDS $MPID"
	n=0
	while :; do
		case $sock in
		unix:*) [ -S "${sock#unix:}" ] && return 0 ;;
		inet:*) port=${sock#inet:}; port=${port%@*}
			perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerAddr =>
			    "127.0.0.1", PeerPort => $ARGV[0]) or exit 1' "$port" \
			    2>/dev/null && return 0 ;;
		esac
		kill -0 "$MPID" 2>/dev/null || return 1
		n=$((n + 1))
		[ "$n" -gt 100 ] && return 1
		sleep 0.1
	done
}

stop_milter() {
	kill "$MPID" 2>/dev/null
	wait "$MPID" 2>/dev/null
	PIDS=$(echo "$PIDS" | sed "s/ $MPID\$//; s/ $MPID / /")
}

clear_maildir() {
	find "$PF_MAILDIR/new" "$PF_MAILDIR/cur" -type f -delete
}

# Busy CPU time of the whole machine (user, nice, system, irq, softirq of
# all CPUs) and of one process (all its threads), in clock ticks.
machine_ticks() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat
}
proc_ticks() {
	if [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ]; then
		awk '{ print $14 + $15 }' "/proc/$1/stat"
	else
		echo 0
	fi
}

# throughput [MILTER_PID]: delivered msgs/s of PF_N messages in PF_S
# sessions.  Leaves in $T/cpu the CPU ms per delivered message of the whole
# machine and of the milter process (0 without one).
throughput() {
	clear_maildir
	m0=$(machine_ticks); p0=$(proc_ticks "${1:-}")
	t0=$(now)
	smtp-source -s "$PF_S" -m "$PF_N" -l 5000 -t "$PF_USER@localhost" \
	    "127.0.0.1:$PF_PORT" >"$T/smtp-source.log" 2>&1 || return 1
	pf_wait_maildir "$PF_N" 600 2>>"$T/pf.err" || return 1
	t1=$(now)
	m1=$(machine_ticks); p1=$(proc_ticks "${1:-}")
	echo "$(calc "($m1 - $m0) * 1000 / $TICKS / $PF_N" %.3f)" \
	    "$(calc "($p1 - $p0) * 1000 / $TICKS / $PF_N" %.3f)" >"$T/cpu"
	calc "$PF_N / ($t1 - $t0)" "%.0f"
}

# lat_p50 PORT RCPT N: p50 ms per message of the first N real archive
# messages, one session.
lat_p50() {
	ls "$MD/new" | head -n "$3" | sed "s|^|$MD/new/|" >"$T/lat.files"
	# shellcheck disable=SC2046
	python3 tests/bench/smtp-latency.py 127.0.0.1 "$1" "$2" \
	    $(cat "$T/lat.files") 2>>"$T/lat.err" | cut -d' ' -f1
}

latency() {
	clear_maildir
	lat_p50 "$PF_PORT" "$PF_USER@localhost" "$LAT_N"
}

# pf_case NAME [MILTER_PID]: throughput, latency and CPU of the current
# configuration, one line "rate p50 machine_cpu milter_cpu" per round
# appended to $T/pf.NAME.
pf_case() {
	# Latency first, on a disk done with the last case's writes: it
	# measures syncs, which queue behind the page cache's writeback.
	sync
	l=$(latency) || l="n/a"
	[ -n "$l" ] || l="n/a"
	r=$(throughput "${2:-}") || r="n/a"
	cpu=$(cat "$T/cpu" 2>/dev/null) || cpu="n/a n/a"
	[ "$r" = n/a ] && cpu="n/a n/a"
	echo "$r $l $cpu" >>"$T/pf.$1"
	say "postfix $1: $r msgs/s, p50 $l ms, CPU ms/msg (machine, milter) $cpu"
}

# pf_get NAME FIELD (1 rate, 2 p50, 3 machine CPU, 4 milter CPU): the
# median over the rounds, n/a if any round failed.
pf_get() {
	if [ ! -f "$T/pf.$1" ] || cut -d' ' -f"$2" "$T/pf.$1" | grep -q n/a; then
		echo "n/a"
	else
		cut -d' ' -f"$2" "$T/pf.$1" | median
	fi
}

# pf_pair A B FIELD OP: the median over the rounds of A's FIELD OP B's
# FIELD taken in the same round (OP "/" for a ratio, "-" for a difference).
pf_pair() {
	if [ ! -f "$T/pf.$1" ] || [ ! -f "$T/pf.$2" ] ||
	    cut -d' ' -f"$3" "$T/pf.$1" "$T/pf.$2" | grep -q n/a; then
		echo "n/a"
		return
	fi
	cut -d' ' -f"$3" "$T/pf.$1" | paste -d' ' - "$T/pf.$2" |
	    awk -v f="$3" -v op="$4" '{ b = $(f + 1); if (op == "/") printf "%.3f\n", (b == 0 ? 0 : $1 / b); else printf "%.3f\n", $1 - b }' |
	    median | awk '{ printf "%.2f", $1 }'
}

# milter_case NAME SOCKET CMD...: starts the milter CMD on the unix SOCKET,
# points Postfix at it, runs pf_case NAME and stops the milter again.
milter_case() {
	mc_name=$1; mc_sock=unix:$2; shift 2
	mc_rc=1
	if start_milter "$mc_sock" "$@" -p "$mc_sock" &&
	    pf_milter "$mc_sock" 2>>"$T/pf.err"; then
		pf_case "$mc_name" "$MPID"
		mc_rc=0
	fi
	stop_milter
	return $mc_rc
}

PF_REASON=
PDM_STORED=none
if [ "${BENCH_POSTFIX:-1}" != 1 ]; then
	PF_REASON="skipped (BENCH_POSTFIX=0)"
elif [ "$(id -u)" != 0 ]; then
	PF_REASON="needs root"
elif ! command -v smtp-source >/dev/null 2>&1; then
	PF_REASON="smtp-source missing (package postfix)"
elif ! command -v python3 >/dev/null 2>&1; then
	PF_REASON="python3 missing"
fi
if [ -z "$PF_REASON" ]; then
	say "Postfix: $PF_N messages in $PF_S sessions, latency over $LAT_N"
	. "$PD_SRC/tests/lib/postfix.sh"
	if pf_setup 2>"$T/pf.err"; then
		# Rounds interleave the four cases, so that a slow patch of the
		# machine does not land on one case only.
		round=0
		while [ "$round" -lt "$PF_ROUNDS" ]; do
			round=$((round + 1))
			say "Postfix round $round of $PF_ROUNDS"
			pf_nomilter 2>>"$T/pf.err" && pf_case nomilter
			[ -x "$BIN/noop-milter" ] &&
			    milter_case noop-unix "$T/noop.sock" "$BIN/noop-milter"
			[ -x "$BIN/noop-milter" ] &&
			    milter_case noop-recv "$T/noopr.sock" "$BIN/noop-milter" -r
			rm -rf "$T/store"
			if [ -x "$MILTER" ] &&
			    milter_case pd-unix "$T/pd.sock" "$MILTER" -f -c "$T/bench.conf"; then
				PDM_STORED=$(stored)
			else
				PD_MILTER_ERR=$(lasterr "$T/milter.log")
			fi
		done
		# inet: latency only (throughput adds nothing the stall does not say).
		# libmilter writes inet:PORT@HOST, Postfix inet:HOST:PORT.
		for c in "noop-inet:$BIN/noop-milter" "noop-inet-nodelay:$BIN/noop-milter -N" \
		    "pd-inet:$MILTER -f -c $T/bench.conf"; do
			name=${c%%:*}
			# shellcheck disable=SC2086
			if start_milter "inet:10025@127.0.0.1" ${c#*:} -p "inet:10025@127.0.0.1" &&
			    pf_milter "inet:127.0.0.1:10025" 2>>"$T/pf.err"; then
				sync
				l=$(latency) || l="n/a"
				echo "n/a ${l:-n/a} n/a n/a" >"$T/pf.$name"
				say "postfix $name: p50 $l ms"
			fi
			stop_milter
		done
		pf_nomilter 2>>"$T/pf.err"
		pf_teardown
		PF_TMP=
	else
		PF_REASON="pf_setup failed: $(lasterr "$T/pf.err")"
	fi
fi
if [ -z "$PF_REASON" ]; then
	NO_R=$(pf_get nomilter 1); NO_L=$(pf_get nomilter 2)
	NOOP_R=$(pf_get noop-unix 1); NOOPR_R=$(pf_get noop-recv 1)
	PDM_R=$(pf_get pd-unix 1); PDM_L=$(pf_get pd-unix 2)
	NO_C=$(pf_get nomilter 3); NOOP_C=$(pf_get noop-unix 3)
	NOOPR_C=$(pf_get noop-recv 3); PDM_C=$(pf_get pd-unix 3)
	NOOPR_P=$(pf_get noop-recv 4); PDM_P=$(pf_get pd-unix 4)
	NOOP_ADD=$(pf_pair noop-unix nomilter 2 -)
	NOOPR_ADD=$(pf_pair noop-recv nomilter 2 -)
	PDM_ADD=$(pf_pair pd-unix nomilter 2 -)
	added() {	# p50 minus the no-milter p50 (medians)
		case "$1$NO_L" in
		*n/a*) echo "n/a" ;;
		*) calc "$1 - $NO_L" "%.2f" ;;
		esac
	}
	row "Postfix + patchdigest-milter (unix): delivered msgs/s" \
	    "$PDM_R (${PD_MILTER_ERR:-$PDM_STORED stored})" "no milter $NO_R" \
	    "$(pf_pair pd-unix nomilter 1 /)" ">= 0.75"
	row "  no-op milter (unix), sent no message: delivered msgs/s" "$NOOP_R" \
	    "no milter $NO_R" "$(pf_pair noop-unix nomilter 1 /)" "(baseline)"
	row "  no-op milter (unix) that receives the message: msgs/s" "$NOOPR_R" \
	    "no milter $NO_R" "$(pf_pair noop-recv nomilter 1 /)" "(baseline)"
	row "  patchdigest-milter vs the receiving no-op: msgs/s" "$PDM_R" \
	    "receiving no-op $NOOPR_R" "$(pf_pair pd-unix noop-recv 1 /)" "-"
	row "  CPU per delivered message, whole machine: ms" "$PDM_C" \
	    "no milter $NO_C, no-op $NOOP_C, receiving no-op $NOOPR_C" \
	    "$(pf_pair pd-unix nomilter 3 /)" "-"
	row "  CPU per message in the milter process: ms" "$PDM_P" \
	    "receiving no-op $NOOPR_P" "$(pf_pair pd-unix noop-recv 4 /)" "-"
	row "added latency p50, patchdigest-milter (unix): ms" "$PDM_ADD" \
	    "no-op $NOOP_ADD, receiving no-op $NOOPR_ADD" \
	    "$(ratio "$PDM_ADD" "$NOOPR_ADD")" "<= 2 ms"
	row "  p50 per message, one session (unix): ms" "$PDM_L" "no milter $NO_L" \
	    "$(ratio "$PDM_L" "$NO_L")" "-"
	for name in noop-inet noop-inet-nodelay pd-inet; do
		l=$(pf_get $name 2)
		row "added latency p50, $name: ms" "$(added "$l")" \
		    "no-op unix $NOOP_ADD" "$(ratio "$(added "$l")" "$NOOP_ADD")" \
		    "(unix is the default)"
	done
else
	row "Postfix + patchdigest-milter: delivered msgs/s" "n/a ($PF_REASON)" "n/a" "n/a" ">= 0.75"
fi

# --- Sendmail: latency only -------------------------------------------------
# A real Sendmail (tests/lib/sendmail.sh: unpacked by install-deps.sh test,
# on 127.0.0.1, queue only) with patchdigest-milter on a unix socket, then
# on an inet one, each p50 against the same Sendmail without the milter
# running (no F= flag: it goes on without it).

SM_REASON=
if [ "${BENCH_SENDMAIL:-1}" != 1 ]; then
	SM_REASON="skipped (BENCH_SENDMAIL=0)"
elif [ "$(id -u)" != 0 ]; then
	SM_REASON="needs root"
else
	. "$PD_SRC/tests/lib/sendmail.sh"
	[ -x "$SM_BIN" ] || SM_REASON="no Sendmail (contrib/install-deps.sh test)"
fi
# sm_case NAME SOCKET N: p50 with the milter on SOCKET, then without it;
# n/a and why unless the milter stored the N messages (without an F= flag
# Sendmail would go on without a milter it cannot reach).
sm_case() {
	sm_l=n/a sm_nl=n/a
	: >"$T/lat.err"
	rm -rf "$T/store"
	if start_milter "$2" "$MILTER" -f -c "$T/bench.conf" -p "$2" &&
	    sm_setup "$T/sm-$1" "$2" 2>>"$T/lat.err"; then
		sync
		sm_l=$(lat_p50 "$SM_PORT" root@localhost "$3")
		sm_st=$(stored)
		[ "$sm_st" = "$3" ] ||
		    echo "the milter stored $sm_st of $3 messages" >>"$T/lat.err"
		stop_milter
		sm_nl=$(lat_p50 "$SM_PORT" root@localhost "$3")
	else
		stop_milter
	fi
	sm_teardown
	[ -s "$T/lat.err" ] && sm_l=n/a
	say "sendmail $1: p50 ${sm_l:-n/a} ms, without the milter ${sm_nl:-n/a} ms"
	echo "${sm_l:-n/a} ${sm_nl:-n/a}" >"$T/sm.$1"
	lasterr "$T/lat.err" >"$T/sm.$1.why"
}
if [ -z "$SM_REASON" ]; then
	say "Sendmail: latency over $LAT_N (inet: $SM_INET_N)"
	# not below /tmp: Sendmail refuses it
	if SM_SOCKDIR=$(mktemp -d /run/pd-bench.XXXXXX); then
		sm_case unix "unix:$SM_SOCKDIR/pd.sock" "$LAT_N"
		sm_case inet "inet:10026@127.0.0.1" "$SM_INET_N"
	else
		SM_SOCKDIR=
		for name in unix inet; do
			echo "n/a n/a" >"$T/sm.$name"
			echo "no socket directory in /run" >"$T/sm.$name.why"
		done
	fi
	sm_added() {	# NAME: p50 with the milter minus without it, or why not
		read -r a b <"$T/sm.$1"
		case "$a$b" in
		*n/a*) echo "n/a ($(cat "$T/sm.$1.why"))" ;;
		*) calc "$a - $b" "%.2f" ;;
		esac
	}
	SM_UNIX=$(sm_added unix)
	row "Sendmail + patchdigest-milter (unix): added latency p50, ms" "$SM_UNIX" \
	    "no milter $(cut -d' ' -f2 "$T/sm.unix")" \
	    "$(ratio "$(cut -d' ' -f1 "$T/sm.unix")" "$(cut -d' ' -f2 "$T/sm.unix")")" "-"
	row "  the same on an inet socket: ms" "$(sm_added inet)" "unix $SM_UNIX" \
	    "$(ratio "$(sm_added inet)" "$SM_UNIX")" "(unix is the default)"
else
	row "Sendmail + patchdigest-milter: added latency p50, ms" "n/a ($SM_REASON)" "n/a" "n/a" "-"
fi

# --- The table ---------------------------------------------------------------

echo
echo "patchdigest bench: $NMSG messages ($(calc "$MBOX_BYTES / 1e6" %.0f) MB), $(nproc) CPUs, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "ratio = ours / baseline; medians of $RUNS runs for the whole-archive figures; Postfix: medians of $PF_ROUNDS interleaved rounds, ratios and added latencies taken within each round"
echo
echo "| figure | ours | baseline (same run) | ratio | goal |"
echo "|---|---|---|---|---|"
awk -F '\t' '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5 }' "$TABLE"
exit 0
