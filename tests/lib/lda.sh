# Shared by the patchdigest-lda integration tests (tests/integration/5x-*.sh).
# shellcheck shell=sh disable=SC2034 # the variables are for the sourcing test
# Sourced: sets LDA, PD, CORPUS, SET, T (a temporary directory removed at
# exit) and defines small helpers.

LDA=$PD_BUILD/patchdigest-lda
PD=$PD_BUILD/patchdigest
CORPUS=$PD_SHARED/corpus/lore-kvmarm
SET=$CORPUS/_sets/window_week-2022-11-28.txt

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# The set's files, one path a line.
set_files() {
	sed "s|^|$CORPUS/|" "$SET"
}

# A configuration with its own store.  conf FILE DBDIR [extra lines]
conf() {
	f=$1 db=$2
	shift 2
	{
		echo "Database $db"
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

# A message with the X-Patch-* header lines (and their continuations) of
# its header taken out: what the LDA must have left untouched.
untag() {
	awk '
	BEGIN { hdr = 1 }
	hdr && /^\r?$/ { hdr = 0 }
	hdr && /^[ \t]/ { if (drop) next }
	hdr && /^[^ \t]/ { drop = tolower($0) ~ /^x-patch-/ }
	hdr && drop { next }
	{ print }
	' "$1"
}

# The same without trailing empty lines: procmail ends every delivered
# message with one, adding it when the message had none.
untag_trim() {
	untag "$1" | awk '/^\r?$/ { blank = blank $0 "\n"; next }
	{ printf "%s", blank; blank = ""; print }'
}

# Does a delivered file equal its source once untagged?  same_untagged A B
same_untagged() {
	untag "$1" >"$T/.untag" && cmp -s "$T/.untag" "$2"
}

# The Message-ID of a file (first one, unfolded), without <>.
msgid_of() {
	awk 'BEGIN { IGNORECASE = 1 }
	/^\r?$/ { exit }
	tolower($0) ~ /^message-id:/ { v = $0; sub(/^[^:]*:[ \t]*/, "", v); want = 1; if (v != "") { print v; exit } next }
	want && /^[ \t]/ { sub(/^[ \t]*/, ""); print; exit }
	' "$1" | tr -d '\r<>' | sed 's/[ \t]*$//'
}

# Folder name for a subsystem: what the rcfiles of these tests compute.
folder_of() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9.-' _
}

# The counters of a store, as JSON with the times left out (they differ
# between two stores fed at different moments).
counters() {
	"$PD" -D "$1" stats --json | python3 -c '
import json, sys
def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items()
                if k not in ("opened", "closed", "arrived", "created", "now", "database")}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v
print(json.dumps(strip(json.load(sys.stdin)), sort_keys=True, indent=1))
'
}

# LMDB reading a corrupt map really faults, aborts on its assertions and
# overruns the heap (a 4 GB memcpy): in the sanitizer build ASan says so,
# in the LDA's store child, which dies while the parent passes the mail on.
# Those reports are the point of such a test, not a bug of ours, so
# san_aside DIR CMD... runs CMD with the sanitizer logs going to DIR, and
# san_lmdb_only DIR fails unless every report there is a fault inside
# liblmdb (any report of ours, a leak, UBSan, still fails the test).
san_aside() {
	d=$1
	shift
	if [ "${PD_SANITIZE:-0}" = 1 ]; then
		mkdir -p "$d"
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:log_path=$d/asan" \
		    UBSAN_OPTIONS="${UBSAN_OPTIONS:-}:log_path=$d/ubsan" "$@"
	else
		"$@"
	fi
}

san_lmdb_only() {
	[ -d "$1" ] || return 0
	python3 - "$1" <<'PY'
import os, re, sys
d = sys.argv[1]
# The fault is LMDB's when a liblmdb frame comes before any frame of our
# own code; frames of the C library, the sanitizer or GLib above it (an
# assert's abort(), a memcpy) decide nothing, however the symbolizer
# spells their paths.  In the statically linked LDA an LMDB frame is told
# by its function: LMDB's all start with "mdb_", none of ours does.  Our
# lmdb_assert is LMDB's failed assertion: LMDB calls it, and it aborts.
ours = re.compile(r"/build[^/ ]*/|[ (](lib|lda|milter|cli)/[a-z_]+\.c:")
lmdb = re.compile(r"liblmdb\.so| in mdb_\w+ | in lmdb_assert ")
bad = 0
for f in sorted(os.listdir(d)):
    text = open(os.path.join(d, f), errors="replace").read()
    frames = []
    for line in text.splitlines():
        if re.match(r"\s+#\d+ 0x", line):
            frames.append(line)
        elif frames:
            break
    first = next((fr for fr in frames
                  if lmdb.search(fr) or ours.search(fr)), "")
    if not f.startswith("asan.") or "LeakSanitizer" in text or \
            not lmdb.search(first):
        print("sanitizer report outside LMDB: %s" % f)
        print(text[:3000])
        bad += 1
sys.exit(1 if bad else 0)
PY
}

# check_sorted_set: after a delivery rule sorted the set into $T/mail by
# X-Patch-Subsystem (procmail, maildrop), every message is in the folder of
# its tag, untouched but for the tags on top, and the store $T/db counted
# the same as a batch import of the same files into $T/ref ($T/ref.conf).
check_sorted_set() {
	# shellcheck disable=SC2046
	python3 "$PD_SRC/tests/lib/lda-check.py" subsystem "$T/mail" $(set_files) ||
	    fail "deliveries differ from the set"
	set -- "$T"/mail/sub-*
	[ -d "$1" ] || fail "no message got a subsystem folder"
	# shellcheck disable=SC2046
	"$PD" -c "$T/ref.conf" import $(set_files) >/dev/null || fail "import failed"
	counters "$T/db" >"$T/db.json"
	counters "$T/ref" >"$T/ref.json"
	grep -q '[1-9]' "$T/db.json" || fail "the LDA's store counted nothing"
	diff -u "$T/ref.json" "$T/db.json" || fail "counters differ from import"
}
