"""What a `mypy --strict` user writes: packets from `translate()` handed to scapy (which
ships `py.typed`; `Packet.__init__` takes `bytes | bytearray`) with no cast, narrowing on
`isinstance` or a `match` on the verdict class.

ci.sh checks this file with `mypy --strict` (run from outside the source tree, so the
installed wheel's stubs are what is checked) and runs it (`main()`, also called by
tests/test_typing.py), so every line here is also true at run time. `assert_type` makes
mypy fail unless the inferred type is exactly the one written; the one `type: ignore`
below fails the check (`--strict` includes `--warn-unused-ignores`) unless a
`translate_into()` packet is typed `memoryview`, which scapy refuses.
"""

import time
from typing import TYPE_CHECKING, Literal, assert_type

from scapy.layers.dns import DNS, DNSQR
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

import nat64

POOL6 = "2001:db8:64::/96"
P = nat64.Prefix64(POOL6)


def udp6(src: str = P.embed("198.51.100.1"), hlim: int = 64, sport: int = 4000) -> bytes:
    """SIIT translates it (both addresses under pool6); the stateful NAT64 takes any source."""
    pkt = IPv6(src=src, dst=P.embed("192.0.2.9"), hlim=hlim) / UDP(sport=sport, dport=53) / b"hi"
    return bytes(pkt)


def wire_length(packet: bytes) -> int:
    """Takes `bytes` and nothing wider: a `bytes | memoryview` argument fails mypy here."""
    return len(packet)


def first_packet(v: nat64.Verdict[bytes]) -> bytes | None:
    """A user's own helper over the public alias."""
    match v:
        case nat64.Translated(packets, _):
            return packets[0]
        case nat64.IcmpError(packet, _):
            return packet
        case _:
            return None


def stateless() -> None:
    t = nat64.Translator(nat64.Config(pool6=POOL6, own_ipv6="2001:db8::1"))

    v = t.translate(udp6())
    assert isinstance(v, nat64.Translated)
    assert_type(v, nat64.Translated[bytes])
    assert_type(v.packets, list[bytes])
    ip = IP(v.packets[0])
    assert ip.dst == "192.0.2.9" and ip[UDP].dport == 53
    assert wire_length(v.packets[0]) == v.len

    match t.translate(udp6(hlim=1)):
        case nat64.IcmpError(packet, reason):
            assert_type(packet, bytes)
            assert reason == "hop_limit_exceeded" and IPv6(packet).src == "2001:db8::1"
        case other:
            raise AssertionError(other)

    batch = t.translate_batch([udp6(sport=1), udp6(hlim=1), b"\x10"])
    for item in batch:
        if isinstance(item, nat64.Translated):
            assert IP(item.packets[0]).sport == 1
    assert_type(batch[0], nat64.Verdict[bytes])
    assert_type(batch[1:], list[nat64.Verdict[bytes]])
    assert [first_packet(x) is not None for x in batch] == [True, True, False]
    assert [type(x) for x in batch[1:]] == [nat64.IcmpError, nat64.NotOurs]
    assert [type(x) for x in batch[::-2]] == [nat64.NotOurs, nat64.Translated] and batch[5:] == []

    # translate_into(): the packets are views of the caller's bytearray, typed so.
    out = bytearray(nat64.OUTPUT_BUFFER_LEN)
    w = t.translate_into(udp6(), out)
    assert isinstance(w, nat64.Translated)
    assert_type(w.packets, list[memoryview])
    if TYPE_CHECKING:  # scapy fails on a memoryview at run time, and mypy says so:
        IP(w.packets[0])  # type: ignore[arg-type]
    assert IP(bytes(w.packets[0])).dst == "192.0.2.9"


def stateful() -> None:
    cfg = nat64.Nat64Config(nat64.Config(pool6=POOL6), ["198.51.100.1"])
    nat = nat64.Nat64(cfg)
    now = time.monotonic_ns() // 1000
    v = nat.translate(udp6("2001:db8::5"), now)
    assert isinstance(v, nat64.Translated)
    assert IP(v.packets[0]).src == "198.51.100.1"
    polled = nat.poll(now)
    assert_type(polled, nat64.Verdict[bytes] | None)
    assert polled is None
    w = nat.translate_into(udp6("2001:db8::5", sport=5), bytearray(nat64.OUTPUT_BUFFER_LEN), now)
    assert isinstance(w, nat64.Translated)
    assert_type(w.packets[0], memoryview)
    for s in nat.sessions():
        assert_type(s.v4, tuple[str, int])


def dns64() -> None:
    d = nat64.Dns64(nat64.Dns64Config(prefixes=[POOL6]))
    query = bytes(DNS(id=7, rd=1, qd=DNSQR(qname="example.net", qtype="AAAA")))
    up = d.upstream_query(query, 9, b"\x07example\x03net\x00", 28)
    assert DNS(up).id == 9
    local = d.answer_local(bytes(DNS(id=1, rd=1, qd=DNSQR(qname="ipv4only.arpa", qtype="AAAA"))), True)
    assert DNS(local.response).ancount == 2
    err = d.error_response(query, 2)
    assert err is not None and DNS(err).rcode == 2

    # The exchange: steps typed by their literals, a `match` on (kind, outcome).
    ex = d.exchange(query, "2001:db8::5")
    step = ex.start(time.monotonic_ns() // 1000, nat64.Dns64Cache())
    assert_type(step.kind, Literal["ask", "done"])
    assert step.kind == "ask" and step.qtype == 28
    sent = ex.write_query(10)
    assert_type(ex.judge(10, sent, "udp"), Literal["foreign", "truncated", "answer", "failed"])
    for answer in (None, None):  # both upstreams silent
        step = ex.on_answer(answer, time.monotonic_ns() // 1000)
    match step:
        case nat64.Dns64Step("done", "error"):
            assert_type(step.response, bytes | None)
            assert step.response is not None and DNS(step.response).rcode == step.rcode == 2
        case other:
            raise AssertionError(other)


def main() -> None:
    stateless()
    stateful()
    dns64()


if __name__ == "__main__":
    main()
    print("typing_sample: ok")
