"""The configuration classes: unknown keys are refused by name, values are checked where
they are given, and repr() is the Python call that rebuilds the object."""

from typing import Any, Callable

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.packet import Raw

import nat64

POOL6 = "2001:db8:64::/96"
P = nat64.Prefix64(POOL6)
NAMESPACE = vars(nat64)


def rebuilt(x: object) -> Any:
    """eval(repr(x)) in the nat64 namespace, checked to print the same."""
    text = repr(x)
    y = eval(text, NAMESPACE)
    assert type(y) is type(x) and repr(y) == text
    return y


# -------------------------------------------------------------- unknown keys

XLAT = nat64.Config(pool6=POOL6)
MAKERS: list[tuple[str, Callable[..., object]]] = [
    ("Config", lambda **kw: nat64.Config(pool6=POOL6, **kw)),
    ("Pool4Entry", lambda **kw: nat64.Pool4Entry("198.51.100.0/30", **kw)),
    ("Bib", lambda **kw: nat64.Bib("udp", ("2001:db8::9", 53), ("198.51.100.1", 53), **kw)),
    ("Timeouts", lambda **kw: nat64.Timeouts(**kw)),
    ("TableLimits", lambda **kw: nat64.TableLimits(**kw)),
    ("Nat64Config", lambda **kw: nat64.Nat64Config(XLAT, ["198.51.100.1"], **kw)),
    ("PrefixRule", lambda **kw: nat64.PrefixRule(POOL6, **kw)),
    ("Dns64Config", lambda **kw: nat64.Dns64Config(**kw)),
    ("Pref64", lambda **kw: nat64.Pref64(POOL6, 600, **kw)),
]


@pytest.mark.parametrize("name,make", MAKERS, ids=[n for n, _ in MAKERS])
def test_unknown_keys_are_refused_by_name(name: str, make: Callable[..., object]) -> None:
    make()  # the known arguments alone are fine
    # Misspellings a person makes: a near name, the CLI's spelling, another class's key.
    for key in ("mtu", "pool-6", "udp_timeout", "prefix_length"):
        with pytest.raises(TypeError, match=rf"{name}\.__new__\(\) got an unexpected keyword argument '{key}'"):
            make(**{key: 1})


def test_unknown_keys_from_a_dict() -> None:
    settings = {"pool6": POOL6, "mtu4": 1400, "mtu_6": 1400}
    with pytest.raises(TypeError, match="unexpected keyword argument 'mtu_6'"):
        nat64.Config(**settings)  # type: ignore[arg-type]


def test_values_are_checked_where_given() -> None:
    with pytest.raises(nat64.Nat64Error, match=r"force\) is True or False"):
        nat64.Config(eamt=[("192.0.2.0/24", "2001:db8::/120", "no")])  # type: ignore[list-item]
    with pytest.raises(nat64.Nat64Error, match="eamt entries are"):
        nat64.Config(eamt=[("192.0.2.0/24",)])  # type: ignore[list-item]
    with pytest.raises(nat64.Nat64Error, match=r"'nope' is not a valid address|\"nope\" is not a valid address"):
        nat64.Bib("udp", ("nope", 53), ("198.51.100.1", 53))
    with pytest.raises(nat64.Nat64Error, match="is not a valid address"):
        nat64.Bib("udp", ("2001:db8::9", 53), ("2001:db8::1", 53))
    with pytest.raises(nat64.Nat64Error, match='protocol "sctp"'):
        nat64.Pool4Entry("198.51.100.1", protocols=["sctp"])  # type: ignore[list-item]
    with pytest.raises(nat64.Nat64Error, match='eam_hairpin_mode "on"'):
        nat64.Config(eam_hairpin_mode="on")  # type: ignore[arg-type]
    with pytest.raises(nat64.Nat64Error, match="ipv4_id"):
        nat64.Config(ipv4_id=("random", 0))  # type: ignore[arg-type]
    # Addresses are kept in their canonical form.
    b = nat64.Bib("udp", ("2001:DB8:0::9", 53), ("198.51.100.1", 53))
    assert b.v6 == ("2001:db8::9", 53)


# ---------------------------------------------------------------------- repr


def test_config_repr_is_the_call() -> None:
    assert repr(nat64.Config()) == "Config()"
    c = nat64.Config(pool6=POOL6, mtu4=1400, own_ipv6="2001:DB8::1", ipv4_id=("fixed", 0))
    assert repr(c) == "Config(pool6=Prefix64('2001:db8:64::/96'), own_ipv6='2001:db8::1', mtu4=1400, ipv4_id=('fixed', 0))"
    assert rebuilt(c).pool6 == P


def translations(t: nat64.Translator) -> list[bytes]:
    """Every output of a few packets that exercise the settings below."""
    big = IP(src="198.51.100.7", dst="192.0.2.1", flags=0, tos=0x28) / UDP(sport=1, dport=2) / Raw(b"x" * 1400)
    eam = IPv6(src=P.embed("198.51.100.7"), dst="2001:db8:e::5", tc=0x28) / UDP(sport=3, dport=4) / b"y"
    hop1 = IPv6(src=P.embed("198.51.100.7"), dst=P.embed("192.0.2.9"), hlim=1) / UDP()
    out = []
    for pkt in (big, eam, hop1):
        v = t.translate(bytes(pkt))
        if isinstance(v, nat64.Translated):
            out.extend(v.packets)
        elif isinstance(v, nat64.IcmpError):
            out.append(v.packet)
        else:
            out.append(repr(v).encode())
    return out


def test_config_repr_round_trips_every_field() -> None:
    c = nat64.Config(
        pool6=POOL6,
        wkp_forbids_non_global=False,
        eamt=[("192.0.2.0/24", "2001:db8:e::/120"), ("192.0.2.128/25", "2001:db8:f::/121", True)],
        eam_hairpin_mode="simple",
        denylist4=["203.0.113.0/24"],
        rfc6791v4_prefix="198.51.100.128/25",
        rfc6791v6_prefix="2001:db8:6791::/64",
        randomize_rfc6791_addresses=False,
        own_ipv4="198.51.100.1",
        own_ipv6="2001:db8::1",
        mtu4=1400,
        mtu6=1480,
        lowest_ipv6_mtu=1300,
        mtu_plateaus=[1400, 576, 68],
        amend_udp_checksum_zero=True,
        forward_udp_checksum_zero=True,
        zeroize_traffic_class=True,
        override_tos=0,
        error_hop_limit=30,
        ipv4_id=("counter", 7),
    )
    text = repr(c)
    for part in (
        "wkp_forbids_non_global=False",
        # Longest prefix first, as the table keeps them; both overlap, so both are forced.
        "eamt=[('192.0.2.128/25', '2001:db8:f::/121', True), ('192.0.2.0/24', '2001:db8:e::/120', True)]",
        "eam_hairpin_mode='simple'",
        "denylist4=['203.0.113.0/24']",
        "mtu_plateaus=[1400, 576, 68]",
        "forward_udp_checksum_zero=True",
        "override_tos=0",
        "ipv4_id=('counter', 7)",
    ):
        assert part in text
    d = rebuilt(c)
    # The rebuilt configuration translates exactly as the original.
    assert translations(nat64.Translator(d)) == translations(nat64.Translator(c))
    assert translations(nat64.Translator(c)) != translations(nat64.Translator(nat64.Config(pool6=POOL6)))


def test_secrets_stay_out_of_repr() -> None:
    c = nat64.Config(pool6=POOL6, seed=123456789)
    assert repr(c) == "Config(pool6=Prefix64('2001:db8:64::/96'), seed=...)" and "123456789" not in repr(c)
    n = nat64.Nat64Config(c, ["198.51.100.1"], secret=(987654321, 5))
    assert "secret=..." in repr(n) and "987654321" not in repr(n)
    with pytest.raises(TypeError):
        eval(repr(n), NAMESPACE)  # the Ellipsis is not a secret: it does not rebuild


def test_stateful_reprs_round_trip() -> None:
    assert repr(nat64.Timeouts()) == "Timeouts()"
    assert repr(nat64.Timeouts(udp=120, icmp=0.25)) == "Timeouts(udp=120.0, icmp=0.25)"
    rebuilt(nat64.Timeouts(udp=120, tcp_est=1e-6, tcp_trans=7441, icmp=0.25, tcp_incoming_syn=2))
    assert repr(nat64.TableLimits(max_sessions=10)) == "TableLimits(max_sessions=10)"
    rebuilt(nat64.TableLimits(max_sessions=10, max_sessions_per_client=3, client_prefix_len=64))
    e = nat64.Pool4Entry("198.51.100.0/30", 1024, 2047, ["udp", "icmp"])
    assert repr(e) == "Pool4Entry('198.51.100.0/30', first_port=1024, last_port=2047, protocols=['udp', 'icmp'])"
    assert repr(nat64.Pool4Entry("198.51.100.1")) == "Pool4Entry('198.51.100.1/32')"
    rebuilt(e)
    b = nat64.Bib("tcp", ("2001:db8::9", 80), ("198.51.100.1", 8080))
    assert repr(b) == "Bib('tcp', ('2001:db8::9', 80), ('198.51.100.1', 8080))"
    assert (rebuilt(b).v6, rebuilt(b).is_static) == (("2001:db8::9", 80), True)
    assert repr(nat64.Bib("udp", ("2001:db8::9", 1), ("198.51.100.1", 2), is_static=False)).endswith("is_static=False)")

    cfg = nat64.Nat64Config(
        nat64.Config(pool6=POOL6, own_ipv4="198.51.100.1"),
        [e, "198.51.100.8/31"],
        static_bib=[b],
        timeouts=nat64.Timeouts(udp=120),
        address_dependent_filtering=True,
        drop_externally_initiated_tcp=True,
        drop_icmpv6_info=True,
        max_simultaneous_opens=3,
        source_icmpv6_errors_better=False,
        handle_rst_during_fin_rcv=True,
        max_iterations=100,
        limits=nat64.TableLimits(max_sessions_per_client=4),
    )
    assert repr(cfg).startswith(
        "Nat64Config(Config(pool6=Prefix64('2001:db8:64::/96'), own_ipv4='198.51.100.1'), "
        "[Pool4Entry('198.51.100.0/30', first_port=1024, last_port=2047, protocols=['udp', 'icmp']), "
        "Pool4Entry('198.51.100.8/31')], static_bib=[Bib('tcp', ('2001:db8::9', 80), ('198.51.100.1', 8080))], "
        "timeouts=Timeouts(udp=120.0), address_dependent_filtering=True,"
    )
    again = rebuilt(cfg)
    # Same tables from both.
    a, z = nat64.Nat64(cfg), nat64.Nat64(again)
    assert repr(a.stats()) == repr(z.stats()) and [repr(x) for x in a.bibs()] == [repr(x) for x in z.bibs()]
    # A BIB entry the NAT64 made is dynamic, and says so.
    pkt = IPv6(src="2001:db8::5", dst=P.embed("203.0.113.2")) / UDP(sport=4000, dport=53)
    assert isinstance(a.translate(bytes(pkt), 1_000_000), nat64.Translated)
    (dynamic,) = [x for x in a.bibs("udp") if not x.is_static]
    assert repr(dynamic).endswith("is_static=False)") and rebuilt(dynamic).v4 == dynamic.v4


def test_dns64_reprs_round_trip() -> None:
    assert repr(nat64.Dns64Config()) == "Dns64Config()"
    r = nat64.PrefixRule(POOL6, ["192.0.2.0/24", "!10.0.0.0/8", "any"])
    assert repr(r) == "PrefixRule(Prefix64('2001:db8:64::/96'), ['192.0.2.0/24', '!10.0.0.0/8', '0.0.0.0/0'])"
    rebuilt(r)
    c = nat64.Dns64Config(
        prefixes=[r, "64:ff9b::/96"],
        exclude=["2001:db8:bad::/48"],
        clients=["2001:db8::/32", "192.0.2.0/24"],
        translate_all=True,
        allow_ipv4=True,
        allow_non_global=True,
        edns_udp_size=1400,
        upstream_validates=True,
    )
    assert repr(c) == (
        "Dns64Config(prefixes=[PrefixRule(Prefix64('2001:db8:64::/96'), ['192.0.2.0/24', '!10.0.0.0/8', "
        "'0.0.0.0/0']), PrefixRule(Prefix64('64:ff9b::/96'))], exclude=['2001:db8:bad::/48'], "
        "clients=['2001:db8::/32', '192.0.2.0/24'], translate_all=True, allow_ipv4=True, allow_non_global=True, "
        "edns_udp_size=1400, upstream_validates=True)"
    )
    d = nat64.Dns64(rebuilt(c))
    assert d.serves("192.0.2.1") and not d.serves("198.51.100.1")
