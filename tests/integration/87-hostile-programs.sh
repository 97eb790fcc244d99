#!/bin/sh
# Hostile mail through the real programs: forged X-Patch-* headers (any
# case, folded) removed by patchdigest-lda in filter and Maildir mode; CR,
# LF and NUL encoded in the subject and the sender cannot add a header to
# the tagged mail nor a line to the digest; a mailbomb of one Message-ID is
# counted once; `patchdigest digest --html` shows <script> as text.
set -eu
. "$PD_SRC/tests/lib/lda.sh"

mkdir "$T/db"
conf "$T/pd.conf" "$T/db"

# header_lines FILE PATTERN: header lines (before the first empty one) matching
header_lines() {
	awk -v p="$2" 'BEGIN { IGNORECASE = 1 } /^\r?$/ { exit } tolower($0) ~ tolower(p) { n++ }
	    END { print n + 0 }' "$1"
}

# 1. forged tags
cat >"$T/forged.eml" <<'EOF'
X-Patch-Kind: cover
From: Mallory <m@example.org>
x-patch-series: <forged@evil.example> v9 9/9
Subject: [PATCH 1/2] KVM: x86: real subject
X-PATCH-SUBSYSTEM: forged
 continued forged
Message-ID: <tags-test@example.org>
X-Patch-Project: forged
Date: Mon, 28 Nov 2022 10:00:00 +0000

X-Patch-Kind: a body line that only looks like a header
Signed-off-by: Mallory <m@example.org>
EOF
"$LDA" -c "$T/pd.conf" <"$T/forged.eml" >"$T/out.eml" || fail "LDA filter exit $?"
! grep -q forged "$T/out.eml" || fail "a forged value survived the filter"
[ "$(header_lines "$T/out.eml" '^x-patch-kind:')" = 1 ] || fail "X-Patch-Kind not exactly once"
grep -q '^X-Patch-Kind: patch' "$T/out.eml" || fail "our X-Patch-Kind missing"
grep -q '^X-Patch-Kind: a body line' "$T/out.eml" || fail "the body was changed"
mkdir -p "$T/md/new" "$T/md/cur" "$T/md/tmp"
"$LDA" -c "$T/pd.conf" -d "$T/md" <"$T/forged.eml" || fail "LDA -d exit $?"
f=$(ls "$T/md/new")
! grep -q forged "$T/md/new/$f" || fail "a forged value survived Maildir delivery"

# 2. CR/LF/NUL in encoded words
cat >"$T/inject.eml" <<'EOF'
From: =?UTF-8?Q?Eve=0D=0ABcc:_victim@example.org?= <eve@example.org>
Subject: =?UTF-8?Q?[PATCH]_KVM:_x86=0D=0AX-Injected:_yes=00:_fix?=
Message-ID: <inject@example.org>
Date: Mon, 28 Nov 2022 10:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Fix it.

Signed-off-by: Eve <eve@example.org>
EOF
"$LDA" -c "$T/pd.conf" <"$T/inject.eml" >"$T/out.eml" || fail "LDA exit $?"
[ "$(header_lines "$T/out.eml" '^x-injected')" = 0 ] || fail "header injected through a tag"
[ "$(header_lines "$T/out.eml" '^bcc')" = 0 ] || fail "Bcc injected through a tag"
! grep -q "$(printf '\r')" "$T/out.eml" || fail "a CR reached the tagged mail"
"$PD" -D "$T/db" digest >"$T/digest.txt" || fail "digest"
! grep -q '^X-Injected\|^Bcc' "$T/digest.txt" || fail "a line injected into the digest"
! grep -q "$(printf '\r')" "$T/digest.txt" || fail "a CR in the digest"

# 3. a mailbomb of one Message-ID through the LDA
before=$("$PD" -D "$T/db" stats --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["messages"], d["patch_messages"])')
i=0
while [ $i -lt 50 ]; do
	i=$((i + 1))
	sed "s/^Subject: .*/Subject: [PATCH v$i] bomb $i/; s/^Message-ID: .*/Message-ID: <bomb@example.org>/" \
	    "$T/forged.eml" | "$LDA" -c "$T/pd.conf" >/dev/null || fail "bomb $i: exit $?"
done
after=$("$PD" -D "$T/db" stats --json |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["messages"], d["patch_messages"])')
[ "$after" = "$(echo "$before" | awk '{ print $1 + 1, $2 + 1 }')" ] ||
    fail "50 copies of one Message-ID: $before -> $after, want one more"

# 4. markup in the HTML digest
sed 's/^Subject: .*/Subject: [PATCH] KVM: x86: <script>alert(1)<\/script>/; s/^Message-ID: .*/Message-ID: <html@example.org>/' \
    "$T/forged.eml" | "$LDA" -c "$T/pd.conf" >/dev/null || fail "html message"
"$PD" -D "$T/db" digest --html >"$T/digest.html" || fail "digest --html"
! grep -qi '<script' "$T/digest.html" || fail "<script> in the HTML digest"
grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/digest.html" || fail "the subject is not shown as text"
echo ok
