#!/bin/sh
# A week of kvmarm mail: `stats --json` equals a count made here from the
# parser's and classifier's own output (patch messages only, each
# Message-ID once).
set -eu
PD="$PD_BUILD/patchdigest"
S="$PD_SHARED/corpus/lore-kvmarm"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.conf"
sed "s|^|$S/|" "$S/_sets/window_week-2022-11-28.txt" >"$T/files"
# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" -D "$T/db" import $(cat "$T/files") >"$T/out"
cat "$T/out"
"$PD" -c "$T/empty.conf" -D "$T/db" stats --json >"$T/stats.json"
# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" parse --json $(cat "$T/files") >"$T/parse.jsonl"
# shellcheck disable=SC2046
"$PD" -c "$T/empty.conf" classify --json $(cat "$T/files") >"$T/classify.jsonl"
python3 - "$T/stats.json" "$T/parse.jsonl" "$T/classify.jsonl" <<'PY'
import collections, json, sys
stats = json.load(open(sys.argv[1]))
parsed = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
classes = [json.loads(l) for l in open(sys.argv[3]) if l.strip()]
assert len(parsed) == len(classes)
want = {k: collections.Counter() for k in ("authors", "domains", "subsystems", "projects")}
seen = set()
patches = 0
for p, c in zip(parsed, classes):
    assert p["file"] == c["file"]
    if p["message_id"] in seen:
        continue
    seen.add(p["message_id"])
    if p["kind"] not in ("cover", "patch"):
        continue
    patches += 1
    want["authors"][p["author"]] += 1
    want["domains"][p["domain"]] += 1
    if c["subsystem"]:
        want["subsystems"][c["subsystem"]] += 1
    if c["project"]:
        want["projects"][c["project"]] += 1
assert stats["messages"] == len(seen), (stats["messages"], len(seen))
assert stats["patch_messages"] == patches, (stats["patch_messages"], patches)
for k, v in want.items():
    assert stats[k] == dict(v), (k, stats[k], dict(v))
assert sum(stats["series"].values()) == patches
print("messages", len(seen), "patch messages", patches)
PY
echo ok
