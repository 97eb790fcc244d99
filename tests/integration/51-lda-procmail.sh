#!/bin/sh
# procmail: ":0 fw | patchdigest-lda", then a Maildir folder per
# X-Patch-Subsystem.  A week of kvmarm mail, one procmail run per message:
# every message delivered, tagged, into its folder, the rest of it byte for
# byte; the store's counters equal those of `patchdigest import` of the set.
set -eu
. "$PD_SRC/tests/lib/lda.sh"
command -v procmail >/dev/null || fail "procmail not installed (install-deps.sh test)"

mkdir "$T/db" "$T/ref" "$T/mail"
conf "$T/pd.conf" "$T/db" "SubsystemRules $PD_SRC/etc/subsystems.rules"
conf "$T/ref.conf" "$T/ref" "SubsystemRules $PD_SRC/etc/subsystems.rules"

cat >"$T/rc" <<EOF
SHELL=/bin/sh
MAILDIR=$T/mail
LOGFILE=$T/procmail.log
VERBOSE=no

:0 fw
| "$LDA" -f -c "$T/pd.conf"

:0
* ^X-Patch-Subsystem: *\/[^ ].*
{
	FOLDER=\`printf '%s' "\$MATCH" | tr -c 'A-Za-z0-9.-' _\`
	:0
	sub-\$FOLDER/
}

:0
* ^X-Patch-Kind:
no-subsystem/

:0
untagged/
EOF

n=0
for f in $(set_files); do
	procmail -m "$T/rc" <"$f" || fail "procmail exit $? for $f"
	n=$((n + 1))
done
[ "$n" -gt 100 ] || fail "only $n messages in the set"

# procmail delivered each one, and rescued none
folders=$(grep -c '^  Folder: ' "$T/procmail.log" || true)
[ "$folders" = "$n" ] || fail "$folders deliveries logged for $n messages"
grep -E 'Rescue|Error|Couldn|patchdigest-lda' "$T/procmail.log" &&
    fail "procmail or the LDA logged a problem"
[ ! -d "$T/mail/untagged" ] || fail "untagged: $(ls "$T/mail/untagged/new")"
check_sorted_set
echo "ok: $n messages"
