#!/bin/sh
# Mail arrives in parallel: eight patchdigest-lda -d at a time over the week
# of kvmarm mail, one store.  Every message is delivered once, tagged, and
# the counters equal an import of the same set (arrival order aside).
set -eu
. "$PD_SRC/tests/lib/lda.sh"

mkdir "$T/db" "$T/ref" "$T/mail"
conf "$T/pd.conf" "$T/db" "SubsystemRules $PD_SRC/etc/subsystems.rules"
conf "$T/ref.conf" "$T/ref" "SubsystemRules $PD_SRC/etc/subsystems.rules"

# xargs runs eight at a time; any exit status but 0 is reported
# shellcheck disable=SC2016
set_files | xargs -P 8 -I{} sh -c '"$1" -f -C -c "$2" -d "$3" <"$4" || echo "exit $? for $4"' \
    sh "$LDA" "$T/pd.conf" "$T/mail/all" {} >"$T/errors"
[ ! -s "$T/errors" ] || fail "$(cat "$T/errors")"
n=$(set_files | wc -l)
[ "$(find "$T/mail/all/new" -type f | wc -l)" = "$n" ] || fail "not $n messages in new/"
[ -z "$(ls "$T/mail/all/tmp")" ] || fail "files left in tmp/"
mv "$T/mail/all" "$T/mail/tagged"
# shellcheck disable=SC2046
python3 "$PD_SRC/tests/lib/lda-check.py" either "$T/mail" $(set_files) ||
    fail "deliveries differ from the set"

# shellcheck disable=SC2046
"$PD" -c "$T/ref.conf" import $(set_files) >/dev/null || fail "import failed"
# the range's last message depends on the arrival order
counters "$T/db" | grep -v '"to": ' >"$T/db.json"
counters "$T/ref" | grep -v '"to": ' >"$T/ref.json"
diff -u "$T/ref.json" "$T/db.json" || fail "counters differ from import"
echo "ok: $n messages"
