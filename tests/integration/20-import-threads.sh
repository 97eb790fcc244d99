#!/bin/sh
# patchdigest import of real kvmarm threads: each posting assembles into
# one complete series, replies are not counted, a series posted inside
# another one's thread stays apart, and a second import counts nothing.
# Output to a closed pipe ends quietly, to a full disk with one error line.
set -eu
PD="$PD_BUILD/patchdigest"
S="$PD_SHARED/corpus/lore-kvmarm"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.conf"

files() { sed "s|^|$S/|" "$S/_sets/$1.txt"; }

# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" -D "$T/a" import $(files thread_v2-00-50-kvm-init-rework) >"$T/out"
cat "$T/out"
grep -qx 'read 77, stored 77, duplicates 0, unparseable 0' "$T/out"
"$PD" -c "$T/empty.conf" -D "$T/a" stats --json >"$T/a.json"
python3 - "$T/a.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["messages"] == 77, d["messages"]
assert d["patch_messages"] == 51, d["patch_messages"]
assert d["series"] == {"20221130230934.1014142-1-seanjc@google.com": 51}, d["series"]
PY

# Parts in reverse order, then the same files again: the same result.
# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" -D "$T/r" import $(files thread_v2-00-50-kvm-init-rework | sort -r) >/dev/null
# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" -D "$T/r" import $(files thread_v2-00-50-kvm-init-rework) >"$T/out"
grep -qx 'read 77, stored 0, duplicates 77, unparseable 0' "$T/out"
"$PD" -c "$T/empty.conf" -D "$T/r" stats --json >"$T/r.json"
python3 - "$T/a.json" "$T/r.json" <<'PY'
import json, sys
a, r = (json.load(open(f)) for f in sys.argv[1:3])
del a["range"], r["range"]	# its "to" is the last message to arrive
assert a == r, (a, r)
PY

# The v5 stage 2 thread and the "Fixes for FWB" series posted inside it.
# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" -D "$T/b" import $(files thread_v5-00-36-stage2-for-host) >/dev/null
"$PD" -c "$T/empty.conf" -D "$T/b" stats --json >"$T/b.json"
# shellcheck disable=SC2046
fwb=$("$PD" -c "$T/empty.conf" parse --json $(files thread_v5-00-36-stage2-for-host) |
	python3 -c '
import json, sys
for l in sys.stdin:
    d = json.loads(l)
    if d["kind"] == "cover" and "Fixes for FWB" in d["subject"]:
        print(d["message_id"])')
test -n "$fwb"
python3 - "$T/b.json" "$fwb" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
fwb = sys.argv[2]
s = d["series"]
assert s.get("20210315143536.214621-1-qperret@google.com") == 37, s
assert s.get(fwb) == 3, s
assert len(s) == 2, s
PY
"$PD" -c "$T/empty.conf" -D "$T/b" show "$fwb" >"$T/show"
grep -q '^X-Patch-Kind: cover' "$T/show"
grep -q "^X-Patch-Series: <$fwb> v1 0/2" "$T/show"
"$PD" -c "$T/empty.conf" -D "$T/b" ranges | grep -q 'from 000000000 to'

# A reader gone ends a command quietly, as it does cat, whether SIGPIPE
# came ignored or not (GMime's gpgme ignored it: "stdout: Broken pipe").
# shellcheck disable=SC2046
python3 - "$PD" "$T/empty.conf" "$T/a" $(files thread_v2-00-50-kvm-init-rework) <<'PY'
import os, signal, subprocess, sys
pd, conf, db, files = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
for disp in (signal.SIG_DFL, signal.SIG_IGN):
    signal.signal(signal.SIGPIPE, disp)
    for args in (["digest"], ["parse"] + files, ["-V"]):
        r, w = os.pipe()
        os.close(r)
        p = subprocess.run([pd, "-c", conf, "-D", db] + args, stdout=w,
                           stderr=subprocess.PIPE, restore_signals=False)
        os.close(w)
        assert p.returncode != 0 and p.stderr == b"", (disp, args[0], p)
PY
# A full disk: one line that says so (digest and parse said it twice, -V
# not at all), exit 1.
full() {	# args...
	st=0
	"$PD" -c "$T/empty.conf" -D "$T/a" "$@" >/dev/full 2>"$T/err" || st=$?
	[ "$st" = 1 ] || { echo "$1 to /dev/full exited $st"; exit 1; }
	[ "$(cat "$T/err")" = "patchdigest: stdout: No space left on device" ] ||
	    { echo "$1 to /dev/full:"; cat "$T/err"; exit 1; }
}
if [ -w /dev/full ]; then
	full digest
	full ranges
	full parse "$(files thread_v2-00-50-kvm-init-rework | head -1)"
	full -V
fi
echo ok
