#!/bin/sh
# patchdigest classify: text and --json output over real list mail, with the
# shipped rules and with the kernel's MAINTAINERS; errors and exit codes.
set -eu
PD=$PD_BUILD/patchdigest
K=$PD_SHARED/corpus/lore-kvmarm
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

printf 'SubsystemRules %s/etc/subsystems.rules\n' "$PD_SRC" >"$T/rules.conf"
cat "$T/rules.conf" - >"$T/maint.conf" <<EOF
Maintainers $PD_SHARED/data/linux-6.12/MAINTAINERS
MaintainersFiles $PD_SHARED/data/linux-6.12/files.txt.xz
EOF

# Patch 4 of "[PATCH v5 00/36] KVM: arm64: A stage 2 for the host".
patch=$(grep -l '^Subject: \[PATCH v5 04/36\]' $(sed "s|^|$K/|" "$K/_sets/thread_v5-00-36-stage2-for-host.txt") | head -n 1)
[ -n "$patch" ] || fail "no 01/36 patch in the thread set"
cover=$(grep -l '^Subject: \[PATCH v5 00/36\]' $(sed "s|^|$K/|" "$K/_sets/thread_v5-00-36-stage2-for-host.txt") | head -n 1)

# Text output.
"$PD" classify -c "$T/rules.conf" "$patch" >"$T/out"
grep -qx "	kind: patch" "$T/out" || fail "kind"
grep -qx "	subsystem: KVM: arm64" "$T/out" || fail "subsystem (rules)"
grep -qx "	project: linux" "$T/out" || fail "project"
grep -q "^	reason: .*subsystems.rules:[0-9]*: subsystem " "$T/out" || fail "reason"
grep -q "^	series: ." "$T/out" || fail "series"

"$PD" classify -c "$T/maint.conf" "$patch" >"$T/out"
grep -qx "	subsystem: KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)" "$T/out" ||
	fail "subsystem (MAINTAINERS)"
grep -q "^	reason: MAINTAINERS: .*F: arch/arm64/" "$T/out" || fail "MAINTAINERS reason"

# --json: one object per argument, in order; an unreadable file gets an
# error line and exit 1.
files=$(sed "s|^|$K/|" "$K/_sets/window_week-2022-11-28.txt")
set +e
"$PD" classify -c "$T/rules.conf" --json "$cover" $files "$T/missing.eml" "$patch" >"$T/json"
rc=$?
set -e
[ "$rc" = 1 ] || fail "exit $rc with a missing file"
python3 - "$T/json" "$cover" "$T/missing.eml" "$patch" $files <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
# argument order: cover, window files..., missing, patch
order = [sys.argv[2]] + sys.argv[5:] + [sys.argv[3], sys.argv[4]]
objs = [json.loads(l) for l in lines]
assert [o["file"] for o in objs] == order, "order"
for o in objs:
    if o["file"] == sys.argv[3]:
        assert "error" in o, o
        continue
    for k in ("kind", "series", "subsystem", "project", "reason"):
        assert k in o, (k, o)
    if o["kind"] in ("patch", "cover"):
        assert o["subsystem"], o
    if o["subsystem"]:
        assert o["reason"], o
assert objs[0]["kind"] == "cover" and objs[0]["subsystem"] == "KVM: arm64", objs[0]
assert objs[-1]["kind"] == "patch" and objs[-1]["subsystem"] == "KVM: arm64", objs[-1]
kinds = {o.get("kind") for o in objs}
assert {"patch", "cover", "reply"} <= kinds, kinds
print("json ok:", len(objs), "objects")
EOF

# The MAINTAINERS configuration without a file list still loads and matches.
grep -v MaintainersFiles "$T/maint.conf" >"$T/nofiles.conf"
"$PD" classify -c "$T/nofiles.conf" --json "$patch" | grep -q '"subsystem":"KERNEL VIRTUAL MACHINE FOR ARM64 (KVM/arm64)"' ||
	fail "MAINTAINERS without file list"

# A bad rules file names its line; usage errors exit 2.
printf 'tag kvmtool kvmtool\nbogus rule\n' >"$T/bad.rules"
printf 'SubsystemRules %s/bad.rules\n' "$T" >"$T/bad.conf"
if "$PD" classify -c "$T/bad.conf" "$patch" >/dev/null 2>"$T/err"; then
	fail "bad rules accepted"
fi
grep -q "bad.rules:2:" "$T/err" || fail "bad rules message: $(cat "$T/err")"
set +e
"$PD" classify -c "$T/rules.conf" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" = 64 ] || fail "no file: exit $rc (bad usage is 64)"
echo "classify ok"
