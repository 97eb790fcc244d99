#!/bin/sh
# import reads every input form to the same messages; bad input, a missing
# store and bad options give one-line errors and a non-zero exit.
set -eu
PD="$PD_BUILD/patchdigest"
C="$PD_SHARED/corpus"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
: > "$T/empty.conf"
pd() { "$PD" -c "$T/empty.conf" "$@"; }
summary() { tail -n 1 "$1"; }

# The b4 thread as an mbox, gzipped, xz'd, on stdin, as .eml files, as a
# Maildir: always 5 messages, the same counters.
orig="$C/b4/originals/trailers-followup-with-cover.mbox"
pd -D "$T/mbox" import "$orig" >"$T/o1"
test "$(summary "$T/o1")" = "read 5, stored 5, duplicates 0, unparseable 0"
pd -D "$T/mbox" stats --json >"$T/ref.json"
gzip -c "$orig" >"$T/t.mbox.gz"
xz -c "$orig" >"$T/t.mbox.xz"
mkdir -p "$T/eml" "$T/md/cur" "$T/md/new" "$T/md/tmp"
for f in "$C"/b4/trailers-followup-with-cover.mbox.*.eml; do
	cp "$f" "$T/eml/"
	cp "$f" "$T/md/new/$(basename "$f" .eml):2,"
done
cp "$T/md/new/"*01* "$T/md/cur/" && rm "$T/md/new/"*01*
for form in gz xz stdin eml maildir; do
	case $form in
	gz) pd -D "$T/$form" import "$T/t.mbox.gz" >"$T/o" ;;
	xz) pd -D "$T/$form" import "$T/t.mbox.xz" >"$T/o" ;;
	stdin) pd -D "$T/$form" import - <"$orig" >"$T/o" ;;
	eml) pd -D "$T/$form" import "$T/eml" >"$T/o" ;;
	maildir) pd -D "$T/$form" import "$T/md" >"$T/o" ;;
	esac
	test "$(summary "$T/o")" = "read 5, stored 5, duplicates 0, unparseable 0"
	pd -D "$T/$form" stats --json >"$T/$form.json"
	python3 - "$T/ref.json" "$T/$form.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
a["range"].pop("to"); b["range"].pop("to")   # arrival order may differ
assert a == b, (a, b)
PY
done

# mboxrd: ">From " lines are unescaped before parsing.
pd -D "$T/rd" import "$C/git-t5100/originals/sample.mboxrd" >"$T/o"
test "$(summary "$T/o")" = "read 2, stored 2, duplicates 0, unparseable 0"

# An mbox after a blank line or a BOM, an mbox from a pipe or a FIFO given
# as a path: the same 5 messages.  A single message with a body line
# "From ..." after a blank line, piped or as a file: one message, whole.
{ echo; cat "$orig"; } >"$T/lead.mbox"
{ printf '\357\273\277'; cat "$orig"; } >"$T/bom.mbox"
mkfifo "$T/fifo"
for form in lead bom pipe fifo; do
	case $form in
	lead|bom) pd -D "$T/db-$form" import "$T/$form.mbox" >"$T/o" ;;
	pipe) cat "$orig" | pd -D "$T/db-$form" import /dev/stdin >"$T/o" ;;
	fifo) cat "$orig" >"$T/fifo" & pd -D "$T/db-$form" import "$T/fifo" >"$T/o"; wait ;;
	esac
	test "$(summary "$T/o")" = "read 5, stored 5, duplicates 0, unparseable 0" ||
	    { echo "$form: $(summary "$T/o")"; exit 1; }
done
one="$C/b4/trailers-followup-with-cover.mbox.02.eml"
{ sed '/^$/q' "$one"; printf 'Intro.\n\nFrom the point of view of a guest.\n'
  sed '1,/^$/d' "$one"; } >"$T/from-line.eml"
pd -D "$T/one1" import - <"$T/from-line.eml" >"$T/o"
test "$(summary "$T/o")" = "read 1, stored 1, duplicates 0, unparseable 0"
pd -D "$T/one2" import "$T/from-line.eml" >"$T/o"
test "$(summary "$T/o")" = "read 1, stored 1, duplicates 0, unparseable 0"

# A Maildir is read in arrival order, new/ and cur/ together, by the
# delivery time its names start with (numbers by value: 9 digits before
# 10, M99 before M100): as the same mail in an mbox in that order.
mkdir -p "$T/md3/new" "$T/md3/cur" "$T/md3/tmp"
for i in 1 2 3; do
	printf 'From: A <a@example.org>\nSubject: [PATCH] x%s: fix %s\n' $i $i
	printf 'Message-ID: <order%s@example.org>\n\nFix.\n' $i
done | awk '/^From: / { n++ } { print > (dir "/m" n) }' dir="$T/md3"
mv "$T/md3/m1" "$T/md3/cur/999999999.M5P1.host:2,S"
mv "$T/md3/m2" "$T/md3/new/1000000000.M99P1.host"
mv "$T/md3/m3" "$T/md3/cur/1000000000.M100P1.host:2,S"
for f in "$T/md3/cur/999999999.M5P1.host:2,S" "$T/md3/new/1000000000.M99P1.host" \
    "$T/md3/cur/1000000000.M100P1.host:2,S"; do
	echo "From a@example.org Thu Jan  1 00:00:00 1970"; cat "$f"; echo
done >"$T/order.mbox"
pd -D "$T/db-order-md" import "$T/md3" >"$T/o"
pd -D "$T/db-order-mbox" import "$T/order.mbox" >"$T/o"
pd -D "$T/db-order-md" digest >"$T/d-md"
pd -D "$T/db-order-mbox" digest >"$T/d-mbox"
cmp -s "$T/d-md" "$T/d-mbox" || { diff "$T/d-mbox" "$T/d-md"; exit 1; }
grep -q '^New:  x3: fix 3' "$T/d-md"

# A Maildir holding a subdirectory and a dangling link: every message is
# read, the link named in an error, exit 1.  A directory of mailboxes is
# read; one with none of them is an error.
cp -r "$T/md" "$T/md2"
mkdir "$T/md2/cur/subdir"
ln -s "$T/nowhere" "$T/md2/cur/0dangling"
rc=0
pd -D "$T/db-md2" import "$T/md2" >"$T/o" 2>"$T/e" || rc=$?
test "$rc" = 1 && grep -q '0dangling: No such file' "$T/e"
test "$(summary "$T/o")" = "read 5, stored 5, duplicates 0, unparseable 0"
mkdir "$T/boxes" "$T/nothing"
cp "$orig" "$T/boxes/a.mbox"
cp "$T/t.mbox.xz" "$T/boxes/b.mbox.xz"
pd -D "$T/db-boxes" import "$T/boxes" >"$T/o"
test "$(summary "$T/o")" = "read 10, stored 5, duplicates 5, unparseable 0"
if pd -D "$T/db-nothing" import "$T/nothing" 2>"$T/e"; then exit 1; fi
grep -q 'nothing: no Maildir, and no .eml or .mbox file' "$T/e"

# Started with SIGCHLD ignored (which children inherit), the decompressor
# is still waited for; gzip's warning for trailing garbage (exit 2) loses
# nothing.
(trap '' CHLD; pd -D "$T/db-chld" import "$T/t.mbox.xz") >"$T/o"
test "$(summary "$T/o")" = "read 5, stored 5, duplicates 0, unparseable 0"
{ cat "$T/t.mbox.gz"; echo trailing garbage; } >"$T/garbage.mbox.gz"
pd -D "$T/db-garbage" import "$T/garbage.mbox.gz" >"$T/o" 2>"$T/e"
test "$(summary "$T/o")" = "read 5, stored 5, duplicates 0, unparseable 0"

# A truncated .xz: the messages before the cut stay stored, the one it cut
# off is not (a later import of the whole file would take it for a
# duplicate); a clear error, exit 1.
xz -dc "$C/archives/kvmarm-2019-2023.mbox.xz" 2>/dev/null | head -c 3000000 |
	xz -0 -c >"$T/cut.xz" || true
head -c 200000 "$T/cut.xz" >"$T/trunc.mbox.xz"
if pd -D "$T/cut" import "$T/trunc.mbox.xz" >"$T/o" 2>"$T/e"; then
	echo "truncated input accepted"; exit 1
fi
cat "$T/e"
grep -q 'trunc.mbox.xz: corrupt input' "$T/e"
n=$(sed -n 's/^read \([0-9]*\), stored \([0-9]*\),.*/\2/p' "$T/o")
test "$n" -gt 0
xz -dc "$T/trunc.mbox.xz" 2>/dev/null | pd -D "$T/cutref" import - >"$T/o2" || true
r=$(sed -n 's/^read \([0-9]*\),.*/\1/p' "$T/o2")
test "$n" -eq $((r - 1)) || { echo "stored $n of the $r messages begun"; exit 1; }
pd -D "$T/cut" stats --json | python3 -c "
import json, sys; assert json.load(sys.stdin)['messages'] == $n"

# Read commands never create a store; all errors are one line, exit non-zero.
for cmd in "stats" "ranges" "show x@y"; do
	# shellcheck disable=SC2086
	if pd -D "$T/none" $cmd >"$T/o" 2>"$T/e"; then
		echo "$cmd on a missing store succeeded"; exit 1
	fi
	test "$(wc -l <"$T/e")" -eq 1
	grep -q 'patchdigest: store .*none' "$T/e"
	test ! -e "$T/none"
done
if pd -D "$T/mbox" import --bogus "$orig" 2>"$T/e"; then exit 1; fi
if pd -D "$T/mbox" stats --bogus 2>"$T/e"; then exit 1; fi
if pd -D "$T/mbox" import "$T/does-not-exist" >"$T/o" 2>"$T/e"; then exit 1; fi
grep -q 'does-not-exist: No such file' "$T/e"
if pd -D "$T/mbox" show nosuch@example.org 2>"$T/e"; then exit 1; fi
grep -q 'nosuch@example.org: ' "$T/e"
# A mistyped path among good ones: one line, and no store is created.
if pd -D "$T/fresh" import "$orig" "$T/does-not-exist" >"$T/o" 2>"$T/e"; then exit 1; fi
test "$(wc -l <"$T/e")" -eq 1
test ! -e "$T/fresh"
# Bad usage of any command exits 64 with a usage line, as patchdigest(1) says.
for args in "" nosuch import "import --bogus x" "ranges extra" show \
    "stats --bogus" "digest --bogus" "send extra" parse classify; do
	rc=0
	# shellcheck disable=SC2086
	pd $args >/dev/null 2>"$T/e" || rc=$?
	test "$rc" = 64 || { echo "'$args' exits $rc, not 64"; exit 1; }
	grep -q '^usage: patchdigest' "$T/e"
done
# The usage lines are patchdigest(1)'s SYNOPSIS (parse and classify left
# out the -c and -D they take): the whole of it without a command, each
# command's own lines after a bad option.
python3 - "$PD" "$PD_SRC/man/patchdigest.1" <<'PY'
import re, subprocess, sys
pd, man = sys.argv[1:3]

def render(macro):	# one mdoc line of the SYNOPSIS, as mandoc shows it
    words = macro[1:].split()
    op = words[0] == "Op"
    out, flag = [], False
    for w in words[1 if op else 0:]:
        if w == "Fl":
            flag = True
        elif w not in ("Ar", "Cm"):
            out.append("-" + w if flag else w)
            flag = False
    text = " ".join(out)
    return "[" + text + "]" if op else text

synopsis = []
text = open(man).read()
for line in text.split(".Sh SYNOPSIS\n")[1].split(".Sh ")[0].splitlines():
    if line == ".Nm":
        synopsis.append("patchdigest")
    elif line != ".Pp":
        synopsis[-1] += " " + render(line)
synopsis = [re.sub(r" ?\| ?", "|", l) for l in synopsis]

def usage(*args):
    err = subprocess.run([pd, *args], stderr=subprocess.PIPE, text=True).stderr
    return [re.sub(r"^(usage:)? *", "", l) for l in err.splitlines()
            if re.match(r"(usage:)? *patchdigest ", l)]

assert usage() == synopsis, (usage(), synopsis)
for cmd in sorted({l.split()[1] for l in synopsis[1:]}):
    want = [l for l in synopsis[1:] if l.split()[1] == cmd]
    assert usage(cmd, "--bogus") == want, (cmd, usage(cmd, "--bogus"), want)
PY
# -V before the command and after it; a -c after the command is the one read.
"$PD" -V | grep -q '^patchdigest [0-9]'
"$PD" stats -V | grep -q '^patchdigest [0-9]'
printf 'Bogus 1\n' >"$T/bad.conf"
"$PD" -c "$T/bad.conf" -D "$T/mbox" stats -c "$T/empty.conf" >/dev/null
# A damaged store file.
mkdir "$T/bad"
head -c 65536 /dev/urandom >"$T/bad/data.mdb"
if pd -D "$T/bad" stats 2>"$T/e"; then exit 1; fi
cat "$T/e"
test "$(wc -l <"$T/e")" -eq 1
echo ok
