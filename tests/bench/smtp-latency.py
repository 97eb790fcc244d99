#!/usr/bin/env python3
"""Per-message SMTP latency for `make bench`.

    smtp-latency.py HOST PORT RCPT FILE...

Sends every FILE over ONE SMTP session and times each transaction (MAIL,
RCPT, DATA, the end-of-data dot and its 250 reply: the milter's end-of-
message work happens before that reply).  Prints "p50 p90 mean" in
milliseconds on one line.
"""
import smtplib
import statistics
import sys
import time


def main():
    if len(sys.argv) < 5:
        sys.stderr.write("usage: smtp-latency.py HOST PORT RCPT FILE...\n")
        return 64
    host, port, rcpt = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    msgs = []
    for path in sys.argv[4:]:
        with open(path, "rb") as f:
            # SMTP's lines end in CRLF; Sendmail refuses a bare LF
            msgs.append(f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    times = []
    with smtplib.SMTP(host, port, timeout=60) as s:
        s.ehlo("bench.localhost")
        for m in msgs:
            t0 = time.perf_counter()
            s.sendmail("bench@localhost", [rcpt], m)
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    print("%.3f %.3f %.3f" % (statistics.median(times), p90,
                              statistics.mean(times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
