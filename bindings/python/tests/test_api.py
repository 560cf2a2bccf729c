"""The rest of the API surface: prefixes, configuration errors, buffers, the `_into` and
batch calls, counters, the stateful NAT64, DNS64 and prefix discovery."""

import ipaddress

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR, DNSRRSOA
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

import nat64

POOL6 = "2001:db8:64::/96"
P = nat64.Prefix64(POOL6)


def test_prefix64_rfc6052_table() -> None:
    p = nat64.Prefix64("2001:db8:100::/40")
    assert p.embed("192.0.2.33") == "2001:db8:1c0:2:21::"
    assert p.embed(ipaddress.IPv4Address("192.0.2.33")) == "2001:db8:1c0:2:21::"
    assert p.extract("2001:db8:1c0:2:21::") == "192.0.2.33"
    assert p.extract("2001:db9::1") is None
    assert p.contains(ipaddress.IPv6Address("2001:db8:1c0:2:21::"))
    assert (p.prefix_len, p.is_well_known, str(p)) == (40, False, "2001:db8:100::/40")
    assert nat64.Prefix64.well_known().is_well_known
    assert nat64.Prefix64("64:ff9b::/96") == nat64.Prefix64.well_known()
    assert len({p, nat64.Prefix64("2001:db8:100::/40")}) == 1


def test_errors_are_value_errors_with_the_core_message() -> None:
    with pytest.raises(nat64.Nat64Error, match=r"/32, /40, /48, /56, /64 or /96"):
        nat64.Prefix64("2001:db8::/33")
    with pytest.raises(ValueError, match="set pool6"):
        nat64.Translator(nat64.Config())
    with pytest.raises(ValueError, match="1280"):
        nat64.Translator(nat64.Config(pool6=POOL6, lowest_ipv6_mtu=1000))
    with pytest.raises(ValueError, match="already in the table"):
        nat64.Config(eamt=[("192.0.2.0/24", "2001:db8::/120"), ("192.0.2.0/24", "2001:db8:1::/120")])
    with pytest.raises(ValueError, match="not a valid address"):
        nat64.Config(pool6=POOL6, own_ipv4="nope")
    with pytest.raises(ValueError, match="needs pool4"):
        nat64.Nat64(nat64.Nat64Config(nat64.Config(pool6=POOL6), []))


def udp6(dst: str = P.embed("203.0.113.2"), sport: int = 4000) -> bytes:
    return bytes(IPv6(src="2001:db8::5", dst=dst) / UDP(sport=sport, dport=53) / b"hello")


def test_any_buffer_in_bytes_out() -> None:
    t = nat64.Translator(nat64.Config(pool6=POOL6))
    pkt = udp6(dst=P.embed("192.0.2.9"))
    pkt = bytes(IPv6(src=P.embed("198.51.100.1"), dst=P.embed("192.0.2.9")) / UDP(sport=1, dport=2) / b"x")
    outs = []
    for buf in (pkt, bytearray(pkt), memoryview(pkt), memoryview(b"\0" + pkt)[1:]):
        v = t.translate(buf)
        assert isinstance(v, nat64.Translated)
        assert type(v.packets[0]) is bytes
        outs.append(v.packets[0])
    assert all(o[12:] == outs[0][12:] for o in outs)  # the IPv4 ID counter moves
    with pytest.raises(TypeError):
        t.translate("not a buffer")  # type: ignore[arg-type]


def test_translate_into_and_batch() -> None:
    cfg = nat64.Config(pool6=POOL6)
    a, b = nat64.Translator(cfg), nat64.Translator(cfg)
    pkt = bytes(IPv6(src=P.embed("198.51.100.1"), dst=P.embed("192.0.2.9")) / UDP(sport=1, dport=2) / b"x")
    out = bytearray(nat64.OUTPUT_BUFFER_LEN)
    v = a.translate_into(pkt, out)
    assert isinstance(v, nat64.Translated)
    assert isinstance(v.packets[0], memoryview)
    assert bytes(v.packets[0]) == bytes(out[: v.len])
    with pytest.raises(TypeError):
        a.translate_into(pkt, bytes(10))  # type: ignore[arg-type]
    shared = bytearray(pkt) + bytearray(200)
    with pytest.raises(ValueError, match="share memory"):
        a.translate_into(memoryview(shared)[: len(pkt)], shared)

    junk = b"\x10\x00"
    outside = bytes(IPv6(src="2001:db8::5", dst="2001:db8:99::1") / UDP())
    batch = b.translate_batch([pkt, junk, outside, bytearray(pkt)])
    assert len(batch) == 4 and batch.translated == 2
    assert isinstance(batch[0], nat64.Translated) and isinstance(batch[-1], nat64.Translated)
    assert isinstance(batch[1], nat64.NotOurs) and batch[1].reason == "not_ip"
    assert isinstance(batch[2], nat64.NotOurs) and batch[2].reason == "destination_not_mapped"
    assert [type(x).__name__ for x in batch] == ["Translated", "NotOurs", "NotOurs", "Translated"]
    first = batch[0]
    assert isinstance(first, nat64.Translated)
    assert batch.data[: first.len] == first.packets[0] and batch.offsets == [0, first.len, first.len, first.len]
    with pytest.raises(IndexError):
        batch[4]
    with pytest.raises(ValueError, match="set pool6"):
        b.set_config(nat64.Config())
    b.set_config(nat64.Config(pool6="2001:db8:99::/96"))
    assert isinstance(b.translate(pkt), nat64.NotOurs)
    c = b.counters()
    assert c.translated_6to4 == 2 and c.not_ours == {"not_ip": 1, "destination_not_mapped": 2} and c.dropped == {}


def test_verdicts_match_statement() -> None:
    t = nat64.Translator(nat64.Config(pool6=POOL6, own_ipv6="2001:db8::1"))
    hop1 = bytes(IPv6(src=P.embed("198.51.100.1"), dst=P.embed("192.0.2.9"), hlim=1) / UDP())
    match t.translate(hop1):
        case nat64.IcmpError(packet, reason):
            assert reason == "hop_limit_exceeded" and IPv6(packet).dst == P.embed("198.51.100.1")
        case other:
            pytest.fail(repr(other))
    labels = dict(nat64.drop_reasons())
    assert "hop_limit_exceeded" in labels and "output_too_small" in labels
    assert dict(nat64.not_ours_reasons())["not_ip"]


def test_stateful_nat64_sessions_and_timers() -> None:
    cfg = nat64.Nat64Config(
        nat64.Config(pool6=POOL6, own_ipv4="198.51.100.1"),
        [nat64.Pool4Entry("198.51.100.1", 61001, 61010, ["udp", "icmp"])],
        static_bib=[nat64.Bib("udp", ("2001:db8::9", 53), ("198.51.100.1", 53))],
        timeouts=nat64.Timeouts(udp=120),
    )
    nat = nat64.Nat64(cfg)
    now = 5_000_000
    v = nat.translate(udp6(), now)
    assert isinstance(v, nat64.Translated)
    out = IP(bytes(v.packets[0]))
    assert out.src == "198.51.100.1" and 61001 <= out[UDP].sport <= 61010 and out.dst == "203.0.113.2"
    (s,) = nat.sessions()
    assert (s.proto, s.v6, s.remote, s.state) == ("udp", ("2001:db8::5", 4000), ("203.0.113.2", 53), "-")
    assert s.v4 == ("198.51.100.1", out[UDP].sport) and s.expires == now + 120_000_000
    assert nat.sessions(proto="tcp") == [] and len(nat.sessions(client="2001:db8::5")) == 1
    assert {b.v6 for b in nat.bibs("udp")} == {("2001:db8::5", 4000), ("2001:db8::9", 53)}
    # The reply comes back through the session.
    reply = IP(src="203.0.113.2", dst="198.51.100.1") / UDP(sport=53, dport=out[UDP].sport) / b"answer"
    back = nat.translate(bytes(reply), now + 1)
    assert isinstance(back, nat64.Translated) and IPv6(bytes(back.packets[0])).dst == "2001:db8::5"
    # Nothing for an unknown port of pool4.
    stray = IP(src="203.0.113.2", dst="198.51.100.1") / UDP(sport=53, dport=61009)
    assert isinstance(nat.translate(bytes(stray), now + 2), (nat64.IcmpError, nat64.Dropped))
    st = nat.stats()
    assert (st.sessions, st.bib_entries, st.pool4_size, st.sessions_evicted) == (1, 2, (0, 10, 10), 0)
    at = nat.next_expiry()
    assert at == nat.sessions()[0].expires
    assert nat.poll(at) is None and nat.stats().sessions == 0
    assert nat.counters().translated_4to6 == 1
    batch = nat.translate_batch([udp6(sport=1), udp6(sport=2)], at + 1)
    assert batch.translated == 2 and nat.stats().sessions == 2


def aaaa_query(name: str = "example.net", qtype: str = "AAAA") -> bytes:
    return bytes(DNS(id=0x1234, rd=1, qd=DNSQR(qname=name, qtype=qtype)))


def test_dns64_synthesis_parsed_by_scapy() -> None:
    d = nat64.Dns64(nat64.Dns64Config(prefixes=[POOL6]))
    q = aaaa_query()
    plan = d.plan(q, "2001:db8::5")
    assert plan.kind == "aaaa"
    up = DNS(d.upstream_query(q, 7, b"\x07example\x03net\x00", 28))
    assert up.id == 7 and up.rd == 1 and up.qd[0].qtype == 28
    soa = DNSRRSOA(rrname="net.", ttl=900, minimum=300, mname="ns.net.", rname="h.net.")
    aaaa = bytes(DNS(id=0x1234, qr=1, rd=1, ra=1, qd=DNSQR(qname="example.net", qtype="AAAA"), ns=soa))
    assert d.needs_a_query(q, aaaa) == "query_a"
    a = bytes(
        DNS(
            id=0x1234,
            qr=1,
            rd=1,
            ra=1,
            qd=DNSQR(qname="example.net", qtype="A"),
            an=DNSRR(rrname="example.net", type="A", ttl=3600, rdata="203.0.113.5"),
        )
    )
    w = d.synthesize(q, aaaa, a)
    assert (w.answer, w.records, w.truncated) == ("synthesized", 1, False)
    r = DNS(w.response)
    assert r.id == 0x1234 and r.qr == 1 and r.ancount == 1
    assert r.an[0].type == 28 and r.an[0].rdata == P.embed("203.0.113.5") and r.an[0].ttl == 300
    assert d.needs_a_query(q, None) == "query_a"
    with pytest.raises(nat64.Nat64Error, match="SERVFAIL"):
        d.synthesize(q)


def test_dns64_local_ptr_errors() -> None:
    d = nat64.Dns64()
    local = d.plan(aaaa_query("ipv4only.arpa"), "2001:db8::5")
    assert local.kind == "local" and local.synthesize
    w = d.answer_local(aaaa_query("ipv4only.arpa"), True)
    assert {rr.rdata for rr in DNS(w.response).an} == {"64:ff9b::c000:aa", "64:ff9b::c000:ab"}
    ptr_name = ".".join(reversed("0064ff9b0000000000000000c0000221")) + ".ip6.arpa"
    plan = d.plan(aaaa_query(ptr_name, "PTR"), "2001:db8::5")
    assert plan.kind == "ptr" and plan.ptr_target == "192.0.2.33"
    assert d.plan(aaaa_query(qtype="MX"), "2001:db8::5").kind == "forward"
    assert not d.serves("192.0.2.1") and d.serves("2001:db8::5")
    with pytest.raises(nat64.QueryError) as e:
        d.plan(bytes(DNS(id=1, opcode=2, qd=DNSQR(qname="x."))), "2001:db8::5")
    assert e.value.rcode == 4
    resp = d.error_response(aaaa_query(), 2)
    assert resp is not None and DNS(resp).rcode == 2
    assert d.response_limit(aaaa_query()) == 512 and d.response_limit(aaaa_query(), tcp=True) == 65535


def test_discovery() -> None:
    (p,) = nat64.prefixes_from_addresses(["2001:db8:1c0:0:aa::"])
    assert str(p) == "2001:db8:100::/40"
    d = nat64.Dns64(nat64.Dns64Config(prefixes=[POOL6]))
    w = d.answer_local(aaaa_query("ipv4only.arpa"), True)
    assert nat64.prefixes_from_response(w.response) == [P]
    with pytest.raises(ValueError, match="does not do DNS64"):
        nat64.prefixes_from_addresses(["2001:db8::1"])
    opt = nat64.Pref64(POOL6, 600)
    raw = opt.encode()
    assert len(raw) == 16 and raw[0] == 38
    back = nat64.Pref64.decode(raw)
    assert back.prefix == P and back.lifetime_secs == 600 and back.scaled_lifetime == 75
