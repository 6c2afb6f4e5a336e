#!/usr/bin/env python3
"""fsend.py: a scriptable Frame Streams sender for the dnstap-read tests and
benchmark: well-behaved (bidirectional or unidirectional, busy or idle) and
misbehaving (random bytes, giant frame, wrong content type, vanishing or
stalling mid-frame, silent after connecting); "big" sends REPEAT frames
(default 8) of 1000 A records each under a 200-byte name, all in one write,
then STOP (as many records per frame as dnstap-read's bounds let through:
a few frames in one read are more than a pipe holds).

    fsend.py ADDR MODE [CAPTURE] [REPEAT] [client]

ADDR is a UNIX socket path (with a slash) or HOST:PORT (for mode "file", the
file to write). CAPTURE is a Frame Streams file whose data frames are sent,
REPEAT times over; "client" keeps only its CLIENT_RESPONSE frames. Exits 0
when the mode's exchange went as expected. FSEND_PAUSE (seconds) sets
how long "idle" idles and "drip" waits between its pieces.
"""
import os
import socket
import struct
import sys
import time

CT = b"protobuf:dnstap.Dnstap"


def control(ctype, content_type=None):
    payload = struct.pack(">I", ctype)
    if content_type is not None:
        payload += struct.pack(">II", 1, len(content_type)) + content_type
    return struct.pack(">II", 0, len(payload)) + payload


def data(frame):
    return struct.pack(">I", len(frame)) + frame


def frames_of(path):
    """The data frames of a Frame Streams file."""
    with open(path, "rb") as f:
        b = f.read()
    out, p = [], 0
    while p + 4 <= len(b):
        (n,) = struct.unpack_from(">I", b, p)
        if n == 0:
            (cl,) = struct.unpack_from(">I", b, p + 4)
            p += 8 + cl
            continue
        out.append(b[p + 4:p + 4 + n])
        p += 4 + n
    return out


def message_type(frame):
    """dnstap.Message.type of a frame (0 when not found): field 14 of the
    Dnstap message, then field 1 inside it."""
    def varint(b, p):
        v = s = 0
        while True:
            c = b[p]
            p += 1
            v |= (c & 0x7F) << s
            s += 7
            if not c & 0x80:
                return v, p

    def fields(b):
        p = 0
        while p < len(b):
            key, p = varint(b, p)
            wt = key & 7
            if wt == 0:
                v, p = varint(b, p)
            elif wt == 2:
                n, p = varint(b, p)
                v, p = b[p:p + n], p + n
            elif wt == 5:
                v, p = b[p:p + 4], p + 4
            elif wt == 1:
                v, p = b[p:p + 8], p + 8
            else:
                return
            yield key >> 3, v

    for num, v in fields(frame):
        if num == 14:
            for n2, v2 in fields(v):
                if n2 == 1:
                    return v2
    return 0


def pb_key(num, wt):
    return varint(num << 3 | wt)


def varint(v):
    b = b""
    while True:
        c = v & 0x7F
        v >>= 7
        if v:
            b += bytes([c | 0x80])
        else:
            return b + bytes([c])


def pb_bytes(num, b):
    return pb_key(num, 2) + varint(len(b)) + b


def big_frame(k, n=1000):
    """A CLIENT_RESPONSE dnstap frame: n A records (198.18.0.0 up) for
    one long name, big<k>.xxx...example."""
    labels = [b"big%d" % k] + [b"x" * 60] * 3 + [b"example"]
    qname = b"".join(bytes([len(x)]) + x for x in labels) + b"\0"
    dns = struct.pack(">HHHHHH", k & 0xFFFF, 0x8180, 1, n, 0, 0)
    dns += qname + struct.pack(">HH", 1, 1)
    for i in range(n):
        dns += struct.pack(">HHHIH", 0xC00C, 1, 1, 300, 4)
        dns += bytes([198, 18]) + struct.pack(">H", i)
    msg = pb_key(1, 0) + varint(6) + pb_key(12, 0) + varint(1764150000) + \
        pb_bytes(14, dns)
    return pb_key(15, 0) + varint(1) + pb_bytes(14, msg)


def batch_of(frames, repeat):
    """The frames, framed, as one bytes object repeated up to 512 times;
    and how many times to send it for `repeat` copies in all."""
    one = b"".join(data(f) for f in frames)
    k = max(1, min(repeat, 512))
    while repeat % k:
        k -= 1
    return one * k, repeat // k


def connect(addr):
    if "/" in addr:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(addr)
    else:
        host, port = addr.rsplit(":", 1)
        host = host.strip("[]")
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.connect((host, int(port)))
    return s


def read_control(s):
    hdr = recv_exact(s, 8)
    if hdr is None:
        return None
    esc, n = struct.unpack(">II", hdr)
    if esc != 0:
        return None
    body = recv_exact(s, n)
    return None if body is None else struct.unpack_from(">I", body)[0]


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        try:
            k = s.recv(n - len(b))
        except OSError:
            return None
        if not k:
            return None
        b += k
    return b


def closed_by_peer(s):
    """True when the collector closes the connection (EOF or reset)."""
    s.settimeout(10)
    try:
        while True:
            if not s.recv(4096):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def main():
    addr, mode = sys.argv[1], sys.argv[2]
    frames = frames_of(sys.argv[3]) if len(sys.argv) > 3 and \
        mode != "big" else []
    repeat = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    if len(sys.argv) > 5 and sys.argv[5] == "client":
        frames = [f for f in frames if message_type(f) == 6]
    s = connect(addr) if mode != "file" else None
    if mode in ("bidi", "bidi-nostop"):
        s.sendall(control(4, CT))  # READY
        if read_control(s) != 1:  # ACCEPT
            sys.exit("no ACCEPT")
        s.sendall(control(2, CT))  # START
        batch, times = batch_of(frames, repeat)
        for _ in range(times):
            s.sendall(batch)
        if mode == "bidi":
            s.sendall(control(3))  # STOP
            if read_control(s) != 5:  # FINISH
                sys.exit("no FINISH")
    elif mode == "uni":
        s.sendall(control(2, CT))
        batch, times = batch_of(frames, repeat)
        for _ in range(times):
            s.sendall(batch)
        s.sendall(control(3))
    elif mode == "file":
        # Writes a Frame Streams file to ADDR instead of sending.
        batch, times = batch_of(frames, repeat)
        with open(addr, "wb") as f:
            f.write(control(2, CT))
            for _ in range(times):
                f.write(batch)
            f.write(control(3))
        return
    elif mode == "big":
        s.sendall(control(2, CT) + b"".join(
            data(big_frame(k)) for k in range(int(sys.argv[3]) if
                                              len(sys.argv) > 3 else 8)))
        s.sendall(control(3))
    elif mode == "random":
        try:
            s.sendall(os.urandom(65536))
        except OSError:
            pass
        sys.exit(0 if closed_by_peer(s) else "random bytes: not closed")
    elif mode == "giant":
        s.sendall(control(2, CT) + struct.pack(">I", 100 << 20) + b"x" * 1000)
        sys.exit(0 if closed_by_peer(s) else "giant frame: not closed")
    elif mode == "wrongtype":
        s.sendall(control(4, b"protobuf:other.Thing"))
        sys.exit(0 if closed_by_peer(s) else "wrong content type: not closed")
    elif mode == "wrongstart":
        s.sendall(control(2, b"protobuf:other.Thing") + data(frames[0]))
        sys.exit(0 if closed_by_peer(s) else "wrong START type: not closed")
    elif mode == "vanish":
        f = data(frames[0])
        s.sendall(control(2, CT) + f[: len(f) // 2])
    elif mode == "idle":
        # Bidirectional, idle between two batches, then STOP / FINISH:
        # an idle connection must stay open.
        s.sendall(control(4, CT))
        if read_control(s) != 1:
            sys.exit("no ACCEPT")
        s.sendall(control(2, CT) + b"".join(data(f) for f in frames))
        time.sleep(float(os.environ.get("FSEND_PAUSE", "5")))
        s.sendall(b"".join(data(f) for f in frames) + control(3))
        if read_control(s) != 5:
            sys.exit("idle: no FINISH")
    elif mode == "drip":
        # Unidirectional, every write ending inside a frame, pausing between
        # writes: a slow but live sender, never idle between frames.
        b = control(2, CT) + b"".join(data(f) for f in frames) + control(3)
        cuts = [0]
        p = len(control(2, CT))
        for f in frames:
            cuts.append(p + 4 + len(f) // 2)
            p += 4 + len(f)
        cuts.append(len(b))
        for a, z in zip(cuts, cuts[1:]):
            s.sendall(b[a:z])
            time.sleep(float(os.environ.get("FSEND_PAUSE", "0.2")))
        sys.exit(0 if closed_by_peer(s) else "drip: not closed after STOP")
    elif mode == "silent":
        # Connects and never says a word.
        time.sleep(600)
    elif mode == "stall":
        # Half a frame, then silence until killed.
        f = data(frames[0])
        s.sendall(control(2, CT) + f[: len(f) // 2])
        time.sleep(600)
    else:
        sys.exit("unknown mode " + mode)
    s.close()


if __name__ == "__main__":
    main()
