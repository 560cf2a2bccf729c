"""The binding against an independent oracle: packets built with scapy, translated, and
the result parsed by scapy, with fields and checksums checked (checksums by having scapy
recompute them)."""

from scapy.layers.inet import ICMP, IP, TCP, UDP, UDPerror, IPerror
from scapy.layers.inet6 import (
    ICMPv6DestUnreach,
    ICMPv6EchoReply,
    ICMPv6EchoRequest,
    ICMPv6TimeExceeded,
    IPv6,
    IPv6ExtHdrFragment,
    defragment6,
)
from scapy.packet import Raw

import nat64

POOL6 = "2001:db8:64::/96"
P = nat64.Prefix64(POOL6)
V6 = "2001:db8:64::c000:201"  # 192.0.2.1 under pool6
V4 = "198.51.100.7"
V4_AS6 = P.embed(V4)


def translator(**kw: object) -> nat64.Translator:
    return nat64.Translator(nat64.Config(pool6=POOL6, own_ipv6="2001:db8::1", own_ipv4="203.0.113.1", **kw))  # type: ignore[arg-type]


def checksums_ok(pkt: bytes, cls: type, layer: type, field: str = "chksum") -> None:
    """scapy recomputes the IP and transport checksums: they must equal ours."""
    p = cls(pkt)
    got = getattr(p[layer], field)
    delattr(p[layer], field)
    if cls is IP:
        ip_sum = p.chksum
        del p.chksum
        assert cls(bytes(p)).chksum == ip_sum
    assert getattr(cls(bytes(p))[layer], field) == got


def only(v: nat64.Verdict[bytes]) -> bytes:
    assert isinstance(v, nat64.Translated), v
    assert v.count == 1
    return bytes(v.packets[0])


def test_udp_6to4() -> None:
    pkt = IPv6(src=V6, dst=V4_AS6, hlim=30, tc=0x28) / UDP(sport=4000, dport=53) / Raw(b"x" * 100)
    v = translator().translate(bytes(pkt))
    assert isinstance(v, nat64.Translated) and v.direction == "6to4"
    out = IP(only(v))
    assert (out.src, out.dst, out.ttl, out.tos, out.proto) == ("192.0.2.1", V4, 29, 0x28, 17)
    assert (out[UDP].sport, out[UDP].dport, bytes(out[UDP].payload)) == (4000, 53, b"x" * 100)
    assert out.len == 20 + 8 + 100
    checksums_ok(only(v), IP, UDP)


def test_tcp_4to6() -> None:
    pkt = IP(src=V4, dst="192.0.2.1", ttl=9, flags="DF", id=77) / TCP(sport=80, dport=50000, flags="SA", seq=1, ack=2)
    out = IPv6(only(translator().translate(bytes(pkt))))
    assert (out.src, out.dst, out.hlim, out.nh) == (V4_AS6, V6, 8, 6)
    assert (out[TCP].sport, out[TCP].dport, out[TCP].flags, out[TCP].seq, out[TCP].ack) == (80, 50000, "SA", 1, 2)
    checksums_ok(bytes(out), IPv6, TCP)


def test_icmp_echo_both_ways() -> None:
    t = translator()
    req = IPv6(src=V6, dst=V4_AS6) / ICMPv6EchoRequest(id=7, seq=9, data=b"ping")
    out = IP(only(t.translate(bytes(req))))
    assert (out[ICMP].type, out[ICMP].id, out[ICMP].seq, bytes(out[ICMP].payload)) == (8, 7, 9, b"ping")
    checksums_ok(bytes(out), IP, ICMP)
    rep = IP(src=V4, dst="192.0.2.1") / ICMP(type=0, id=7, seq=9) / b"ping"
    out6 = IPv6(only(t.translate(bytes(rep))))
    assert out6.haslayer(ICMPv6EchoReply) and out6[ICMPv6EchoReply].id == 7
    checksums_ok(bytes(out6), IPv6, ICMPv6EchoReply, "cksum")


def test_icmp_error_4to6_quotes_translated_packet() -> None:
    inner = IP(src="192.0.2.1", dst=V4, ttl=5) / UDP(sport=4000, dport=53) / Raw(b"q" * 20)
    err = IP(src=V4, dst="192.0.2.1") / ICMP(type=3, code=3) / bytes(inner)
    out = IPv6(only(translator().translate(bytes(err))))
    du = out[ICMPv6DestUnreach]
    assert (du.type, du.code) == (1, 4)
    quoted = IPv6(bytes(du.payload))
    assert (quoted.src, quoted.dst) == (V6, V4_AS6)
    assert quoted[UDP].dport == 53


def test_fragmentation_4to6_reassembles() -> None:
    pkt = IP(src=V4, dst="192.0.2.1", flags=0, id=0x4242) / UDP(sport=1, dport=2) / Raw(bytes(range(256)) * 6)
    v = translator().translate(bytes(pkt))
    assert isinstance(v, nat64.Translated) and v.count == 2 and v.first_len <= 1280
    frags = [IPv6(bytes(p)) for p in v.packets]
    assert all(f.haslayer(IPv6ExtHdrFragment) for f in frags)
    whole = defragment6(frags)  # type: ignore[no-untyped-call]  # scapy leaves it unannotated
    assert bytes(whole[UDP].payload) == bytes(range(256)) * 6
    checksums_ok(bytes(whole), IPv6, UDP)


def test_hop_limit_one_answers_time_exceeded() -> None:
    pkt = IPv6(src=V6, dst=V4_AS6, hlim=1) / UDP(sport=1, dport=2)
    v = translator().translate(bytes(pkt))
    assert isinstance(v, nat64.IcmpError) and v.reason == "hop_limit_exceeded"
    err = IPv6(bytes(v.packet))
    assert err.haslayer(ICMPv6TimeExceeded) and err.dst == V6
    assert "Time Exceeded" in v.explain


def test_udp_checksum_zero_dropped_or_amended() -> None:
    pkt = IP(src=V4, dst="192.0.2.1") / UDP(sport=1, dport=2, chksum=0) / b"data"
    raw = bytearray(bytes(pkt))
    raw[26:28] = b"\x00\x00"
    v = translator().translate(raw)
    assert isinstance(v, nat64.IcmpError) and v.reason == "udp_checksum_zero"
    assert IP(bytes(v.packet))[ICMP].type == 3 and IP(bytes(v.packet))[ICMP].code == 13
    assert IP(bytes(v.packet)).haslayer(IPerror) and IP(bytes(v.packet)).haslayer(UDPerror)
    out = IPv6(only(translator(amend_udp_checksum_zero=True).translate(raw)))
    checksums_ok(bytes(out), IPv6, UDP)
