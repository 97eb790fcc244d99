#!/bin/sh
# `patchdigest parse --json` over every .eml of the corpus (patchwork/fuzz
# included): exit status 0 or 1 only (never a crash), exactly one valid JSON
# object per file, in argument order, each with the fields of the contract.
set -eu
: "${PD_BUILD:?}" "${PD_SHARED:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

find "$PD_SHARED/corpus" -name '*.eml' | LC_ALL=C sort >"$tmp/files"
n=$(wc -l <"$tmp/files")
[ "$n" -gt 0 ] || { echo "no corpus files"; exit 1; }

rc=0
tr '\n' '\0' <"$tmp/files" | xargs -0 "$PD_BUILD/patchdigest" parse --json \
    >"$tmp/out.json" || rc=$?
# xargs reports 123 when the command exited 1..125, and 124..127 when it
# died of a signal or could not run: a crash fails here, and the line count
# below catches any file left without its line.
case $rc in
0|123) ;;
*) echo "parse died: xargs status $rc"; exit 1 ;;
esac

python3 - "$tmp/files" "$tmp/out.json" <<'PY'
import json, sys
files = open(sys.argv[1], encoding='utf-8').read().split('\n')[:-1]
lines = open(sys.argv[2], encoding='utf-8').read().split('\n')[:-1]
if len(lines) != len(files):
    sys.exit('%d files but %d JSON lines' % (len(files), len(lines)))
need = ['file', 'kind', 'subject', 'title', 'version', 'counter', 'tags',
        'flags', 'author', 'author_name', 'author_email', 'domain',
        'message_id', 'in_reply_to', 'references', 'list_id', 'date',
        'files', 'trailers', 'trailers_carried', 'excerpt']
kinds = {'cover', 'patch', 'reply', 'pull', 'other'}
errors = 0
for f, l in zip(files, lines):
    d = json.loads(l)
    if d['file'] != f:
        sys.exit('out of order: %s for %s' % (d['file'], f))
    if 'error' in d:
        errors += 1
        continue
    missing = [k for k in need if k not in d]
    if missing:
        sys.exit('%s: missing %s' % (f, missing))
    if d['kind'] not in kinds:
        sys.exit('%s: kind %r' % (f, d['kind']))
    if d['counter'] is not None and (len(d['counter']) != 2 or
                                     d['counter'][0] > d['counter'][1]):
        sys.exit('%s: counter %r' % (f, d['counter']))
    if not d['message_id'] or d['domain'] != d['domain'].lower():
        sys.exit('%s: message_id %r domain %r' % (f, d['message_id'], d['domain']))
    for t in d['trailers']:
        if len(t) != 2:
            sys.exit('%s: trailer %r' % (f, t))
    # only a reply carries a commit message along; indexes name trailers
    if d['trailers_carried'] and (d['kind'] in ('cover', 'patch') or
            max(d['trailers_carried']) >= len(d['trailers'])):
        sys.exit('%s: trailers_carried %r' % (f, d['trailers_carried']))
print('%d files, %d JSON lines, %d parse errors' % (len(files), len(lines), errors))
PY
