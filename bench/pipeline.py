#!/usr/bin/env python3
"""pipeline.py: load and probes for bench/pipeline.

    pipeline.py frames FILE N ZONE          Frame Streams file of N answers
    pipeline.py dns PORT ZONE FIRST COUNT RATE
    pipeline.py tap SOCKET ZONE FIRST COUNT RATE
    pipeline.py load SOCKET FILE RATE SECONDS

Answer i is "h<i>.ZONE A 198.18.x.y", the i-th address of 198.18.0.0/15
(i < 131072), as a DNSTap CLIENT_RESPONSE like unbound's. "dns" asks a
resolver at 127.0.0.1:PORT for h<FIRST>.. one at a time, RATE per second,
and prints each answer's address and the wall-clock time it arrived. "tap"
sends the same answers as DNSTap frames straight to dnstap-read's socket
(bidirectional handshake) and prints each address with the time its frame
was sent. "load" sends the frames of FILE over and over at RATE frames per
second (in batches every 10 ms) for SECONDS, then prints how many it sent.
"""
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "dnstap-read"))
from fsend import frames_of  # noqa: E402  (the Frame Streams file reader)

CT = b"protobuf:dnstap.Dnstap"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    if wire == 0:
        return key + varint(payload)
    if wire == 5:
        return key + struct.pack("<I", payload)
    return key + varint(len(payload)) + payload


def wire_name(name):
    out = b""
    for label in name.split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def addr_of(i):
    return (198, 18 + (i >> 16), (i >> 8) & 0xFF, i & 0xFF)


def frame(i, zone, t):
    name = "h%d.%s" % (i, zone)
    dns = (struct.pack(">HHHHHH", i & 0xFFFF, 0x8180, 1, 1, 0, 0) +
           wire_name(name) + struct.pack(">HH", 1, 1) +
           struct.pack(">HHHIH", 0xC00C, 1, 1, 300, 4) + bytes(addr_of(i)))
    msg = (field(1, 0, 6) + field(2, 0, 1) + field(3, 0, 1) +
           field(4, 2, bytes([127, 0, 0, 1])) +
           field(5, 2, bytes([127, 0, 0, 1])) +
           field(6, 0, 40000 + i % 20000) + field(7, 0, 53) +
           field(12, 0, int(t)) + field(13, 5, int(t % 1 * 1e9)) +
           field(14, 2, dns))
    f = field(14, 2, msg) + field(15, 0, 1)
    return struct.pack(">I", len(f)) + f


def control(ctype, ct=True):
    p = struct.pack(">I", ctype)
    if ct:
        p += struct.pack(">II", 1, len(CT)) + CT
    return struct.pack(">II", 0, len(p)) + p


def tap_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(control(4))  # READY
    s.recv(4096)  # ACCEPT
    s.sendall(control(2))  # START
    return s


def frames_cmd(path, n, zone):
    t = time.time()
    with open(path, "wb") as f:
        f.write(control(2))
        for i in range(n):
            f.write(frame(i, zone, t))
        f.write(control(3, False))


def query(qid, name):
    return (struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) +
            wire_name(name) + struct.pack(">HH", 1, 1))


def paced(first, count, rate, step):
    t = time.time()
    for i in range(first, first + count):
        step(i)
        t += 1 / rate
        if t > time.time():
            time.sleep(t - time.time())


def dns_cmd(port, zone, first, count, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.connect(("127.0.0.1", port))

    def step(i):
        qid = random.randrange(65536)
        s.send(query(qid, "h%d.%s" % (i, zone)))
        try:
            while True:
                r = s.recv(4096)
                if struct.unpack_from(">H", r)[0] == qid:
                    break
        except socket.timeout:
            return
        now = time.time()
        if struct.unpack_from(">H", r, 6)[0] >= 1:
            print("%s %.6f" % (".".join(map(str, r[-4:])), now), flush=True)
    paced(first, count, rate, step)


def tap_cmd(path, zone, first, count, rate):
    s = tap_connect(path)

    def step(i):
        now = time.time()
        s.sendall(frame(i, zone, now))
        print("%s %.6f" % (".".join(map(str, addr_of(i))), now), flush=True)
    paced(first, count, rate, step)
    s.sendall(control(3, False))
    s.recv(4096)


def load_cmd(path, file, rate, seconds):
    frames = [struct.pack(">I", len(f)) + f for f in frames_of(file)]
    per = max(1, int(rate / 100))
    s = tap_connect(path)
    sent, k, t = 0, 0, time.time()
    end = t + seconds
    while time.time() < end:
        batch = []
        for _ in range(per):
            batch.append(frames[k])
            k = (k + 1) % len(frames)
        s.sendall(b"".join(batch))
        sent += per
        t += 0.01
        if t > time.time():
            time.sleep(t - time.time())
    s.sendall(control(3, False))
    s.recv(4096)
    print(sent)


def main():
    a = sys.argv
    if a[1] == "frames":
        frames_cmd(a[2], int(a[3]), a[4])
    elif a[1] == "dns":
        dns_cmd(int(a[2]), a[3], int(a[4]), int(a[5]), float(a[6]))
    elif a[1] == "tap":
        tap_cmd(a[2], a[3], int(a[4]), int(a[5]), float(a[6]))
    elif a[1] == "load":
        load_cmd(a[2], a[3], float(a[4]), float(a[5]))
    else:
        sys.exit("usage: pipeline.py frames|dns|tap|load ...")


main()
