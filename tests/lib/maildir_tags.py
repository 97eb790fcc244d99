#!/usr/bin/env python3
"""Print the X-Patch-* tags of every message in a Maildir's new/.

usage: maildir_tags.py [--placed] DIR
One line per message: Message-ID, then each X-Patch-* field as
Name=value (unfolded), tab-separated, sorted by Message-ID.  Exits 1 if a
message carries any X-Patch-* field more than once, or with --placed if
the tags are not together, in order, right below the MTA's first
Received: field, or a tag's first line is not "Name: value" with one blank
(or "Name:" alone, the value folded) and no blank at its end.
"""
import email.parser
import email.policy
import os
import re
import sys

TAG_LINE = re.compile(rb'X-Patch-[A-Za-z]+:(?: [^ \t\r\n][^\r\n]*)?\r?')


ORDER = ['x-patch-kind', 'x-patch-series', 'x-patch-subsystem', 'x-patch-project']


def placed(h):
    keys = [k.lower() for k in h.keys()]
    if 'received' not in keys or 'x-patch-kind' not in keys:
        return False
    at = keys.index('received') + 1
    tags = [k for k in keys if k.startswith('x-patch-')]
    return (keys[at:at + len(tags)] == tags and
            tags == [k for k in ORDER if k in tags])


def well_spaced(path):
    with open(path, 'rb') as f:
        head = f.read().split(b'\n\n', 1)[0]
    for line in head.split(b'\n'):
        if line.lower().startswith(b'x-patch-') and (not TAG_LINE.fullmatch(line) or
                                                     line.rstrip(b'\r')[-1:] in (b' ', b'\t')):
            print('%s: tag line %r' % (os.path.basename(path), line), file=sys.stderr)
            return False
    return True


def main():
    args = sys.argv[1:]
    check_place = args[0] == '--placed'
    d = args[-1]
    out, bad = [], 0
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), 'rb') as f:
            h = email.parser.BytesHeaderParser(policy=email.policy.compat32).parse(f)
        tags = [(k, ' '.join(str(v).split())) for k, v in h.items()
                if k.lower().startswith('x-patch-')]
        names = [k.lower() for k, _ in tags]
        if len(names) != len(set(names)):
            print('%s: repeated X-Patch fields: %s' % (name, names), file=sys.stderr)
            bad = 1
        if check_place and names and not placed(h):
            print('%s: tags not right below Received: %s' % (name, list(h.keys())[:8]),
                  file=sys.stderr)
            bad = 1
        if check_place and names and not well_spaced(os.path.join(d, name)):
            bad = 1
        msgid = ' '.join(str(h.get('Message-ID', '')).split())
        out.append('\t'.join([msgid] + ['%s=%s' % t for t in sorted(tags)]))
    for line in sorted(out):
        print(line)
    return bad


if __name__ == '__main__':
    sys.exit(main())
