#!/bin/sh
# `patchdigest send` through a real Postfix (loopback only, local delivery to
# the Maildir of a test user): the digest arrives once; read back with GMime
# (tests/tools/pd_mimecheck) and Python's email package, its headers are
# right, its text part equals `patchdigest digest --range` of the closed
# range and its HTML part holds every block title.
set -u
pd="$PD_BUILD/patchdigest"
check="$PD_BUILD/tests/tools/pd_mimecheck"
. "$PD_SRC/tests/lib/postfix.sh"
tmp=$(mktemp -d)
cleanup() { pf_teardown; rm -rf "$tmp"; }
fail() { echo "FAIL: $*"; exit 1; }

[ -x "$check" ] || fail "$check not built"
pf_setup || { cleanup; fail "pf_setup"; }
trap cleanup EXIT
trap 'exit 1' INT TERM

cat >"$tmp/conf" <<EOC
SubsystemRules $PD_SRC/etc/subsystems.rules
ListName KVM
DigestFrom KVM patch digest <kvm-digest@localhost>
DigestTo $PF_USER@localhost
ListId KVM patch digest <kvm-digest.localhost>
ArchiveURL https://lore.example.org/kvm/%s/
Sendmail /usr/sbin/sendmail
EOC
db="$tmp/db"
"$pd" -c "$tmp/conf" -D "$db" import "$PD_SRC/tests/data/sample.mbox" >/dev/null || fail "import"
"$pd" -c "$tmp/conf" -D "$db" send || fail "send"
pf_wait_maildir 1 60 || fail "the digest was not delivered"
"$pd" -c "$tmp/conf" -D "$db" digest --range 1 >"$tmp/want.txt" || fail "digest --range 1"
"$pd" -c "$tmp/conf" -D "$db" send || fail "second send"
msg=$(find "$PF_MAILDIR/new" -type f)

"$check" "$msg" "$tmp/text" "$tmp/html" >"$tmp/headers" || { cat "$tmp/headers"; fail "pd_mimecheck"; }
cat "$tmp/headers"
subject=$(sed -n 2p "$tmp/want.txt")
hdr() { sed -n "s/^$1: //p" "$tmp/headers"; }
[ "$(hdr Subject)" = "$subject" ] || fail "Subject: $(hdr Subject), want $subject"
[ "$(hdr From)" = "KVM patch digest <kvm-digest@localhost>" ] || fail "From: $(hdr From)"
[ "$(hdr To)" = "$PF_USER@localhost" ] || fail "To: $(hdr To)"
[ "$(hdr List-Id)" = "KVM patch digest <kvm-digest.localhost>" ] || fail "List-Id: $(hdr List-Id)"
[ "$(hdr MIME-Version)" = "1.0" ] || fail "MIME-Version: $(hdr MIME-Version)"
hdr Message-ID | grep -q '^<[^<>@ ]*@[^<>@ ]*>$' || fail "Message-ID: $(hdr Message-ID)"
[ "$(hdr Date)" != "(none)" ] || fail "no Date"
[ "$(hdr plain-charset)" = "utf-8" ] || fail "text part charset: $(hdr plain-charset)"
cmp "$tmp/want.txt" "$tmp/text" || fail "text part differs from digest --range 1"
grep '^New:  ' "$tmp/want.txt" | cut -c7- | sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' |
while IFS= read -r title; do
	grep -qF "$title" "$tmp/html" || { echo "HTML part lacks: $title"; exit 1; }
done || fail "HTML part"
grep -q 'href="https://lore.example.org/kvm/' "$tmp/html" || fail "no archive links"

# A second opinion on the same file.
python3 - "$msg" "$tmp/want.txt" <<'EOP' || fail "python email check"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
want = open(sys.argv[2], encoding="utf-8").read()
assert m.get_content_type() == "multipart/alternative"
plain = m.get_body(preferencelist=("plain",))
assert plain.get_content() == want
assert m.get_body(preferencelist=("html",)) is not None
assert m["Subject"] == want.splitlines()[1]
print("python: ok")
EOP

# Nothing arrived twice, and nothing more was sent for the empty range.
pf_wait_maildir 1 5 || fail "more than one digest delivered"
echo ok
