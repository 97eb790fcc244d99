#!/usr/bin/env python3
"""The tags patchdigest-milter -t computes for each original message.

usage: expected_tags.py MILTER CONFIG FIELDS FILE...
FIELDS: comma-separated tag names without the X-Patch- prefix (Kind,...).
Prints, sorted: Message-ID, then X-Patch-Name=value for the FIELDS, tab-
separated -- the format of maildir_tags.py after filter_tags().
Also usable as a module: filter_tags(line, fields).
"""
import email
import subprocess
import sys


def filter_tags(line, fields):
    parts = line.rstrip('\n').split('\t')
    keep = ['X-Patch-%s=' % f.lower() for f in fields]
    tags = [p for p in parts[1:] if any(p.lower().startswith(k) for k in keep)]
    return '\t'.join([parts[0]] + sorted(tags, key=str.lower))


def main():
    milter, conf, fields = sys.argv[1], sys.argv[2], sys.argv[3].split(',')
    out = []
    for path in sys.argv[4:]:
        with open(path, 'rb') as f:
            m = email.message_from_binary_file(f)
        msgid = ' '.join(str(m.get('Message-ID', '')).split())
        r = subprocess.run([milter, '-c', conf, '-t', path], capture_output=True,
                           check=True)
        tags = []
        for line in r.stdout.decode().splitlines():
            name, _, value = line.partition(': ')
            if not line.startswith(('\t', ' ')):
                tags.append([name, value])
            else:
                tags[-1][1] += ' ' + line.strip()
        line = '\t'.join([msgid] + ['%s=%s' % (n, ' '.join(v.split())) for n, v in tags])
        out.append(filter_tags(line, fields))
    for line in sorted(out):
        print(line)


if __name__ == '__main__':
    main()
