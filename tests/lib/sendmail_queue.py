#!/usr/bin/env python3
"""Write each message of a Sendmail queue as a mail file, as Sendmail would
deliver it.

usage: sendmail_queue.py QUEUEDIR OUTDIR
For every qfID/dfID pair: OUTDIR/ID holds the header fields of the qf file
(its H lines, continuation lines joined back) and, after a blank line, the
df file, the body.  Fields Sendmail adds only for some mailers (H?flags?,
such as Return-Path) are left out.  Prints the number of messages written.
"""
import os
import sys


def headers(qf):
    out, in_h = [], False
    for line in qf.split(b'\n'):
        if line[:1] in (b' ', b'\t'):
            if in_h:
                out.append(line)
            continue
        in_h = line.startswith(b'H')
        if not in_h:
            continue
        field = line[1:]
        if field.startswith(b'??'):
            field = field[2:]
        elif field.startswith(b'?'):
            in_h = False	# conditional on the mailer's flags
            continue
        out.append(field)
    return out


def main():
    qdir, odir = sys.argv[1], sys.argv[2]
    os.makedirs(odir, exist_ok=True)
    n = 0
    for name in sorted(os.listdir(qdir)):
        if not name.startswith('qf'):
            continue
        qid = name[2:]
        with open(os.path.join(qdir, name), 'rb') as f:
            head = headers(f.read())
        with open(os.path.join(qdir, 'df' + qid), 'rb') as f:
            body = f.read()
        with open(os.path.join(odir, qid), 'wb') as f:
            f.write(b'\n'.join(head) + b'\n\n' + body)
        n += 1
    print(n)
    return 0


if __name__ == '__main__':
    sys.exit(main())
