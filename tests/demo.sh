#!/bin/sh
# make demo: import the sample mail shipped in tests/data into a temporary
# store, print the digest of that range, and show how to do the same with a
# real archive.
set -eu
cd "$(dirname "$0")/.."
build=${BUILD:-build}
pd="$build/patchdigest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'SubsystemRules %s/etc/subsystems.rules\n' "$(pwd)" >"$tmp/patchdigest.conf"

echo "== patchdigest import tests/data/sample.mbox (store: a temporary directory)"
"$pd" -c "$tmp/patchdigest.conf" -D "$tmp/db" import tests/data/sample.mbox
echo
echo "== patchdigest digest"
echo
"$pd" -c "$tmp/patchdigest.conf" -D "$tmp/db" digest
echo "(patchdigest digest --html prints the HTML alternative of the mail;"
echo " patchdigest send mails both, see etc/patchdigest.conf)"
echo
archive=../shared/corpus/archives/kvmarm-2019-2023.mbox.xz
echo "== a real list archive"
if [ -f "$archive" ]; then
	echo "$archive is here; to digest all of it (21,000 messages: seconds):"
else
	echo "$archive is not here; when it is, run:"
fi
cat <<EOT

    mkdir -p /tmp/kvmarm
    printf 'SubsystemRules %s/etc/subsystems.rules\n' "\$PWD" >/tmp/kvmarm/conf
    $pd -c /tmp/kvmarm/conf -D /tmp/kvmarm/db import $archive
    $pd -c /tmp/kvmarm/conf -D /tmp/kvmarm/db digest | less

EOT
