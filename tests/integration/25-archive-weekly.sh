#!/bin/sh
# The whole kvmarm archive week by week, as a list would live it: each
# week's mail imported, then `send --force` closes the range and mails its
# digest.  One digest per week, every stored message in exactly one range,
# and each digest agrees with itself and its range: the headings' counts
# add up to the range's patch messages and list as many series as they
# say, contributors and domains add up to at most that, parts received are
# at most N, "supersedes vK" names an earlier version than the entry's, and
# `digest --range N` prints what was mailed.  About 40 s normally; under
# the sanitizers only with PD_FULL=1.
set -eu
. "$PD_SRC/tests/lib/archive.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

mkdir "$T/weeks" "$T/out"
# Weeks by the Date: of the messages in archive order, each message's
# taken as the median of the 21 around it: a wrong clock on fewer than
# eleven messages in a row moves no week, a quiet spell of the list does,
# and a date that goes back stays in the week it arrived in.
xz -dc "$ARCHIVE" |
    python3 -c '
import datetime, email.utils, re, sys
data = sys.stdin.buffer.read()
at = [m.start() for m in re.finditer(rb"(?m)^From ", data)] + [len(data)]
def week(i):
    hdr = data[at[i]:data.find(b"\n\n", at[i], at[i + 1])]
    m = re.search(rb"^Date:[ \t]*(.*(?:\n[ \t].*)*)", hdr, re.M | re.I)
    try:
        d = email.utils.parsedate_to_datetime(m.group(1).decode("latin1"))
        return d.date() - datetime.timedelta(days=d.weekday())
    except (AttributeError, TypeError, ValueError):
        return None
weeks = [week(i) for i in range(len(at) - 1)]
cur, start, n = None, 0, 0
def flush(end):
    global n
    if end > start:
        with open("%s/%04d.mbox" % (sys.argv[1], n), "wb") as f:
            f.write(data[at[start]:at[end]])
        n += 1
for i in range(len(weeks)):
    near = sorted(w for w in weeks[max(0, i - 10):i + 11] if w)
    w = near[len(near) // 2] if near else None
    if w and (cur is None or w > cur):
        flush(i)
        cur, start = w, i
flush(len(weeks))
print(n, "weeks")
' "$T/weeks"

cat >"$T/sendmail" <<EOS
#!/bin/sh
f=\$(mktemp "$T/out/msg.XXXXXX") || exit 71
exec cat >"\$f"
EOS
chmod +x "$T/sendmail"
cat >"$T/pd.conf" <<EOC
Database $T/db
SubsystemRules $PD_SRC/etc/subsystems.rules
ListName KVM
DigestFrom KVM digest <digest@example.org>
DigestTo subscribers@example.org
ArchiveURL https://lore.kernel.org/kvmarm/%s/
Sendmail $T/sendmail
EOC
stored=0
for w in "$T"/weeks/*.mbox; do
	"$PD" -c "$T/pd.conf" import "$w" >"$T/import.out" || fail "import $w"
	n=$(sed -n 's/^read [0-9]*, stored \([0-9]*\),.*/\1/p' "$T/import.out")
	stored=$((stored + n))
	"$PD" -c "$T/pd.conf" send --force >/dev/null || fail "send after $w"
done
"$PD" -c "$T/pd.conf" ranges >"$T/ranges"
for no in $(awk '$NF != "(open)" { print $1 }' "$T/ranges"); do
	"$PD" -c "$T/pd.conf" digest --range "$no" >"$T/out/range.$no" ||
	    fail "digest --range $no"
done
python3 - "$T" "$stored" <<'PY'
import collections, email, glob, re, sys
from email import policy
T, stored = sys.argv[1], int(sys.argv[2])
weeks = len(glob.glob(T + '/weeks/*.mbox'))
# 2019-04-29 to 2023-01-02: 193 calendar weeks, each with mail
assert weeks == 193, weeks
ranges, opened = {}, 0
for l in open(T + '/ranges'):
    m = re.match(r'\s*(\d+)\s+from (\w+) to (\w+)\s+(\d+) messages\s+(\d+) patches', l)
    assert m, l
    no, msgs, patches = int(m.group(1)), int(m.group(4)), int(m.group(5))
    stored -= msgs
    if l.rstrip().endswith('(open)'):
        opened += 1
    else:
        ranges[no] = (m.group(2), m.group(3), msgs, patches)
assert opened == 1 and len(ranges) == weeks, (opened, len(ranges), weeks)
assert stored == 0, 'messages stored but in no range: %d' % stored
mails = glob.glob(T + '/out/msg.*')
assert len(mails) == weeks, (len(mails), weeks)
entries = supersedes = 0
bad = collections.Counter()
def check(what, ok, where):
    if not ok:
        bad[what] += 1
        if bad[what] <= 3:
            print('FAIL:', what, where)
for path in mails:
    m = email.message_from_binary_file(open(path, 'rb'), policy=policy.default)
    text = m.get_body(('plain',)).get_content()
    no = int(re.search(r'<patchdigest-(\d+)-', m['Message-ID']).group(1))
    frm, to, msgs, patches = ranges[no]
    check('the subject names another range', m['Subject'].split()[-3:] == [frm, 'to', to], no)
    check('digest --range differs from the mail', open('%s/out/range.%d' % (T, no)).read() == text, no)
    head, rest = text.split('\n===== Patch list in this time period =====\n')
    plist, _ = rest.split('\n===== Patch Commit Messages ====\n')
    domains = head.split('Top 15 contributor Email domains (Based on Email Body)\n')[1].split('Top 15 contributors')[0]
    authors = head.split('Top 15 contributors (Based on Email Body)\n')[1]
    for part in (domains, authors):
        counts = [int(c) for c in re.findall(r'^ +(\d+) ', part, re.M)]
        check('contributors read iff the range has patches', bool(counts) == (patches > 0), no)
        check('contributors add up to more than the patch messages', sum(counts) <= patches, no)
        check('not sorted by count', counts == sorted(counts, reverse=True), no)
    headed = 0
    for block in plist.strip('\n').split('\n\n') if plist.strip() else []:
        lines = block.split('\n')
        h = re.fullmatch(r'\S.* \((\d+) patch messages?, (\d+) series\)', lines[0])
        check('a heading unread', h, (no, lines[0]))
        if not h:
            continue
        headed += int(h.group(1))
        listed = [(lines[i], lines[i + 1]) for i in range(1, len(lines))
                  if re.match(r'  \S', lines[i])]
        check('series listed differ from the heading', len(listed) == int(h.group(2)), (no, lines[0]))
        entries += len(listed)
        for title, info in listed:
            d = re.search(r'; v(\d+), (?:(\d+)/(\d+) parts|single patch)', info)
            check('no version in an entry', d, (no, title))
            if not d:
                continue
            if d.group(2):
                check('more parts than N', int(d.group(2)) <= int(d.group(3)), (no, title))
            s = re.search(r', supersedes v(\d+)$', info)
            if s:
                supersedes += 1
                check('supersedes a version no earlier', int(s.group(1)) < int(d.group(1)), (no, title, info))
    check('headings do not add up to the patch messages', headed == patches, (no, headed, patches))
# the checks above read something: entries, and some with supersedes
check('no series entry read', entries > 1000, entries)
check('no supersedes read', supersedes > 100, supersedes)
if bad:
    sys.exit(1)
print('%d weeks, %d digests, %d series entries (%d superseding): consistent' %
      (weeks, len(mails), entries, supersedes))
PY
echo ok
