#!/usr/bin/env python3
"""dnsq.py: DNS clients and a misbehaving upstream for the dns-hold tests,
for what dig cannot do. Standard library only.

    dnsq.py port                           a port free on 127.0.0.1 for UDP and TCP
    dnsq.py raw ADDR PORT HEX              one UDP datagram; prints the answer's
                                           hex or "timeout"
    dnsq.py ask ADDR PORT NAME TYPE        UDP query; prints RCODE and addresses
    dnsq.py pipeline ADDR PORT NAME...     all queries at once on one TCP
                                           connection; prints the names in the
                                           order their answers came
    dnsq.py flood ADDR PORT NAME N         N UDP queries, 64 at a time; prints
                                           how many were answered
    dnsq.py rtt ADDR PORT NAME N           N UDP queries one after the other
                                           (0.3 ms apart); prints each one's
                                           round trip in microseconds
    dnsq.py tcpraw ADDR PORT HEX           bytes on a TCP connection; prints
                                           "closed" or the first answer's hex
    dnsq.py upstream PORT MODE             a fake upstream server on 127.0.0.1
                                           (UDP); MODE: spoof (forged answers
                                           first, then the genuine one),
                                           malformed (broken answers with the
                                           right ID and question), oversize
                                           (100 A records whatever the
                                           client's size), silent, log (never
                                           answers; prints "PORT ID" for each
                                           query)
    dnsq.py burst ADDR PORT NAME N         N UDP queries at once, no waiting
"""
import os
import random
import select
import socket
import struct
import sys
import time


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


TYPES = {"A": 1, "AAAA": 28, "TXT": 16, "CNAME": 5}


def query(name, qtype, qid=None, bufsize=0):
    qid = random.randrange(65536) if qid is None else qid
    h = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1 if bufsize else 0)
    q = h + name_wire(name) + struct.pack(">HH", TYPES.get(qtype, 1), 1)
    if bufsize:
        q += b"\0" + struct.pack(">HHIH", 41, bufsize, 0, 0)
    return q


def read_name(m, off):
    labels, jumped, end = [], False, None
    while True:
        c = m[off]
        if c & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = (c & 0x3F) << 8 | m[off + 1]
            jumped = True
            continue
        if c == 0:
            if not jumped:
                end = off + 1
            return ".".join(labels), end
        labels.append(m[off + 1:off + 1 + c].decode("latin-1"))
        off += 1 + c


def parse(m):
    """(id, rcode, tc, qname, [addresses])"""
    qid, flags, qd, an = struct.unpack(">HHHH", m[:8])
    off, qname = 12, ""
    for _ in range(qd):
        qname, off = read_name(m, off)
        off += 4
    addrs = []
    for _ in range(an):
        _, off = read_name(m, off)
        t, _, _, rdlen = struct.unpack(">HHIH", m[off:off + 10])
        off += 10
        if t == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, m[off:off + 4]))
        elif t == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, m[off:off + 16]))
        off += rdlen
    return qid, flags & 15, bool(flags & 0x200), qname, addrs


def free_port():
    for _ in range(100):
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        u.bind(("127.0.0.1", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            t.bind(("127.0.0.1", port))
        except OSError:
            u.close()
            continue
        t.close()
        u.close()
        return port
    raise SystemExit("no free port")


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        k = s.recv(n - len(b))
        if not k:
            return None
        b += k
    return b


def main():
    cmd = sys.argv[1]
    if cmd == "port":
        print(free_port())
    elif cmd == "raw":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(3)
        s.sendto(bytes.fromhex(sys.argv[4]), (sys.argv[2], int(sys.argv[3])))
        try:
            print(s.recv(65535).hex())
        except socket.timeout:
            print("timeout")
    elif cmd == "ask":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        s.sendto(query(sys.argv[4], sys.argv[5]), (sys.argv[2], int(sys.argv[3])))
        try:
            _, rcode, tc, _, addrs = parse(s.recv(65535))
            print(rcode, " ".join(sorted(addrs)))
        except socket.timeout:
            print("timeout")
    elif cmd == "pipeline":
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=20)
        names = sys.argv[4:]
        out = b""
        for i, n in enumerate(names):
            q = query(n, "A", qid=i)
            out += struct.pack(">H", len(q)) + q
        s.sendall(out)
        for _ in names:
            h = recv_exact(s, 2)
            if h is None:
                print("closed")
                return
            m = recv_exact(s, struct.unpack(">H", h)[0])
            qid, rcode, _, qname, addrs = parse(m)
            print(names[qid], rcode, " ".join(sorted(addrs)))
            sys.stdout.flush()
    elif cmd == "flood":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((sys.argv[2], int(sys.argv[3])))
        total, answered, sent = int(sys.argv[5]), 0, 0
        while sent < total:
            window = min(64, total - sent)
            for i in range(window):
                s.send(query(sys.argv[4], "A", qid=(sent + i) & 0xFFFF))
            sent += window
            got = 0
            s.settimeout(2)
            try:
                while got < window:
                    s.recv(65535)
                    got += 1
            except socket.timeout:
                pass
            answered += got
        print(answered)
    elif cmd == "burst":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((sys.argv[2], int(sys.argv[3])))
        for i in range(int(sys.argv[5])):
            s.send(query(sys.argv[4], "A", qid=i & 0xFFFF))
            if i % 32 == 31:
                time.sleep(0.005)
    elif cmd == "rtt":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.connect((sys.argv[2], int(sys.argv[3])))
        s.settimeout(2)
        for i in range(int(sys.argv[5])):
            t = time.perf_counter_ns()
            s.send(query(sys.argv[4], "A", qid=i & 0xFFFF))
            try:
                s.recv(65535)
                print((time.perf_counter_ns() - t) // 1000)
            except socket.timeout:
                print("timeout")
            time.sleep(0.0003)
    elif cmd == "tcpraw":
        s = socket.create_connection((sys.argv[2], int(sys.argv[3])), timeout=5)
        try:
            s.sendall(bytes.fromhex(sys.argv[4]))
            h = recv_exact(s, 2)
            if h is None:
                print("closed")
                return
            print(recv_exact(s, struct.unpack(">H", h)[0]).hex())
        except (ConnectionResetError, BrokenPipeError):
            print("closed")
        except socket.timeout:
            print("timeout")
    elif cmd == "upstream":
        upstream(int(sys.argv[2]), sys.argv[3])


def answer_to(q, addr, qid=None, extra=b""):
    """A response to query q with one A record addr."""
    qid = struct.unpack(">H", q[:2])[0] if qid is None else qid
    _, qend = read_name(q, 12)
    question = q[12:qend + 4]
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton(addr)
    return struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0) + question + rr + extra


def upstream(port, mode):
    """Serves 127.0.0.1:port over UDP, answering like a hostile network."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        q, peer = s.recvfrom(65535)
        qid = struct.unpack(">H", q[:2])[0]
        if mode == "silent":
            continue
        if mode == "log":
            sys.stdout.write("%d %d\n" % (peer[1], qid))
            sys.stdout.flush()
            continue
        if mode == "oversize":
            many = answer_to(q, "192.0.2.1")
            rr = many[-16:]
            many = bytearray(many[:-16])
            many[6:8] = struct.pack(">H", 100)
            many += b"".join(rr[:12] + bytes([i]) + rr[13:] for i in range(100))
            s.sendto(bytes(many), peer)
            continue
        if mode == "spoof":
            # From another port with the right ID: the kernel drops it
            # on a connected socket, and dns-hold would too.
            other.sendto(answer_to(q, "198.51.100.1"), peer)
            # From the right address with every other ID nearby.
            for d in range(1, 40):
                s.sendto(answer_to(q, "198.51.100.2", qid=(qid + d) & 0xFFFF), peer)
            # The right ID and address but another question.
            bad = bytearray(answer_to(q, "198.51.100.3"))
            bad[13] = ord("y") if bad[13] == ord("z") else ord("z")
            s.sendto(bytes(bad), peer)
            time.sleep(0.05)
            s.sendto(answer_to(q, "192.0.2.99"), peer)
        elif mode == "malformed":
            good = answer_to(q, "192.0.2.98")
            _, qend = read_name(q, 12)
            cut = good[:qend + 4 + 6]  # the record cut short
            loop = bytearray(good)
            loop[qend + 4] = 0xC0  # the owner a pointer to itself
            loop[qend + 5] = qend + 4
            badlen = bytearray(good)
            badlen[qend + 4 + 11] = 5  # an A record of 5 bytes
            choice = q[12 + 1] % 3  # by the first letter of the name
            s.sendto([bytes(cut), bytes(loop), bytes(badlen)][choice], peer)


if __name__ == "__main__":
    main()
