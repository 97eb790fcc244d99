#!/bin/sh
# The digest's tie order (pd_digest_tiecmp, no locales involved) against the
# real thing: GNU sort -r under a freshly compiled en_US.UTF-8 (localedef into
# a temporary LOCPATH; the machine's locale settings are not touched), on
# some three thousand contributor-like strings: names with accents, case
# variants, quotes, parentheses, commas, hyphens, dots; bare addresses and
# domains; plus every value of the seeds' Top-15 lists.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

[ -f /usr/share/i18n/locales/en_US ] || fail "no locale sources (Debian package locales)"
mkdir -p "$tmp/loc"
localedef -i en_US -f UTF-8 "$tmp/loc/en_US.UTF-8" 2>"$tmp/localedef.err" ||
    [ -d "$tmp/loc/en_US.UTF-8" ] || { cat "$tmp/localedef.err"; fail "localedef"; }

python3 - "$PD_SHARED/seeds" >"$tmp/names" <<'EOP'
import os, random, re, sys
random.seed(20250106)
first = ["Sean", "sean", "Xin", "Chao", "Paolo", "Marc", "Émile", "Emile", "Radim",
         "Philippe", "Li", "Yosry", "Jean-Philippe", "Jean Philippe", "Oliver", "Öliver",
         "D. Scott", "Bibo", "BIBO", "Łukasz", "Lukasz", "Zoë", "Zoe", "O'Neil",
         "René", "Renè", "Renê", "Renë", "Rene", "Đorđe", "Dorde"]
last = ["Christopherson", "Li", "Gao", "Bonzini", "Zyngier", "Rousseau", "Krčmář",
        "Krcmar", "Mathieu-Daudé", "Mathieu Daude", "Zhe", "Ahmed", "Brucker", "Upton",
        "Phillips", "Mao", "MAO", "Šimůnek", "Simunek", "Müller", "Múller", "Mùller",
        "Mūller", "Dvořák", "Dvorák", "Dvořak", "Łoś", "Łos", "Løs", "Lōs", "Lõs",
        "Çağlar", "Caglar", "Çaglar", "Ğüneş", "Günes", "Ðuro", "Đuro", "Duro", "Žižek",
        "Zizek", "Żiżek", "Źiżek", "Ådne", "Ädne", "Ãdne", "Ąksel", "Āksel", "Ăksel"]
doms = ["google.com", "intel.com", "Intel.com", "redhat.com", "kernel.org", "linux.dev",
        "zytor.com", "arm.com", "loongson.cn", "gmail.com", "amd.com", "linux.intel.com"]
seen = set()
def out(s):
    if s not in seen:
        seen.add(s)
        print(s)
for i in range(4000):
    f, l, d = random.choice(first), random.choice(last), random.choice(doms)
    user = (f[0] + l).lower().encode("ascii", "ignore").decode().replace(" ", "").replace(".", "")
    form = random.randint(0, 5)
    if form == 0: out("%s %s <%s@%s>" % (f, l, user, d))
    elif form == 1: out('"%s %s (%s)" <%s@%s>' % (f, l, d.split(".")[0].upper(), user, d))
    elif form == 2: out("%s, %s <%s@%s>" % (l, f, user, d))
    elif form == 3: out("%s.%s@%s" % (f.lower(), l.lower(), d))
    elif form == 4: out(d)
    else: out("%s %s <%s.%s@%s>" % (f, l, f.lower(), l.lower(), d))
top = re.compile(r"^ *\d+ +(\S.*)$")
for name in sorted(os.listdir(sys.argv[1])):
    inside = False
    for line in open(os.path.join(sys.argv[1], name), encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("Top 15 "):
            inside = True
        elif line.startswith("====="):
            inside = False
        elif inside and top.match(line):
            out(top.match(line).group(1))
EOP
n=$(wc -l <"$tmp/names")
[ "$n" -gt 2500 ] || fail "only $n names"
LOCPATH="$tmp/loc" LC_ALL=en_US.UTF-8 sort -r "$tmp/names" >"$tmp/oracle" || fail "sort"
# sort falls back to bytes silently when the locale is missing: make sure it did not.
LC_ALL=C sort -r "$tmp/names" >"$tmp/bytes"
cmp -s "$tmp/oracle" "$tmp/bytes" && fail "the compiled locale was not used"
"$PD_BUILD/tests/tools/pd_tiesort" <"$tmp/names" >"$tmp/ours" || fail "pd_tiesort"
if ! cmp -s "$tmp/oracle" "$tmp/ours"; then
	diff -U1 "$tmp/oracle" "$tmp/ours" | head -40
	fail "tie order differs from sort -r under en_US.UTF-8"
fi
echo "ok: $n strings in the order of sort -r under en_US.UTF-8"
