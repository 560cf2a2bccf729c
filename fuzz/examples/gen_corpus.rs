//! Writes the seed corpora of every fuzz target into `fuzz/corpus/TARGET/`
//! (file names are the content's hash, so running it again adds nothing):
//!
//! ```sh
//! cargo run --release --manifest-path fuzz/Cargo.toml --example gen-corpus
//! ```
//!
//! The packets are the shapes the project's tests use (`nat64-core/tests`,
//! `nat64-core::dns64::testing`), in the input layout of each target.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};

use nat64_core::dns64::testing::{a_response, aaaa_nodata, query, MessageBuilder};
use nat64_core::dns64::wire::{rcode, rtype};
use nat64_fuzz::*;

fn out_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

struct Corpus {
    dir: PathBuf,
    n: usize,
}

impl Corpus {
    fn new(target: &str) -> Corpus {
        let dir = out_dir().join(target);
        std::fs::create_dir_all(&dir).unwrap();
        Corpus { dir, n: 0 }
    }
    fn add(&mut self, bytes: &[u8]) {
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        std::fs::write(self.dir.join(format!("seed-{:016x}", h.finish())), bytes).unwrap();
        self.n += 1;
    }
    fn with(&mut self, head: &[u8], bytes: &[u8]) {
        let mut v = head.to_vec();
        v.extend_from_slice(bytes);
        self.add(&v);
    }
}

// ------------------------------------------------------------------ packets

fn icmp6_with_checksum(src: Ipv6Addr, dst: Ipv6Addr, mut icmp: Vec<u8>) -> Vec<u8> {
    icmp[2] = 0;
    icmp[3] = 0;
    let c = checksum(&[&pseudo6(src, dst, ICMPV6, icmp.len()), &icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    v6_packet(src, dst, ICMPV6, 64, 0, &icmp)
}

fn icmp4_with_checksum(src: Ipv4Addr, dst: Ipv4Addr, mut icmp: Vec<u8>) -> Vec<u8> {
    icmp[2] = 0;
    icmp[3] = 0;
    let c = checksum(&[&icmp]);
    icmp[2..4].copy_from_slice(&c.to_be_bytes());
    v4_packet(src, dst, ICMP, V4Fields::default(), &icmp)
}

/// An IPv6 packet with its transport checksum right.
fn pkt6(src: Ipv6Addr, dst: Ipv6Addr, proto: u8, flags: u8, len: usize) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut p = v6_packet(src, dst, proto, 64, 0, &transport(proto, 4000, 53, flags, &payload));
    fix_checksums(&mut p, false, true);
    p
}

fn pkt4(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, flags: u8, len: usize, f: V4Fields) -> Vec<u8> {
    let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut p = v4_packet(src, dst, proto, f, &transport(proto, 53, 4000, flags, &payload));
    fix_checksums(&mut p, true, true);
    p
}

/// IPv6 with extension headers: `exts` as (type, body of 6 bytes); a
/// Fragment header is (44, offset/flags word and id).
fn with_exts(src: Ipv6Addr, dst: Ipv6Addr, exts: &[(u8, [u8; 6])], proto: u8, l4: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (i, (_, b)) in exts.iter().enumerate() {
        let next = exts.get(i + 1).map_or(proto, |e| e.0);
        body.push(next);
        body.push(0);
        body.extend_from_slice(b);
    }
    body.extend_from_slice(l4);
    let first = exts.first().map_or(proto, |e| e.0);
    v6_packet(src, dst, first, 64, 0, &body)
}

fn v6_seeds() -> Vec<Vec<u8>> {
    let h = v6_hosts();
    let client = v6("2001:db8:1::5"); // EAM 192.0.2.5
    let mut v = Vec::new();
    for &dst in &[h[0], h[1], h[3], h[4], h[6], h[7]] {
        v.push(pkt6(client, dst, UDP, 0, 12));
    }
    v.push(pkt6(h[4], h[5], UDP, 0, 12)); // /40 both ways
    v.push(pkt6(client, h[0], TCP, 0x02, 0));
    v.push(pkt6(client, h[0], TCP, 0x18, 100));
    v.push(pkt6(client, h[0], ICMPV6, 128, 32));
    v.push(pkt6(client, h[0], ICMPV6, 135, 16)); // neighbour solicitation
    v.push(pkt6(client, h[2], UDP, 0, 8)); // hairpin (EAM to EAM)
    v.push(pkt6(client, h[0], UDP, 0, 1400)); // PTB with mtu4 576
    v.push(pkt6(client, h[0], UDP, 0, 1000)); // fragmented to 576
    let mut hop1 = pkt6(client, h[0], UDP, 0, 8);
    hop1[7] = 1;
    v.push(hop1);
    let udp = transport(UDP, 4000, 53, 0, b"hello");
    let pad = [1, 4, 0, 0, 0, 0];
    v.push(with_exts(client, h[0], &[(0, pad), (60, pad)], UDP, &udp));
    v.push(with_exts(client, h[0], &[(43, [253, 0, 0, 0, 0, 0])], UDP, &udp));
    v.push(with_exts(client, h[0], &[(43, [253, 1, 0, 0, 0, 0])], UDP, &udp)); // segments left
    v.push(with_exts(client, h[0], &[(44, [0, 1, 0, 0, 0, 9])], UDP, &udp)); // first fragment
    v.push(with_exts(client, h[0], &[(44, [0, 8, 0, 0, 0, 9])], UDP, b"tail")); // last fragment
    v.push(with_exts(client, h[0], &[(44, [0, 0, 0, 0, 0, 9])], UDP, &udp)); // atomic
    v.push(with_exts(
        client,
        h[0],
        &[(44, [0, 1, 0, 0, 0, 9]), (60, pad)],
        UDP,
        &udp,
    ));
    v.push(with_exts(client, h[0], &[(0, pad), (0, pad)], UDP, &udp)); // HBH twice
    for p in &mut v {
        fix_checksums(p, false, true);
    }
    // ICMPv6 errors from a router towards the IPv4 side, quoting a packet
    // that went from the IPv4 host to the IPv6 client.
    let quoted = pkt6(h[0], client, UDP, 0, 20);
    for (ty, code, rest) in [
        (1u8, 4u8, [0u8; 4]),
        (2, 0, [0, 0, 5, 0]),
        (3, 0, [0; 4]),
        (4, 0, [0, 0, 0, 7]),
        (1, 0, [8, 0, 0, 0]), // RFC 4884 length
    ] {
        let mut icmp = vec![ty, code, 0, 0];
        icmp.extend_from_slice(&rest);
        icmp.extend_from_slice(&quoted);
        if ty == 1 && rest[0] == 8 {
            icmp.resize(8 + 128, 0);
            icmp.extend_from_slice(&[0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 0]);
        }
        v.push(icmp6_with_checksum(v6("2001:db8:1::fe"), h[0], icmp));
    }
    v
}

fn v4_seeds() -> Vec<Vec<u8>> {
    let h = v4_hosts();
    let client = v4("192.0.2.5");
    let d = V4Fields::default();
    let mut v = Vec::new();
    for &src in &[h[0], h[1], h[3], h[4], h[5]] {
        v.push(pkt4(src, client, UDP, 0, 12, d));
    }
    v.push(pkt4(h[0], v4("198.51.100.9"), UDP, 0, 12, d));
    v.push(pkt4(h[0], h[1], UDP, 0, 12, d)); // pool6 destination
    v.push(pkt4(h[0], client, TCP, 0x12, 0, d));
    v.push(pkt4(h[0], client, ICMP, 8, 32, d));
    v.push(pkt4(h[0], client, ICMP, 13, 16, d)); // timestamp
    v.push(pkt4(h[0], client, UDP, 0, 1400, V4Fields { df: true, ..d }));
    v.push(pkt4(h[0], client, UDP, 0, 1400, d)); // lowest-ipv6-mtu split
    v.push(pkt4(h[0], client, UDP, 0, 100, V4Fields { mf: true, ..d }));
    v.push(pkt4(h[0], client, UDP, 0, 100, V4Fields { frag_off: 13, ..d }));
    v.push(pkt4(h[0], client, UDP, 0, 100, V4Fields { ttl: 1, ..d }));
    let mut zero = pkt4(h[0], client, UDP, 0, 20, d);
    zero[26] = 0;
    zero[27] = 0;
    v.push(zero);
    // An unexpired loose source route (RFC 7915 section 4.1).
    let mut lsrr = vec![0x47, 0];
    lsrr.extend_from_slice(&pkt4(h[0], client, UDP, 0, 8, d)[2..20]);
    lsrr.extend_from_slice(&[131, 7, 4, 198, 51, 100, 7, 0]);
    lsrr.extend_from_slice(&transport(UDP, 53, 4000, 0, b"x"));
    let tl = lsrr.len() as u16;
    lsrr[2..4].copy_from_slice(&tl.to_be_bytes());
    fix_checksums(&mut lsrr, true, true);
    v.push(lsrr);
    // ICMPv4 errors quoting a packet from the IPv4 side's client.
    let quoted = pkt4(client, h[0], UDP, 0, 20, d);
    for (ty, code, rest) in [
        (3u8, 3u8, [0u8; 4]),
        (3, 4, [0, 0, 0x02, 0x40]),
        (3, 4, [0; 4]),
        (11, 0, [0; 4]),
        (12, 0, [8, 0, 0, 0]),
        (3, 1, [0, 8, 0, 0]), // RFC 4884 length
    ] {
        let mut icmp = vec![ty, code, 0, 0];
        icmp.extend_from_slice(&rest);
        icmp.extend_from_slice(&quoted);
        if rest[1] == 8 {
            icmp.resize(8 + 128, 0);
            icmp.extend_from_slice(&[0x20, 0, 0, 0, 0, 8, 1, 1, 0, 0, 0, 0]);
        }
        v.push(icmp4_with_checksum(v4("198.51.100.254"), client, icmp));
    }
    v
}

// ----------------------------------------------------------------- stateful

struct Ops(Vec<u8>);

impl Ops {
    fn new(sel: u8) -> Ops {
        Ops(vec![sel])
    }
    #[allow(clippy::too_many_arguments)]
    fn send6(
        mut self,
        client: u8,
        remote: u8,
        proto: u8,
        sport: u16,
        dport: u16,
        flags: u8,
        len: u8,
        frag: u8,
    ) -> Self {
        self.0.extend_from_slice(&[ops::SEND6, client, remote, proto]);
        self.0.extend_from_slice(&sport.to_be_bytes());
        self.0.extend_from_slice(&dport.to_be_bytes());
        self.0.extend_from_slice(&[flags, len, frag, 0]);
        self
    }
    #[allow(clippy::too_many_arguments)]
    fn send4(mut self, remote: u8, pick: u8, proto: u8, sport: u16, dport: u16, flags: u8, len: u8, frag: u8) -> Self {
        self.0.extend_from_slice(&[ops::SEND4, remote, pick, proto]);
        self.0.extend_from_slice(&sport.to_be_bytes());
        self.0.extend_from_slice(&dport.to_be_bytes());
        self.0.extend_from_slice(&[flags, len, frag, 0]);
        self
    }
    fn step(mut self, amount: u16, scale: u8) -> Self {
        self.0.push(ops::STEP);
        self.0.extend_from_slice(&amount.to_be_bytes());
        self.0.push(scale);
        self
    }
    fn poll(mut self) -> Self {
        self.0.push(ops::POLL);
        self
    }
    fn error(mut self, side: u8, pick: u8, ty: u8, code: u8) -> Self {
        self.0
            .extend_from_slice(&[ops::ERROR, side, pick, ty, code, 0, 0, 5, 0]);
        self
    }
    fn flood(mut self, client: u8, remote: u8, n: u8, base: u16) -> Self {
        self.0.extend_from_slice(&[ops::FLOOD, client, remote, n]);
        self.0.extend_from_slice(&base.to_be_bytes());
        self
    }
    fn raw(mut self, fix: u8, p: &[u8]) -> Self {
        self.0.extend_from_slice(&[ops::RAW, fix]);
        self.0.extend_from_slice(&(p.len() as u16).to_be_bytes());
        self.0.extend_from_slice(p);
        self
    }
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const FIN: u8 = 0x01;
const RST: u8 = 0x04;
// Protocol selectors of the stateful target.
const P_TCP: u8 = 0;
const P_UDP: u8 = 1;
const P_ICMP: u8 = 2;
const P_GRE: u8 = 3;
/// SEND4 towards the first existing binding.
const BIB0: u8 = 0x80;

fn stateful_seeds() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for sel in [0u8, 1, 2, 16, 32, 0x1f] {
        // UDP out and back, expiry.
        v.push(
            Ops::new(sel)
                .send6(0, 0, P_UDP, 4000, 53, 0, 4, 0)
                .send4(0, BIB0, P_UDP, 53, 0, 0, 4, 0)
                .step(121, 2)
                .poll()
                .send4(0, BIB0, P_UDP, 53, 0, 0, 4, 0)
                .0,
        );
    }
    // TCP: open from IPv6, established, closes, RST.
    v.push(
        Ops::new(0)
            .send6(0, 0, P_TCP, 4000, 80, SYN, 0, 0)
            .send4(0, BIB0, P_TCP, 80, 0, SYN | ACK, 0, 0)
            .send6(0, 0, P_TCP, 4000, 80, ACK, 0, 0)
            .step(10, 2)
            .send6(0, 0, P_TCP, 4000, 80, FIN | ACK, 0, 0)
            .send4(0, BIB0, P_TCP, 80, 0, FIN | ACK, 0, 0)
            .step(5, 2)
            .poll()
            .0,
    );
    v.push(
        Ops::new(8)
            .send6(1, 1, P_TCP, 5000, 443, SYN, 0, 0)
            .send4(1, BIB0, P_TCP, 443, 0, RST, 0, 0)
            .send6(1, 1, P_TCP, 5000, 443, RST, 0, 0)
            .step(3, 2)
            .poll()
            .0,
    );
    // Unsolicited IPv4 SYNs: held, timed out; to a static binding; the
    // simultaneous open.
    v.push(
        Ops::new(0)
            .send4(0, 0, P_TCP, 1234, 1000, SYN, 0, 0)
            .send4(1, 0, P_TCP, 1234, 1001, SYN, 0, 0)
            .send4(2, 0, P_TCP, 1234, 1002, SYN, 0, 0)
            .send4(5, 0, P_TCP, 1234, 1003, SYN, 0, 0)
            .step(7, 2)
            .poll()
            .send4(0, 0, P_TCP, 1234, 80, SYN, 0, 0)
            .send4(0, 0, P_UDP, 1234, 53, 0, 4, 0)
            .0,
    );
    v.push(
        Ops::new(0)
            .send6(3, 0, P_TCP, 80, 1234, SYN, 0, 0)
            .send4(0, 0, P_TCP, 1234, 80, SYN, 0, 0)
            .0,
    );
    // ICMP echo both ways, ICMP errors about sessions from both sides.
    v.push(
        Ops::new(4)
            .send6(0, 0, P_ICMP, 77, 1, 0, 8, 0)
            .send4(0, BIB0, P_ICMP, 77, 0, 1, 8, 0)
            .send6(2, 1, P_UDP, 4000, 53, 0, 4, 0)
            .error(0, 0, 0, 3)
            .error(0, 1, 1, 4)
            .error(1, 0, 1, 0)
            .error(1, 1, 2, 0)
            .error(2, 1, 3, 0)
            .step(4, 2)
            .poll()
            .0,
    );
    // Hairpinning: a client to pool4's own address, the loop.
    v.push(
        Ops::new(0)
            .send6(0, 3, P_UDP, 4000, 53, 0, 4, 0)
            .send6(1, 3, P_UDP, 4001, 1000, 0, 4, 0)
            .send6(5, 0, P_UDP, 4000, 53, 0, 4, 0)
            .send6(3, 3, P_TCP, 80, 1000, SYN, 0, 0)
            .0,
    );
    // Fragments: two halves each way, a lone first half that times out,
    // an atomic fragment, arbitrary offsets.
    v.push(
        Ops::new(0)
            .send6(0, 0, P_UDP, 4000, 53, 0, 100, 4)
            .send6(0, 0, P_UDP, 4000, 53, 0, 100, 1)
            .send4(0, BIB0, P_UDP, 53, 0, 0, 100, 4)
            .send4(0, BIB0, P_UDP, 53, 0, 0, 100, 1)
            .send6(1, 0, P_UDP, 4002, 53, 0, 200, 4)
            .step(3, 2)
            .poll()
            .send6(2, 0, P_UDP, 4003, 53, 0, 50, 2)
            .send6(2, 0, P_UDP, 4003, 53, 0, 200, 0x8b)
            .send6(2, 0, P_UDP, 4003, 53, 0, 200, 0x0b)
            .send4(0, 0, P_UDP, 53, 1000, 0, 200, 0x8b)
            .0,
    );
    // Floods: one client past its quota, others past the table cap.
    v.push(
        Ops::new(0)
            .flood(0, 0, 20, 10000)
            .flood(1, 1, 20, 10000)
            .flood(2, 2, 20, 10000)
            .flood(4, 0, 20, 10000)
            .flood(7, 5, 20, 10000)
            .send4(0, BIB0, P_UDP, 53, 0, 0, 4, 0)
            .step(200, 2)
            .poll()
            .flood(0, 0, 40, 20000)
            .0,
    );
    v.push(Ops::new(16).flood(0, 0, 8, 1).flood(1, 0, 8, 100).flood(2, 0, 8, 200).0);
    // Clock going back and forth (only with bit 5).
    v.push(
        Ops::new(32)
            .send6(0, 0, P_UDP, 4000, 53, 0, 4, 0)
            .step(100, 2)
            .send6(0, 0, P_UDP, 4000, 53, 0, 4, 0)
            .step(200, 6)
            .send6(0, 0, P_UDP, 4000, 53, 0, 4, 0)
            .step(500, 2)
            .poll()
            .send6(0, 0, P_UDP, 4000, 53, 0, 4, 0)
            .0,
    );
    // Raw packets and other protocols, filters.
    let raw6 = pkt6(v6("2001:db8::a"), v6("64:ff9b::c633:6401"), UDP, 0, 8);
    let raw4 = pkt4(v4("198.51.100.1"), v4("192.0.2.1"), UDP, 0, 8, V4Fields::default());
    v.push(
        Ops::new(6)
            .raw(3, &raw6)
            .raw(3, &raw4)
            .raw(0, &raw6[..30])
            .send6(0, 0, P_GRE, 0, 0, 0, 8, 0)
            .send6(0, 0, P_ICMP, 1, 1, 0, 8, 0)
            .send4(0, 0, P_TCP, 1, 1000, SYN, 0, 0)
            .0,
    );
    v
}

// ----------------------------------------------------------------- roundtrip

fn roundtrip_seeds() -> Vec<Vec<u8>> {
    let mut v = Vec::new();
    for (sel, proto, len) in [
        (5u8, 0u8, 20usize),
        (5, 1, 20),
        (5, 2, 20),
        (5, 3, 20),
        (0, 1, 0),
        (1, 1, 7),
        (2, 0, 40),
        (3, 2, 64),
        (4, 1, 100),
        (5 | 8, 1, 30),
        (5 | 16, 0, 30),
        (5 | 8 | 16, 2, 30),
        (5 | 32, 1, 1000),
        (5 | 32 | 64, 0, 1200),
        (5 | 64, 1, 1300),
        (5, 1, 1400),
    ] {
        let mut b = vec![sel, proto];
        b.extend_from_slice(&[198, 51, 100, 7, 8, 8, 4, 4]);
        b.extend_from_slice(&[0x13, 0x88, 0, 53]);
        b.extend_from_slice(&[64, 0xb8, 0x18]);
        b.extend((0..len).map(|i| i as u8));
        v.push(b);
    }
    v
}

// -------------------------------------------------------------- icmp_error

fn icmp_error_seeds() -> Vec<Vec<u8>> {
    let h6 = v6_hosts();
    let h4 = v4_hosts();
    let mut v = Vec::new();
    let inner6 = pkt6(h6[0], h6[2], UDP, 0, 20);
    let inner6_tcp = pkt6(h6[0], h6[2], TCP, 0x12, 0);
    let inner6_echo = pkt6(h6[0], h6[2], ICMPV6, 129, 8);
    let inner6_err = icmp6_with_checksum(h6[0], h6[2], {
        let mut i = vec![1, 0, 0, 0, 0, 0, 0, 0];
        i.extend_from_slice(&inner6[..48]);
        i
    });
    let inner6_frag = with_exts(h6[0], h6[2], &[(44, [0, 8, 0, 0, 0, 9])], UDP, b"later fragment");
    for (ty, code, rest, inner) in [
        (1u8, 4u8, [0u8; 4], &inner6),
        (1, 0, [0; 4], &inner6_tcp),
        (2, 0, [0, 0, 5, 0], &inner6),
        (2, 0, [0, 0, 0, 0x44], &inner6),
        (3, 0, [0; 4], &inner6_echo),
        (4, 0, [0, 0, 0, 6], &inner6),
        (4, 0, [0, 0, 0, 40], &inner6),
        (4, 1, [0, 0, 0, 7], &inner6),
        (1, 4, [0; 4], &inner6_err),
        (1, 4, [0; 4], &inner6_frag),
        (128, 0, [0; 4], &inner6),
    ] {
        let mut b = vec![8, ty, code];
        b.extend_from_slice(&rest);
        b.push(0x02);
        b.push(64);
        b.extend_from_slice(inner);
        v.push(b.clone());
        // Cut to the RFC 792 minimum quote.
        let mut b2 = b[..9].to_vec();
        b2.extend_from_slice(&inner[..inner.len().min(48)]);
        v.push(b2);
    }
    let d = V4Fields::default();
    let inner4 = pkt4(h4[2], h4[0], UDP, 0, 20, d);
    let inner4_tcp = pkt4(h4[2], h4[0], TCP, SYN_FLAG, 0, d);
    let inner4_echo = pkt4(h4[2], h4[0], ICMP, 8, 8, d);
    let inner4_frag = pkt4(h4[2], h4[0], UDP, 0, 20, V4Fields { frag_off: 3, ..d });
    let inner4_err = icmp4_with_checksum(h4[2], h4[0], {
        let mut i = vec![3, 1, 0, 0, 0, 0, 0, 0];
        i.extend_from_slice(&inner4[..28]);
        i
    });
    for (ty, code, rest, inner) in [
        (3u8, 3u8, [0u8; 4], &inner4),
        (3, 1, [0; 4], &inner4_tcp),
        (3, 4, [0, 0, 0x05, 0xdc], &inner4),
        (3, 4, [0; 4], &inner4),
        (3, 13, [0; 4], &inner4_echo),
        (11, 0, [0; 4], &inner4),
        (12, 0, [9, 0, 0, 0], &inner4),
        (12, 2, [0; 4], &inner4),
        (4, 0, [0; 4], &inner4),
        (3, 3, [0; 4], &inner4_err),
        (3, 3, [0; 4], &inner4_frag),
        (3, 1, [0, 8, 0, 0], &inner4),
    ] {
        let mut b = vec![9, ty, code];
        b.extend_from_slice(&rest);
        b.push(0x20);
        b.push(64);
        b.extend_from_slice(inner);
        v.push(b);
    }
    v
}

const SYN_FLAG: u8 = 0x02;

// --------------------------------------------------------------------- DNS

fn dns_messages() -> Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let q = query(0x1234, "example.net", rtype::AAAA);
    let q_edns = MessageBuilder::query(0x4321, "www.example.org", rtype::AAAA)
        .edns(1232, true)
        .build();
    let aaaa_nd = aaaa_nodata("example.net", 300);
    let a = a_response(
        "example.net",
        &[
            "93.184.216.34".parse().unwrap(),
            "192.0.2.1".parse().unwrap(),
            "10.0.0.1".parse().unwrap(),
        ],
        3600,
    );
    let aaaa_real = MessageBuilder::response(0x1234, "example.net", rtype::AAAA, rcode::NOERROR)
        .aaaa("example.net", 60, "2001:db8::1".parse().unwrap())
        .aaaa("example.net", 60, "::ffff:192.0.2.1".parse().unwrap())
        .rrsig("example.net", 60, rtype::AAAA)
        .build();
    let a_cname = MessageBuilder::response(0x4321, "www.example.org", rtype::A, rcode::NOERROR)
        .cname("www.example.org", 300, "web.example.org")
        .a("web.example.org", 300, "198.51.100.7".parse().unwrap())
        .rrsig("web.example.org", 300, rtype::A)
        .authority()
        .soa("example.org", 300, 60)
        .edns(4096, true)
        .build();
    let aaaa_nd2 = MessageBuilder::response(0x4321, "www.example.org", rtype::AAAA, rcode::NOERROR)
        .cname("www.example.org", 300, "web.example.org")
        .authority()
        .soa("example.org", 300, 30)
        .build();
    let nx = MessageBuilder::response(0x1234, "example.net", rtype::AAAA, rcode::NXDOMAIN)
        .authority()
        .soa("net", 900, 900)
        .build();
    let servfail = MessageBuilder::response(0x1234, "example.net", rtype::AAAA, rcode::SERVFAIL).build();
    let ptr_q = query(
        7,
        "1.64.51.198.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.9.f.f.4.6.0.0.ip6.arpa",
        rtype::PTR,
    );
    let ptr_a = MessageBuilder::response(7, "1.64.51.198.in-addr.arpa", rtype::PTR, rcode::NOERROR)
        .ptr("1.64.51.198.in-addr.arpa", 300, "host.example.net")
        .build();
    let local = query(9, "ipv4only.arpa", rtype::AAAA);
    let local_ptr = query(10, "170.0.0.192.in-addr.arpa", rtype::PTR);
    let mx_q = query(11, "example.net", rtype::MX);
    vec![
        (q.clone(), aaaa_nd.clone(), a.clone()),
        (q.clone(), aaaa_real, a.clone()),
        (q.clone(), nx, a.clone()),
        (q.clone(), servfail, a),
        (q_edns, aaaa_nd2, a_cname),
        (ptr_q, aaaa_nd.clone(), ptr_a),
        (local, Vec::new(), Vec::new()),
        (local_ptr, Vec::new(), Vec::new()),
        (mx_q, aaaa_nd, Vec::new()),
    ]
}

fn chunk(v: &mut Vec<u8>, b: &[u8]) {
    v.extend_from_slice(&(b.len() as u16).to_be_bytes());
    v.extend_from_slice(b);
}

// ------------------------------------------------------------------ pcap

fn pcap(link: u32, packets: &[Vec<u8>]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65_535u32.to_le_bytes());
    f.extend_from_slice(&link.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend_from_slice(&(1_700_000_000u32 + i as u32).to_le_bytes());
        f.extend_from_slice(&(i as u32 * 1000).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(p);
    }
    f
}

fn pcapng(link: u16, packets: &[Vec<u8>], tsresol: Option<u8>) -> Vec<u8> {
    fn block(f: &mut Vec<u8>, ty: u32, body: &[u8]) {
        let mut b = body.to_vec();
        while b.len() % 4 != 0 {
            b.push(0);
        }
        let len = (12 + b.len()) as u32;
        f.extend_from_slice(&ty.to_le_bytes());
        f.extend_from_slice(&len.to_le_bytes());
        f.extend_from_slice(&b);
        f.extend_from_slice(&len.to_le_bytes());
    }
    let mut f = Vec::new();
    let mut shb = 0x1a2b_3c4du32.to_le_bytes().to_vec();
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(&mut f, 0x0a0d_0d0a, &shb);
    let mut idb = link.to_le_bytes().to_vec();
    idb.extend_from_slice(&[0, 0]);
    idb.extend_from_slice(&0u32.to_le_bytes());
    if let Some(r) = tsresol {
        idb.extend_from_slice(&9u16.to_le_bytes());
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[r, 0, 0, 0]);
        idb.extend_from_slice(&[0, 0, 0, 0]);
    }
    block(&mut f, 1, &idb);
    for (i, p) in packets.iter().enumerate() {
        let ts = 1_700_000_000_000_000u64 + i as u64 * 1000;
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(p.len() as u32).to_le_bytes());
        epb.extend_from_slice(p);
        block(&mut f, 6, &epb);
    }
    // A Simple Packet Block.
    if let Some(p) = packets.first() {
        let mut spb = (p.len() as u32).to_le_bytes().to_vec();
        spb.extend_from_slice(p);
        block(&mut f, 3, &spb);
    }
    f
}

fn ethernet(p: &[u8], vlan: bool) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2];
    if vlan {
        f.extend_from_slice(&[0x81, 0, 0, 5]);
    }
    f.extend_from_slice(if p[0] >> 4 == 6 { &[0x86, 0xdd] } else { &[0x08, 0x00] });
    f.extend_from_slice(p);
    f
}

fn main() {
    let v6s = v6_seeds();
    let v4s = v4_seeds();

    let mut c = Corpus::new("xlat64");
    for p in &v6s {
        c.with(&[0x03], p);
    }
    for p in v6s.iter().take(6) {
        c.with(&[0x0f], p);
    }
    c.with(&[0x00], &v6s[0][..30]);
    println!("xlat64: {}", c.n);

    let mut c = Corpus::new("xlat46");
    for p in &v4s {
        c.with(&[0x03], p);
    }
    for p in v4s.iter().take(6) {
        c.with(&[0x0f], p);
    }
    c.with(&[0x00], &v4s[0][..16]);
    println!("xlat46: {}", c.n);

    let mut c = Corpus::new("icmp_error");
    for s in icmp_error_seeds() {
        c.add(&s);
    }
    println!("icmp_error: {}", c.n);

    let mut c = Corpus::new("stateful");
    for s in stateful_seeds() {
        c.add(&s);
    }
    println!("stateful: {}", c.n);

    let mut c = Corpus::new("roundtrip");
    for s in roundtrip_seeds() {
        c.add(&s);
    }
    println!("roundtrip: {}", c.n);

    let msgs = dns_messages();
    let mut c = Corpus::new("dns64");
    for (q, aaaa, a) in &msgs {
        for (sel, size) in [(16u8, 1u8), (0, 0), (2 | 16, 2)] {
            let mut b = vec![sel, size, 20];
            chunk(&mut b, q);
            chunk(&mut b, aaaa);
            chunk(&mut b, a);
            c.add(&b);
        }
    }
    let mut b = vec![16, 3, 10];
    chunk(&mut b, &msgs[4].0);
    chunk(&mut b, &msgs[4].1);
    chunk(&mut b, &msgs[4].2);
    c.add(&b);
    println!("dns64: {}", c.n);

    let mut c = Corpus::new("dns_wire");
    for (q, aaaa, a) in &msgs {
        c.add(q);
        if !aaaa.is_empty() {
            c.add(aaaa);
        }
        if !a.is_empty() {
            c.add(a);
        }
    }
    // A response with compression pointers (RFC 1035 section 4.1.4).
    let mut m = vec![0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    m.extend_from_slice(b"\x07example\x03net\x00\x00\x0f\x00\x01");
    m.extend_from_slice(&[
        0xc0, 12, 0, 15, 0, 1, 0, 0, 1, 0, 0, 9, 0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 12,
    ]);
    m.extend_from_slice(&[0xc0, 43, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 192, 0, 2, 1]);
    c.add(&m);
    c.add(&[38, 2, 0x07, 0x08, 0x20, 0x01, 0x0d, 0xb8, 0, 0x64, 0, 0, 0, 0, 0, 0]); // PREF64 /96
    c.add(b"\x011\x0264\x0251\x03198\x07in-addr\x04arpa\x00");
    println!("dns_wire: {}", c.n);

    let mut c = Corpus::new("config");
    for f in ["translator.toml", "gateway.toml"] {
        if let Ok(t) = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples").join(f)) {
            c.add(&t);
        }
    }
    for t in [
        "[translator]\npool6 = \"64:ff9b::/96\"\n",
        "[translator]\npool6 = \"2001:db8:100::/40\"\nmtu4 = 68\nmtu6 = 1280\nlowest_ipv6_mtu = 1280\nmtu_plateaus = [65535, 1500, 68]\n",
        "[translator]\neamt = [ { ipv4 = \"192.0.2.0/24\", ipv6 = \"2001:db8:1::/120\" }, { ipv4 = \"192.0.2.7\", ipv6 = \"2001:db8:2::7\", force = true } ]\neam_hairpin_mode = \"simple\"\n",
        "[translator]\npool6 = \"64:ff9b::/96\"\ndenylist4 = [\"10.0.0.0/8\", \"192.168.0.0/16\"]\nwkp_forbids_non_global = false\nrfc6791v4_prefix = \"203.0.113.0/28\"\nrfc6791v6_prefix = \"2001:db8:ffff::/124\"\nrandomize_rfc6791_addresses = false\n",
        "[translator]\npool6 = \"64:ff9b::/96\"\nown_ipv4 = \"198.51.100.1\"\nown_ipv6 = \"2001:db8::1\"\namend_udp_checksum_zero = true\nzeroize_traffic_class = true\noverride_tos = 255\nerror_hop_limit = 0\n",
        "[translator]\npool6 = \"64:ff9b::/96\"\nmtu_plateaus = []\n",
        "[translator]\npool6 = \"64:ff9b::/96\"\nmtu4 = 4294967295\nmtu6 = 4294967295\nlowest_ipv6_mtu = 4294967295\n",
    ] {
        c.add(t.as_bytes());
    }
    println!("config: {}", c.n);

    let mut c = Corpus::new("pcap");
    let some6: Vec<Vec<u8>> = v6s.iter().take(4).cloned().collect();
    let some4: Vec<Vec<u8>> = v4s.iter().take(4).cloned().collect();
    let both: Vec<Vec<u8>> = some6.iter().chain(some4.iter()).cloned().collect();
    let eth: Vec<Vec<u8>> = both.iter().enumerate().map(|(i, p)| ethernet(p, i % 2 == 1)).collect();
    for sel in [0u8, 1] {
        c.with(&[sel], &pcap(101, &both));
        c.with(&[sel], &pcap(1, &eth));
        c.with(&[sel], &pcapng(101, &both, None));
        c.with(&[sel], &pcapng(1, &eth, Some(9)));
    }
    c.with(&[0], &pcap(228, &some4));
    c.with(&[0], &pcapng(229, &some6, Some(0x8a)));
    c.with(&[0], &pcap(101, &[]));
    println!("pcap: {}", c.n);
}
