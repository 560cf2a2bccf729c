//! The stateful NAT64 translator (RFC 6146): it finds or creates the BIB
//! entry and session of every packet, applies filtering and the TCP state
//! machine, and hands the address and port mapping to the RFC 7915 engine
//! shared with SIIT. Time comes in as an argument; [`Nat64::poll`] runs the
//! timers (session expiry, held SYNs, reassembly).

use alloc::vec::Vec;
use core::net::Ipv6Addr;
use core::time::Duration;

use super::default_table::DefaultTable;
use super::pool4::Pool4;
use super::reassembly::{Reassembler, Reassembly};
use super::table::{Bib, InsertError, Instant, Proto, Session, SessionTable, Taddr4, Taddr6, TcpState};
use super::tcp::{self, Lifetime, Segment};
use crate::addr::Prefix64;
use crate::icmp;
use crate::translate::{parse46, Engine, ErrorMap, Map46, Map64, Pass, To4, To6};
use crate::verdict::{Counters, Direction, DropReason, Emitted, Held, NotOurs, Verdict};
use crate::wire::{be16, proto, V4Header, V6Header};

mod config;
mod reconfigure;
pub use reconfigure::ReconfigureReport;

pub use config::{Nat64Config, Nat64ConfigError, Timeouts, UDP_MIN};

/// Adds the static BIB entries (RFC 6146 section 3.1: BIB entries may be
/// created manually) to `table`; an entry already there is kept. Any port of
/// a pool4 address may be published, also outside the dynamic range (a
/// service on 80 with ephemeral ports 61001-65535).
fn add_static_bibs<T: SessionTable>(table: &mut T, bibs: &[Bib], pool4: &Pool4) -> Result<(), Nat64ConfigError> {
    for b in bibs {
        let bad = |why| Nat64ConfigError::StaticBib {
            proto: b.proto,
            v6: b.v6,
            v4: b.v4,
            why,
        };
        if !pool4.contains_addr(b.v4.addr) {
            return Err(bad("the IPv4 address is not a pool4 address"));
        }
        table.add_bib(Bib { is_static: true, ..*b }).map_err(|e| {
            bad(match e {
                InsertError::V4InUse { .. } => "the IPv4 transport address is already bound",
                InsertError::V6InUse { .. } => "the IPv6 transport address is already bound",
                _ => "the table refused it",
            })
        })?;
    }
    Ok(())
}

/// An unsolicited IPv4 SYN kept for a simultaneous open.
#[derive(Debug)]
struct HeldSyn {
    /// The pool4 transport address it was sent to.
    v4: Taddr4,
    /// Its source.
    remote: Taddr4,
    expires: Instant,
    /// The packet to quote in the ICMP error if nothing comes; the IPv6
    /// original when it arrived through a hairpin.
    packet: Vec<u8>,
    v6_origin: bool,
}

/// A snapshot of the stateful translator's tables, for display and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nat64Stats {
    /// Sessions.
    pub sessions: usize,
    /// BIB entries.
    pub bib_entries: usize,
    /// pool4 transport addresses per protocol (tcp, udp, icmp).
    pub pool4_size: [u64; 3],
    /// Unsolicited SYNs held.
    pub held_syns: usize,
    /// Half-open or closing TCP sessions removed before their time because
    /// the table was full and a new flow needed the room (see
    /// [`SessionTable::evict_for_room`]); since creation.
    pub sessions_evicted: u64,
}

/// Which sessions to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Only this protocol.
    pub proto: Option<Proto>,
    /// Only this IPv6 client address.
    pub client: Option<Ipv6Addr>,
}

/// Where a 4->6 packet came from.
#[derive(Clone, Copy)]
enum Origin<'a> {
    Wire,
    /// The second half of a hairpin (RFC 6146 section 3.8); the IPv6
    /// original, for errors that must go back to its sender.
    Hairpin(&'a [u8]),
}

/// The stateful NAT64 (RFC 6146) over a [`SessionTable`].
pub struct Nat64<T: SessionTable = DefaultTable> {
    eng: Engine,
    pool6: Prefix64,
    pool4: Pool4,
    cfg: Nat64Config,
    table: T,
    counters: Counters,
    held: Vec<HeldSyn>,
    reasm: Reassembler,
    scratch: Vec<u8>,
    whole: Vec<u8>,
    /// Sessions removed early to make room ([`SessionTable::evict_for_room`]).
    evicted: u64,
}

impl<T: SessionTable> core::fmt::Debug for Nat64<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Nat64")
            .field("pool6", &self.pool6)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl Nat64<DefaultTable> {
    /// A stateful NAT64 with the default in-memory table.
    pub fn new(cfg: Nat64Config) -> Result<Self, Nat64ConfigError> {
        // The table's index hash is keyed by the same secret as the port
        // choice, so neither is predictable from outside (hash flooding).
        let table = DefaultTable::with_seed(cfg.limits, 0, cfg.secret[0] ^ cfg.secret[1].rotate_left(29));
        Self::with_table(cfg, table)
    }
}

impl<T: SessionTable> Nat64<T> {
    /// A stateful NAT64 over the embedder's own table.
    pub fn with_table(cfg: Nat64Config, mut table: T) -> Result<Self, Nat64ConfigError> {
        let pool6 = cfg.xlat.pool6.ok_or(Nat64ConfigError::NoPool6)?;
        cfg.xlat.validate()?;
        if cfg.pool4.is_empty() {
            return Err(Nat64ConfigError::NoPool4);
        }
        if cfg.timeouts.udp < UDP_MIN {
            return Err(Nat64ConfigError::UdpTimeout(cfg.timeouts.udp));
        }
        let pool4 = Pool4::new(&cfg.pool4)?;
        add_static_bibs(&mut table, &cfg.static_bib, &pool4)?;
        Ok(Nat64 {
            eng: Engine::for_nat64(cfg.xlat.clone()),
            pool6,
            pool4,
            reasm: Reassembler::new(cfg.reassembly),
            cfg,
            table,
            counters: Counters::default(),
            held: Vec::new(),
            scratch: alloc::vec![0; 65536 + 128],
            whole: alloc::vec![0; 65536 + 128],
            evicted: 0,
        })
    }

    /// The session table.
    pub fn table(&self) -> &T {
        &self.table
    }
    /// Takes the session table back. A reload of the configuration is
    /// [`Nat64::reconfigure`] (it says what the new configuration removed).
    pub fn into_table(self) -> T {
        self.table
    }
    /// Counters per verdict and per reason.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }
    /// The configuration in force.
    pub fn config(&self) -> &Nat64Config {
        &self.cfg
    }
    /// The pool6 prefix in force.
    pub fn pool6(&self) -> Prefix64 {
        self.pool6
    }
    /// Whether `t` is a pool4 transport address of `proto`.
    pub(crate) fn pool4_contains(&self, proto: Proto, t: Taddr4) -> bool {
        self.pool4.contains(proto, t)
    }
    /// The table, for the core's own operations on it ([`super::state`]).
    pub(crate) fn table_mut(&mut self) -> &mut T {
        &mut self.table
    }
    /// Table sizes and pool4 use.
    pub fn stats(&self) -> Nat64Stats {
        Nat64Stats {
            sessions: self.table.session_count(),
            bib_entries: self.table.bib_count(),
            pool4_size: [
                self.pool4.size(Proto::Tcp),
                self.pool4.size(Proto::Udp),
                self.pool4.size(Proto::Icmp),
            ],
            held_syns: self.held.len(),
            sessions_evicted: self.evicted,
        }
    }
    /// Reassembly counters.
    pub fn reassembly_stats(&self) -> super::reassembly::ReassemblyStats {
        self.reasm.stats()
    }
    /// Calls `f` for every session that passes `filter`.
    pub fn for_each_session(&self, filter: SessionFilter, f: &mut dyn FnMut(&Session)) {
        self.table.for_each_session(&mut |s| {
            if filter.proto.is_none_or(|p| p == s.proto) && filter.client.is_none_or(|c| c == s.v6.addr) {
                f(s)
            }
        });
    }
    /// Calls `f` for every BIB entry of `proto` (or all).
    pub fn for_each_bib(&self, proto: Option<Proto>, f: &mut dyn FnMut(&Bib)) {
        self.table.for_each_bib(&mut |b| {
            if proto.is_none_or(|p| p == b.proto) {
                f(b)
            }
        });
    }

    /// When [`Nat64::poll`] next has work: a session or held SYN expiring,
    /// or a partial datagram timing out.
    pub fn next_expiry(&self) -> Option<Instant> {
        let held = self.held.iter().map(|h| h.expires).min();
        [self.table.next_expiry(), held, self.reasm.next_expiry()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Runs the timers at `now`: expires sessions and partial datagrams, and
    /// answers at most one held SYN whose 6 s ran out (RFC 6146 section
    /// 3.5.2.2) with ICMP port unreachable, written to `out`. Call it until
    /// it returns `None`. Idempotent for a given `now`.
    pub fn poll(&mut self, now: Instant, out: &mut [u8]) -> Option<Verdict> {
        self.table.expire(now);
        self.reasm.expire(now);
        let i = self.held.iter().position(|h| h.expires <= now)?;
        let h = self.held.swap_remove(i);
        let reason = DropReason::SimultaneousOpenTimeout;
        let v = if h.v6_origin {
            self.eng.reply_v6(&h.packet, 1, 4, [0; 4], reason, out)
        } else {
            match V4Header::parse(&h.packet) {
                Some(ih) => self.eng.reply_v4(&h.packet, &ih, 3, 3, [0; 4], reason, out),
                None => Verdict::Dropped(reason),
            }
        };
        self.counters.record(&v);
        Some(v)
    }

    /// Translates one packet at time `now`. See [`Verdict`]; a fragment or an
    /// unsolicited IPv4 SYN may be [`Verdict::Held`].
    pub fn translate(&mut self, input: &[u8], out: &mut [u8], now: Instant) -> Verdict {
        // Sessions past their time are gone even if the embedder has not
        // polled: a dead session must neither translate nor be revived.
        if self.table.next_expiry().is_some_and(|t| t <= now) {
            self.table.expire(now);
        }
        let v = match input.first().map(|b| b >> 4) {
            Some(6) => self.xlat64(input, out, now, true),
            Some(4) => self.xlat46(input, out, now, Origin::Wire, true),
            _ => Verdict::NotOurs(NotOurs::NotIp),
        };
        self.counters.record(&v);
        v
    }

    /// [`Nat64::translate`] for a TCP super-packet under segmentation
    /// offload (GRO/GSO), cut into segments of `mss` payload bytes after
    /// translation; see [`crate::Translator::translate_gso`] for the
    /// semantics. The partial-checksum convention there does NOT hold here:
    /// the NAT64 rewrites ports, and their change is folded into the field,
    /// which under `CHECKSUM_PARTIAL` the kernel sums later. With a partial
    /// checksum, recompute the seed from the output's pseudo-header (as the
    /// gateway's TUN adapter does).
    pub fn translate_gso(&mut self, input: &[u8], out: &mut [u8], now: Instant, mss: u16) -> Verdict {
        self.eng.gso_mss = Some(mss.max(1));
        let v = self.translate(input, out, now);
        self.eng.gso_mss = None;
        v
    }

    fn lifetime(&self, proto: Proto) -> Duration {
        match proto {
            Proto::Tcp => self.cfg.timeouts.tcp_trans,
            Proto::Udp => self.cfg.timeouts.udp,
            Proto::Icmp => self.cfg.timeouts.icmp,
        }
    }

    /// A fragment (of IPv6 when `v6`): held until its datagram is whole,
    /// which then goes through translation again (RFC 6146 section 3.4: the
    /// stateful path needs the transport header). A datagram that was itself
    /// put together here (`may_reassemble` false) and still a fragment is dropped.
    fn fragment(&mut self, pkt: &[u8], out: &mut [u8], now: Instant, may_reassemble: bool, v6: bool) -> Verdict {
        if !may_reassemble {
            return Verdict::Dropped(DropReason::FragmentReassembly);
        }
        let n = match self.reasm.push(now, pkt) {
            Reassembly::Held => return Verdict::Held(Held::Fragment),
            Reassembly::Complete(b) if b.len() <= self.whole.len() => {
                self.whole[..b.len()].copy_from_slice(b);
                b.len()
            }
            _ => return Verdict::Dropped(DropReason::FragmentReassembly),
        };
        let whole = core::mem::take(&mut self.whole);
        let v = if v6 {
            self.xlat64(&whole[..n], out, now, false)
        } else {
            self.xlat46(&whole[..n], out, now, Origin::Wire, false)
        };
        self.whole = whole;
        v
    }

    // ---------------------------------------------------------------- 6 -> 4

    fn xlat64(&mut self, inp: &[u8], out: &mut [u8], now: Instant, may_reassemble: bool) -> Verdict {
        let Some(h) = V6Header::parse(inp) else {
            return Verdict::Dropped(DropReason::Truncated);
        };
        let Some(dst4) = self.pool6.extract(h.dst) else {
            return Verdict::NotOurs(NotOurs::DestinationNotMapped);
        };
        // RFC 6146 section 3.8: traffic to pool6 + pool4 is hairpinned.
        let hairpin = self.pool4.contains_addr(dst4);
        // RFC 6146 section 3.5: a source under pool6 is discarded (in a
        // hairpin it would go around again).
        if self.pool6.contains(h.src) {
            return Verdict::Dropped(if hairpin {
                DropReason::HairpinLoop
            } else {
                DropReason::SourceInPool6
            });
        }
        if !hairpin {
            match self.eng.check_pool6_v4(dst4, self.pool6.is_well_known()) {
                Ok(()) => {}
                Err(crate::translate::AddrMiss::NonGlobal) => {
                    return Verdict::Dropped(DropReason::NonGlobalWithWellKnownPrefix)
                }
                Err(_) => return Verdict::NotOurs(NotOurs::DestinationDenylisted),
            }
        }
        let (pkt, chain) = match self.eng.checks64(&h, inp, out) {
            Ok(x) => x,
            Err(v) => return v,
        };
        if chain.is_fragment() {
            return self.fragment(pkt, out, now, may_reassemble, true);
        }
        let l4 = &pkt[chain.l4_off..];
        if chain.proto == proto::ICMPV6 && l4.first().is_some_and(|&t| icmp::is_icmp6_error(t)) {
            let mut m = StatefulErrors {
                table: &self.table,
                pool6: self.pool6,
                better: self.cfg.source_icmpv6_errors_better,
            };
            if !hairpin {
                return self.eng.error64(pkt, &h, &chain, &mut m, false, out);
            }
            let mut scratch = core::mem::take(&mut self.scratch);
            let v = self.eng.error64(pkt, &h, &chain, &mut m, true, &mut scratch);
            let r = self.hairpin_back(v, &scratch, pkt, out, now);
            self.scratch = scratch;
            return r;
        }
        let (proto, sport, dport, seg, query) = match tuple(chain.proto, l4, true) {
            Ok(t) => t,
            // RFC 6146 section 3.4: a protocol the NAT64 does not handle
            // SHOULD be answered with ICMPv6 1/4.
            Err(r @ DropReason::UnsupportedProtocol) if chain.is_first() => {
                return self.eng.reply_v6(pkt, 1, 4, [0; 4], r, out)
            }
            Err(r) => return Verdict::Dropped(r),
        };
        if proto == Proto::Icmp && self.cfg.drop_icmpv6_info {
            return Verdict::Dropped(DropReason::Icmpv6InfoFiltered);
        }
        // RFC 8200 section 8.1: refused before it can take a binding (the
        // engine would refuse it after).
        let x = &self.eng.cfg;
        if proto == Proto::Udp && be16(l4, 6) == 0 && !x.forward_udp_checksum_zero && !x.amend_udp_checksum_zero {
            return Verdict::Dropped(DropReason::Ipv6UdpChecksumZero);
        }
        let client = Taddr6 {
            addr: h.src,
            port: sport,
        };
        let remote = Taddr4 {
            addr: dst4,
            port: dport,
        };
        let bib = match self.session64(proto, client, remote, seg, query, now, pkt, out) {
            Ok(b) => b,
            Err(v) => return v,
        };
        let m = Map64 {
            src: bib.addr,
            dst: dst4,
            sport: Some(bib.port),
            dport: None,
        };
        if !hairpin {
            return self.eng.body::<To4>(pkt, (&h, &chain), m, false, out);
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        let v = self.eng.body::<To4>(pkt, (&h, &chain), m, true, &mut scratch);
        let r = self.hairpin_back(v, &scratch, pkt, out, now);
        self.scratch = scratch;
        r
    }

    /// RFC 6146 section 3.8: the IPv4 packet a hairpin's first half wrote
    /// into `scratch` goes back through 4->6.
    fn hairpin_back(&mut self, v: Verdict, scratch: &[u8], orig: &[u8], out: &mut [u8], now: Instant) -> Verdict {
        match v {
            Verdict::Translated(e) => {
                match self.xlat46(&scratch[..e.total_len()], out, now, Origin::Hairpin(orig), false) {
                    Verdict::Translated(e2) => Verdict::Translated(Emitted {
                        direction: Direction::SixToSix,
                        ..e2
                    }),
                    other => other,
                }
            }
            other => other,
        }
    }

    /// RFC 6146 sections 3.5.1 to 3.5.3, IPv6 side: the BIB entry (created
    /// with a pool4 address chosen per RFC 6056) and the session.
    #[allow(clippy::too_many_arguments)]
    fn session64(
        &mut self,
        proto: Proto,
        client: Taddr6,
        remote: Taddr4,
        seg: Option<Segment>,
        query: bool,
        now: Instant,
        pkt: &[u8],
        out: &mut [u8],
    ) -> Result<Taddr4, Verdict> {
        // The established case first: one lookup, since the session holds
        // its BIB's IPv4 side. (ICMP sessions are keyed by the IPv4-side
        // identifier, which only the BIB knows.)
        if proto != Proto::Icmp {
            if let Some(hd) = self.table.find_v6(proto, client, remote) {
                let s = self.table.get(hd);
                self.touch(hd, &s, seg, now);
                return Ok(s.v4);
            }
        }
        let syn = seg.is_some_and(|s| s.syn);
        let mut created = false;
        let mut opened = None;
        let bib = match self.table.bib_by_v6(proto, client) {
            Some(b) => b,
            None => {
                if !query {
                    return Err(Verdict::Dropped(DropReason::NoBinding));
                }
                if proto == Proto::Tcp && !syn {
                    return Err(Verdict::Dropped(DropReason::TcpNoSession));
                }
                // A held IPv4 SYN from this remote predicts the pool4
                // address the IPv6 side must use (simultaneous open).
                opened = self.held.iter().position(|h| {
                    proto == Proto::Tcp && h.remote == remote && self.table.bib_by_v4(proto, h.v4).is_none()
                });
                let v4 = match opened {
                    Some(i) => self.held[i].v4,
                    None => {
                        let o = client.addr.octets();
                        let key = [
                            u64::from_be_bytes([o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7]]),
                            u64::from_be_bytes([o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15]]),
                            (u64::from(u32::from(remote.addr)) << 16) | u64::from(remote.port),
                        ];
                        let iters = if self.cfg.max_iterations == 0 {
                            1024
                        } else {
                            self.cfg.max_iterations
                        };
                        match self.pool4.allocate(&self.table, proto, &key, &self.cfg.secret, iters) {
                            Some(t) => t,
                            None => return Err(self.eng.reply_v6(pkt, 1, 3, [0; 4], DropReason::Pool4Exhausted, out)),
                        }
                    }
                };
                let b = Bib {
                    proto,
                    v6: client,
                    v4,
                    is_static: false,
                };
                if let Err(e) = self.add_bib_with_room(b, now) {
                    return Err(Verdict::Dropped(insert_reason(e)));
                }
                created = true;
                b
            }
        };
        let remote = if proto == Proto::Icmp {
            Taddr4 {
                addr: remote.addr,
                port: bib.v4.port,
            }
        } else {
            remote
        };
        if opened.is_none() && proto == Proto::Tcp && syn {
            // A SYN held for this very binding (address-dependent filtering
            // held it although the binding existed).
            opened = self.held.iter().position(|h| h.v4 == bib.v4 && h.remote == remote);
        }
        match self.table.find_v6(proto, client, remote) {
            Some(hd) => {
                let s = self.table.get(hd);
                self.touch(hd, &s, seg, now);
            }
            None => {
                if proto == Proto::Tcp && !syn {
                    return Err(Verdict::Dropped(DropReason::TcpNoSession));
                }
                let (state, life) = match (proto, opened) {
                    (Proto::Tcp, Some(_)) => (TcpState::Established, self.cfg.timeouts.tcp_est),
                    (Proto::Tcp, None) => (TcpState::V6Init, self.cfg.timeouts.tcp_trans),
                    (p, _) => (TcpState::None, self.lifetime(p)),
                };
                let s = Session {
                    proto,
                    v6: client,
                    v4: bib.v4,
                    remote,
                    state,
                    expires: now.add(life),
                };
                if let Err(e) = self.insert_with_room(s, bib, now, true) {
                    if created {
                        self.table.remove_bib(proto, bib.v4);
                    }
                    return Err(Verdict::Dropped(insert_reason(e)));
                }
                if let Some(i) = opened {
                    // The IPv6 SYN goes through; the held IPv4 SYN is
                    // dropped (RFC 6146 section 3.5.2.2).
                    self.held.swap_remove(i);
                }
            }
        }
        Ok(bib.v4)
    }

    /// Adds a binding; when the table is full, makes room
    /// ([`Nat64::make_room`]) and tries once more.
    fn add_bib_with_room(&mut self, b: Bib, now: Instant) -> Result<(), InsertError> {
        match self.table.add_bib(b) {
            Err(e @ InsertError::TableFull { .. }) => {
                if !self.make_room(b.v6.addr, now)? {
                    return Err(e);
                }
                self.table.add_bib(b)
            }
            r => r,
        }
    }

    /// Adds a session of binding `bib`; when the table is full and `evict`
    /// allows, makes room ([`Nat64::make_room`]) and tries once more. The
    /// session that went may have been the last of `bib`, which went with
    /// it (a dynamic binding lives as long as its sessions): it is added
    /// back first, as [`SessionTable::insert`] expects it to exist.
    fn insert_with_room(&mut self, s: Session, bib: Bib, now: Instant, evict: bool) -> Result<(), InsertError> {
        match self.table.insert(s) {
            Err(e @ InsertError::TableFull { .. }) => {
                if !evict || !self.make_room(s.v6.addr, now)? {
                    return Err(e);
                }
                if self.table.bib_by_v4(bib.proto, bib.v4).is_none() {
                    self.table.add_bib(bib)?;
                }
                self.table.insert(s).map(|_| ())
            }
            r => r.map(|_| ()),
        }
    }

    /// Evicts one session ([`SessionTable::evict_for_room`]: the half-open
    /// or closing TCP session closest to its end) for a new flow of
    /// `client`. `Ok(false)` when there is none to evict; the client's
    /// quota error when the flow would be refused anyway, so that a client
    /// at its quota cannot wipe out other clients' handshakes. At most one
    /// eviction per table call, so a flood cannot make a packet's cost
    /// grow (a flow that needs a new binding makes two calls, and the
    /// first eviction usually frees the room of both).
    fn make_room(&mut self, client: Ipv6Addr, now: Instant) -> Result<bool, InsertError> {
        self.table.check_quota(client)?;
        let gone = self.table.evict_for_room(now).is_some();
        if gone {
            self.evicted += 1;
        }
        Ok(gone)
    }

    /// Applies a packet to an existing session. A refresh that would move
    /// the expiry by less than a second is skipped (the state still
    /// changes at once): it saves two random memory accesses per packet on
    /// busy sessions, at the price of expiring up to a second early.
    #[inline]
    fn touch(&mut self, hd: T::Handle, s: &Session, seg: Option<Segment>, now: Instant) {
        let (state, exp) = self.refresh(s, seg, now);
        if state != s.state || exp < s.expires || exp.since(s.expires) >= Duration::from_secs(1) {
            self.table.update(hd, state, exp);
        }
    }

    /// The state and expiry after a packet of an existing session.
    fn refresh(&self, s: &Session, seg: Option<Segment>, now: Instant) -> (TcpState, Instant) {
        match seg {
            Some(seg) => {
                let (st, life) = tcp::transition(s.state, seg, self.cfg.handle_rst_during_fin_rcv);
                let exp = match life {
                    Lifetime::Established => now.add(self.cfg.timeouts.tcp_est),
                    Lifetime::Transitory => now.add(self.cfg.timeouts.tcp_trans),
                    Lifetime::Keep => s.expires,
                };
                (st, exp)
            }
            None => (s.state, now.add(self.lifetime(s.proto))),
        }
    }

    // ---------------------------------------------------------------- 4 -> 6

    fn xlat46(
        &mut self,
        inp: &[u8],
        out: &mut [u8],
        now: Instant,
        origin: Origin<'_>,
        may_reassemble: bool,
    ) -> Verdict {
        let wire = matches!(origin, Origin::Wire);
        let (h, pkt) = match parse46(inp, wire) {
            Ok(x) => x,
            Err(v) => return v,
        };
        if !self.pool4.contains_addr(h.dst) {
            return Verdict::NotOurs(NotOurs::DestinationNotMapped);
        }
        if wire {
            if let Err(v) = self.eng.checks46(&h, pkt, out) {
                return v;
            }
            if let Err(miss) = self.eng.check_pool6_v4(h.src, self.pool6.is_well_known()) {
                return Verdict::Dropped(crate::translate::source_reason(miss));
            }
        }
        if h.is_fragment() {
            return self.fragment(pkt, out, now, may_reassemble, false);
        }
        let l4 = &pkt[h.hlen..];
        let pass = if wire {
            Pass::Wire
        } else {
            Pass::Hairpin { intrinsic: false }
        };
        if h.proto == proto::ICMP && l4.first().is_some_and(|&t| icmp::is_icmp4_error(t)) {
            let mut m = StatefulErrors {
                table: &self.table,
                pool6: self.pool6,
                better: self.cfg.source_icmpv6_errors_better,
            };
            return self.eng.error46(pkt, &h, &mut m, pass, out);
        }
        let (proto, sport, dport, seg, _query) = match tuple(h.proto, l4, false) {
            Ok(t) => t,
            // RFC 6146 section 3.4: ICMPv4 3/2 (protocol unreachable).
            Err(r @ DropReason::UnsupportedProtocol) => return self.reject(&h, pkt, origin, r, 2, out),
            Err(r) => return Verdict::Dropped(r),
        };
        let v4 = Taddr4 {
            addr: h.dst,
            port: dport,
        };
        let remote = Taddr4 {
            addr: h.src,
            port: sport,
        };
        // A port outside pool4's ranges is not ours unless a static entry
        // publishes it: the host may use it (RFC 6146 section 3.5.1.1).
        if !self.pool4.contains(proto, v4) && self.table.bib_by_v4(proto, v4).is_none() {
            return Verdict::NotOurs(NotOurs::DestinationNotMapped);
        }
        if wire && self.pool4.contains_addr(h.src) {
            return Verdict::Dropped(DropReason::SourceUntranslatable);
        }
        let syn = seg.is_some_and(|s| s.syn);
        // The established case first: the session names the client.
        let client = match self.table.find_v4(proto, v4, remote) {
            Some(hd) => {
                let s = self.table.get(hd);
                self.touch(hd, &s, seg, now);
                s.v6
            }
            None => {
                let Some(bib) = self.table.bib_by_v4(proto, v4) else {
                    return self.no_binding(proto, syn, v4, remote, &h, pkt, origin, now, out);
                };
                if self.cfg.address_dependent_filtering && !self.table.has_session_with(proto, v4, remote.addr) {
                    // A SYN is held as for a missing binding, so a
                    // simultaneous open still works (RFC 6146 s3.5.2.2).
                    if proto == Proto::Tcp && syn {
                        return self.no_binding(proto, syn, v4, remote, &h, pkt, origin, now, out);
                    }
                    return self.reject(&h, pkt, origin, DropReason::AddressDependentFiltering, 13, out);
                }
                let (state, life) = match proto {
                    Proto::Tcp if !syn => return Verdict::Dropped(DropReason::TcpNoSession),
                    Proto::Tcp if self.cfg.drop_externally_initiated_tcp => {
                        return Verdict::Dropped(DropReason::ExternallyInitiatedTcp)
                    }
                    Proto::Tcp => (TcpState::V4Init, self.cfg.timeouts.tcp_trans),
                    p => (TcpState::None, self.lifetime(p)),
                };
                let s = Session {
                    proto,
                    v6: bib.v6,
                    v4,
                    remote,
                    state,
                    expires: now.add(life),
                };
                // Not in the second half of a hairpin: the room would come
                // from the session its first half has just created.
                if let Err(e) = self.insert_with_room(s, bib, now, matches!(origin, Origin::Wire)) {
                    return Verdict::Dropped(insert_reason(e));
                }
                bib.v6
            }
        };
        let m = Map46 {
            src: self.pool6.embed(h.src),
            dst: client.addr,
            sport: None,
            dport: Some(client.port),
        };
        self.eng.body::<To6>(pkt, &h, m, pass != Pass::Wire, out)
    }

    /// RFC 6146 section 3.5: an IPv4 packet for a pool4 address nobody on
    /// the IPv6 side bound.
    #[allow(clippy::too_many_arguments)]
    fn no_binding(
        &mut self,
        proto: Proto,
        syn: bool,
        v4: Taddr4,
        remote: Taddr4,
        h: &V4Header,
        pkt: &[u8],
        origin: Origin<'_>,
        now: Instant,
        out: &mut [u8],
    ) -> Verdict {
        match proto {
            // Section 3.5.2.2: an unsolicited SYN is held 6 s in case the
            // IPv6 side is opening too.
            Proto::Tcp if syn => {
                if self.cfg.drop_externally_initiated_tcp {
                    return Verdict::Dropped(DropReason::ExternallyInitiatedTcp);
                }
                // A retransmission of a SYN already held keeps the first
                // one's timer and slot.
                if self.held.iter().any(|x| x.v4 == v4 && x.remote == remote) {
                    return Verdict::Held(Held::SimultaneousOpen);
                }
                if self.held.len() >= self.cfg.max_simultaneous_opens {
                    return self.reject(h, pkt, origin, DropReason::SimultaneousOpenFull, 3, out);
                }
                let (packet, v6_origin) = match origin {
                    Origin::Wire => (pkt, false),
                    Origin::Hairpin(orig) => (orig, true),
                };
                let keep = packet.len().min(1280);
                self.held.push(HeldSyn {
                    v4,
                    remote,
                    expires: now.add(self.cfg.timeouts.tcp_incoming_syn),
                    packet: packet[..keep].to_vec(),
                    v6_origin,
                });
                Verdict::Held(Held::SimultaneousOpen)
            }
            Proto::Udp => self.reject(h, pkt, origin, DropReason::NoBinding, 3, out),
            _ => Verdict::Dropped(DropReason::NoBinding),
        }
    }

    /// Refuses an IPv4 packet with ICMPv4 3/`code`, or, in a hairpin, the
    /// IPv6 original with the matching ICMPv6 error.
    fn reject(
        &mut self,
        h: &V4Header,
        pkt: &[u8],
        origin: Origin<'_>,
        reason: DropReason,
        code: u8,
        out: &mut [u8],
    ) -> Verdict {
        match origin {
            Origin::Wire => self.eng.reply_v4(pkt, h, 3, code, [0; 4], reason, out),
            Origin::Hairpin(orig) => {
                let c6 = if code == 13 { 1 } else { 4 };
                self.eng.reply_v6(orig, 1, c6, [0; 4], reason, out)
            }
        }
    }
}

/// The BIB tuple of a packet: protocol, source and destination ports (the
/// ICMP identifier for both, for echo), TCP flags, and whether it may create
/// state (a query: echo request, or any TCP/UDP).
type Tuple = (Proto, u16, u16, Option<Segment>, bool);

fn tuple(ip_proto: u8, l4: &[u8], from_v6: bool) -> Result<Tuple, DropReason> {
    match ip_proto {
        proto::TCP => {
            if l4.len() < 20 {
                return Err(DropReason::TransportTruncated);
            }
            Ok((Proto::Tcp, be16(l4, 0), be16(l4, 2), Segment::parse(l4, from_v6), true))
        }
        proto::UDP => {
            if l4.len() < 8 {
                return Err(DropReason::TransportTruncated);
            }
            Ok((Proto::Udp, be16(l4, 0), be16(l4, 2), None, true))
        }
        proto::ICMPV6 | proto::ICMP => {
            if l4.len() < 8 {
                return Err(DropReason::TransportTruncated);
            }
            let (request, reply) = if from_v6 { (128, 129) } else { (8, 0) };
            if l4[0] != request && l4[0] != reply {
                return Err(DropReason::IcmpUntranslatableType);
            }
            let id = be16(l4, 4);
            Ok((Proto::Icmp, id, id, None, l4[0] == request))
        }
        _ => Err(DropReason::UnsupportedProtocol),
    }
}

fn insert_reason(e: InsertError) -> DropReason {
    match e {
        InsertError::TableFull { .. } => DropReason::SessionTableFull,
        InsertError::ClientQuota { .. } => DropReason::ClientQuota,
        _ => DropReason::Pool4Exhausted,
    }
}

/// RFC 6146 section 3.5.3 / 3.6: an ICMP error is matched to its session
/// through the packet it quotes, and neither creates nor refreshes state.
struct StatefulErrors<'a, T> {
    table: &'a T,
    pool6: Prefix64,
    better: bool,
}

impl<T: SessionTable> ErrorMap for StatefulErrors<'_, T> {
    fn error64(
        &mut self,
        _eng: &Engine,
        h: &V6Header,
        ih: &V6Header,
        iproto: u8,
        il4: &[u8],
    ) -> Result<(Map64, Map64), DropReason> {
        // The quoted packet went from the IPv4 remote to the IPv6 client.
        let remote_addr = self.pool6.extract(ih.src).ok_or(DropReason::InnerUntranslatable)?;
        let dst4 = self.pool6.extract(h.dst).ok_or(DropReason::InnerUntranslatable)?;
        let (proto, sport, dport) = inner_ports(iproto, il4, true)?;
        let client = Taddr6 {
            addr: ih.dst,
            port: dport,
        };
        let bib = self.table.bib_by_v6(proto, client).ok_or(DropReason::NoBinding)?;
        let rport = if proto == Proto::Icmp { bib.v4.port } else { sport };
        let hd = self
            .table
            .find_v6(
                proto,
                client,
                Taddr4 {
                    addr: remote_addr,
                    port: rport,
                },
            )
            .ok_or(DropReason::NoBinding)?;
        let s = self.table.get(hd);
        let inner = Map64 {
            src: remote_addr,
            dst: s.v4.addr,
            sport: None,
            dport: Some(s.v4.port),
        };
        Ok((Map64::addrs(s.v4.addr, dst4), inner))
    }

    fn error46(
        &mut self,
        _eng: &Engine,
        h: &V4Header,
        ih: &V4Header,
        il4: &[u8],
    ) -> Result<(Map46, Map46), DropReason> {
        // The quoted packet went from pool4 (the IPv6 client) to the remote.
        let (proto, sport, dport) = inner_ports(ih.proto, il4, false)?;
        let v4 = Taddr4 {
            addr: ih.src,
            port: sport,
        };
        let remote = Taddr4 {
            addr: ih.dst,
            port: dport,
        };
        let hd = self.table.find_v4(proto, v4, remote).ok_or(DropReason::NoBinding)?;
        let s = self.table.get(hd);
        let inner = Map46 {
            src: s.v6.addr,
            dst: self.pool6.embed(ih.dst),
            sport: Some(s.v6.port),
            dport: None,
        };
        let src = if self.better {
            self.pool6.embed(h.src)
        } else {
            self.pool6.embed(ih.dst)
        };
        Ok((Map46::addrs(src, s.v6.addr), inner))
    }
}

/// Ports of a quoted packet, which may be truncated to 8 bytes of it.
fn inner_ports(ip_proto: u8, l4: &[u8], v6: bool) -> Result<(Proto, u16, u16), DropReason> {
    if l4.len() < 8 {
        return Err(DropReason::BadInnerPacket);
    }
    match ip_proto {
        proto::TCP => Ok((Proto::Tcp, be16(l4, 0), be16(l4, 2))),
        proto::UDP => Ok((Proto::Udp, be16(l4, 0), be16(l4, 2))),
        proto::ICMPV6 if v6 => Ok((Proto::Icmp, be16(l4, 4), be16(l4, 4))),
        proto::ICMP if !v6 => Ok((Proto::Icmp, be16(l4, 4), be16(l4, 4))),
        _ => Err(DropReason::UnsupportedProtocol),
    }
}
