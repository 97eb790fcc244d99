#!/bin/sh
# maildrop: xfilter "patchdigest-lda", then `to` a Maildir chosen by the
# X-Patch-Subsystem tag.  The same week of kvmarm mail as the procmail test:
# every message delivered, tagged, into its folder; the store's counters
# equal those of `patchdigest import`.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
command -v maildrop >/dev/null || fail "maildrop not installed (install-deps.sh test)"
command -v maildirmake >/dev/null || fail "maildirmake not installed"

mkdir "$T/db" "$T/ref" "$T/mail"
conf "$T/pd.conf" "$T/db" "SubsystemRules $PD_SRC/etc/subsystems.rules"
conf "$T/ref.conf" "$T/ref" "SubsystemRules $PD_SRC/etc/subsystems.rules"
maildirmake "$T/mail/no-subsystem"

cat >"$T/rc" <<EOF
MAILDIR="$T/mail"
logfile "$T/maildrop.log"

xfilter "$LDA -f -c $T/pd.conf"

if (/^X-Patch-Subsystem: *(.+)\$/)
{
	FOLDER=\`f=\$(printf '%s' "\$MATCH1" | tr -c 'A-Za-z0-9.-' _); test -d "\$MAILDIR/sub-\$f" || maildirmake "\$MAILDIR/sub-\$f"; printf '%s' "\$f"\`
	to "\$MAILDIR/sub-\$FOLDER"
}
if (/^X-Patch-Kind: /)
	to "\$MAILDIR/no-subsystem"
EOF
# maildrop refuses a filter file that others could change
chmod 600 "$T/rc"

n=0
for f in $(set_files); do
	# stderr holds the LDA's log lines: there must be none
	maildrop "$T/rc" <"$f" 2>>"$T/stderr" || fail "maildrop exit $? for $f"
	n=$((n + 1))
done
[ ! -s "$T/stderr" ] || fail "maildrop or the LDA complained: $(head -n 5 "$T/stderr")"
check_sorted_set
echo "ok: $n messages"
