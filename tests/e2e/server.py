#!/usr/bin/env python3
"""The IPv4-only server of the gateway's end-to-end tests (and, given an
IPv6 ADDR, the IPv6 client's server of the SIIT test).

HTTP on TCP PORT: GET serves files from the current folder; PUT answers the
sha256 of the body it received (so a client can check an upload). UDP echo
on the same port number. Binds ADDR only. Stops on SIGTERM.
"""
import hashlib
import http.server
import socket
import sys
import threading

addr, port = sys.argv[1], int(sys.argv[2])
family = socket.AF_INET6 if ":" in addr else socket.AF_INET


class Server(http.server.ThreadingHTTPServer):
    address_family = family


class Handler(http.server.SimpleHTTPRequestHandler):
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while n > 0:
            chunk = self.rfile.read(min(n, 65536))
            if not chunk:
                break
            h.update(chunk)
            n -= len(chunk)
        body = (h.hexdigest() + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def udp_echo():
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((addr, port))
    while True:
        data, peer = s.recvfrom(65535)
        s.sendto(data, peer)


threading.Thread(target=udp_echo, daemon=True).start()
Server((addr, port), Handler).serve_forever()
