#!/usr/bin/env python3
"""Sends hand-made IPv6 packets (bad traffic for the gateway's end-to-end
tests) through a raw socket with IPV6_HDRINCL: KIND SRC DST COUNT.

KIND: proto253 (a protocol stateful NAT64 cannot translate), udptrunc (UDP
header cut short), tcpack (a TCP ACK with no session), icmp6unknown (an
ICMPv6 informational type with no IPv4 counterpart), ping (an echo request).
"""
import socket
import struct
import sys

kind, src, dst, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def l4(nh, payload):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    pseudo = s + d + struct.pack("!I3xB", len(payload), nh)
    return payload, pseudo


def packet(nh, payload):
    s, d = socket.inet_pton(socket.AF_INET6, src), socket.inet_pton(socket.AF_INET6, dst)
    return struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) + s + d + payload


def build(i):
    if kind == "proto253":
        return packet(253, b"garbage!" * 4)
    if kind == "udptrunc":
        return packet(17, b"\x12\x34\x00")
    if kind == "tcpack":
        seg = struct.pack("!HHIIBBHHH", 40000 + i % 1000, 80, 1, 1, 5 << 4, 0x10, 65535, 0, 0)
        _, pseudo = l4(6, seg)
        c = csum(pseudo + seg)
        return packet(6, seg[:16] + struct.pack("!H", c) + seg[18:])
    if kind in ("icmp6unknown", "ping"):
        t = 200 if kind == "icmp6unknown" else 128
        msg = struct.pack("!BBHHH", t, 0, 0, 0x4242, i) + b"x" * 16
        _, pseudo = l4(58, msg)
        c = csum(pseudo + msg)
        return packet(58, msg[:2] + struct.pack("!H", c) + msg[4:])
    raise SystemExit("unknown kind " + kind)


s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_RAW)
for i in range(count):
    s.sendto(build(i), (dst, 0))
