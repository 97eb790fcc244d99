#!/usr/bin/env python3
"""Check what procmail/maildrop delivered through patchdigest-lda.

usage: lda-check.py subsystem|untagged|either MAILROOT SOURCE...

Every source must be delivered once (to MAILROOT/FOLDER/new), and:
subsystem: tagged (tags on top), in the folder its X-Patch-Subsystem names
  ("sub-" + the name with [^A-Za-z0-9.-] -> "_", else "no-subsystem"), byte
  for byte the source once the X-Patch-* header lines are taken out.
untagged: in "untagged", byte for byte the source.
either: tagged in "tagged" as for subsystem, or untagged in "untagged".

procmail ends every message it delivers with an empty line: trailing empty
lines are ignored on both sides.  Prints the problems, exits 1 if any.
"""
import os
import re
import sys
from collections import Counter


def untag(raw):
    """The message without the X-Patch-* lines (and continuations) of its header."""
    out, dropping, in_header = [], False, True
    for line in raw.splitlines(keepends=True):
        if in_header:
            if line in (b"\n", b"\r\n"):
                in_header = False
            elif line[:1] in (b" ", b"\t"):
                if dropping:
                    continue
            else:
                dropping = line[:8].lower() == b"x-patch-"
                if dropping:
                    continue
        out.append(line)
    return b"".join(out)


def trim(raw):
    return re.sub(rb"(\r?\n)+\Z", b"\n", raw) if raw.strip() else raw


def header_value(raw, name):
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    m = re.search(rb"^" + re.escape(name) + rb": *(.*?)\r?$", head, re.M | re.I)
    return m.group(1).decode("ascii") if m else None


def main():
    mode, root, sources = sys.argv[1], sys.argv[2], sys.argv[3:]
    problems = []
    want = Counter()
    for s in sources:
        with open(s, "rb") as f:
            want[trim(f.read())] += 1
    got = Counter()
    for folder in sorted(os.listdir(root)):
        new = os.path.join(root, folder, "new")
        if not os.path.isdir(new):
            continue
        for name in sorted(os.listdir(new)):
            path = os.path.join(new, name)
            with open(path, "rb") as f:
                raw = f.read()
            tagged = raw.startswith(b"X-Patch-Kind: ")
            if mode == "subsystem":
                sub = header_value(raw, b"X-Patch-Subsystem")
                expect = ("sub-" + re.sub(r"[^A-Za-z0-9.-]", "_", sub)
                          if sub else "no-subsystem")
            elif mode == "untagged":
                expect = "untagged"
            else:
                expect = "tagged" if tagged else "untagged"
            if folder != expect:
                problems.append(f"{path}: in {folder}, not {expect}")
            if tagged != (expect != "untagged"):
                problems.append(f"{path}: tagged is {tagged}")
            if untag(raw) != raw and not tagged:
                problems.append(f"{path}: X-Patch-* headers below the top")
            got[trim(untag(raw) if tagged else raw)] += 1
    if sum(got.values()) != len(sources):
        problems.append(f"{sum(got.values())} messages delivered, {len(sources)} sent")
    if got != want:
        problems.append(f"{sum((want - got).values())} sources not delivered as sent, "
                        f"{sum((got - want).values())} deliveries not from a source")
    for p in problems[:20]:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
