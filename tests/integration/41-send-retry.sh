#!/bin/sh
# Exactly once, with failures: a sendmail that exits 75 and one that does
# not exist leave the closed range's digest stored and unsent; the next
# `send` delivers it once, with the same Message-ID; an empty range sends
# nothing unless --force; send --skip gives up a digest that cannot go.  Deliveries are counted with a fake sendmail that
# keeps each message and its arguments.
set -u
pd="$PD_BUILD/patchdigest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$tmp/out" "$tmp/failed"
cat >"$tmp/good-sendmail" <<EOS
#!/bin/sh
f=\$(mktemp -p "$tmp/out" msg.XXXXXX) || exit 71
echo "\$*" >"\$f.args"
exec cat >"\$f"
EOS
cat >"$tmp/tempfail-sendmail" <<EOS
#!/bin/sh
f=\$(mktemp -p "$tmp/failed" msg.XXXXXX) || exit 71
cat >"\$f"
exit 75
EOS
chmod +x "$tmp/good-sendmail" "$tmp/tempfail-sendmail"

conf() {	# conf NAME SENDMAIL
	cat >"$tmp/$1.conf" <<EOC
SubsystemRules $PD_SRC/etc/subsystems.rules
ListName KVM
DigestFrom KVM digest <digest@example.org>
DigestTo a@example.org, b@example.org
ListId KVM patch digest <kvm-digest.example.org>
ArchiveURL https://lore.example.org/kvm/%s/
Sendmail $2
EOC
}
conf good "$tmp/good-sendmail"
conf tempfail "$tmp/tempfail-sendmail"
conf missing "$tmp/no-such-sendmail"
count() { find "$tmp/out" -name 'msg.*' ! -name '*.args' | wc -l; }
db="$tmp/db"

# A fresh install: cron's send --due on the empty store directory is quiet
# and creates nothing; a missing directory (a wrong Database) is an error.
mkdir "$tmp/fresh"
"$pd" -c "$tmp/good.conf" -D "$tmp/fresh" send --due >"$tmp/o" 2>&1 ||
    fail "send --due on an empty store directory: $(cat "$tmp/o")"
[ ! -s "$tmp/o" ] && [ -z "$(ls "$tmp/fresh")" ] || fail "send --due on a fresh store: $(cat "$tmp/o")"
if "$pd" -c "$tmp/good.conf" -D "$tmp/nodir" send --due 2>"$tmp/o"; then
	fail "send --due on a missing store directory succeeded"
fi
grep -q 'store does not exist' "$tmp/o" || fail "missing store: $(cat "$tmp/o")"

"$pd" -c "$tmp/good.conf" -D "$db" import "$PD_SRC/tests/data/sample.mbox" >/dev/null ||
    fail "import"
"$pd" -c "$tmp/good.conf" -D "$db" digest >"$tmp/open.txt" || fail "digest"

# 1. sendmail exits 75: error, range closed, digest stored, nothing delivered.
if "$pd" -c "$tmp/tempfail.conf" -D "$db" send 2>"$tmp/err"; then
	fail "send with a failing sendmail exited 0"
fi
cat "$tmp/err"
grep -q "exited 75" "$tmp/err" || fail "no 'exited 75' in the error"
[ "$(ls "$tmp/failed" | wc -l)" = 1 ] || fail "the failing sendmail was not run once"
"$pd" -c "$tmp/good.conf" -D "$db" digest --range 1 >"$tmp/stored.txt" ||
    fail "no stored digest for range 1"
cmp "$tmp/open.txt" "$tmp/stored.txt" || fail "stored digest differs from the open range's"

# 2. sendmail missing: error, still nothing delivered, no second range closed.
if "$pd" -c "$tmp/missing.conf" -D "$db" send 2>"$tmp/err"; then
	fail "send with a missing sendmail exited 0"
fi
cat "$tmp/err"
grep -q "cannot run" "$tmp/err" || fail "no 'cannot run' in the error"
[ "$(count)" = 0 ] || fail "something was delivered"
"$pd" -c "$tmp/good.conf" -D "$db" ranges >"$tmp/ranges"
[ "$(wc -l <"$tmp/ranges")" = 2 ] || { cat "$tmp/ranges"; fail "expected 2 ranges"; }

# 3. a working sendmail: the stored digest goes out once, same Message-ID.
"$pd" -c "$tmp/good.conf" -D "$db" send || fail "send"
[ "$(count)" = 1 ] || fail "expected 1 delivery, got $(count)"
msg=$(find "$tmp/out" -name 'msg.*' ! -name '*.args')
[ "$(cat "$msg.args")" = "-i a@example.org b@example.org" ] ||
    fail "sendmail arguments: $(cat "$msg.args")"
id_failed=$(grep -i -m1 '^Message-ID:' "$tmp"/failed/msg.*)
id_sent=$(grep -i -m1 '^Message-ID:' "$msg")
[ -n "$id_sent" ] && [ "$id_failed" = "$id_sent" ] ||
    fail "retry changed the Message-ID: '$id_failed' vs '$id_sent'"
# at DigestFrom's domain, not the host's name (patchdigest.invalid here)
printf '%s\n' "$id_sent" | grep -q '@example\.org>' ||
    fail "Message-ID not at DigestFrom's domain: $id_sent"

# The mail: headers and parts, read by Python's email package; its HTML part
# is what `digest --range 1 --html` prints from the store.
"$pd" -c "$tmp/good.conf" -D "$db" digest --range 1 --html >"$tmp/stored.html" ||
    fail "no stored HTML digest for range 1"
python3 - "$msg" "$tmp/stored.txt" "$tmp/stored.html" <<'EOP' || fail "mail check"
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
want = open(sys.argv[2], encoding="utf-8").read()
want_html = open(sys.argv[3], encoding="utf-8").read()
first = want.splitlines()[1]
assert m["Subject"] == first, (m["Subject"], first)
assert m["From"] == "KVM digest <digest@example.org>", m["From"]
assert "a@example.org" in m["To"] and "b@example.org" in m["To"], m["To"]
assert m["List-Id"] == "KVM patch digest <kvm-digest.example.org>", m["List-Id"]
assert m["MIME-Version"] == "1.0" and m["Date"] and m["Message-ID"]
assert m.get_content_type() == "multipart/alternative"
parts = list(m.iter_parts())
assert [p.get_content_type() for p in parts] == ["text/plain", "text/html"]
assert parts[0].get_content_charset() == "utf-8"
assert parts[0].get_content() == want, "text part differs from `digest --range`"
html = parts[1].get_content()
assert html == want_html, "HTML part differs from `digest --range --html`"
assert "https://lore.example.org/kvm/20250106080000.1000-1-alice@example.org/" in html
print("mail ok:", m["Subject"])
EOP

# 4. nothing new: no mail; --force sends an empty digest.
"$pd" -c "$tmp/good.conf" -D "$db" send || fail "second send"
[ "$(count)" = 1 ] || fail "an empty range was sent without --force"
"$pd" -c "$tmp/good.conf" -D "$db" send --force || fail "send --force"
[ "$(count)" = 2 ] || fail "send --force did not send the empty range"
"$pd" -c "$tmp/good.conf" -D "$db" send || fail "third send"
[ "$(count)" = 2 ] || fail "a digest was sent twice"

# 5. send --due with "every N": nothing below N patch messages, then one digest.
"$pd" -c "$tmp/good.conf" -D "$db" import "$PD_SRC/tests/data/html-escape.mbox" >/dev/null ||
    fail "import 2"
printf 'Schedule every 2\n' | cat "$tmp/good.conf" - >"$tmp/every2.conf"
printf 'Schedule every 1\n' | cat "$tmp/good.conf" - >"$tmp/every1.conf"
printf 'Schedule none\n' | cat "$tmp/good.conf" - >"$tmp/none.conf"
"$pd" -c "$tmp/every2.conf" -D "$db" send --due || fail "send --due (every 2)"
"$pd" -c "$tmp/none.conf" -D "$db" send --due || fail "send --due (none)"
[ "$(count)" = 2 ] || fail "send --due sent before the schedule said so"
"$pd" -c "$tmp/every1.conf" -D "$db" send --due || fail "send --due (every 1)"
[ "$(count)" = 3 ] || fail "send --due did not send a due digest"
"$pd" -c "$tmp/every1.conf" -D "$db" send --due || fail "send --due again"
[ "$(count)" = 3 ] || fail "send --due sent an empty range"

# 6. A digest sendmail keeps refusing holds back the later ranges, and says
# so; send --skip gives it up (it stays readable), and the next send goes on.
set -- "$PD_SHARED"/replay/000_*.mbox
"$pd" -c "$tmp/good.conf" -D "$db" import "$1" >/dev/null || fail "import 3"
"$pd" -c "$tmp/tempfail.conf" -D "$db" send 2>"$tmp/o" && fail "send to a refusing sendmail succeeded"
grep -q 'digest 4 (the ones after it wait for it; send --skip 4 gives it up): ' "$tmp/o" ||
    fail "refused digest: $(cat "$tmp/o")"
set -- "$PD_SHARED"/replay/001_*.mbox
"$pd" -c "$tmp/good.conf" -D "$db" import "$1" >/dev/null || fail "import 4"
"$pd" -c "$tmp/tempfail.conf" -D "$db" send 2>/dev/null && fail "second refused send succeeded"
"$pd" -c "$tmp/good.conf" -D "$db" ranges | grep -q '^ *5 .*(open)' ||
    fail "range 5 was closed behind an unsent digest"
"$pd" -c "$tmp/good.conf" -D "$db" send --skip 4 || fail "send --skip 4"
"$pd" -c "$tmp/good.conf" -D "$db" send --skip 4 2>"$tmp/o" && fail "range 4 skipped twice"
grep -q 'send --skip 4: no unsent digest' "$tmp/o" || fail "second skip: $(cat "$tmp/o")"
"$pd" -c "$tmp/good.conf" -D "$db" send --skip 3 2>/dev/null && fail "a sent digest was skipped"
"$pd" -c "$tmp/good.conf" -D "$db" send --due --skip 5 2>/dev/null
[ $? = 64 ] || fail "--skip with --due is not a usage error"
"$pd" -c "$tmp/good.conf" -D "$db" digest --range 4 >/dev/null || fail "skipped digest unreadable"
"$pd" -c "$tmp/good.conf" -D "$db" send || fail "send after the skip"
[ "$(count)" = 4 ] || fail "$(count) digests delivered, want 4 (range 5 only)"
grep -il "^Message-ID: <patchdigest-5-" "$tmp/out"/msg.* >/dev/null ||
    fail "the digest after the skip is not range 5's"
echo "ok"
