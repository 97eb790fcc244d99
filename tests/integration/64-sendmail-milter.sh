#!/bin/sh
# End to end with Sendmail: a real Sendmail 8 on 127.0.0.1, its sendmail.cf
# built from contrib/sendmail.mc.snippet, calls patchdigest-milter on a unix
# socket.  The window_week-2022-11-28 set goes through SMTP; in what
# Sendmail queues for delivery every message carries our tags once, right
# below Sendmail's Received:, the same as `patchdigest-milter -t` gives, and
# is otherwise the message sent; the milter logs Sendmail's queue id; the
# store's counters equal an import's.  With the milter stopped Sendmail
# takes mail without it (the snippet sets no F= flag).
set -u
. "$PD_SRC/tests/lib/sendmail.sh"
. "$PD_SRC/tests/lib/milter.sh"

fail() { echo "FAIL: $*" >&2; exit 1; }

corpus=$PD_SHARED/corpus/lore-kvmarm
set_list=$corpus/_sets/window_week-2022-11-28.txt
[ -f "$set_list" ] || fail "no $set_list"

tmp='' sockdir=''
cleanup() {
	sm_teardown
	md_kill
	rm -rf "$tmp" "$sockdir"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
tmp=$(mktemp -d /tmp/pd-sendmail.XXXXXX) || fail "mktemp"
# Sendmail refuses a milter socket below a world-writable directory (/tmp).
sockdir=$(mktemp -d /run/pd-sendmail.XXXXXX) || fail "mktemp in /run"
MD_LOG=$tmp/milter.log

files=$(sed "s|^|$corpus/|" "$set_list")
n=$(echo "$files" | wc -l)

printf 'Database %s/db\n' "$tmp" >"$tmp/patchdigest.conf" || fail "config"
md_start "unix:$sockdir/milter.sock" "$tmp/patchdigest.conf" || fail "milter start"
sm_setup "$tmp/sm" "unix:$sockdir/milter.sock" || fail "sendmail setup"

# shellcheck disable=SC2086
python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$SM_PORT" $files || fail "SMTP send"
[ "$(sm_queued)" = "$n" ] || fail "$(sm_queued) of $n messages queued"
got_n=$(python3 "$PD_SRC/tests/lib/sendmail_queue.py" "$tmp/sm/queue" "$tmp/out") ||
    fail "reading the queue"
[ "$got_n" = "$n" ] || fail "$got_n of $n queued messages read"

# shellcheck disable=SC2086
md_check_tags "$tmp/out" "$tmp/patchdigest.conf" $files || fail "tags via Sendmail"
echo "all $n queued messages carry the expected tags"

# Apart from Sendmail's Received: and our tags, each is the message sent.
# Field values are compared with their white space collapsed: Sendmail
# refolds the address fields (To:, Cc:) it queues.
# shellcheck disable=SC2086
python3 - "$tmp/out" $files <<'EOF' || fail "a message was changed"
import email.parser, email.policy, os, sys

def split(raw):
    raw = raw.replace(b'\r\n', b'\n')
    if raw.startswith(b'From '):
        raw = raw.split(b'\n', 1)[1]
    head, _, body = raw.partition(b'\n\n')
    fields = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(head + b'\n\n')
    return fields, body

def values(fields):
    return [(k, ' '.join(str(v).split())) for k, v in fields.items()
            if not k.lower().startswith('x-patch-')]

sent = {}
for path in sys.argv[2:]:
    fields, body = split(open(path, 'rb').read())
    sent[fields['Message-ID']] = (values(fields), body)
for name in os.listdir(sys.argv[1]):
    fields, body = split(open(os.path.join(sys.argv[1], name), 'rb').read())
    items = values(fields)
    if not items or items[0][0].lower() != 'received':
        sys.exit('%s: does not start with Received:' % name)
    want = sent.get(fields['Message-ID'])
    if want is None or items[1:] != want[0] or body != want[1]:
        sys.exit('%s (%s): header or body differs from the message sent'
                 % (name, fields['Message-ID']))
print('headers and bodies as sent')
EOF

# One log line per message, with Sendmail's queue id (macro i).
for f in "$tmp/out"/*; do
	q=${f##*/}
	grep -q "^patchdigest-milter: $q: .* kind=" "$MD_LOG" ||
	    fail "no log line with queue id $q"
done

# shellcheck disable=SC2086
md_same_counters "$tmp/db" $files || fail "counters"

# Milter stopped: Sendmail takes the mail and queues it unchanged.
md_stop || fail "milter did not stop cleanly"
extra=$(echo "$files" | head -n 3)
# shellcheck disable=SC2086
python3 "$PD_SRC/tests/lib/smtpsend.py" -p "$SM_PORT" $extra ||
    fail "SMTP send with the milter stopped"
[ "$(sm_queued)" = $((n + 3)) ] || fail "mail is not taken without the milter"
rm -rf "$tmp/out"
python3 "$PD_SRC/tests/lib/sendmail_queue.py" "$tmp/sm/queue" "$tmp/out" >/dev/null ||
    fail "reading the queue"
python3 "$PD_SRC/tests/lib/maildir_tags.py" "$tmp/out" >"$tmp/got2" || fail "repeated tags"
[ "$(grep -vc 'X-Patch-Kind=' "$tmp/got2")" = 3 ] ||
    fail "messages taken without the milter carry tags"
echo "sendmail end to end passed"
