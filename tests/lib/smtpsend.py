#!/usr/bin/env python3
"""Send message files over SMTP to a test MTA on loopback.

usage: smtpsend.py [-p PORT] [-s SESSIONS] [-t RCPT] FILE...
       smtpsend.py --unique N --out DIR FILE...   (write N copies with
           unique Message-IDs, cycling through FILEs, then send nothing)

Files are spread round-robin over SESSIONS parallel connections; each
connection sends its share in order.  Exits non-zero if any message is
refused.  Only 127.0.0.1 is ever contacted.
"""
import argparse
import os
import re
import smtplib
import sys
import threading

MSGID = re.compile(rb'^message-id:[^\n]*\n(?:[ \t][^\n]*\n)*', re.I | re.M)


def unique_copies(files, n, out):
    os.makedirs(out, exist_ok=True)
    for i in range(n):
        raw = open(files[i % len(files)], 'rb').read()
        head, sep, body = raw.partition(b'\n\n')
        new = b'Message-ID: <pdtest.%d.%d@unique.invalid>\n' % (i, os.getpid())
        head, k = MSGID.subn(lambda m: new, head + b'\n', count=1)
        if k == 0:
            head = new + head
        with open(os.path.join(out, '%06d.eml' % i), 'wb') as f:
            f.write(head.rstrip(b'\n') + b'\n' + sep + body)


def session(port, rcpt, files, errors):
    try:
        with smtplib.SMTP('127.0.0.1', port, timeout=120) as s:
            s.ehlo('pdtest.localhost')
            for path in files:
                raw = open(path, 'rb').read()
                if raw.startswith(b'From '):
                    raw = raw.split(b'\n', 1)[1]
                # SMTP's lines end in CRLF; Sendmail refuses a bare LF
                raw = raw.replace(b'\r\n', b'\n').replace(b'\n', b'\r\n')
                refused = s.sendmail('pdtest-sender@localhost', [rcpt], raw)
                if refused:
                    errors.append('%s: %r' % (path, refused))
    except Exception as e:  # report and fail, whatever broke
        errors.append('session: %s' % e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-p', '--port', type=int, default=2525)
    ap.add_argument('-s', '--sessions', type=int, default=1)
    ap.add_argument('-t', '--to', default='pdtest@localhost')
    ap.add_argument('--unique', type=int)
    ap.add_argument('--out')
    ap.add_argument('files', nargs='+')
    a = ap.parse_args()
    if a.unique is not None:
        unique_copies(a.files, a.unique, a.out)
        return 0
    shares = [a.files[i::a.sessions] for i in range(a.sessions)]
    errors = []
    threads = [threading.Thread(target=session, args=(a.port, a.to, sh, errors))
               for sh in shares if sh]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        print('smtpsend: ' + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == '__main__':
    sys.exit(main())
