#!/usr/bin/env python3
"""httpd.py: a list server for domain-update's tests, on http.server.

httpd.py DIR PORTFILE serves the files of DIR on 127.0.0.1, on a port the
kernel picks (written to PORTFILE once listening), as list publishers do:
  - an ETag (a digest of the content) and Last-Modified (the file's mtime);
    If-None-Match, else If-Modified-Since, answer 304 when unchanged;
  - Content-Encoding: gzip when the client accepts it (not for *.gz);
  - what DIR/.mode says, one "WHAT PATH [N]" per line:
      fail PATH      answer 500
      noetag PATH    send Last-Modified only (no ETag)
      nocache PATH   send neither ETag nor Last-Modified
      chunked PATH   no Content-Length (streamed in chunks)
      bomb PATH N    a gzip body that expands to N bytes of names
Every request is appended to DIR/.requests as
  "GET PATH STATUS inm=IF-NONE-MATCH ims=IF-MODIFIED-SINCE ae=ACCEPT-ENCODING".
"""
import email.utils
import gzip
import hashlib
import http.server
import os
import sys
import zlib

root, portfile = os.path.realpath(sys.argv[1]), sys.argv[2]


def modes():
    m = {}
    try:
        with open(os.path.join(root, ".mode")) as f:
            for line in f:
                w = line.split()
                if len(w) >= 2:
                    m.setdefault(w[1], []).append(w)
    except FileNotFoundError:
        pass
    return m


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def note(self, status):
        h = self.headers
        with open(os.path.join(root, ".requests"), "a") as f:
            f.write("%s %s %d inm=%s ims=%s ae=%s\n" % (
                self.command, self.path, status,
                h.get("If-None-Match", "-"), h.get("If-Modified-Since", "-"),
                h.get("Accept-Encoding", "-")))

    def reply(self, status, body=b"", headers=(), chunked=False):
        self.note(status)
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command == "HEAD":
            return
        if not chunked:
            self.wfile.write(body)
            return
        for i in range(0, len(body), 65536):
            part = body[i:i + 65536]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        m = {w[0]: w for w in modes().get(path, [])}
        if "fail" in m:
            return self.reply(500, b"server error\n")
        if "bomb" in m:
            n = int(m["bomb"][2])
            z = zlib.compressobj(9, zlib.DEFLATED, 31)
            line = b"a.bomb.example\n"
            chunk = line * (1 << 16)
            out = []
            while n > 0:
                out.append(z.compress(chunk[:n]))
                n -= len(chunk)
            out.append(z.flush())
            return self.reply(200, b"".join(out),
                              [("Content-Encoding", "gzip")], chunked=True)
        f = os.path.normpath(os.path.join(root, path.lstrip("/")))
        if not f.startswith(root) or not os.path.isfile(f):
            return self.reply(404, b"not found\n")
        with open(f, "rb") as fh:
            body = fh.read()
        headers = []
        if "nocache" not in m:
            etag = '"%s"' % hashlib.sha1(body).hexdigest()[:16]
            mtime = int(os.stat(f).st_mtime)
            headers = [("Last-Modified", email.utils.formatdate(mtime, usegmt=True))]
            if "noetag" not in m:
                headers.append(("ETag", etag))
            inm = self.headers.get("If-None-Match")
            ims = self.headers.get("If-Modified-Since")
            if inm is not None and "noetag" not in m:
                if etag in [t.strip() for t in inm.split(",")]:
                    return self.reply(304, headers=headers)
            elif ims is not None:
                try:
                    t = email.utils.parsedate_to_datetime(ims).timestamp()
                except (TypeError, ValueError):
                    t = None
                if t is not None and mtime <= t:
                    return self.reply(304, headers=headers)
        if "gzip" in self.headers.get("Accept-Encoding", "") and not f.endswith(".gz"):
            body = gzip.compress(body)
            headers.append(("Content-Encoding", "gzip"))
        self.reply(200, body, headers, chunked="chunked" in m)


srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % srv.server_address[1])
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
