#!/usr/bin/env python3
"""latency-peer.py BGP-ANNOUNCE ADDR PORT RATE SECONDS: runs bgp-announce
(configured by the environment to connect to ADDR:PORT), acts as its BGP
peer, writes RATE announce records per second for SECONDS to its stdin and
reads the UPDATEs back. Prints the latency from writing a record to reading
its prefix off the socket: median and p99 (an upper bound: it includes this
script's own reading and parsing)."""
import os
import socket
import struct
import subprocess
import sys
import threading
import time

prog, addr, port, rate, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
total = int(rate * secs)
sent = [0] * total
got = [0] * total
MARKER = b"\xff" * 16


def msg(t, body):
    return MARKER + struct.pack(">HB", 19 + len(body), t) + body


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((addr, port))
ls.listen(1)
p = subprocess.Popen([prog], stdin=subprocess.PIPE, stderr=subprocess.DEVNULL)
s, _ = ls.accept()
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
caps = bytes([2, 6, 1, 4, 0, 1, 0, 1])
s.sendall(msg(1, struct.pack(">BHHI", 4, 65000, 90, 0x0A000001) + bytes([len(caps)]) + caps) + msg(4, b""))
buf = bytearray()
done = threading.Event()


def reader():
    global buf
    n = 0
    while n < total:
        d = s.recv(1 << 20)
        if not d:
            break
        t = time.monotonic_ns()
        buf += d
        off = 0
        while len(buf) - off >= 19:
            ln = struct.unpack_from(">H", buf, off + 16)[0]
            if len(buf) - off < ln:
                break
            if buf[off + 18] == 2:
                b = off + 19
                wl = struct.unpack_from(">H", buf, b)[0]
                al = struct.unpack_from(">H", buf, b + 2 + wl)[0]
                q = b + 4 + wl + al
                while q < off + ln:
                    if buf[q] == 32:
                        seq = buf[q + 2] << 16 | buf[q + 3] << 8 | buf[q + 4]
                        if seq < total and not got[seq]:
                            got[seq] = t
                            n += 1
                    q += 1 + (buf[q] + 7) // 8
            off += ln
        del buf[:off]
    done.set()


th = threading.Thread(target=reader, daemon=True)
th.start()
time.sleep(0.5)  # session up
fd = p.stdin.fileno()
start = time.monotonic_ns()
i = 0
while i < total:
    due = min(total, int((time.monotonic_ns() - start) * rate / 1e9) + 1)
    if due > i:
        lines = "".join("announce 10.%d.%d.%d/32 - l%d.example\n" % (j >> 16, (j >> 8) & 255, j & 255, j) for j in range(i, due))
        t = time.monotonic_ns()
        os.write(fd, lines.encode())
        for j in range(i, due):
            sent[j] = t
        i = due
    else:
        time.sleep(0.0002)
done.wait(30)
lat = sorted((got[j] - sent[j]) / 1e6 for j in range(total) if got[j])
p.stdin.close()
p.wait()
if not lat:
    print("latency at %d records/s: nothing received" % rate)
    sys.exit(1)
print("latency at %d records/s: %d of %d received, median %.3f ms, p99 %.3f ms, max %.3f ms" % (
    rate, len(lat), total, lat[len(lat) // 2], lat[int(len(lat) * 0.99)], lat[-1]))
