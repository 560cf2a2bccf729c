//! Round trip 6->4->6 through SIIT (two translators back to back, as
//! 464XLAT's CLAT and PLAT): what RFC 7915 carries across must come back:
//! the addresses (RFC 6052 / RFC 7757 mappings are reversible), the ports or
//! ICMP echo identifier, the payload, the traffic class (sections 4.1 and
//! 5.1 copy it both ways), the hop limit less 2 (one per translation), and a
//! right transport checksum. With an IPv4 MTU of 576 the IPv4 packet is
//! fragmented on the way (section 5.1 and the `mtu4` option) and the IPv6
//! fragments that come back are reassembled before the comparison.
//!
//! Input: byte 0: bits 0-2 the pool6 length (32, 40, 48, 56, 64, 96; the
//! EAMT maps 192.0.2.0/24 to 3fff:0:1::/120, outside every pool6), bit 3
//! source from the EAMT (else pool6), bit 4 destination from the EAMT, bit
//! 5 IPv4 MTU 576, bit 6 a Destination Options header; byte 1 the protocol
//! (TCP, UDP, ICMPv6 echo, or 253 opaque); the source and destination IPv4
//! addresses (4 bytes each), ports (2 each), hop limit, traffic class, TCP
//! flags or echo type; then the payload (at most 1400 bytes).
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use nat64_core::{Config, Direction, Eamt, HairpinMode, Translator, Verdict};
use nat64_fuzz::*;

/// The pool6 prefixes, one per RFC 6052 length (zero u-octet).
const POOLS: [(&str, u8); 6] = [
    ("2001:db8::", 32),
    ("2001:db8:100::", 40),
    ("2001:db8:122::", 48),
    ("2001:db8:122:300::", 56),
    ("2001:db8:122:344::", 64),
    ("2001:db8:64::", 96),
];

fn translator(pool: &str, len: u8, small_mtu4: bool) -> Translator {
    let mut c = Config::with_pool6(format!("{pool}/{len}").parse().unwrap());
    let mut eamt = Eamt::new();
    eamt.add(
        "192.0.2.0/24".parse().unwrap(),
        "3fff:0:1::/120".parse().unwrap(),
        false,
    )
    .unwrap();
    c.eamt = eamt;
    c.eam_hairpin_mode = HairpinMode::Off;
    c.own_ipv4 = Some(v4("203.0.113.254"));
    c.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    if small_mtu4 {
        c.mtu4 = 576;
    }
    Translator::new(c).unwrap()
}

/// Addresses every step must translate: not in the implicit denylist or
/// other special ranges RFC 7915 and the configuration treat apart.
fn ordinary(a: Ipv4Addr) -> bool {
    let o = a.octets();
    !(o[0] == 0
        || o[0] == 127
        || o[0] >= 224
        || (o[0] == 169 && o[1] == 254)
        || a == v4("203.0.113.254")
        || a.is_broadcast())
}

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let sel = r.u8();
    let (pool, len) = POOLS[usize::from(sel & 7) % POOLS.len()];
    let small = sel & 32 != 0;
    let proto = [TCP, UDP, ICMPV6, 253][usize::from(r.u8() & 3)];
    let (mut s4, mut d4) = (Ipv4Addr::from(r.u32()), Ipv4Addr::from(r.u32()));
    let (sport, dport) = (r.u16(), r.u16());
    let hop = r.u8();
    let tc = r.u8();
    let flags = r.u8();
    let payload = r.bytes(1400);
    let pool6 = v6(pool);
    let addr6 = |eam: bool, a: &mut Ipv4Addr| -> Ipv6Addr {
        if eam {
            *a = Ipv4Addr::new(192, 0, 2, a.octets()[3]);
            let mut o = v6("3fff:0:1::").octets();
            o[15] = a.octets()[3];
            Ipv6Addr::from(o)
        } else {
            // Under pool6, never inside the EAMT's range (which would map
            // it back through the EAMT instead).
            let mut o = a.octets();
            if o[0] == 192 && o[1] == 0 && o[2] == 2 {
                o[0] = 193;
                *a = Ipv4Addr::from(o);
            }
            embed(pool6, len, *a)
        }
    };
    let (s6, d6) = (addr6(sel & 8 != 0, &mut s4), addr6(sel & 16 != 0, &mut d4));
    let mut l4 = match proto {
        TCP | UDP => transport(proto, sport, dport, flags, payload),
        ICMPV6 => transport(ICMPV6, sport, dport, [128, 129][usize::from(flags & 1)], payload),
        _ => payload.to_vec(),
    };
    let (next, body) = if sel & 64 != 0 {
        // Destination Options, 8 bytes of PadN.
        let mut b = vec![proto, 0, 1, 4, 0, 0, 0, 0];
        b.extend_from_slice(&l4);
        (60, b)
    } else {
        (proto, l4.clone())
    };
    let mut pkt = v6_packet(s6, d6, next, hop, tc, &body);
    fix_checksums(&mut pkt, false, true);
    // The transport bytes as sent, checksum included.
    let l4_off = pkt.len() - l4.len();
    l4.copy_from_slice(&pkt[l4_off..]);

    let mut t = translator(pool, len, small);
    let mut out = vec![0u8; OUT_LEN];
    let v = t.translate(&pkt, &mut out);
    check_verdict(&pkt, &v, &out);
    let Verdict::Translated(e) = v else {
        // Refusals are fine as long as they are for a reason: the pool6
        // embedding of a special address, a hop limit that runs out.
        let must = hop >= 2 && ordinary(s4) && ordinary(d4) && s4 != d4 && !(small && pkt.len() > 1280);
        if must && !matches!(v, Verdict::IcmpError { .. }) {
            panic!("6->4 refused an ordinary packet: {v:?}");
        }
        return;
    };
    assert_eq!(e.direction, Direction::SixToFour);
    let frags4: Vec<Vec<u8>> = e.packets(&out).map(<[u8]>::to_vec).collect();
    for f in &frags4 {
        assert_eq!(&f[12..16], &s4.octets(), "IPv4 source");
        assert_eq!(&f[16..20], &d4.octets(), "IPv4 destination");
        assert_eq!(f[8], hop - 1, "TTL is the hop limit less one");
        assert_eq!(f[1], tc, "TOS is the traffic class");
    }
    if frags4.len() > 1 && proto == ICMPV6 {
        // A fragmented ICMP message cannot be translated back without
        // reassembly (its checksum covers an IPv6 pseudo-header), so
        // stateless 4->6 drops it (`FragmentedIcmp`).
        return;
    }
    // Back to IPv6, fragment by fragment.
    let mut back: Vec<Vec<u8>> = Vec::new();
    for f in &frags4 {
        let v = t.translate(f, &mut out);
        check_verdict(f, &v, &out);
        match v {
            Verdict::Translated(e) => {
                assert_eq!(e.direction, Direction::FourToSix);
                back.extend(e.packets(&out).map(<[u8]>::to_vec));
            }
            other => {
                if hop >= 3 && ordinary(s4) && ordinary(d4) {
                    panic!("4->6 refused the translation of a translated packet: {other:?}");
                }
                return;
            }
        }
    }
    let mut pieces: Vec<(usize, bool, Vec<u8>)> = Vec::new();
    let mut got_next = None;
    for p in &back {
        assert_eq!(&p[8..24], &s6.octets(), "IPv6 source after the round trip");
        assert_eq!(&p[24..40], &d6.octets(), "IPv6 destination after the round trip");
        assert_eq!(p[7], hop - 2, "hop limit after two translations");
        let tc_back = ((u32::from_be_bytes([p[0], p[1], p[2], p[3]]) >> 20) & 0xff) as u8;
        assert_eq!(tc_back, tc, "traffic class after the round trip");
        if p[6] == FRAGMENT {
            let fo = be16(p, 42);
            pieces.push((usize::from(fo & 0xfff8), fo & 1 != 0, p[48..].to_vec()));
            got_next = Some(p[40]);
        } else {
            assert_eq!(back.len(), 1, "an unfragmented packet among fragments");
            pieces.push((0, false, p[40..].to_vec()));
            got_next = Some(p[6]);
        }
    }
    pieces.sort_by_key(|p| p.0);
    let mut whole = Vec::new();
    for (i, (off, mf, b)) in pieces.iter().enumerate() {
        assert_eq!(*off, whole.len(), "fragments leave a hole or overlap");
        assert_eq!(*mf, i + 1 < pieces.len(), "MF");
        whole.extend_from_slice(b);
    }
    assert_eq!(got_next, Some(proto), "upper-layer protocol after the round trip");
    // ICMPv6 comes back as ICMPv6 with the same type; everything else
    // byte for byte (the checksum too: same addresses, same bytes), except
    // that a checksum of 0x0000 may come back as 0xffff: the same value in
    // one's complement (-0 and +0), and the translator writes 0xffff.
    assert_eq!(whole.len(), l4.len(), "transport length after the round trip");
    let at = match proto {
        6 => Some(16),
        17 => Some(6),
        58 => Some(2),
        _ => None,
    };
    let (mut whole, mut l4) = (whole, l4.to_vec());
    if let Some(at) = at {
        for b in [&mut whole, &mut l4] {
            if b.len() >= at + 2 && b[at] == 0 && b[at + 1] == 0 {
                b[at] = 0xff;
                b[at + 1] = 0xff;
            }
        }
    }
    assert_eq!(whole, l4, "transport bytes after the round trip");
});
