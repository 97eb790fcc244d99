#!/bin/sh
# Run every test: the cmocka unit tests in $BUILD/tests, then the integration
# scripts tests/integration/*.sh.  Prints one line per test and a final
# "N passed, M failed" line; exits 1 if anything failed.
#
# Environment given to every test:
#   PD_BUILD   absolute path of the build directory (programs, test binaries)
#   PD_SRC     absolute path of the source tree
#   PD_SHARED  absolute path of ../shared (the corpus, seeds, replay data)
#   PD_FULL=1  for `make check-full` (long runs)
# Under `make asan` (PD_SANITIZE=1) every sanitizer report goes to a file in
# $PD_BUILD/asan-logs; any such file fails the run.
set -u
cd "$(dirname "$0")/.."
PD_SRC=$(pwd)
PD_BUILD=$(cd "${BUILD:-build}" && pwd)
PD_SHARED=${PD_SHARED:-$(cd "$PD_SRC/../shared" 2>/dev/null && pwd)}
PD_FULL=${PD_FULL:-0}
export PD_SRC PD_BUILD PD_SHARED PD_FULL
if [ -z "$PD_SHARED" ] || [ ! -f "$PD_SHARED/SPEC.md" ]; then
	echo "tests: ../shared not found beside the source tree" >&2
	exit 1
fi
if [ "${PD_SANITIZE:-0}" = 1 ]; then
	rm -rf "$PD_BUILD/asan-logs"
	mkdir -p "$PD_BUILD/asan-logs"
	chmod 1777 "$PD_BUILD/asan-logs"
	ASAN_OPTIONS="log_path=$PD_BUILD/asan-logs/asan:detect_leaks=1:abort_on_error=0:handle_abort=1"
	LSAN_OPTIONS="suppressions=$PD_SRC/tests/lsan.supp:print_suppressions=0"
	UBSAN_OPTIONS="log_path=$PD_BUILD/asan-logs/ubsan:print_stacktrace=1:halt_on_error=1"
	export ASAN_OPTIONS LSAN_OPTIONS UBSAN_OPTIONS PD_SANITIZE
fi

pass=0
fail=0
failed=
logdir="$PD_BUILD/test-logs"
mkdir -p "$logdir"
only=${TESTS:-}

run() {		# name command...
	name=$1; shift
	if [ -n "$only" ] && ! echo "$name" | grep -q -- "$only"; then
		return
	fi
	start=$(date +%s)
	rm -f "$logdir/$name.status"
	if "$@" >"$logdir/$name.log" 2>&1; then
		pass=$((pass + 1))
		echo pass >"$logdir/$name.status"
		echo "PASS $name ($(( $(date +%s) - start ))s)"
	else
		echo fail >"$logdir/$name.status"
		fail=$((fail + 1))
		failed="$failed $name"
		echo "FAIL $name ($(( $(date +%s) - start ))s): last lines of $logdir/$name.log:"
		tail -n 30 "$logdir/$name.log" | sed 's/^/    /'
	fi
}

for t in "$PD_BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "$(basename "$t")" "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	run "$(basename "$t" .sh)" sh "$t"
done

if [ "${PD_SANITIZE:-0}" = 1 ] && [ -n "$(ls -A "$PD_BUILD/asan-logs")" ]; then
	fail=$((fail + 1))
	failed="$failed sanitizer-reports"
	echo "FAIL sanitizer reports:"
	for f in "$PD_BUILD"/asan-logs/*; do
		echo "== $f"; head -n 40 "$f" | sed 's/^/    /'
	done
fi

[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
