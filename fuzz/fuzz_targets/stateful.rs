//! The stateful NAT64 (RFC 6146): a sequence of packets (built from a few
//! fields so that they create, use and tear down real sessions), ICMP errors
//! about sessions, raw bytes, floods and clock steps, against one `Nat64`
//! with small caps, checking the table's invariants after every step:
//!
//! - sizes within the caps: sessions <= `max_sessions`, sessions per client
//!   <= the quota, BIB entries <= the cap plus the static ones, held SYNs <=
//!   `max_simultaneous_opens`, reassembly within its bytes and datagrams;
//! - every session reachable from both sides (`find_v6`, `find_v4`) and its
//!   BIB entry from both sides (`bib_by_v6`, `bib_by_v4`), with the same
//!   contents; the counts agree with the iterations; dynamic BIB entries
//!   inside pool4 and, after a poll, none without sessions;
//! - no expired session returned: after `translate(now)` or `poll(now)` with
//!   a clock that does not go back, every session expires after `now`, and
//!   after `poll(now)` so does `next_expiry()`;
//! - every verdict's output well formed (see `nat64_fuzz::check_verdict`).
//!
//! Byte 0 is the configuration: bit 0 address-dependent filtering, bit 1
//! drop externally initiated TCP, bit 2 drop ICMPv6 informational, bit 3
//! Jool's handle-rst-during-fin-rcv, bit 4 clients are /64s (else
//! addresses), bit 5 let the clock go back (then only the checks that hold
//! for any clock are made). Then operations, see `nat64_fuzz::ops`.
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};
use std::sync::Mutex;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use nat64_core::nat64::{
    Bib, DefaultTable, Instant, Nat64, Nat64Config, Pool4Entry, Proto, ReassemblyLimits, SessionFilter, SessionTable,
    TableLimits, Taddr4, Taddr6, Timeouts,
};
use nat64_core::{Prefix64, Verdict};
use nat64_fuzz::*;

const MAX_SESSIONS: usize = 24;
const QUOTA: usize = 6;
const MAX_SYNS: usize = 3;
const REASM_BYTES: usize = 8192;
const REASM_DATAGRAMS: usize = 4;
/// pool4: 192.0.2.1 ports 1000-1015 and 192.0.2.2 ports 2000-2003.
const POOL4: [(&str, u16, u16); 2] = [("192.0.2.1", 1000, 1015), ("192.0.2.2", 2000, 2003)];

fn clients() -> [Ipv6Addr; 8] {
    [
        v6("2001:db8::a"),
        v6("2001:db8::b"),
        v6("2001:db8:1::c"),
        v6("2001:db8::5"), // has static BIB entries
        v6("2001:db8:2::d"),
        v6("64:ff9b::c000:201"), // pool6 + pool4: a hairpin loop
        v6("fe80::1"),
        v6("2001:db8:3::e"),
    ]
}

fn remotes() -> [Ipv4Addr; 8] {
    [
        v4("198.51.100.1"),
        v4("198.51.100.2"),
        v4("203.0.113.7"),
        v4("192.0.2.1"), // pool4: hairpinning (RFC 6146 section 3.8)
        v4("192.0.2.2"),
        v4("8.8.8.8"),
        v4("127.0.0.1"),
        v4("255.255.255.255"),
    ]
}

fn config(sel: u8) -> Nat64Config {
    let pool6: Prefix64 = "64:ff9b::/96".parse().unwrap();
    let pool4 = POOL4
        .iter()
        .map(|&(a, lo, hi)| {
            let mut e = Pool4Entry::new(a.parse().unwrap());
            e.first_port = lo;
            e.last_port = hi;
            e
        })
        .collect();
    let mut c = Nat64Config::new(pool6, pool4);
    c.xlat.wkp_forbids_non_global = false;
    c.xlat.own_ipv4 = Some(v4("192.0.2.254"));
    c.xlat.own_ipv6 = Some(v6("2001:db8:ffff::1"));
    let p4 = v4("192.0.2.1");
    for (proto, port6, port4) in [(Proto::Tcp, 80, 80), (Proto::Udp, 53, 53)] {
        c.static_bib.push(Bib {
            proto,
            v6: Taddr6 {
                addr: v6("2001:db8::5"),
                port: port6,
            },
            v4: Taddr4 { addr: p4, port: port4 },
            is_static: true,
        });
    }
    c.timeouts = Timeouts {
        udp: Duration::from_secs(120),
        tcp_est: Duration::from_secs(600),
        tcp_trans: Duration::from_secs(4),
        icmp: Duration::from_secs(3),
        tcp_incoming_syn: Duration::from_secs(6),
    };
    c.address_dependent_filtering = sel & 1 != 0;
    c.drop_externally_initiated_tcp = sel & 2 != 0;
    c.drop_icmpv6_info = sel & 4 != 0;
    c.handle_rst_during_fin_rcv = sel & 8 != 0;
    c.max_simultaneous_opens = MAX_SYNS;
    c.limits = TableLimits {
        max_sessions: MAX_SESSIONS,
        max_sessions_per_client: QUOTA,
        client_prefix_len: if sel & 16 != 0 { 64 } else { 128 },
    };
    c.reassembly = ReassemblyLimits {
        max_bytes: REASM_BYTES,
        max_datagrams: REASM_DATAGRAMS,
        timeout: Duration::from_secs(2),
        max_fragments_per_datagram: 8,
        hash_seed: 1,
    };
    c
}

fn proto_num(p: u8, v6: bool) -> u8 {
    match p % 4 {
        0 => TCP,
        1 => UDP,
        2 => {
            if v6 {
                ICMPV6
            } else {
                ICMP
            }
        }
        _ => 47, // GRE: no BIB
    }
}

/// Packet fields decoded from the input.
struct Fields {
    proto: u8,
    sport: u16,
    dport: u16,
    flags: u8,
    len: usize,
    frag: u8,
    hop: u8,
}

fn fields(r: &mut Reader<'_>, v6: bool) -> Fields {
    let proto = proto_num(r.u8(), v6);
    let sport = r.u16();
    let dport = r.u16();
    let flags = r.u8();
    let len = usize::from(r.u8()) * 4;
    let frag = r.u8();
    let hop = match r.u8() {
        0 => 64,
        h => h - 1,
    };
    Fields {
        proto,
        sport,
        dport,
        flags,
        len,
        frag,
        hop,
    }
}

/// The transport bytes of a packet (checksum right for the whole datagram).
fn l4(f: &Fields, v6: bool, src: &[u8], dst: &[u8]) -> Vec<u8> {
    let payload: Vec<u8> = (0..f.len).map(|i| i as u8).collect();
    let flags = match f.proto {
        ICMP => [8, 0][usize::from(f.flags & 1)],
        ICMPV6 => [128, 129][usize::from(f.flags & 1)],
        _ => f.flags,
    };
    let mut t = transport(f.proto, f.sport, f.dport, flags, &payload);
    let at = match f.proto {
        TCP => 16,
        UDP => 6,
        _ => 2,
    };
    if t.len() >= at + 2 {
        let c = if f.proto == ICMP {
            checksum(&[&t])
        } else if v6 {
            let ph = pseudo6(a6(src), a6(dst), f.proto, t.len());
            checksum(&[&ph, &t])
        } else {
            let ph = pseudo4(a4(src), a4(dst), f.proto, t.len());
            checksum(&[&ph, &t])
        };
        t[at..at + 2].copy_from_slice(&c.to_be_bytes());
    }
    t
}

fn a6(b: &[u8]) -> Ipv6Addr {
    let mut o = [0u8; 16];
    o.copy_from_slice(b);
    Ipv6Addr::from(o)
}
fn a4(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// Which piece of the datagram to send: 0 whole; else `frag & 3`: 0 first
/// half (MF), 1 second half, 2 an atomic fragment (IPv6) / DF (IPv4), 3 an
/// arbitrary offset and MF from the high bits.
fn piece(t: &[u8], frag: u8) -> Option<(usize, bool, &[u8])> {
    if frag == 0 {
        return None;
    }
    let half = (t.len() / 2) / 8 * 8;
    Some(match frag & 3 {
        0 => (0, true, &t[..half.max(8).min(t.len())]),
        1 => (half, false, &t[half..]),
        2 => (0, false, t),
        _ => {
            let off = (usize::from(frag >> 2 & 0x1f) * 8).min(t.len() / 8 * 8);
            (off, frag & 0x80 != 0, &t[off..])
        }
    })
}

fn send6(client: Ipv6Addr, remote: Ipv4Addr, f: &Fields, id: u32) -> Vec<u8> {
    let dst = embed(v6("64:ff9b::"), 96, remote);
    let t = l4(f, true, &client.octets(), &dst.octets());
    match piece(&t, f.frag) {
        None => v6_packet(client, dst, f.proto, f.hop, 0, &t),
        Some((off, mf, bytes)) => {
            let mut b = vec![f.proto, 0];
            b.extend_from_slice(&(((off as u16) & 0xfff8) | u16::from(mf)).to_be_bytes());
            b.extend_from_slice(&id.to_be_bytes());
            b.extend_from_slice(bytes);
            v6_packet(client, dst, FRAGMENT, f.hop, 0, &b)
        }
    }
}

fn send4(remote: Ipv4Addr, pool: Ipv4Addr, f: &Fields, id: u16) -> Vec<u8> {
    let t = l4(f, false, &remote.octets(), &pool.octets());
    let mut h = V4Fields {
        ttl: f.hop,
        id,
        ..V4Fields::default()
    };
    match piece(&t, f.frag) {
        None => v4_packet(remote, pool, f.proto, h, &t),
        Some((off, mf, bytes)) => {
            if f.frag & 3 == 2 {
                h.df = true;
            } else {
                h.mf = mf;
                h.frag_off = (off / 8) as u16;
            }
            v4_packet(remote, pool, f.proto, h, bytes)
        }
    }
}

struct Run {
    nat: Nat64,
    out: Vec<u8>,
    now: u64,
    /// The latest time seen.
    max_now: u64,
    /// The `now` of the last call to `translate` or `poll`: what the table
    /// has been told.
    told: u64,
    /// The `now` of the table's last `expire` (as the trait names it).
    floor: Option<u64>,
    monotonic_only: bool,
    prefix_len: u8,
    /// `NAT64_FUZZ_TRACE=1`: print every step (to replay a crash).
    trace: bool,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Run {
    fn bibs(&self) -> Vec<Bib> {
        let mut v = Vec::new();
        self.nat.for_each_bib(None, &mut |b| v.push(*b));
        v.sort_by_key(|b| (b.proto, b.v4));
        v
    }
    fn sessions(&self) -> Vec<nat64_core::nat64::Session> {
        let mut v = Vec::new();
        self.nat.for_each_session(SessionFilter::default(), &mut |s| v.push(*s));
        v.sort_by_key(|s| (s.proto, s.v6, s.remote));
        v
    }

    fn translate(&mut self, pkt: &[u8]) {
        self.translate_only(pkt);
        self.check(false);
    }

    /// Translates and checks the verdict, not the table.
    fn translate_only(&mut self, pkt: &[u8]) {
        let now = Instant::from_micros(self.now);
        if self.nat.table().next_expiry().is_some_and(|t| t <= now) {
            self.floor = Some(self.now);
        }
        let before = self.nat.table().next_expiry();
        self.told = self.now;
        let v = self.nat.translate(pkt, &mut self.out, now);
        if self.trace {
            eprintln!(
                "t={} next_expiry(before)={before:?} in={} -> {v:?}; sessions {:?}",
                self.now,
                hex(pkt),
                self.sessions()
            );
        }
        check_verdict(pkt, &v, &self.out);
        if let Verdict::IcmpError { len, .. } = v {
            // The translator answers about the packet it got, never about
            // one of its own errors.
            assert!(len as usize <= self.out.len());
        }
    }

    fn poll(&mut self) {
        let now = Instant::from_micros(self.now);
        self.told = self.now;
        let mut n = 0;
        loop {
            self.floor = Some(self.now);
            let before = (self.nat.stats().sessions, self.nat.next_expiry());
            let r = self.nat.poll(now, &mut self.out);
            if self.trace {
                eprintln!(
                    "t={} poll: {before:?} -> {r:?}, {} sessions, next_expiry {:?}",
                    self.now,
                    self.nat.stats().sessions,
                    self.nat.next_expiry()
                );
            }
            let Some(v) = r else { break };
            match v {
                Verdict::IcmpError { len, .. } => {
                    let p = self.out[..len as usize].to_vec();
                    let v6 = p[0] >> 4 == 6;
                    check_packet(&p, v6);
                }
                Verdict::Dropped(_) => {}
                other => panic!("poll returned {other:?}"),
            }
            n += 1;
            assert!(n <= MAX_SYNS + 1, "poll keeps returning work");
        }
        if self.now >= self.max_now {
            if let Some(t) = self.nat.next_expiry() {
                assert!(t > now, "next_expiry {t:?} at or before {now:?} after poll");
            }
        }
        self.check(true);
    }

    /// The invariants of the module documentation.
    fn check(&self, polled: bool) {
        let st = self.nat.stats();
        let t: &DefaultTable = self.nat.table();
        assert!(st.sessions <= MAX_SESSIONS, "{} sessions over the cap", st.sessions);
        assert!(st.bib_entries <= MAX_SESSIONS + 2, "{} BIB entries", st.bib_entries);
        assert!(st.held_syns <= MAX_SYNS);
        let rs = self.nat.reassembly_stats();
        assert!(
            rs.bytes_buffered <= REASM_BYTES,
            "reassembly holds {} bytes",
            rs.bytes_buffered
        );
        assert!(rs.in_progress <= REASM_DATAGRAMS);

        let mut sessions = Vec::with_capacity(MAX_SESSIONS);
        self.nat
            .for_each_session(SessionFilter::default(), &mut |s| sessions.push(*s));
        assert_eq!(sessions.len(), t.session_count(), "session_count vs for_each_session");
        let mut bibs = Vec::with_capacity(MAX_SESSIONS + 2);
        self.nat.for_each_bib(None, &mut |b| bibs.push(*b));
        assert_eq!(bibs.len(), t.bib_count(), "bib_count vs for_each_bib");

        let monotonic = self.told >= self.max_now;
        let mut per_client: Vec<(u128, usize)> = Vec::with_capacity(MAX_SESSIONS);
        let mask = if self.prefix_len == 0 {
            0
        } else {
            u128::MAX << (128 - u32::from(self.prefix_len))
        };
        for s in &sessions {
            let c = s.v6.addr.to_bits() & mask;
            match per_client.iter_mut().find(|x| x.0 == c) {
                Some(x) => x.1 += 1,
                None => per_client.push((c, 1)),
            }
            let visible = self.floor.is_none_or(|f| s.expires.as_micros() > f);
            if monotonic {
                assert!(
                    s.expires.as_micros() > self.told,
                    "session {s:?} expired at {} but returned at {}",
                    s.expires.as_micros(),
                    self.told
                );
            }
            if !visible {
                // Only with a clock that went back: the trait promises
                // nothing more about it.
                assert!(!self.monotonic_only, "expired session {s:?} returned");
                continue;
            }
            let h = t
                .find_v6(s.proto, s.v6, s.remote)
                .unwrap_or_else(|| panic!("{s:?} not found by find_v6"));
            assert_eq!(t.get(h), *s, "find_v6");
            let h = t
                .find_v4(s.proto, s.v4, s.remote)
                .unwrap_or_else(|| panic!("{s:?} not found by find_v4"));
            assert_eq!(t.get(h), *s, "find_v4");
            assert!(
                t.has_session_with(s.proto, s.v4, s.remote.addr),
                "{s:?}: has_session_with"
            );
            let b = t
                .bib_by_v6(s.proto, s.v6)
                .unwrap_or_else(|| panic!("{s:?} without a BIB entry"));
            assert_eq!(b.v4, s.v4, "{s:?} and its BIB entry {b:?}");
        }
        for (c, n) in per_client {
            assert!(n <= QUOTA, "client {:?} holds {n} sessions", Ipv6Addr::from(c));
        }
        for b in &bibs {
            assert_eq!(t.bib_by_v6(b.proto, b.v6), Some(*b), "bib_by_v6 of {b:?}");
            assert_eq!(t.bib_by_v4(b.proto, b.v4), Some(*b), "bib_by_v4 of {b:?}");
            if !b.is_static {
                let inside = POOL4
                    .iter()
                    .any(|&(a, lo, hi)| b.v4.addr == v4(a) && (lo..=hi).contains(&b.v4.port));
                assert!(inside, "dynamic BIB entry {b:?} outside pool4");
                if polled && self.monotonic_only {
                    assert!(
                        sessions.iter().any(|s| s.proto == b.proto && s.v4 == b.v4),
                        "dynamic BIB entry {b:?} without sessions after poll"
                    );
                }
            }
        }
    }
}

static OUT: Mutex<Vec<u8>> = Mutex::new(Vec::new());

fuzz_target!(|data: &[u8]| {
    let mut r = Reader::new(data);
    let sel = r.u8();
    let mut out = std::mem::take(&mut *OUT.lock().unwrap_or_else(|e| e.into_inner()));
    out.resize(OUT_LEN, 0);
    let mut run = Run {
        nat: Nat64::new(config(sel)).expect("valid configuration"),
        out,
        now: 1_000_000,
        max_now: 1_000_000,
        told: 1_000_000,
        floor: None,
        monotonic_only: sel & 32 == 0,
        prefix_len: if sel & 16 != 0 { 64 } else { 128 },
        trace: std::env::var_os("NAT64_FUZZ_TRACE").is_some(),
    };
    let (clients, remotes) = (clients(), remotes());
    let mut steps = 0;
    while !r.is_empty() && steps < 64 {
        steps += 1;
        match r.u8() % ops::COUNT {
            ops::SEND6 => {
                let c = clients[usize::from(r.u8() % 8)];
                let rem = remotes[usize::from(r.u8() % 8)];
                let f = fields(&mut r, true);
                let id = u32::from(f.sport) << 8 | u32::from(c.octets()[15]);
                let p = send6(c, rem, &f, id);
                run.translate(&p);
            }
            ops::SEND4 => {
                let rem = remotes[usize::from(r.u8() % 8)];
                let pick = r.u8();
                let mut f = fields(&mut r, false);
                let bibs = run.bibs();
                let pool = if pick & 0x80 != 0 && !bibs.is_empty() {
                    // Towards an existing binding.
                    let b = bibs[usize::from(pick & 0x7f) % bibs.len()];
                    f.dport = b.v4.port;
                    f.proto = match b.proto {
                        Proto::Tcp => TCP,
                        Proto::Udp => UDP,
                        Proto::Icmp => ICMP,
                    };
                    if f.proto == ICMP {
                        f.sport = b.v4.port;
                    }
                    b.v4.addr
                } else {
                    v4(POOL4[usize::from(pick & 1)].0)
                };
                let p = send4(rem, pool, &f, f.sport ^ f.dport);
                run.translate(&p);
            }
            ops::RAW => {
                let fix = r.u8();
                let len = usize::from(r.u16() % 1600);
                let mut p = r.bytes(len).to_vec();
                fix_checksums(&mut p, fix & 1 != 0, fix & 2 != 0);
                run.translate(&p);
            }
            ops::ERROR => {
                let side = r.u8();
                let pick = usize::from(r.u8());
                let (ty, code) = (r.u8(), r.u8());
                let rest = [r.u8(), r.u8(), r.u8(), r.u8()];
                let sessions = run.sessions();
                let Some(s) = (!sessions.is_empty()).then(|| sessions[pick % sessions.len()]) else {
                    continue;
                };
                let pnum = |v6: bool| match s.proto {
                    Proto::Tcp => TCP,
                    Proto::Udp => UDP,
                    Proto::Icmp => {
                        if v6 {
                            ICMPV6
                        } else {
                            ICMP
                        }
                    }
                };
                let p = if side & 1 == 0 {
                    // From the IPv4 side, about a packet pool4 -> remote.
                    let pr = pnum(false);
                    let f = Fields {
                        proto: pr,
                        sport: s.v4.port,
                        dport: if pr == ICMP { s.v4.port } else { s.remote.port },
                        flags: 0,
                        len: 8,
                        frag: 0,
                        hop: 63,
                    };
                    let inner = send4(s.v4.addr, s.remote.addr, &f, 1);
                    let ty = if side & 2 == 0 {
                        [3, 11, 12, 3][usize::from(ty & 3)]
                    } else {
                        ty
                    };
                    let mut icmp = vec![ty, code, 0, 0];
                    icmp.extend_from_slice(&rest);
                    icmp.extend_from_slice(&inner[..inner.len().min(20 + 8 + (side as usize >> 2))]);
                    let c = checksum(&[&icmp]);
                    icmp[2..4].copy_from_slice(&c.to_be_bytes());
                    let router = if side & 4 != 0 {
                        s.remote.addr
                    } else {
                        v4("198.51.100.254")
                    };
                    v4_packet(router, s.v4.addr, ICMP, V4Fields::default(), &icmp)
                } else {
                    // From the IPv6 side, about a packet remote -> client.
                    let pr = pnum(true);
                    let f = Fields {
                        proto: pr,
                        sport: if pr == ICMPV6 { s.v6.port } else { s.remote.port },
                        dport: s.v6.port,
                        flags: 1,
                        len: 8,
                        frag: 0,
                        hop: 63,
                    };
                    let rsrc = embed(v6("64:ff9b::"), 96, s.remote.addr);
                    let t = l4(&f, true, &rsrc.octets(), &s.v6.addr.octets());
                    let inner = v6_packet(rsrc, s.v6.addr, pr, 63, 0, &t);
                    let ty = if side & 2 == 0 {
                        [1, 2, 3, 4][usize::from(ty & 3)]
                    } else {
                        ty
                    };
                    let mut icmp = vec![ty, code, 0, 0];
                    icmp.extend_from_slice(&rest);
                    icmp.extend_from_slice(&inner);
                    let src = if side & 4 != 0 { s.v6.addr } else { v6("2001:db8::1") };
                    let c = checksum(&[&pseudo6(src, rsrc, ICMPV6, icmp.len()), &icmp]);
                    icmp[2..4].copy_from_slice(&c.to_be_bytes());
                    v6_packet(src, rsrc, ICMPV6, 64, 0, &icmp)
                };
                run.translate(&p);
            }
            ops::STEP => {
                let amount = u64::from(r.u16());
                let scale = r.u8();
                let d = amount * [1, 1_000, 1_000_000, 1_000_000_000][usize::from(scale & 3)];
                if scale & 4 != 0 && !run.monotonic_only {
                    run.now = run.now.saturating_sub(d);
                } else {
                    run.now = run.now.saturating_add(d);
                }
                run.max_now = run.max_now.max(run.now);
            }
            ops::POLL => {
                if run.trace {
                    eprintln!("t={} poll", run.now);
                }
                run.poll()
            }
            ops::FLOOD => {
                let c = clients[usize::from(r.u8() % 8)];
                let rem = remotes[usize::from(r.u8() % 8)];
                let n = r.u8() % 48;
                let base = r.u16();
                for i in 0..n {
                    let f = Fields {
                        proto: UDP,
                        sport: base.wrapping_add(u16::from(i)),
                        dport: 53,
                        flags: 0,
                        len: 4,
                        frag: 0,
                        hop: 64,
                    };
                    run.translate_only(&send6(c, rem, &f, 0));
                }
                run.check(false);
            }
            _ => unreachable!(),
        }
    }
    run.poll();
    *OUT.lock().unwrap_or_else(|e| e.into_inner()) = run.out;
});
