#!/usr/bin/env python3
"""Helpers of the gateway's flood test (tests/e2e/flood.sh).

  send SECONDS KIND DST SRC [NETS]   flood of new flows for SECONDS
  legit SECONDS DST PORT             a legitimate client's new flows
  slow SECONDS DST PORT PATH OUT     a download paced to last SECONDS
  monitor SOCKET PID OUT             samples the gateway until SIGTERM

send: hand-made IPv6 packets through a raw socket (IPV6_HDRINCL), every
one a new flow: random source and destination ports. KIND is udp, tcp (SYNs)
or mix (alternately). SRC is one source address; with NETS, packets come
from NETS /64s (SRC's fourth group plus 0..NETS-1), each packet from another
interface identifier of its /64. Checksums are right (kept up to date
incrementally), so the server answers (RSTs, rate-limited ICMP). Prints
one JSON line: packets sent, send errors, seconds, packets per second.

legit: every 0.25 s for SECONDS, a new TCP connection (HTTP GET /) and a
new UDP socket (one datagram to the echo server, up to 24 tries 0.25 s
apart), each in its own thread, so a slow one does not delay the next
(when the gateway is overloaded, the kernel drops packets in front of it,
the legitimate ones too). Prints one JSON line: attempts, successes, worst
times, most UDP tries.

slow: HTTP GET of PATH with a 64 KiB receive buffer, read at a pace that
makes it last SECONDS (curl's --limit-rate is too loose for that), the body
written to OUT. Prints one JSON line: bytes, seconds.

monitor: every 0.1 s, the gateway's stats (control socket) and VmRSS of
PID; on SIGTERM writes a JSON summary to OUT: the most sessions seen, the
largest RSS (KiB), samples.
"""
import json
import os
import random
import signal
import socket
import struct
import sys
import threading
import time

UDP, TCP = 17, 6
# legit: a new TCP connection and a new UDP flow every INTERVAL seconds; a UDP
# datagram is sent up to UDP_TRIES times, 0.25 s apart.
INTERVAL = 0.25
UDP_TRIES = 24


def fold(s):
    s = (s & 0xFFFF) + (s >> 16)
    return (s & 0xFFFF) + (s >> 16)


def words(b):
    if len(b) % 2:
        b += b"\0"
    return sum(struct.unpack("!%dH" % (len(b) // 2), b))


def template(proto, src, dst):
    """An IPv6 packet with ports and checksum zero, and the sum of its
    pseudo-header and transport header (ports, checksum and the source's
    interface identifier excluded)."""
    if proto == UDP:
        l4 = struct.pack("!HHHH", 0, 0, 8 + 8, 0) + b"flooding"
    else:
        # SYN, sequence 1, window 64240, no options.
        l4 = struct.pack("!HHIIBBHHH", 0, 0, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
    hdr = struct.pack("!IHBB", 6 << 28, len(l4), proto, 64) + src + dst
    base = words(src[:8]) + words(dst) + len(l4) + proto + words(l4)
    return bytearray(hdr + l4), base


def send(seconds, kind, dst, src, nets=0):
    d = socket.inet_pton(socket.AF_INET6, dst)
    s0 = socket.inet_pton(socket.AF_INET6, src)
    protos = {"udp": [UDP], "tcp": [TCP], "mix": [UDP, TCP]}[kind]
    # One template per (net, protocol); the interface identifier changes per
    # packet when NETS is given.
    tpl = []
    g4 = struct.unpack("!H", s0[6:8])[0]
    for k in range(max(nets, 1)):
        src_k = s0[:6] + struct.pack("!H", (g4 + k) & 0xFFFF) + s0[8:] if nets else s0
        for p in protos:
            buf, base = template(p, src_k, d)
            csum_at = 40 + (6 if p == UDP else 16)
            tpl.append((buf, base, csum_at, p == UDP))
    fixed_iid = words(s0[8:]) if not nets else None
    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.connect((dst, 0))
    rnd = random.Random(os.getpid()).getrandbits
    pack = struct.pack_into
    n = errors = 0
    start = time.monotonic()
    end = start + seconds
    nt = len(tpl)
    while True:
        if n & 1023 == 0 and time.monotonic() >= end:
            break
        buf, base, at, udp = tpl[n % nt]
        r = rnd(64)
        sport = 1024 + (r & 0xFFFF) % 64512
        dport = 1 + (r >> 16 & 0xFFFF) % 65535
        if dport == 8080:
            dport = 8081
        if fixed_iid is None:
            iid = r >> 32 | 1
            pack("!Q", buf, 16, iid)
            base_n = base + (iid >> 48) + (iid >> 32 & 0xFFFF) + (iid >> 16 & 0xFFFF) + (iid & 0xFFFF)
        else:
            base_n = base + fixed_iid
        c = ~fold(base_n + sport + dport) & 0xFFFF
        if udp and c == 0:
            c = 0xFFFF
        pack("!HH", buf, 40, sport, dport)
        pack("!H", buf, at, c)
        try:
            s.send(buf)
        except OSError:
            errors += 1
        n += 1
    t = time.monotonic() - start
    print(json.dumps({"sent": n, "errors": errors, "seconds": round(t, 2), "pps": int(n / t)}))


def legit(seconds, dst, port):
    results = []

    def tcp_once():
        t0 = time.monotonic()
        try:
            with socket.create_connection((dst, port), timeout=20) as c:
                c.settimeout(10)
                c.sendall(b"GET / HTTP/1.0\r\nHost: flood\r\n\r\n")
                data = b""
                while True:
                    b = c.recv(4096)
                    if not b:
                        break
                    data += b
            ok = b"hello from the IPv4-only server" in data
            why = "" if ok else "tcp: bad answer %r" % data[:60]
        except OSError as e:
            ok, why = False, "tcp: %s" % e
        results.append(("tcp", ok, time.monotonic() - t0, 1, why))

    def udp_once(i):
        t0 = time.monotonic()
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.settimeout(0.25)
        msg = b"legit-%d" % i
        ok = False
        for tries in range(1, UDP_TRIES + 1):
            u.sendto(msg, (dst, port))
            try:
                while not ok:
                    ok = u.recvfrom(100)[0] == msg
                break
            except socket.timeout:
                continue
        u.close()
        why = "" if ok else "udp: no echo after %d tries" % UDP_TRIES
        results.append(("udp", ok, time.monotonic() - t0, tries, why))

    threads = []
    start = time.monotonic()
    i = 0
    while time.monotonic() < start + seconds:
        for t in (threading.Thread(target=tcp_once), threading.Thread(target=udp_once, args=(i,))):
            t.start()
            threads.append(t)
        i += 1
        time.sleep(max(0.0, start + i * INTERVAL - time.monotonic()))
    for t in threads:
        t.join()
    out = {}
    for kind in ("tcp", "udp"):
        r = [x for x in results if x[0] == kind]
        out[kind] = len(r)
        out[kind + "_ok"] = sum(x[1] for x in r)
        out[kind + "_worst_s"] = round(max(x[2] for x in r), 3)
    out["udp_tries_most"] = max(x[3] for x in results if x[0] == "udp")
    out["failures"] = [x[4] for x in results if not x[1]][:5]
    print(json.dumps(out))


def slow(seconds, dst, port, path, out):
    c = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c.settimeout(20)
    start = time.monotonic()
    c.connect((dst, port))
    c.sendall(b"GET %s HTTP/1.0\r\nHost: flood\r\n\r\n" % path.encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = c.recv(4096)
        if not b:
            break
        head += b
    head, body = head.split(b"\r\n\r\n", 1)
    size = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:"))
    with open(out, "wb") as f:
        f.write(body)
        got = len(body)
        while True:
            ahead = got / size * seconds - (time.monotonic() - start)
            if ahead > 0:
                time.sleep(ahead)
            b = c.recv(16384)
            if not b:
                break
            f.write(b)
            got += len(b)
    c.close()
    print(json.dumps({"bytes": got, "seconds": round(time.monotonic() - start, 2)}))


def control(path, req):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(10)
    c.connect(path)
    c.sendall(json.dumps(req).encode() + b"\n")
    c.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = c.recv(65536)
        if not b:
            break
        data += b
    c.close()
    return json.loads(data)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def monitor(path, pid, out):
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    most = rss_most = samples = errors = 0
    while not stop:
        try:
            st = control(path, {"cmd": "stats"})
            most = max(most, sum(st["table"]["sessions"]))
            rss_most = max(rss_most, rss_kib(pid))
            samples += 1
        except (OSError, ValueError, KeyError):
            errors += 1
        time.sleep(0.1)
    with open(out, "w") as f:
        json.dump({"most_sessions": most, "most_rss_kib": rss_most, "samples": samples, "errors": errors}, f)


if __name__ == "__main__":
    cmd, a = sys.argv[1], sys.argv[2:]
    if cmd == "send":
        send(float(a[0]), a[1], a[2], a[3], int(a[4]) if len(a) > 4 else 0)
    elif cmd == "legit":
        legit(float(a[0]), a[1], int(a[2]))
    elif cmd == "slow":
        slow(float(a[0]), a[1], int(a[2]), a[3], a[4])
    elif cmd == "monitor":
        monitor(a[0], int(a[1]), a[2])
    else:
        raise SystemExit(__doc__)
