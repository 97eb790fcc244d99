#!/bin/sh
# `make install` honours PREFIX and DESTDIR: programs, man pages and the
# sample files land under DESTDIR/PREFIX, and the installed programs run.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
make --no-print-directory -s -C "$PD_SRC" BUILD="$PD_BUILD" PREFIX=/opt/pd \
    DESTDIR="$tmp/root" install >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
top=$tmp/root/opt/pd
for f in bin/patchdigest bin/patchdigest-lda sbin/patchdigest-milter \
    share/man/man1/patchdigest.1 share/man/man1/patchdigest-lda.1 \
    share/man/man5/patchdigest.conf.5 share/man/man8/patchdigest-milter.8 \
    share/patchdigest/patchdigest.conf share/patchdigest/subsystems.rules; do
	[ -f "$top/$f" ] || { echo "missing after install: $f"; exit 1; }
done
for p in bin/patchdigest bin/patchdigest-lda sbin/patchdigest-milter; do
	[ -x "$top/$p" ] || { echo "not executable: $p"; exit 1; }
	"$top/$p" -V | grep -q "[0-9]" || { echo "$p -V printed no version"; exit 1; }
done
# The sample configuration names the rules where they were installed.
rules=$(awk '$1 == "SubsystemRules" { print $2 }' "$top/share/patchdigest/patchdigest.conf")
[ "$rules" = /opt/pd/share/patchdigest/subsystems.rules ] ||
    { echo "sample SubsystemRules: $rules"; exit 1; }
[ -f "$tmp/root$rules" ] || { echo "sample SubsystemRules not installed: $rules"; exit 1; }
# Nothing may be installed outside DESTDIR/PREFIX.
extra=$(cd "$tmp/root" && find . -type f ! -path './opt/pd/*')
[ -z "$extra" ] || { echo "installed outside PREFIX: $extra"; exit 1; }
# The systemd units of contrib/, with /usr/local changed to this PREFIX as
# their comment says: systemd-analyze finds nothing wrong in them (nor a
# program they name missing).  It prints what it finds, but some of it
# (a value it cannot parse, say) with exit status 0.
mkdir "$tmp/units"
for f in "$PD_SRC"/contrib/*.service "$PD_SRC"/contrib/*.timer; do
	sed "s|/usr/local/|$top/|g" "$f" >"$tmp/units/${f##*/}"
done
out=$(systemd-analyze verify --man=no "$tmp"/units/* 2>&1) &&
    [ -z "$out" ] || { echo "systemd-analyze verify:"; echo "$out"; exit 1; }
echo "install: ok"
