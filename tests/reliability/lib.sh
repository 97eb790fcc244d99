# Shared by the reliability tests (tests/integration/8x-*.sh).  Sourced
# after tests/lib/lda.sh (T, LDA, PD, fail, conf, counters, set_files) and
# tests/lib/milter.sh (md_start, md_stop, md_kill).

MILTER=$PD_BUILD/patchdigest-milter
FULL=${PD_FULL:-0}

# iterations SHORT LONG: the loop count for this run (PD_FULL=1: LONG).
iterations() {
	if [ "$FULL" = 1 ]; then echo "$2"; else echo "$1"; fi
}

# rand N: a pseudo-random number in [0, N).
rand() {
	echo $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1 ))
}

# msleep MS: sleep MS milliseconds.
msleep() {
	sleep "$(awk -v m="$1" 'BEGIN { printf "%.3f\n", m / 1000 }')"
}

# feed_milter SOCK LISTFILE QID [TOLERATE [TIMEOUT]]: messages through
# miltertest; prints miltertest's output, returns its status.
feed_milter() {
	miltertest -s "$PD_SRC/tests/reliability/feed.lua" \
	    -D LIB="$PD_SRC/tests/milter/lib.lua" -D SOCK="$1" -D FILES="$2" \
	    -D QID="$3" -D TOLERATE="${4:-0}" -D TIMEOUT="${5:-10}" 2>&1
}

# The counters of a store without the range's last id, which depends on
# the arrival order (parallel deliveries).  With SERIES_ORDER=counts the
# series are compared by their sizes, not their ids: parts sent without
# threading are named by whichever arrives first (see tests/RELIABILITY.md);
# SERIES_ORDER=0 leaves them out.
counters_unordered() {
	counters "$1" | SERIES=${SERIES_ORDER:-1} python3 -c '
import json, os, sys
d = json.load(sys.stdin)
skip = {"to", "from"}
if os.environ["SERIES"] == "0":
    skip.add("series")
def drop(v):
    if isinstance(v, dict):
        return {k: sorted(x.values()) if k == "series" and os.environ["SERIES"] == "counts"
                else drop(x) for k, x in v.items() if k not in skip}
    if isinstance(v, list):
        return [drop(x) for x in v]
    return v
print(json.dumps(drop(d), sort_keys=True, indent=1))
'
}
