#!/bin/sh
# Build the libFuzzer harnesses with clang (the library compiled into
# build-fuzz/, apart from the gcc builds) and run each for FUZZ_SECONDS.
#
# usage: tests/fuzz/run.sh [harness ...]     (default: every fuzz_*.c)
# env:   FUZZ_SECONDS  seconds per harness (60)
#        FUZZ_BUILD    build directory (build-fuzz)
#        PD_SHARED     the shared data (../shared beside the source tree)
#
# Seeds are built into a temporary directory from $PD_SHARED/corpus and the
# MAINTAINERS file; nothing from the shared data is copied into the tree.
# A crash leaves its input in $FUZZ_BUILD/findings/<harness>/; once the bug
# is fixed, copy it to tests/fuzz-regressions/<harness>/ so that
# `make check` replays it (tests/unit/test_fuzz_regressions.c).
set -eu
cd "$(dirname "$0")/../.."
SRC=$(pwd)
SHARED=${PD_SHARED:-$(cd "$SRC/../shared" 2>/dev/null && pwd || true)}
OUT=${FUZZ_BUILD:-build-fuzz}
SECS=${FUZZ_SECONDS:-60}
CC=${FUZZ_CC:-clang}
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"

if [ -z "$SHARED" ] || [ ! -d "$SHARED/corpus" ]; then
	echo "fuzz: ../shared/corpus not found (set PD_SHARED)" >&2
	exit 1
fi
if [ $# -gt 0 ]; then
	harnesses=$*
else
	harnesses=$(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi

# The library, instrumented for coverage and the sanitizers.
make --no-print-directory -s BUILD="$OUT" CC="$CC" CFLAGS="-O1 -g" \
    EXTRA_CFLAGS="$SAN -fsanitize=fuzzer-no-link" "$OUT/libpatchdigest.a"
PKG_CFLAGS=$(pkg-config --cflags gmime-3.0 lmdb)
PKG_LIBS="$(pkg-config --libs gmime-3.0 lmdb) -lpthread"
for h in $harnesses; do
	bin="$OUT/fuzz/fuzz_$h"
	if [ ! -x "$bin" ] || [ -n "$(find "tests/fuzz/fuzz_$h.c" tests/fuzz/fuzz.h \
	    "$OUT/libpatchdigest.a" -newer "$bin" 2>/dev/null)" ]; then
		mkdir -p "$OUT/fuzz"
		echo "CC $bin"
		# shellcheck disable=SC2086
		$CC -std=gnu11 -D_GNU_SOURCE -Iinclude -O1 -g $SAN -fsanitize=fuzzer \
		    $PKG_CFLAGS -o "$bin" "tests/fuzz/fuzz_$h.c" "$OUT/libpatchdigest.a" $PKG_LIBS
	fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pd-fuzz.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# Seeds, per harness.
seed_msg() {
	find "$SHARED/corpus" -name '*.eml' | while read -r f; do
		cp "$f" "$1/$(echo "$f" | sed "s|^$SHARED/corpus/||; s|/|_|g")"
	done
}
seed_mbox() {
	find "$SHARED/corpus" -path '*/originals/*' -type f | while read -r f; do
		cp "$f" "$1/$(echo "$f" | sed "s|^$SHARED/corpus/||; s|/|_|g")"
	done
	# The start of the real archive (mboxrd), in 64 KiB pieces.
	if [ -f "$SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" ]; then
		xz -dc "$SHARED/corpus/archives/kvmarm-2019-2023.mbox.xz" 2>/dev/null |
		    head -c 2097152 | (cd "$1" && split -b 65536 - archive.)
	fi
}
seed_store() {
	seed_mbox "$1"
}
seed_subject() {
	find "$SHARED/corpus" -name '*.eml' -exec grep -a -h -m1 -i '^Subject:' {} + |
	    sed 's/^[Ss][Uu][Bb][Jj][Ee][Cc][Tt]: *//' | sort -u | awk -v d="$1" '
	    { f = sprintf("%s/s%05d", d, NR); printf "%s", $0 > f; close(f) }'
}
seed_maintainers() {
	m="$SHARED/data/linux-6.12/MAINTAINERS"
	[ -f "$m" ] || return 0
	# Pieces of about 8 KiB cut at section boundaries.
	awk -v d="$1" '
	    BEGIN { n = 0; size = 0; f = sprintf("%s/m%04d", d, n) }
	    /^$/ && size > 8192 { close(f); n++; size = 0; f = sprintf("%s/m%04d", d, n) }
	    { print > f; size += length($0) + 1 }' "$m"
}
seed_conf() {
	for f in etc/*.conf tests/data/*.conf; do
		[ -f "$f" ] && cp "$f" "$1/"
	done
	printf 'Database /tmp/x\nListName KVM\nListId <kvm.vger.kernel.org>\nDigestFrom a@b\nDigestTo c@d e@f\nSendmail /usr/sbin/sendmail\nArchiveURL https://lore.kernel.org/kvm/%%s/\nSchedule weekly mon 06:00\nMapSize 1M\nMapSizeMax 4G\nOnError tempfail\nMaxMessageSize 16M\nUMask 007\nSyslog yes\nInternalHosts 127.0.0.1 ::1/128\n' >"$1/full.conf"
	printf 'Schedule daily 23:59\n# comment\n\n  Socket unix:/run/x.sock\nDigestFrom a@b\nDigestTo c@d\n' >"$1/daily.conf"
	printf 'Schedule every 500\r\nUserID postfix\r\nPidFile /run/p.pid\r\nDigestFrom a@b\r\nDigestTo c@d\r\n' >"$1/crlf.conf"
	printf 'Bogus value\n' >"$1/bad.conf"
}

status=0
for h in $harnesses; do
	seeds="$TMP/seeds-$h"
	work="$TMP/work-$h"
	find_dir="$OUT/findings/$h"
	mkdir -p "$seeds" "$work" "$find_dir"
	"seed_$h" "$seeds"
	maxlen=65536
	[ "$h" = subject ] && maxlen=4096
	[ "$h" = conf ] && maxlen=4096
	dict=
	[ -f "tests/fuzz/$h.dict" ] && dict="-dict=tests/fuzz/$h.dict"
	echo "fuzz $h: $(ls "$seeds" | wc -l) seeds, ${SECS}s"
	# Known findings first: a regression fails the run at once.
	if [ -n "$(ls "tests/fuzz-regressions/$h" 2>/dev/null)" ]; then
		"$OUT/fuzz/fuzz_$h" "tests/fuzz-regressions/$h"/* >"$TMP/$h.replay.log" 2>&1 || {
			echo "fuzz $h: a regression input fails again:" >&2
			tail -n 40 "$TMP/$h.replay.log" >&2
			status=1
			continue
		}
	fi
	# shellcheck disable=SC2086
	if LSAN_OPTIONS="suppressions=$SRC/tests/lsan.supp:print_suppressions=0" \
	    "$OUT/fuzz/fuzz_$h" -max_total_time="$SECS" -timeout=20 -rss_limit_mb=2560 \
	    -max_len="$maxlen" -print_final_stats=1 -artifact_prefix="$find_dir/" \
	    $dict "$work" "$seeds" >"$OUT/fuzz/$h.log" 2>&1; then
		grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+.*DONE)' \
		    "$OUT/fuzz/$h.log" | sed "s/^/fuzz $h: /" || true
	else
		status=1
		echo "fuzz $h: FAILED, findings in $find_dir, log $OUT/fuzz/$h.log:" >&2
		grep -E -A 30 '^==[0-9]+==ERROR|invariant failed|runtime error|deadly signal' \
		    "$OUT/fuzz/$h.log" | head -n 50 >&2 || tail -n 40 "$OUT/fuzz/$h.log" >&2
	fi
done
exit $status
