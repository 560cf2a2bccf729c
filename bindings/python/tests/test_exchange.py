"""The DNS64 exchange (`Dns64.exchange()`, RFC 6147 section 5.1 step by step) and its
cache (`Dns64Cache`), driven by the binding alone: the test plays the upstreams (with
scapy building their answers and parsing every message the binding writes), and in the
last test real sockets on 127.0.0.1 do. Synthesized addresses are checked against
`ipaddress` arithmetic (RFC 6052 section 2.2 for a /96), not against `Prefix64.embed`."""

import ipaddress
import secrets
import socket
import struct
import threading
import time
from collections.abc import Iterator

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSOA
from scapy.packet import Packet

import nat64

POOL6 = "2001:db8:64::/96"
CLIENT = "2001:db8::5"
T0 = 1_000_000_000  # µs on the caller's clock
SECOND = 1_000_000


def embed96(v4: str) -> str:
    """RFC 6052 section 2.2, /96: the IPv4 address in the last 32 bits of the prefix."""
    net = ipaddress.IPv6Network(POOL6)
    return str(ipaddress.IPv6Address(int(net.network_address) | int(ipaddress.IPv4Address(v4))))


def query(name: str = "example.net", qtype: str = "AAAA", id: int = 0x1234) -> bytes:
    return bytes(DNS(id=id, rd=1, qd=DNSQR(qname=name, qtype=qtype)))


def reply(
    up: bytes, *, an: Packet | list[Packet] | None = None, ns: Packet | None = None, rcode: int = 0, tc: int = 0
) -> bytes:
    """The upstream's response to the upstream query `up` (its ID and question)."""
    q = DNS(up)
    return bytes(DNS(id=q.id, qr=1, rd=1, ra=1, tc=tc, rcode=rcode, qd=q.qd, an=an or [], ns=ns or []))


def soa(ttl: int = 900, minimum: int = 300) -> Packet:
    return DNSRRSOA(rrname="net.", ttl=ttl, minimum=minimum, mname="ns.net.", rname="h.net.")


def a_records(name: str, *addrs: str, ttl: int = 3600) -> list[Packet]:
    return [DNSRR(rrname=name, type="A", ttl=ttl, rdata=a) for a in addrs]


def ask(ex: nat64.Dns64Exchange, id: int, qname: str, qtype: int) -> bytes:
    """The upstream query the exchange writes, checked by scapy."""
    up = ex.write_query(id)
    m = DNS(up)
    assert (m.id, m.qr, m.rd, m.qd[0].qname, m.qd[0].qtype) == (id, 0, 1, qname.encode(), qtype)
    return up


def dns64() -> nat64.Dns64:
    return nat64.Dns64(nat64.Dns64Config(prefixes=[POOL6]))


def test_aaaa_with_records_is_relayed_cached_and_served_aged_from_the_cache() -> None:
    d, cache = dns64(), nat64.Dns64Cache(capacity=100)
    ex = d.exchange(query("dual.example", id=7), CLIENT)
    assert ex.plan is not None and ex.plan.kind == "aaaa" and not ex.is_done
    assert ex.response_limit == 512
    s = ex.start(T0, cache)
    assert (s.kind, s.qtype, s.outcome, s.response) == ("ask", 28, None, None)
    up = ask(ex, 0x101, "dual.example.", 28)
    aaaa = reply(up, an=DNSRR(rrname="dual.example", type="AAAA", ttl=300, rdata="2001:db8::35"))
    assert ex.judge(0x101, aaaa, "udp") == "answer"
    s = ex.on_answer(aaaa, T0, cache)
    assert (s.kind, s.outcome, s.answer, s.records, s.truncated, s.from_cache, s.rcode) == (
        "done",
        "answered",
        "relayed",
        0,
        False,
        False,
        None,
    )
    assert s.response is not None
    r = DNS(s.response)
    assert (r.id, r.qr, r.ancount, r.an[0].rdata, r.an[0].ttl) == (7, 1, 1, "2001:db8::35", 300)
    assert ex.is_done and len(cache) == 1
    assert "outcome='answered'" in repr(s) and "is_done=True" in repr(ex)

    # The same question 10 s later, another ID and case: from the cache, nothing asked,
    # the TTL aged by 10 s (RFC 1035 section 6.1.2), the client's ID and name.
    again = d.exchange(query("DUAL.example", id=8), CLIENT)
    s = again.start(T0 + 10 * SECOND, cache)
    assert (s.kind, s.outcome, s.from_cache) == ("done", "answered", True)
    assert s.response is not None
    r = DNS(s.response)
    assert (r.id, r.qd[0].qname, r.an[0].rdata, r.an[0].ttl) == (8, b"DUAL.example.", "2001:db8::35", 290)
    # Without the cache the question goes upstream again.
    assert d.exchange(query("dual.example"), CLIENT).start(T0 + 10 * SECOND).kind == "ask"
    # Past its TTL the response is gone.
    assert d.exchange(query("dual.example"), CLIENT).start(T0 + 301 * SECOND, cache).kind == "ask"


def test_aaaa_empty_then_a_is_asked_and_synthesized() -> None:
    d = dns64()
    ex = d.exchange(query(), CLIENT)
    assert ex.start(T0).qtype == 28
    up = ask(ex, 0x2001, "example.net.", 28)
    nodata = reply(up, ns=soa(ttl=900, minimum=300))
    assert ex.judge(0x2001, nodata, "udp") == "answer"
    s = ex.on_answer(nodata, T0)
    assert (s.kind, s.qtype) == ("ask", 1), "RFC 6147 section 5.1.2: no AAAA, so A"
    up_a = ask(ex, 0x2002, "example.net.", 1)
    # The AAAA answer is not the answer to the A question, nor is the old ID.
    assert ex.judge(0x2002, nodata, "udp") == "foreign"
    a = reply(up_a, an=a_records("example.net", "192.0.2.33", "198.51.100.10"))
    assert ex.judge(0x2001, a, "udp") == "foreign"
    assert ex.judge(0x2002, a, "udp") == "answer"
    s = ex.on_answer(a, T0)
    assert (s.outcome, s.answer, s.records, s.truncated) == ("answered", "synthesized", 2, False)
    assert s.response is not None
    r = DNS(s.response)
    assert r.id == 0x1234 and r.ancount == 2
    assert [rr.type for rr in r.an] == [28, 28]
    assert [rr.rdata for rr in r.an] == [embed96("192.0.2.33"), embed96("198.51.100.10")]
    # Section 5.1.7: the TTL is capped by the negative answer's SOA (its minimum, 300).
    assert {rr.ttl for rr in r.an} == {300}


def test_both_upstreams_silent_is_servfail_and_not_cached() -> None:
    d, cache = dns64(), nat64.Dns64Cache()
    ex = d.exchange(query("dead.example", id=9), CLIENT)
    assert ex.start(T0, cache).qtype == 28
    assert ex.on_answer(None, T0, cache).qtype == 1, "section 5.1.3: no answer counts as empty"
    s = ex.on_answer(None, T0, cache)
    assert (s.kind, s.outcome, s.rcode, s.answer, s.from_cache) == ("done", "error", 2, None, None)
    assert s.response is not None
    r = DNS(s.response)
    assert (r.id, r.qr, r.rcode, r.qd[0].qname) == (9, 1, 2, b"dead.example.")
    assert len(cache) == 0 and ex.is_done


def test_ptr_under_the_prefix_is_asked_for_the_ipv4_name() -> None:
    d = dns64()
    name = ipaddress.IPv6Address(embed96("198.51.100.10")).reverse_pointer
    ex = d.exchange(query(name, "PTR"), CLIENT)
    assert ex.plan is not None and (ex.plan.kind, ex.plan.ptr_target) == ("ptr", "198.51.100.10")
    assert ex.start(T0).qtype == 12
    up = ask(ex, 0x301, "10.100.51.198.in-addr.arpa.", 12)
    ptr = reply(up, an=DNSRR(rrname="10.100.51.198.in-addr.arpa", type="PTR", ttl=3600, rdata="host.example.net"))
    s = ex.on_answer(ptr, T0)
    assert (s.outcome, s.answer) == ("answered", "ptr_cname")
    assert s.response is not None
    r = DNS(s.response)
    # Section 5.3.1: a CNAME from the ip6.arpa name to the in-addr.arpa one, then the PTR.
    assert r.qd[0].qname == (name + ".").encode() and r.qd[0].qtype == 12
    assert (r.an[0].type, r.an[0].rrname, r.an[0].rdata) == (5, (name + ".").encode(), b"10.100.51.198.in-addr.arpa.")

    # No answer for the in-addr.arpa name: the client's question goes as it is.
    ex = d.exchange(query(name, "PTR"), CLIENT)
    ex.start(T0)
    s = ex.on_answer(None, T0)
    assert s.qtype == 12
    ask(ex, 0x302, name + ".", 12)
    assert ex.on_answer(None, T0).rcode == 2


def test_judge_foreign_truncated_failed_and_the_how_names() -> None:
    ex = dns64().exchange(query(), CLIENT)
    ex.start(T0)
    up = ask(ex, 0x4242, "example.net.", 28)
    good = reply(up, ns=soa())
    other_id = bytearray(good)
    other_id[0:2] = struct.pack("!H", 0x4243)
    assert ex.judge(0x4242, other_id, "udp") == "foreign"
    assert ex.judge(0x4242, up, "udp") == "foreign", "a query is not an answer"
    assert ex.judge(0x4242, b"\x42\x42 not dns", "udp") == "foreign"
    tc = reply(up, tc=1)
    assert ex.judge(0x4242, tc, "udp") == "truncated"
    assert ex.judge(0x4242, tc, "tcp") == "answer", "over TCP, TC is not looked at"
    # Oversized (cut) datagrams: only the header counts.
    assert ex.judge(0x4242, good[:3], "udp_oversized") == "truncated"
    assert ex.judge(0x4243, good[:3], "udp_oversized") == "foreign"
    assert ex.judge(0x4242, reply(up, rcode=2), "udp") == "failed"
    assert ex.judge(0x4242, reply(up, rcode=5), "udp") == "failed"
    assert ex.judge(0x4242, memoryview(good), "udp") == "answer"
    with pytest.raises(nat64.Nat64Error, match=r'how "sctp": use "udp", "udp_oversized" .* or "tcp"'):
        ex.judge(0x4242, good, "sctp")  # type: ignore[arg-type]


def test_malformed_query_is_formerr_and_a_response_is_silent() -> None:
    d = dns64()
    # A header that announces a question and a name cut short.
    bad = struct.pack("!HHHHHH", 0xBEEF, 0x0100, 1, 0, 0, 0) + b"\x07exam"
    ex = d.exchange(bad, CLIENT)
    assert ex.plan is None
    s = ex.start(T0)
    assert (s.kind, s.outcome, s.rcode) == ("done", "error", 1)
    assert s.response is not None
    r = DNS(s.response)
    assert (r.id, r.qr, r.rcode) == (0xBEEF, 1, 1)
    with pytest.raises(nat64.Nat64Error):
        ex.write_query(1)

    resp = bytes(DNS(id=5, qr=1, qd=DNSQR(qname="example.net", qtype="AAAA")))
    ex = d.exchange(resp, CLIENT)
    s = ex.start(T0)
    assert (s.kind, s.outcome, s.response, s.rcode) == ("done", "silent", None, None)
    assert ex.is_done and repr(s) == "Dns64Step(kind='done', outcome='silent')"


def test_a_finished_exchange_answers_servfail() -> None:
    ex = dns64().exchange(query(id=11), CLIENT)
    with pytest.raises(nat64.Nat64Error):
        ex.write_query(1)  # nothing asked yet
    ex.start(T0)
    up = ask(ex, 1, "example.net.", 28)
    ex.on_answer(reply(up, an=DNSRR(rrname="example.net", type="AAAA", ttl=60, rdata="2001:db8::1")), T0)
    assert ex.is_done
    with pytest.raises(nat64.Nat64Error):
        ex.write_query(2)
    assert ex.judge(1, up, "udp") == "foreign"
    for s in (ex.on_answer(reply(up, ns=soa()), T0), ex.start(T0)):
        assert (s.outcome, s.rcode) == ("error", 2)
        assert s.response is not None and (DNS(s.response).id, DNS(s.response).rcode) == (11, 2)


def test_cache_defaults_and_capacity() -> None:
    c = nat64.Dns64Cache()
    assert (c.capacity, c.max_ttl, len(c), repr(c)) == (10000, 86400, 0, "Dns64Cache()")
    assert repr(nat64.Dns64Cache(capacity=1, max_ttl=60)) == "Dns64Cache(capacity=1, max_ttl=60)"
    d = dns64()

    def answered(name: str, cache: nat64.Dns64Cache) -> None:
        ex = d.exchange(query(name), CLIENT)
        ex.start(T0, cache)
        up = ex.write_query(1)
        ex.on_answer(reply(up, an=DNSRR(rrname=name, type="AAAA", ttl=600, rdata="2001:db8::1")), T0, cache)

    none = nat64.Dns64Cache(capacity=0)
    answered("a.example", none)
    assert len(none) == 0
    one = nat64.Dns64Cache(capacity=1, max_ttl=60)
    answered("a.example", one)
    answered("b.example", one)
    assert len(one) == 1
    # max_ttl bounds how long the 600 s answer is kept.
    assert d.exchange(query("b.example"), CLIENT).start(T0 + 59 * SECOND, one).from_cache
    assert d.exchange(query("b.example"), CLIENT).start(T0 + 61 * SECOND, one).kind == "ask"
    assert d.exchange(query("a.example"), CLIENT).start(T0, one).kind == "ask", "evicted"
    with pytest.raises(OverflowError):
        nat64.Dns64Cache(capacity=-1)


# ------------------------------------------------------------- with real sockets


class Upstream:
    """A tiny upstream resolver on 127.0.0.1: UDP and TCP on one port, canned answers
    (AAAA: NODATA, A: two addresses). Over UDP it first sends a datagram with another
    ID (which the harness must ignore) and answers A with TC set (the harness retries
    over TCP); `asked` records (transport, qtype) of every query."""

    def __init__(self) -> None:
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.addr: tuple[str, int] = self.udp.getsockname()
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.bind(self.addr)
        self.tcp.listen()
        self.udp.settimeout(0.2)
        self.tcp.settimeout(0.2)
        self.asked: list[tuple[str, int]] = []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=f, daemon=True) for f in (self.serve_udp, self.serve_tcp)]
        for t in self.threads:
            t.start()

    def answer(self, q: bytes, tc: bool) -> bytes:
        m = DNS(q)
        if m.qd[0].qtype == 28:
            return reply(q, ns=soa(ttl=900, minimum=120))
        if tc:
            return reply(q, tc=1)
        return reply(q, an=a_records(m.qd[0].qname.decode(), "192.0.2.1", "203.0.113.7", ttl=60))

    def serve_udp(self) -> None:
        while not self.stop.is_set():
            try:
                q, peer = self.udp.recvfrom(4096)
            except TimeoutError:
                continue
            self.asked.append(("udp", DNS(q).qd[0].qtype))
            spoof = bytearray(self.answer(q, tc=False))
            spoof[0:2] = struct.pack("!H", (DNS(q).id + 1) % 65536)
            self.udp.sendto(spoof, peer)
            self.udp.sendto(self.answer(q, tc=True), peer)

    def serve_tcp(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.tcp.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                (n,) = struct.unpack("!H", recv_exact(conn, 2))
                q = recv_exact(conn, n)
                self.asked.append(("tcp", DNS(q).qd[0].qtype))
                a = self.answer(q, tc=False)
                conn.sendall(struct.pack("!H", len(a)) + a)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join()
        self.udp.close()
        self.tcp.close()


def recv_exact(conn: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    u = Upstream()
    try:
        yield u
    finally:
        u.close()


def resolve(d: nat64.Dns64, msg: bytes, client: str, upstream: tuple[str, int], cache: nat64.Dns64Cache) -> bytes | None:
    """What a DNS64 server does with one client message, its I/O all here: UDP to the
    upstream with a fresh random ID per query, ignoring foreign datagrams, TCP after a
    truncated answer, None after a 2 s timeout (the binding then asks or answers)."""
    ex = d.exchange(msg, client)
    step = ex.start(time.monotonic_ns() // 1000, cache)
    while step.kind == "ask":
        id = secrets.randbelow(65536)
        answer: bytes | None = None
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(2)
            s.connect(upstream)
            s.send(ex.write_query(id))
            try:
                while answer is None:
                    data = s.recv(65535)
                    verdict = ex.judge(id, data, "udp")
                    if verdict == "truncated":
                        answer = over_tcp(ex, id, upstream)
                    elif verdict != "foreign":
                        answer = data
            except TimeoutError:
                pass
        step = ex.on_answer(answer, time.monotonic_ns() // 1000, cache)
    return step.response


def over_tcp(ex: nat64.Dns64Exchange, id: int, upstream: tuple[str, int]) -> bytes | None:
    with socket.create_connection(upstream, timeout=2) as c:
        q = ex.write_query(id)
        c.sendall(struct.pack("!H", len(q)) + q)
        (n,) = struct.unpack("!H", recv_exact(c, 2))
        data = recv_exact(c, n)
    return data if ex.judge(id, data, "tcp") in ("answer", "failed") else None


def test_a_harness_drives_the_exchange_with_its_own_sockets(upstream: Upstream) -> None:
    # The client side is a real socket too; an IPv4 client gets DNS64 with allow_ipv4.
    d = nat64.Dns64(nat64.Dns64Config(prefixes=[POOL6], allow_ipv4=True))
    cache = nat64.Dns64Cache()
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as server,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client,
    ):
        server.bind(("127.0.0.1", 0))
        server.settimeout(5)
        client.settimeout(5)
        for qid in (0x5151, 0x5152):
            client.sendto(query("ipv4.example", id=qid), server.getsockname())
            msg, peer = server.recvfrom(65535)
            response = resolve(d, msg, peer[0], upstream.addr, cache)
            assert response is not None
            server.sendto(response, peer)
            r = DNS(client.recv(65535))
            assert (r.id, r.rcode, r.qd[0].qname) == (qid, 0, b"ipv4.example.")
            assert [rr.rdata for rr in r.an] == [embed96("192.0.2.1"), embed96("203.0.113.7")]
            assert {rr.ttl for rr in r.an} == {60}
    # AAAA over UDP, A over UDP (truncated) then TCP; the second query came from the cache.
    assert upstream.asked == [("udp", 28), ("udp", 1), ("tcp", 1)]
    assert len(cache) == 1
