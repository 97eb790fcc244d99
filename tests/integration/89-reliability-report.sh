#!/bin/sh
# tests/RELIABILITY.md against the tests: every test named in its table
# exists.  Under PD_FULL=1 (make check-full, which ran every test before
# this one) each named test must also have passed in this run, and the
# table is written with the results of the run to $PD_BUILD/RELIABILITY.md.
set -eu
doc=$PD_SRC/tests/RELIABILITY.md
logs=$PD_BUILD/test-logs
fail() { echo "FAIL: $*" >&2; exit 1; }
[ -f "$doc" ] || fail "no $doc"

# The Test column (the third) of the table rows.
tests=$(awk -F'|' 'NF >= 5 && $4 !~ /^ *(Test|---) *$/ { gsub(/^ +| +$/, "", $4); print $4 }' "$doc" |
    sort -u)
[ -n "$tests" ] || fail "no tests named in $doc"

# status TEST: exists | missing, and with PD_FULL: pass | fail
status() {
	case $1 in
	tests/fuzz/*)
		[ -f "$PD_SRC/$1" ] || { echo missing; return; }
		echo exists ;;
	test_*:*)
		file=${1%%:*} case=${1#*:}
		grep -q "$case" "$PD_SRC/tests/unit/$file.c" 2>/dev/null || { echo missing; return; }
		if [ "${PD_FULL:-0}" = 1 ]; then
			grep -q "^\[       OK \] $case\$" "$logs/$file.log" 2>/dev/null && echo pass || echo fail
		else
			echo exists
		fi ;;
	*)
		[ -f "$PD_SRC/tests/integration/$1.sh" ] || { echo missing; return; }
		if [ "${PD_FULL:-0}" = 1 ]; then
			# run.sh's verdict: not every test ends its log with "ok"
			[ "$(cat "$logs/$1.status" 2>/dev/null)" = pass ] && echo pass || echo fail
		else
			echo exists
		fi ;;
	esac
}

bad=0
: >"$PD_BUILD/reliability.status"
for t in $tests; do
	s=$(status "$t")
	echo "$t: $s"
	echo "$t $s" >>"$PD_BUILD/reliability.status"
	case $s in missing|fail) bad=1 ;; esac
done

if [ "${PD_FULL:-0}" = 1 ]; then
	# The table with the Result column of this run.
	awk -F'|' -v st="$PD_BUILD/reliability.status" -v when="$(date -u +%Y-%m-%d)" '
	    BEGIN { OFS = "|"; while ((getline l < st) > 0) { split(l, a, " "); r[a[1]] = a[2] } }
	    NF >= 5 && $4 !~ /^ *(Test|---) *$/ {
		t = $4; gsub(/^ +| +$/, "", t)
		if (t in r && r[t] != "exists") $5 = " " r[t] " (" when ") "
	    }
	    { print }' "$doc" >"$PD_BUILD/RELIABILITY.md"
	echo "results written to $PD_BUILD/RELIABILITY.md"
fi
[ $bad = 0 ] || fail "tests named in $doc are missing or failed"
echo ok
