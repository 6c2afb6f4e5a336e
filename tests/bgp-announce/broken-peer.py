#!/usr/bin/env python3
"""broken-peer.py MODE PORT LOG [LISTEN-PORT]: a misbehaving BGP peer for
bgp-announce's tests. Listens on 127.0.14.1:PORT (127.0.14.3 for collide),
accepts connections in a loop and misbehaves as MODE says; logs what
bgp-announce sends ("conn N", "open as N", "keepalive", "update",
"notification C/S") one line each to LOG."""
import os
import socket
import struct
import sys
import time

MODE, PORT, LOG = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# the collision peer has an address of its own: bgp-announce tells
# incoming connections apart by address
ADDR = os.environ.get("BROKEN_PEER_ADDR",
                      "127.0.14.3" if MODE == "collide" else "127.0.14.1")
MARKER = b"\xff" * 16
log = open(LOG, "a", buffering=1)


def msg(t, body):
    return MARKER + struct.pack(">HB", 19 + len(body), t) + body


def open_msg(asn=65000, version=4, caps=None, hold=90, rid=0x0A090909,
             params=None):
    if caps is None:
        caps = bytes([1, 4, 0, 1, 0, 1, 2, 0, 65, 4]) + struct.pack(">I", asn)
    if params is None:
        params = bytes([2, len(caps)]) + caps
    body = struct.pack(">BHHI", version, asn, hold, rid)
    return msg(1, body + bytes([len(params)]) + params)


def attributes(body):
    """An UPDATE's path attributes as (type, value), and its NLRI."""
    wl = struct.unpack(">H", body[:2])[0]
    al = struct.unpack(">H", body[2 + wl:4 + wl])[0]
    a, end = 4 + wl, 4 + wl + al
    attrs = []
    while a < end:
        flags, typ = body[a], body[a + 1]
        if flags & 0x10:
            ln, h = struct.unpack(">H", body[a + 2:a + 4])[0], 4
        else:
            ln, h = body[a + 2], 3
        attrs.append((typ, body[a + h:a + h + ln]))
        a += h + ln
    return attrs, body[end:]


def log_paths(body):
    """Logs an UPDATE's AS_PATH and AS4_PATH as the peer sees them."""
    for typ, v in attributes(body)[0]:
        if typ == 2 and len(v) >= 2:
            log.write("as_path %s\n" % " ".join(str(x) for x in struct.unpack(">%dH" % v[1], v[2:2 + 2 * v[1]])))
        if typ == 17 and len(v) >= 2:
            log.write("as4_path %s\n" % " ".join(str(x) for x in struct.unpack(">%dI" % v[1], v[2:2 + 4 * v[1]])))


TOTAL = [0, 0]
CLOSED = [False]


def hold(s, buf):
    """Keeps an established session: reads (and logs) what comes, says
    "still up" once nothing came for 8 s, ends at a NOTIFICATION or when
    bgp-announce closes."""
    up = False
    while True:
        t = read_msgs(s, buf, (3,), timeout=8)
        if t == 3 or CLOSED[0]:
            return
        if t is None and not up:
            log.write("still up\n")
            up = True


def count_prefixes(nlri, fam):
    i = 0
    while i < len(nlri):
        i += 1 + (nlri[i] + 7) // 8
        TOTAL[fam] += 1


def count_nlri(body):
    """Counts an UPDATE's IPv4 NLRI and IPv6 MP_REACH_NLRI prefixes; logs
    "eor" or the running totals ("total N", "total6 N")."""
    if len(body) == 4:
        log.write("eor\n")
        return
    attrs, nlri = attributes(body)
    for typ, v in attrs:
        if typ == 14:
            count_prefixes(v[5 + v[3]:], 1)
            log.write("total6 %d\n" % TOTAL[1])
    if nlri:
        count_prefixes(nlri, 0)
        log.write("total %d\n" % TOTAL[0])


def read_msgs(s, buf, want=None, timeout=5.0):
    """Reads messages, logging them; returns when one of type want came."""
    s.settimeout(timeout)
    while True:
        while len(buf) >= 19:
            n = struct.unpack(">H", buf[16:18])[0]
            if n < 19 or len(buf) < n:
                break
            t, body = buf[18], buf[19:n]
            del buf[:n]
            name = {1: "open", 2: "update", 3: "notification", 4: "keepalive"}.get(t, "type%d" % t)
            if t == 3:
                log.write("notification %d/%d\n" % (body[0], body[1]))
            elif t == 1:
                log.write("open as %d\n" % struct.unpack(">H", body[1:3]))
            elif t == 2 and MODE == "as2" and len(body) > 4:
                log_paths(body)
            elif t == 2 and MODE == "refresh":
                count_nlri(body)
            else:
                log.write(name + "\n")
            if want is None or t in want or (t == 2 and len(body) == 4 and 0 in want):
                return t
        try:
            d = s.recv(65536)
        except socket.timeout:
            return None
        if not d:
            log.write("closed\n")
            CLOSED[0] = True
            return None
        buf += d


def serve(s):
    buf = bytearray()
    if read_msgs(s, buf, (1,)) != 1:
        return
    if MODE == "garbage":
        s.sendall(b"\x00" * 16 + b"\x00\x13\x04")
    elif MODE == "badlen":
        s.sendall(MARKER + b"\x00\x05\x01")
    elif MODE == "badtype":
        s.sendall(MARKER + b"\x00\x13\x09")
    elif MODE == "badas":
        s.sendall(open_msg(asn=65099))
    elif MODE == "badversion":
        s.sendall(open_msg(version=3))
    elif MODE == "truncated":
        s.sendall(open_msg()[:10])
        time.sleep(0.2)
        return
    elif MODE == "unknowncaps":
        caps = bytes([200, 3, 1, 2, 3, 1, 4, 0, 1, 0, 1, 65, 4, 0, 0, 0xFD, 0xE8, 99, 0])
        s.sendall(open_msg(caps=caps) + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
        # an UPDATE whose withdrawn-routes length runs past its end
        s.sendall(msg(2, struct.pack(">H", 100) + b"\x00\x00"))
    elif MODE == "as2":
        # an old speaker: no 4-octet AS capability
        s.sendall(open_msg(caps=bytes([1, 4, 0, 1, 0, 1])) + msg(4, b""))
    elif MODE == "flood":
        # a peer that sends its whole table: 100,000 IPv4 prefixes
        s.sendall(open_msg() + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        attrs = bytes([0x40, 1, 1, 0, 0x40, 2, 0, 0x40, 3, 4, 127, 0, 14, 1,
                       0x40, 5, 4, 0, 0, 0, 100])
        out = bytearray()
        for k in range(0, 100000, 800):
            nlri = b"".join(bytes([32, 172, 16 + (i >> 16), (i >> 8) & 255, i & 255])
                            for i in range(k, min(k + 800, 100000)))
            out += msg(2, struct.pack(">HH", 0, len(attrs)) + attrs + nlri)
        s.sendall(bytes(out) + msg(2, b"\0\0\0\0"))
        log.write("flooded\n")
    elif MODE == "silent":
        # hold time 3 s, then nothing: bgp-announce sends a keepalive a
        # second and gives up after 3 s with "hold timer expired"
        s.sendall(open_msg(hold=3) + msg(4, b""))
        read_msgs(s, buf, (3,), timeout=15)
        return
    elif MODE == "collide":
        # connect back to bgp-announce's LISTEN port as well and take
        # that connection to OpenConfirm; then answer the first one:
        # two connections past OpenSent (RFC 4271 6.8), and our router
        # id is the lower, so the one bgp-announce opened survives
        t = socket.create_connection(("127.0.14.2", int(sys.argv[4])),
                                     source_address=(ADDR, 0))
        t.sendall(open_msg())
        tbuf = bytearray()
        if read_msgs(t, tbuf, (4,)) != 4:
            return
        s.sendall(open_msg() + msg(4, b""))
        read_msgs(t, tbuf, (3,))
        t.close()
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
    elif MODE == "badopt":
        # an optional parameter other than capabilities (1: authentication)
        s.sendall(open_msg(params=bytes([1, 2, 0, 0])))
    elif MODE == "hold1":
        s.sendall(open_msg(hold=1))
    elif MODE == "badid":
        # iBGP with bgp-announce's own router id (in the environment)
        s.sendall(open_msg(rid=int(os.environ["BROKEN_PEER_RID"], 16)))
    elif MODE in ("badflags", "badattrlen"):
        s.sendall(open_msg() + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
        nh = (bytes([0x60, 3, 4, 127, 0, 0, 1]) if MODE == "badflags"
              else bytes([0x40, 3, 3, 127, 0, 0]))
        attrs = bytes([0x40, 1, 1, 0, 0x40, 2, 0]) + nh
        s.sendall(msg(2, struct.pack(">HH", 0, len(attrs)) + attrs +
                      bytes([32, 172, 16, 0, 1])))
        # RFC 7606: no NOTIFICATION comes; the session stays
        hold(s, buf)
        return
    elif MODE == "refresh":
        # waits for the table and End-of-RIB, then asks for the IPv4 one
        # 50 times and the IPv6 one once
        caps = bytes([1, 4, 0, 1, 0, 1, 1, 4, 0, 2, 0, 1, 2, 0, 65, 4,
                      0, 0, 0xFD, 0xE8])
        s.sendall(open_msg(caps=caps) + msg(4, b""))
        if read_msgs(s, buf, (0,), timeout=30) != 2:
            return
        s.sendall(msg(5, bytes([0, 1, 0, 1])) * 50 + msg(5, bytes([0, 2, 0, 1])))
        log.write("refreshes sent\n")
        while read_msgs(s, buf, (3,), timeout=60) not in (None, 3):
            pass
        return
    elif MODE == "malformed":
        # RFC 7606: UPDATEs whose errors cost no reset, each then a
        # KEEPALIVE; bgp-announce must keep the session through all
        s.sendall(open_msg() + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
        origin, aspath = bytes([0x40, 1, 1, 0]), bytes([0x40, 2, 0])
        nh = bytes([0x40, 3, 4, 127, 0, 0, 1])
        nlri = bytes([32, 172, 16, 0, 1])
        bad = [
            bytes([0xc0, 1, 1, 0]) + aspath + nh,              # ORIGIN optional
            origin + aspath + bytes([0x40, 3, 3, 127, 0, 0]),  # NEXT_HOP length
            bytes([0x40, 1, 1, 7]) + aspath + nh,              # ORIGIN value
            origin + nh,                                       # no AS_PATH
            origin + bytes([0x40, 2, 2, 2, 0]) + nh,           # empty segment
            origin + aspath + nh + bytes([0xc0, 8, 3, 1, 2, 3]),  # COMMUNITIES
            origin + aspath + nh + bytes([0x40, 6, 1, 0]),     # ATOMIC_AGGREGATE
            origin + origin + aspath + nh,                     # ORIGIN twice
            origin + aspath + nh + bytes([0x40, 1]),           # list cut short
        ]
        for a in bad:
            s.sendall(msg(2, struct.pack(">HH", 0, len(a)) + a + nlri))
        s.sendall(msg(4, b""))
        log.write("sent %d\n" % len(bad))
        hold(s, buf)
        return
    elif MODE == "mptwice":
        # MP_REACH_NLRI twice: the routes are ambiguous, a reset still
        s.sendall(open_msg() + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
        mp = bytes([0x80, 14, 5, 0, 2, 1, 0, 0])
        a = bytes([0x40, 1, 1, 0, 0x40, 2, 0]) + mp + mp
        s.sendall(msg(2, struct.pack(">HH", 0, len(a)) + a))
    elif MODE == "pause":
        # reads until the file $BROKEN_PEER_STOP exists, then stops
        # reading (KEEPALIVEs still go out) until $BROKEN_PEER_RESUME does
        s.sendall(open_msg() + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
        stop, resume = os.environ["BROKEN_PEER_STOP"], os.environ["BROKEN_PEER_RESUME"]
        paused = False
        while True:
            if os.path.exists(stop) and not os.path.exists(resume):
                if not paused:
                    log.write("paused\n")
                    paused = True
                time.sleep(0.5)
            else:
                if paused:
                    log.write("resumed\n")
                    paused = False
                s.settimeout(0.5)
                try:
                    d = s.recv(65536)
                except socket.timeout:
                    d = b"-"
                if not d:
                    log.write("closed\n")
                    return
            s.sendall(msg(4, b""))
    elif MODE == "hold0":
        # OPEN with hold time 0, then never the KEEPALIVE: OpenConfirm
        # with no hold timer at all
        s.sendall(open_msg(hold=0))
        read_msgs(s, buf, (3,), timeout=60)
        return
    elif MODE == "noopen":
        # connected, but never an OPEN: OpenSent
        read_msgs(s, buf, (3,), timeout=60)
        return
    elif MODE == "noread":
        s.sendall(open_msg() + msg(4, b""))
        if read_msgs(s, buf, (4,)) != 4:
            return
        log.write("established\n")
        while True:  # keeps the session alive, never reads again
            time.sleep(1)
            s.sendall(msg(4, b""))
    read_msgs(s, buf, (3,))


ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if MODE in ("noread", "pause"):  # a small window, inherited by the connection
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
ls.bind((ADDR, PORT))
ls.listen(4)
n = 0
while True:
    c, _ = ls.accept()
    n += 1
    log.write("conn %d\n" % n)
    log.write("at %d %.3f\n" % (n, time.monotonic()))
    try:
        CLOSED[0] = False
        serve(c)
    except OSError as e:
        log.write("error %s\n" % e)
    c.close()
