#!/usr/bin/env python3
"""routefirst.py: does the route reach BIRD before the client has its answer?
Standard library only; shared by tests/dns-hold/route.test and
bench/dns-hold-route.

    routefirst.py ask ADDR PORT [GAP_MS]
        reads "NAME TYPE" lines on stdin and asks each over UDP, one after
        the other (GAP_MS apart, default 0), with a generous timeout; prints
        one line per query:
            NAME TYPE RCODE RECV_US ADDRESS...
        RECV_US is the kernel's receive time of the answer (SO_TIMESTAMPNS,
        the wall clock, microseconds since the epoch): the earliest moment
        the client had it. A query unanswered after 10 s prints RCODE
        "timeout" and RECV_US 0.

    routefirst.py stream ADDR PORT GAP_MS STOPFILE
        reads names ("NAME TYPE" lines) on stdin and asks them over UDP in
        turn, again and again, GAP_MS apart, each with 5 s to answer, until
        STOPFILE exists; then prints
            asked N answered N unanswered N max_ms N

    routefirst.py check BIRDLOG ANSWERS [MIN_PERCENT]
        for every address of every answer in ANSWERS (the output of ask),
        the first time BIRD's route log (timeformat log "%F %T.%6f", debug
        { routes }) says the /32 or /128 was added; an address is "before"
        when BIRD added it before the answer's RECV_US. Prints the failures
        (late or never in BIRD) and one summary line; exits 0 when the share
        of answers whose every address was in BIRD first is at least
        MIN_PERCENT (default 100).

BIRD's log time is its wall clock read once per loop iteration, at its first
message of the iteration: after it read the UPDATE from its socket, at or
before the route's import. The client's time is the kernel's, at the
answer's arrival in its socket buffer. Both are CLOCK_REALTIME on one
machine.
"""
import re
import select
import socket
import struct
import sys
import time
from datetime import datetime

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from dnsq import parse, query  # noqa: E402

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; Python lacks the name


def ask(addr, port, gap_ms):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    s.connect((addr, port))
    qid = 0
    for line in sys.stdin:
        f = line.split()
        if len(f) < 2:
            continue
        name, qtype = f[0], f[1]
        qid = (qid + 1) & 0xFFFF
        s.send(query(name, qtype, qid=qid))
        end = time.monotonic() + 10
        out = "%s %s timeout 0" % (name, qtype)
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], end - time.monotonic())
            if not r:
                break
            m, anc, _, _ = s.recvmsg(65535, socket.CMSG_SPACE(16))
            us = None
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", data[:16])
                    us = sec * 1000000 + nsec // 1000
            if us is None:
                us = time.time_ns() // 1000
            got, rcode, _, _, addrs = parse(m)
            if got != qid:
                continue
            out = "%s %s %d %d %s" % (name, qtype, rcode, us, " ".join(addrs))
            break
        print(out.rstrip())
        sys.stdout.flush()
        if gap_ms:
            time.sleep(gap_ms / 1000)


def stream(addr, port, gap_ms, stopfile):
    import os
    names = [line.split()[:2] for line in sys.stdin if len(line.split()) >= 2]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((addr, port))
    asked = answered = 0
    worst = 0.0
    while not os.path.exists(stopfile):
        name, qtype = names[asked % len(names)]
        qid = asked & 0xFFFF
        asked += 1
        t = time.monotonic()
        s.send(query(name, qtype, qid=qid))
        end = t + 5
        while time.monotonic() < end:
            r, _, _ = select.select([s], [], [], end - time.monotonic())
            if not r:
                break
            got = parse(s.recv(65535))
            if got[0] == qid:
                answered += 1
                worst = max(worst, time.monotonic() - t)
                break
        time.sleep(gap_ms / 1000)
    print("asked %d answered %d unanswered %d max_ms %d"
          % (asked, answered, asked - answered, worst * 1000))


def bird_added(path):
    """{prefix: first time added, microseconds}"""
    added = {}
    pat = re.compile(r"^(\S+ \S+) <TRACE> \S+ > added \[?\w*\]? ?(\S+/\d+)")
    for line in open(path, errors="replace"):
        m = pat.match(line)
        if not m or m.group(2) in added:
            continue
        t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S.%f")
        added[m.group(2)] = int(t.timestamp()) * 1000000 + t.microsecond
    return added


def check(birdlog, answers, min_percent):
    added = bird_added(birdlog)
    total = ok = addresses = 0
    margins = []
    for line in open(answers):
        f = line.split()
        if len(f) < 4:
            continue
        total += 1
        name, qtype, rcode, recv = f[0], f[1], f[2], int(f[3])
        addrs = f[4:]
        if rcode != "0" or not addrs:
            print("no answer: %s %s (rcode %s)" % (name, qtype, rcode))
            continue
        good = True
        for a in addrs:
            addresses += 1
            p = a + ("/128" if ":" in a else "/32")
            if p not in added:
                print("never in BIRD: %s %s %s" % (name, qtype, p))
                good = False
                continue
            margins.append(recv - added[p])
            if added[p] >= recv:
                print("late: %s %s %s in BIRD %d us after the client had the answer"
                      % (name, qtype, p, added[p] - recv))
                good = False
        ok += good
    margins.sort()

    def q(f):
        return margins[min(len(margins) - 1, int(f * len(margins)))] if margins else 0
    pct = 100.0 * ok / total if total else 0.0
    print("%d answers, %d addresses: %d answers (%.2f%%) had every route in BIRD first;"
          " BIRD ahead of the client by (us) min %d median %d p99 %d"
          % (total, addresses, ok, pct, q(0), q(0.5), q(0.99)))
    return total > 0 and pct >= min_percent


def main():
    if sys.argv[1] == "ask":
        ask(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0)
    elif sys.argv[1] == "stream":
        stream(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    elif sys.argv[1] == "check":
        sys.exit(0 if check(sys.argv[2], sys.argv[3],
                            float(sys.argv[4]) if len(sys.argv) > 4 else 100.0) else 1)


if __name__ == "__main__":
    main()
