#!/bin/sh
# The shipped contrib/procmailrc.example and contrib/maildroprc.example work
# as written (only the program path changed): kvmarm mail relabelled with
# the KVM list's List-Id is tagged and sorted into the folders they name.
set -eu
. "$PD_SRC/tests/lib/lda.sh"

mkdir "$T/db" "$T/in" "$T/home"
conf "$T/pd.conf" "$T/db" "SubsystemRules $PD_SRC/etc/subsystems.rules"
for f in $(set_files | head -n 40); do
	sed '1,/^$/s/^List-Id: .*/List-Id: KVM list <kvm.vger.kernel.org>/' "$f" \
	    >"$T/in/$(basename "$f")"
done
printf 'From: a@example.org\nList-Id: <other.example.org>\nSubject: x\n\nhi\n' \
    >"$T/other-list"
# Mail that is not the list's is not filtered: tags its sender forged must
# not sort it.
printf 'From: b@example.org\nX-Patch-Kind: reply\nX-Patch-Subsystem: KVM: arm64\nSubject: forged\n\nhi\n' \
    >"$T/forged"

prog="$LDA -c $T/pd.conf"

# Where a delivered file belongs: folder PREFIX SEP FILE (sep "-" or ".")
folder() {
	kind=$(sed -n '/^$/q; s/^X-Patch-Kind: //p' "$3")
	sub=$(sed -n '/^$/q; s/^X-Patch-Subsystem: //p' "$3")
	case $kind in
	reply|pull|other) echo "$1$2discussion" ;;
	"") echo "$1$2untagged" ;;
	*)
		if [ "$sub" = "KVM: arm64" ]; then
			echo "$1$2arm64"
		elif [ "$sub" = "KVM: x86" ] && [ "$2" = - ]; then
			echo "$1$2x86"	# only the procmail example has this rule
		elif [ -n "$sub" ]; then
			echo "$1$2$(folder_of "$sub")"
		else
			echo "$1$2other"
		fi ;;
	esac
}

check() {	# check MAILDIR PREFIX SEP INBOX-NAME INBOX-PATH
	n=0
	for f in $(find "$1" -path '*/new/*' -type f); do
		dir=$(basename "$(dirname "$(dirname "$f")")")
		if [ "$dir" = "$4" ]; then	# the other list's mail, the forged one
			grep -q '^Subject: forged' "$f" && continue
			grep -q '^X-Patch-' "$f" && fail "other list's mail was tagged"
			continue
		fi
		want=$(folder "$2" "$3" "$f")
		[ "$dir" = "$want" ] || fail "$f: in $dir, not $want"
		[ "$want" != "$2$3untagged" ] || fail "$f: untagged"
		n=$((n + 1))
	done
	[ "$n" = "$(find "$T/in" -type f | wc -l)" ] || fail "$n list messages delivered"
	[ "$(find "$1/$5/new" -type f | wc -l)" = 2 ] ||
	    fail "the other list's and the forged message are not both in the inbox"
}

# procmail: the example as ~/.procmailrc, run as procmail -m, with an inbox
sed "s|/usr/local/bin/patchdigest-lda|$prog|; s|^MAILDIR=.*|MAILDIR=$T/home/pm|" \
    "$PD_SRC/contrib/procmailrc.example" >"$T/procmailrc"
printf ':0\ninbox/\n' >>"$T/procmailrc"
mkdir "$T/home/pm"
for f in "$T"/in/* "$T/other-list" "$T/forged"; do
	HOME=$T/home procmail -m "$T/procmailrc" <"$f" || fail "procmail exit $?"
done
check "$T/home/pm" kvm - inbox inbox
grep -E 'Rescue|Error|Couldn' "$T/home/pm/procmail.log" && fail "procmail failure"

# maildrop: the example as ~/.mailfilter
maildirmake "$T/home/md"
for d in arm64 discussion other untagged; do maildirmake "$T/home/md/.kvm.$d"; done
sed "s|/usr/local/bin/patchdigest-lda|$prog|; s|^MAILDIR=.*|MAILDIR=\"$T/home/md\"|" \
    "$PD_SRC/contrib/maildroprc.example" >"$T/mailfilter"
printf 'to "%s/home/md"\n' "$T" >>"$T/mailfilter"
chmod 600 "$T/mailfilter"
for f in "$T"/in/* "$T/other-list" "$T/forged"; do
	HOME=$T/home maildrop "$T/mailfilter" <"$f" || fail "maildrop exit $?"
done
check "$T/home/md" .kvm . md .
echo ok
