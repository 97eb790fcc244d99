#!/bin/sh
# A corrupt store must not cost a message.  For several seeds, seeded
# random bytes over data.mdb past its two meta pages (all of it, or a few
# pages): every message of a small set passes through patchdigest-lda
# unchanged in filter mode and is delivered once, unchanged, into a Maildir
# with -d; exit 0 each time, and a line logged for each message passed on
# untagged.  On such a map LMDB faults (SIGBUS, SIGSEGV), fails its
# assertions (abort) or overruns the heap (ASan reports it in the
# sanitizer build); the LDA's guard re-runs it on the message as read.
set -eu
. "$PD_SRC/tests/lib/lda.sh"

nmsg=10
# PD_FULL=1: many more seeds
if [ "${PD_FULL:-0}" = 1 ]; then seeds=$(seq 1 60); else seeds=$(seq 1 8); fi
set_files | head -n $nmsg >"$T/list"

# corrupt DB SEED: even seeds overwrite all of data.mdb past page 1, odd
# seeds 1 to 8 pages from a seeded page on
corrupt() {
	python3 - "$1/data.mdb" "$2" <<'EOF'
import os, random, sys
path, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
size = os.path.getsize(path)
if seed % 2 == 0:
    first, n = 8192, size - 8192
else:
    pages = r.randint(1, 8)
    first = 4096 * r.randint(2, max(2, size // 4096 - pages))
    n = min(pages * 4096, size - first)
with open(path, "r+b") as f:
    f.seek(first)
    f.write(r.randbytes(n))
print("seed %d: %d bytes at %d of %d" % (seed, n, first, size))
EOF
}

untagged=0 deaths=0
for seed in $seeds; do
	db=$T/db-$seed
	# shellcheck disable=SC2046
	"$PD" -D "$db" import $(cat "$T/list") >/dev/null || fail "seed $seed: import"
	corrupt "$db" "$seed"
	conf "$T/pd.conf" "$db"
	while read -r f; do
		st=0
		san_aside "$T/san" "$LDA" -f -c "$T/pd.conf" <"$f" >"$T/out" \
		    2>"$T/err" || st=$?
		[ "$st" = 0 ] || fail "seed $seed: filter exit $st for $f: $(cat "$T/err")"
		same_untagged "$T/out" "$f" || fail "seed $seed: $f changed"
		if cmp -s "$T/out" "$f"; then
			untagged=$((untagged + 1))
			[ -s "$T/err" ] || fail "seed $seed: $f untagged, nothing logged"
		fi
		! grep -q 'store step' "$T/err" || deaths=$((deaths + 1))
		st=0
		san_aside "$T/san" "$LDA" -f -c "$T/pd.conf" -C -d "$T/md-$seed" \
		    <"$f" 2>"$T/err" || st=$?
		[ "$st" = 0 ] || fail "seed $seed: -d exit $st for $f: $(cat "$T/err")"
	done <"$T/list"
	# every source delivered once, unchanged once untagged
	python3 - "$T/md-$seed/new" "$T/list" <<'EOF' || fail "seed $seed: Maildir"
import os, re, sys
from collections import Counter
new, listing = sys.argv[1], sys.argv[2]
def untag(raw):
    head, sep, body = raw.partition(b"\n\n")
    head = re.sub(rb"(?im)^x-patch-[^\n]*\n(?:[ \t][^\n]*\n)*", b"", head + b"\n")
    return head[:-1] + sep + body
got = Counter(untag(open(os.path.join(new, n), "rb").read()) for n in os.listdir(new))
want = Counter(open(p.strip(), "rb").read() for p in open(listing))
if got != want:
    print("%d delivered, %d sent, %d differ" % (sum(got.values()),
          sum(want.values()), sum((got - want).values())))
    sys.exit(1)
EOF
done
echo "$untagged of $(( nmsg * $(echo "$seeds" | wc -w) )) passed on untagged; $deaths store steps died"
[ "$untagged" -gt 0 ] || fail "no corruption was ever noticed"
[ "$deaths" -gt 0 ] || fail "no store step ever crashed: the guard was not exercised"
if [ -d "$T/san" ]; then
	echo "$(find "$T/san" -type f | wc -l) sanitizer reports of LMDB's faults set aside"
	san_lmdb_only "$T/san" || fail "a sanitizer report outside LMDB"
fi
echo ok
