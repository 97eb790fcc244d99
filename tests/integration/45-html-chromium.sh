#!/bin/sh
# The digest's HTML part in a real browser (headless Chromium): a screenshot
# is produced and is not blank, and the DOM holds every block title of the
# text digest, with hostile markup from subjects, authors and excerpts shown
# as text, never run or parsed as elements.
set -u
pd="$PD_BUILD/patchdigest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

chromium=$(command -v chromium || command -v chromium-browser) ||
    fail "chromium is not installed (contrib/install-deps.sh test)"
printf 'SubsystemRules %s/etc/subsystems.rules\nArchiveURL https://lore.example.org/kvm/%%s/\n' \
    "$PD_SRC" >"$tmp/conf"
"$pd" -c "$tmp/conf" -D "$tmp/db" import "$PD_SRC/tests/data/sample.mbox" \
    "$PD_SRC/tests/data/html-escape.mbox" >/dev/null || fail "import"
"$pd" -c "$tmp/conf" -D "$tmp/db" digest >"$tmp/digest.txt" || fail "digest"
"$pd" -c "$tmp/conf" -D "$tmp/db" digest --html >"$tmp/digest.html" || fail "digest --html"

browse() {	# browse ARGS...: one headless run with a fresh profile
	profile=$(mktemp -d -p "$tmp")
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu \
	    --disable-background-networking --disable-component-update --disable-sync \
	    --no-first-run --user-data-dir="$profile" "$@" 2>>"$tmp/chromium.log"
}

cd "$tmp" || exit 1
browse --window-size=1024,1400 --screenshot="$tmp/shot.png" "file://$tmp/digest.html" ||
    { tail -20 "$tmp/chromium.log"; fail "chromium --screenshot"; }
browse --dump-dom "file://$tmp/digest.html" >"$tmp/dom.html" ||
    { tail -20 "$tmp/chromium.log"; fail "chromium --dump-dom"; }

python3 - "$tmp/shot.png" "$tmp/dom.html" "$tmp/digest.txt" <<'EOP' || exit 1
import html.parser, struct, sys, zlib

# The screenshot: a PNG of the window's size whose pixels are not all alike.
png = open(sys.argv[1], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h, depth, ctype = struct.unpack(">IIBB", png[16:26])
assert (w, h) == (1024, 1400), (w, h)
pos, idat = 8, b""
while pos < len(png):
    n, kind = struct.unpack(">I4s", png[pos:pos + 8])
    if kind == b"IDAT":
        idat += png[pos + 8:pos + 8 + n]
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = {2: 3, 6: 4}[ctype]
stride = w * bpp + 1
# Rows are filtered; count distinct raw bytes of unfiltered (type 0/1) rows
# and dark pixels in sub-filtered ones would need unfiltering: instead
# unfilter fully (None/Sub/Up/Average/Paeth), it is small.
prev = bytearray(w * bpp)
dark = 0
for y in range(h):
    f = raw[y * stride]
    line = bytearray(raw[y * stride + 1:(y + 1) * stride])
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    for x in range(0, len(line), bpp):
        if line[x] + line[x + 1] + line[x + 2] < 300:
            dark += 1
    prev = line
assert dark > 5000, "screenshot looks blank: %d dark pixels" % dark
print("screenshot %dx%d, %d dark pixels" % (w, h, dark))

# The DOM: no element came from mail content; every block title is text.
class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []
    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
    def handle_data(self, data):
        self.text.append(data)
p = P()
p.feed(open(sys.argv[2], encoding="utf-8").read())
text = "".join(p.text)
for bad in ("script", "img", "b"):
    assert bad not in p.tags, "a <%s> element reached the DOM" % bad
titles = [l[6:] for l in open(sys.argv[3], encoding="utf-8").read().splitlines()
          if l.startswith("New:  ")]
assert len(titles) >= 6, titles
for t in titles:
    assert t in text, "block title missing from the DOM: %r" % t
assert '<script>alert("digest")</script>' in text
assert '<img src=x onerror="alert(1)">' in text
assert "&amp; that stays as typed" in text
print("DOM holds all %d block titles as text" % len(titles))
EOP
