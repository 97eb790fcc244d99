#!/bin/sh
# Two `send` processes at once never close the same range twice nor send one
# digest twice: in each round new mail arrives, then two senders start
# together (plain `send`, then `send --due` with "every 1"); exactly one
# digest per round must be delivered and one range closed.  The fake
# sendmail is slow on purpose, so the second sender arrives while the first
# is still handing its digest over (a plain `send` then waits its turn and
# finds nothing to send; a `send --due` leaves the job to the first).
set -u
pd="$PD_BUILD/patchdigest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

mkdir "$tmp/out"
cat >"$tmp/sendmail" <<EOS
#!/bin/sh
f=\$(mktemp -p "$tmp/out" msg.XXXXXX) || exit 71
cat >"\$f"
sleep 1
EOS
chmod +x "$tmp/sendmail"
cat >"$tmp/conf" <<EOC
SubsystemRules $PD_SRC/etc/subsystems.rules
DigestFrom digest@example.org
DigestTo list@example.org
Sendmail $tmp/sendmail
Schedule every 1
EOC
# The sample mail in four mboxes of a few messages each.
awk -v dir="$tmp" '/^From /{ n++ } { print > (dir "/part" int((n - 1) / 4) ".mbox") }' \
    "$PD_SRC/tests/data/sample.mbox"
db="$tmp/db"
round=0
for part in "$tmp"/part*.mbox; do
	round=$((round + 1))
	"$pd" -c "$tmp/conf" -D "$db" import "$part" >/dev/null || fail "import $part"
	if [ $((round % 2)) = 1 ]; then args=send; else args="send --due"; fi
	# shellcheck disable=SC2086
	"$pd" -c "$tmp/conf" -D "$db" $args & p1=$!
	# shellcheck disable=SC2086
	"$pd" -c "$tmp/conf" -D "$db" $args & p2=$!
	wait $p1 || fail "round $round: first sender failed"
	wait $p2 || fail "round $round: second sender failed"
	got=$(ls "$tmp/out" | wc -l)
	[ "$got" = "$round" ] || fail "round $round: $got digests delivered, expected $round"
done
[ "$round" -ge 3 ] || fail "only $round rounds"
# Every delivered digest names a different range.
subjects=$(grep -h -m1 '^Subject:' "$tmp"/out/* | sort | uniq -d)
[ -z "$subjects" ] || fail "a range was sent twice: $subjects"
"$pd" -c "$tmp/conf" -D "$db" ranges
closed=$("$pd" -c "$tmp/conf" -D "$db" ranges | grep -vc open)
[ "$closed" = "$round" ] || fail "$closed ranges closed after $round rounds"
echo "ok: $round rounds, one digest each"
