#!/usr/bin/env python3
"""fixture.py: a scripted HTTP peer for sync-pull's tests.

fixture.py PORT DIR serves on 127.0.0.1:PORT. GET /fetch answers the body in
DIR/body (as the Go daemon would: 200, text/plain), or what DIR/mode says:
  status N        answer status N with the body
  stall N         send half of the body, then stall for N seconds
  huge N          stream N bytes of a valid, never-ending array (generated)
  cursor TS       add the X-Dnstap-Bgp-Cursor header
  token T         require "Authorization: Bearer T" (else 401)
Every request line (method, path, Authorization) is appended to DIR/requests;
PUT bodies go to DIR/puts, one per line.
"""
import http.server
import os
import sys
import time

port, d = int(sys.argv[1]), sys.argv[2]


def conf():
    c = {}
    try:
        with open(os.path.join(d, "mode")) as f:
            for line in f:
                k, _, v = line.strip().partition(" ")
                if k:
                    c[k] = v
    except FileNotFoundError:
        pass
    return c


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self):
        with open(os.path.join(d, "requests"), "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path,
                                    self.headers.get("Authorization", "-")))

    def auth(self, c):
        if "token" in c and self.headers.get("Authorization") != "Bearer " + c["token"]:
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        return True

    def do_GET(self):
        self.note()
        c = conf()
        if not self.auth(c):
            return
        try:
            with open(os.path.join(d, "body"), "rb") as f:
                body = f.read()
        except FileNotFoundError:
            body = b"null\n"
        self.send_response(int(c.get("status", "200")))
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        if "cursor" in c:
            self.send_header("X-Dnstap-Bgp-Cursor", c["cursor"])
        if "huge" in c:
            self.send_header("Connection", "close")
            self.end_headers()
            self.huge(int(c["huge"]))
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if "stall" in c:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            time.sleep(int(c["stall"]))
            return
        self.wfile.write(body)

    def huge(self, n):
        ent = (b'{"IP":"192.0.2.1","Domain":"www.example.com",'
               b'"TS":"2025-11-26T09:40:00Z"},')
        chunk = b"[" + ent * 8000
        sent = 0
        try:
            while sent < n:
                self.wfile.write(chunk)
                sent += len(chunk)
                chunk = ent * 8000
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_PUT(self):
        self.note()
        c = conf()
        if not self.auth(c):
            return
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(os.path.join(d, "puts"), "ab") as f:
            f.write(body + b"\n")
        self.send_response(int(c.get("status", "200")))
        self.send_header("Content-Length", "0")
        self.end_headers()


http.server.ThreadingHTTPServer.allow_reuse_address = True
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
