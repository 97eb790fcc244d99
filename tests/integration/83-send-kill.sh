#!/bin/sh
# `patchdigest send` killed with SIGKILL (with its sendmail) between closing
# a range and sendmail's exit: while sendmail holds the message, or at a
# random moment of the send.  The next `patchdigest send` delivers the
# digest; every range ends up sent exactly once, in order, each digest
# starting where the previous one ended.  5 rounds; 50 with PD_FULL=1,
# whose slices of two messages may hold no patch: hence send --force.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
. "$PD_SRC/tests/reliability/lib.sh"
rounds=$(iterations 5 50)

mkdir "$T/out" "$T/spool"
# A sendmail that takes the message, sleeps when asked, then "delivers"
# (renames it into out/) and exits 0: killed before that, nothing was sent.
cat >"$T/sendmail" <<EOF
#!/bin/sh
tmp=$T/spool/\$\$
cat >"\$tmp" || exit 75
[ -z "\${PD_TEST_SENDMAIL_SLEEP:-}" ] || sleep "\$PD_TEST_SENDMAIL_SLEEP"
mv "\$tmp" "$T/out/\$(date +%s%N).eml"
EOF
chmod 755 "$T/sendmail"
conf "$T/pd.conf" "$T/db" "Sendmail $T/sendmail" "DigestFrom digest@example.org" \
    "DigestTo list@example.org" "ListName KVM"
set_files >"$T/list"
total=$(wc -l <"$T/list")
per=$((total / rounds))
[ "$per" -ge 1 ] || per=1

# wait_for GLOB SECONDS: until a file matches
wait_for() {
	n=0
	while [ -z "$(ls $1 2>/dev/null)" ]; do
		n=$((n + 1))
		[ $n -le $(($2 * 20)) ] || return 1
		sleep 0.05
	done
}

i=0
while [ $i -lt "$rounds" ]; do
	i=$((i + 1))
	sed -n "$(( (i - 1) * per + 1 )),$(( i * per ))p" "$T/list" >"$T/slice"
	"$PD" -c "$T/pd.conf" import $(cat "$T/slice") >/dev/null || fail "round $i: import"
	if [ $((i % 2)) = 1 ]; then
		# killed while sendmail holds the message
		PD_TEST_SENDMAIL_SLEEP=30 setsid "$PD" -c "$T/pd.conf" send --force >/dev/null 2>&1 &
		pid=$!
		wait_for "$T/spool/*" 20 || fail "round $i: sendmail never started"
		how="while sendmail runs"
	else
		# killed at a random moment of the send
		d=$(rand 300)
		PD_TEST_SENDMAIL_SLEEP=1 setsid "$PD" -c "$T/pd.conf" send --force >/dev/null 2>&1 &
		pid=$!
		sleep "$(printf '0.%03d' "$d")"
		how="after $d ms"
	fi
	kill -KILL "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	n=0
	while kill -0 "-$pid" 2>/dev/null; do
		n=$((n + 1))
		[ $n -le 100 ] || fail "round $i: processes left in group $pid"
		sleep 0.05
	done
	rm -f "$T/spool/"*
	sent=$(ls "$T/out" | wc -l)
	[ "$sent" = $((i - 1)) ] || fail "round $i: $sent digests delivered by a killed send"
	"$PD" -c "$T/pd.conf" send >"$T/send.out" 2>&1 ||
	    { cat "$T/send.out"; fail "round $i: send after the kill"; }
	# killed before it closed a range without a patch: that takes --force
	if [ "$(ls "$T/out" | wc -l)" != "$i" ]; then
		"$PD" -c "$T/pd.conf" send --force >"$T/send.out" 2>&1 ||
		    { cat "$T/send.out"; fail "round $i: send --force after the kill"; }
	fi
	sent=$(ls "$T/out" | wc -l)
	[ "$sent" = "$i" ] || fail "round $i: $sent digests delivered after the retry, want $i"
	echo "round $i: killed $how; digest sent once after"
done

# Nothing is left to send twice.
"$PD" -c "$T/pd.conf" send >/dev/null 2>&1 || true
[ "$(ls "$T/out" | wc -l)" = "$rounds" ] || fail "a digest was sent again"

# The digests chain: from 000000000, each from = the previous to.
prev=000000000
for f in $(ls "$T/out" | sort); do
	subj=$(grep -m1 '^Subject:' "$T/out/$f")
	range=$(echo "$subj" | sed -n 's/.* from \([0-9a-f]\{9\}\) to \([0-9a-f]\{9\}\).*/\1 \2/p')
	[ -n "$range" ] || fail "$f: no range in '$subj'"
	[ "${range% *}" = "$prev" ] || fail "$f: starts at ${range% *}, the previous ended at $prev"
	prev=${range#* }
done
"$PD" -c "$T/pd.conf" ranges
echo ok
