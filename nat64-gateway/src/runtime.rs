//! The gateway's runtime, the same over either adapter: the translators
//! (one per worker for SIIT and CLAT, one shared for NAT64), the client
//! filter, the ICMP error rate limit, the counters, and the loops that run
//! on a [`PacketPort`]: the worker loop (receive a batch, read each
//! packet's offload metadata, filter, translate, send) and the stateful
//! translator's timers.
//!
//! # Concurrency
//!
//! - **Stateless** (SIIT, CLAT): each worker has its own
//!   [`Translator`]; nothing is shared on the packet path.
//! - **Stateful** (NAT64): one [`Nat64`] behind a mutex, shared by all
//!   workers, because the reply of a flow may arrive on another queue than
//!   its request (the kernel spreads traffic by flow hash, and the two
//!   directions of a flow hash differently). This is the simplest correct
//!   design: the session table, the held SYNs of RFC 6146 section 3.5.2.2
//!   and the fragment reassembly of section 3.4 stay consistent. The lock
//!   is held only for the translation of one packet (well under a
//!   microsecond), never across a system call.
//!
//! # Reload
//!
//! SIIT and CLAT get the new configuration in place. NAT64 keeps its
//! [`SharedTable`] and takes the new configuration with the core's
//! [`Nat64::reconfigure_with`], which decides by RFC 6146 which BIB entries
//! and sessions survive (pool6, pool4 or static BIB changes) and reports
//! what it removed; the counters carry on, the reassembly counters restart.

use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nat64_core::nat64::{Instant, Nat64, Nat64Config, Proto, SessionFilter};
use nat64_core::{
    Counters, DropReason, IcmpRateLimit, IcmpRateLimiter, NotOurs, Translator, Verdict, OUTPUT_BUFFER_LEN,
};

use crate::clock::Clock;
use crate::error::GatewayError;
use crate::lock;
use crate::log::{Level, PacketSummary};
use crate::port::{PacketPort, PortWorker, Tx};
use crate::settings::{Clients, Mode, Xlat};
use crate::snapshot::{bump, Counter, IoCounters, SessionRow, Stats, TableStats, IO_COUNTERS, N_IO};
use crate::table::SharedTable;
use crate::vnet::{self, Rx, VnetError, VnetHdr};
use crate::{log, sys};

enum Engine {
    Stateless(Vec<Mutex<Translator>>),
    Stateful(Box<Mutex<Nat64<SharedTable>>>),
}

/// The client filter, swapped on reload; workers keep an `Arc` and look
/// at the generation once per batch.
struct ClientsCell {
    gen: AtomicU64,
    cur: Mutex<Arc<Clients>>,
}

/// The runtime of a gateway (see the module documentation).
pub(crate) struct Runtime {
    mode: Mode,
    engine: Engine,
    clients: ClientsCell,
    /// One per worker, and one for the timers thread.
    io: Vec<IoCounters>,
    clock: Clock,
    /// The ICMP errors the translator originates, rate-limited (RFC 4443
    /// section 2.4 (f)): one limiter shared by the workers and the timers
    /// thread, so the global and per-destination limits hold for the
    /// gateway as a whole whichever queue a sender's packets arrive on.
    /// Taken only for an ICMP error, for a few arithmetic operations.
    icmp_limit: Mutex<IcmpRateLimiter>,
    stop_r: UnixStream,
    stop_w: UnixStream,
    stopping: AtomicBool,
    started: std::time::Instant,
    reloads: AtomicU64,
}

impl Runtime {
    /// The translators for `xlat`, `workers` workers; nothing runs yet.
    pub(crate) fn new(
        mode: Mode,
        xlat: &Xlat,
        clients: &Clients,
        icmp_rate: IcmpRateLimit,
        workers: usize,
    ) -> Result<Runtime, GatewayError> {
        let icmp_limit = icmp_limiter(icmp_rate)?;
        let engine = match xlat {
            Xlat::Stateless(cfg) => Engine::Stateless(
                (0..workers)
                    .map(|_| Translator::new((**cfg).clone()).map(Mutex::new))
                    .collect::<Result<_, _>>()?,
            ),
            Xlat::Stateful(cfg) => {
                let table = SharedTable::new(cfg.limits);
                Engine::Stateful(Box::new(Mutex::new(Nat64::with_table((**cfg).clone(), table)?)))
            }
        };
        let (stop_r, stop_w) = UnixStream::pair().map_err(GatewayError::Thread)?;
        Ok(Runtime {
            mode,
            engine,
            clients: ClientsCell {
                gen: AtomicU64::new(0),
                cur: Mutex::new(Arc::new(clients.clone())),
            },
            io: (0..workers + 1).map(|_| IoCounters::default()).collect(),
            clock: Clock::new(),
            icmp_limit: Mutex::new(icmp_limit),
            stop_r,
            stop_w,
            stopping: AtomicBool::new(false),
            started: std::time::Instant::now(),
            reloads: AtomicU64::new(0),
        })
    }

    /// The mode.
    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    /// Whether the stateful translator (and so its timers) runs.
    pub(crate) fn is_stateful(&self) -> bool {
        matches!(self.engine, Engine::Stateful(_))
    }

    /// Readable once the gateway stops: every thread polls it.
    pub(crate) fn stop_fd(&self) -> RawFd {
        self.stop_r.as_raw_fd()
    }

    /// Set once the gateway stops (for threads that do not poll).
    pub(crate) fn stopping(&self) -> &AtomicBool {
        &self.stopping
    }

    /// Tells every thread to stop.
    pub(crate) fn stop(&self) {
        use std::io::Write as _;
        self.stopping.store(true, Relaxed);
        let _ = (&self.stop_w).write_all(&[1]);
    }

    fn clients(&self) -> (u64, Arc<Clients>) {
        let g = self.clients.gen.load(Relaxed);
        (g, Arc::clone(&lock(&self.clients.cur)))
    }

    /// A worker on `port`: waits, receives a batch, runs each packet
    /// through [`Runtime::packet`], flushes; until the gateway stops.
    pub(crate) fn worker<P: PacketPort>(&self, port: &P, idx: usize) {
        let io = &self.io[idx];
        let Some(mut w) = port.worker(idx, io) else {
            return;
        };
        let (mut gen, mut clients) = self.clients();
        loop {
            match w.wait(self.stop_fd()) {
                Ok(true) => {}
                Ok(false) => return,
                Err(e) => {
                    log!(Level::Error, "worker_poll_failed", worker = idx, error = e);
                    return;
                }
            }
            loop {
                // One reading of the clock per batch.
                let now = self.clock.now();
                let more = w.receive(|pkt, h, tx| self.packet(idx, pkt, h, tx, io, &clients, now));
                w.flush();
                if !more {
                    break;
                }
                if self.clients.gen.load(Relaxed) != gen {
                    (gen, clients) = self.clients();
                }
                w.between();
            }
            if self.clients.gen.load(Relaxed) != gen {
                (gen, clients) = self.clients();
            }
            w.idle();
        }
    }

    /// One received packet, from its IP header, with its offload metadata
    /// `h`: the one offload receive path (a TCP super-packet, or a partial
    /// checksum finished), the client filter and the core, and the verdict
    /// sent with the output's offload header.
    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn packet<T: Tx>(
        &self,
        idx: usize,
        pkt: &mut [u8],
        h: VnetHdr,
        tx: &mut T,
        io: &IoCounters,
        clients: &Clients,
        now: Instant,
    ) {
        bump(&io.rx_packets, 1);
        bump(&io.rx_bytes, pkt.len() as u64);
        let rx = match vnet::receive(&h, pkt) {
            Ok(rx) => rx,
            Err(e) => {
                bump(&io.offload_errors, 1);
                log!(
                    Level::Warn,
                    "offload_refused",
                    worker = idx,
                    error = e,
                    packet = PacketSummary(pkt)
                );
                return;
            }
        };
        let Some(v) = self.translate(idx, pkt, rx, tx.space(), io, clients, now) else {
            return;
        };
        match v {
            Verdict::Translated(e) if e.count == 1 => {
                let len = e.total_len();
                match vnet::transmit(rx, &mut tx.space()[..len]) {
                    Ok(h) => tx.send(len, h),
                    Err(err) => {
                        bump(&io.offload_errors, 1);
                        log!(
                            Level::Warn,
                            "offload_output_refused",
                            error = err,
                            packet = PacketSummary(&tx.space()[..len])
                        );
                    }
                }
            }
            Verdict::Translated(e) if matches!(rx, Rx::TcpGso { .. }) => {
                // The core never fragments a super-packet.
                bump(&io.offload_errors, 1);
                log!(
                    Level::Warn,
                    "offload_output_refused",
                    error = VnetError::NotTcpOut,
                    packets = e.count
                );
            }
            Verdict::Translated(e) => tx.send_each(&e),
            Verdict::IcmpError { len, .. } => {
                let len = len as usize;
                if self.icmp_error_admitted(&tx.space()[..len], now, io) {
                    tx.send(len, VnetHdr::default());
                }
            }
            Verdict::Dropped(_) | Verdict::NotOurs(_) | Verdict::Held(_) => {}
        }
    }

    /// Runs one received packet through the client filter and the core at
    /// time `now`; `None` if the filter refused it.
    /// Drops and packets that are not ours are counted by the core and
    /// logged here (debug).
    #[allow(clippy::too_many_arguments)]
    fn translate(
        &self,
        idx: usize,
        pkt: &[u8],
        rx: Rx,
        out: &mut [u8],
        io: &IoCounters,
        clients: &Clients,
        now: Instant,
    ) -> Option<Verdict> {
        if let Rx::TcpGso { .. } = rx {
            bump(&io.gso_packets, 1);
        }
        if !clients.allows(pkt) {
            bump(&io.refused_clients, 1);
            if log::enabled(Level::Debug) {
                log!(
                    Level::Debug,
                    "refused_client",
                    worker = idx,
                    packet = PacketSummary(pkt)
                );
            }
            return None;
        }
        let v = match (&self.engine, rx) {
            (Engine::Stateless(ts), Rx::Plain) => lock(&ts[idx]).translate(pkt, out),
            (Engine::Stateless(ts), Rx::TcpGso { mss, .. }) => lock(&ts[idx]).translate_gso(pkt, out, mss),
            (Engine::Stateful(c), Rx::Plain) => lock(c).translate(pkt, out, now),
            (Engine::Stateful(c), Rx::TcpGso { mss, .. }) => lock(c).translate_gso(pkt, out, now, mss),
        };
        if log::enabled(Level::Debug) {
            match v {
                Verdict::IcmpError { reason, .. } => {
                    log!(
                        Level::Debug,
                        "icmp_error",
                        reason = reason.label(),
                        packet = PacketSummary(pkt)
                    )
                }
                Verdict::Dropped(r) => {
                    log!(Level::Debug, "dropped", reason = r.label(), packet = PacketSummary(pkt))
                }
                Verdict::NotOurs(r) => {
                    log!(
                        Level::Debug,
                        "not_ours",
                        reason = r.label(),
                        packet = PacketSummary(pkt)
                    )
                }
                _ => {}
            }
        }
        Some(v)
    }

    /// Whether an ICMP error the core generated (`p`, an IP packet to the
    /// sender of the packet it is about) may be sent now under the rate
    /// limit; counted as sent or as rate-limited.
    fn icmp_error_admitted(&self, p: &[u8], now: Instant, io: &IoCounters) -> bool {
        if lock(&self.icmp_limit).admit_packet(now, p) {
            bump(&io.icmp_errors_sent, 1);
            return true;
        }
        bump(&io.icmp_errors_rate_limited, 1);
        if log::enabled(Level::Debug) {
            log!(Level::Debug, "icmp_error_rate_limited", packet = PacketSummary(p));
        }
        false
    }

    /// The stateful translator's timers: session expiry, held SYNs,
    /// reassembly timeouts (RFC 6146 sections 3.4, 3.5.2.2, 4).
    pub(crate) fn timers<P: PacketPort>(&self, port: &P) {
        let Engine::Stateful(core) = &self.engine else { return };
        let io = &self.io[self.io.len() - 1];
        let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
        // The limits that refuse new flows are reported in the log: the
        // first refusal at once (within the timer's second), then at most
        // one line per LIMIT_LOG_EVERY with the count since the last line.
        // A table at its cap refuses every client's new flows; an operator
        // should not have to poll `nat64 stats` to learn it.
        const WATCHED: [DropReason; 3] = [
            DropReason::SessionTableFull,
            DropReason::ClientQuota,
            DropReason::Pool4Exhausted,
        ];
        const LIMIT_LOG_EVERY: Duration = Duration::from_secs(10);
        let mut seen = WATCHED.map(|r| lock(core).counters().dropped[r as usize]);
        let mut logged: [Option<std::time::Instant>; 3] = [None; 3];
        loop {
            let mut lines = Vec::new();
            {
                let c = lock(core);
                for (i, r) in WATCHED.iter().enumerate() {
                    let n = c.counters().dropped[*r as usize];
                    let due = logged[i].is_none_or(|t| t.elapsed() >= LIMIT_LOG_EVERY);
                    if n > seen[i] && due {
                        lines.push((*r, n - seen[i], logged[i].map_or(0, |t| t.elapsed().as_secs())));
                        seen[i] = n;
                        logged[i] = Some(std::time::Instant::now());
                    }
                }
            }
            // Logged without the translator's lock: a slow log must not
            // stall the packet path.
            for (r, refused, since) in lines {
                log!(
                    Level::Warn,
                    "limit_reached",
                    reason = r.label(),
                    refused = refused,
                    since_last_s = since,
                    hint = r.explain()
                );
            }
            let next = lock(core).next_expiry();
            let wait = next
                .map(|t| self.clock.until(t))
                .unwrap_or(Duration::from_secs(1))
                .min(Duration::from_secs(1));
            match sys::poll_readable(self.stop_fd(), self.stop_fd(), Some(wait)) {
                Ok([true, _]) => return,
                Ok(_) => {}
                Err(e) => {
                    log!(Level::Error, "timer_poll_failed", error = e);
                    return;
                }
            }
            let now = self.clock.now();
            let mut sends = Vec::new();
            {
                let mut c = lock(core);
                let before = c.stats().sessions;
                while let Some(v) = c.poll(now, &mut out) {
                    if let Verdict::IcmpError { len, .. } = v {
                        sends.push(out[..len as usize].to_vec());
                    }
                }
                let gone = before.saturating_sub(c.stats().sessions);
                bump(&io.sessions_expired, gone as u64);
                if gone > 0 && log::enabled(Level::Debug) {
                    log!(Level::Debug, "sessions_expired", count = gone);
                }
            }
            for p in sends {
                if self.icmp_error_admitted(&p, now, io) {
                    port.send_one(&p, io);
                }
            }
        }
    }

    /// The sessions of protocol `proto` ("tcp", "udp", "icmp"; `None`: all),
    /// sorted by protocol, client, remote; `Err` names an unknown protocol.
    pub(crate) fn sessions(&self, proto: Option<&str>) -> Result<Vec<SessionRow>, String> {
        let filter = match proto {
            None => SessionFilter::default(),
            Some(p) => match parse_proto(p) {
                Some(p) => SessionFilter {
                    proto: Some(p),
                    client: None,
                },
                None => return Err(format!("unknown protocol {p:?}; use tcp, udp or icmp")),
            },
        };
        let Engine::Stateful(c) = &self.engine else {
            return Ok(Vec::new());
        };
        let mut all = Vec::new();
        let (pool6, now) = {
            let c = lock(c);
            c.for_each_session(filter, &mut |s| all.push(*s));
            (c.config().xlat.pool6, self.clock.now())
        };
        all.sort_by_key(|s| (s.proto, s.v6, s.remote));
        let sessions = all
            .iter()
            .map(|s| SessionRow {
                proto: s.proto.name().to_owned(),
                ipv6_src: format!("{}#{}", s.v6.addr, s.v6.port),
                ipv4_src: format!("{}#{}", s.v4.addr, s.v4.port),
                remote: format!("{}#{}", s.remote.addr, s.remote.port),
                remote6: match pool6 {
                    Some(p) => format!("{}#{}", p.embed(s.remote.addr), s.remote.port),
                    None => "-".into(),
                },
                state: s.state.name().to_owned(),
                expires_in_ms: s.expires.since(now).as_millis() as u64,
            })
            .collect::<Vec<_>>();
        Ok(sessions)
    }

    /// Every counter, for a gateway on `device`; `port` are the adapter's
    /// own counters.
    pub(crate) fn stats(&self, device: &str, port: Vec<Counter>) -> Stats {
        let mut io = [0u64; N_IO];
        for c in &self.io {
            for (a, b) in io.iter_mut().zip(c.values()) {
                *a += b;
            }
        }
        let mut counters = Counters::default();
        let mut table = None;
        match &self.engine {
            Engine::Stateless(ts) => {
                for t in ts {
                    add_counters(&mut counters, lock(t).counters());
                }
            }
            Engine::Stateful(c) => {
                let c = lock(c);
                counters = c.counters().clone();
                let mut sessions = [0u64; 3];
                let mut bibs = [0u64; 3];
                c.for_each_session(SessionFilter::default(), &mut |s| sessions[s.proto.index()] += 1);
                c.for_each_bib(None, &mut |b| bibs[b.proto.index()] += 1);
                let st = c.stats();
                let r = c.reassembly_stats();
                let rc = |label: &str, count: u64, explain: &str| Counter {
                    label: label.into(),
                    count,
                    explain: explain.into(),
                };
                table = Some(TableStats {
                    sessions,
                    bib_entries: bibs,
                    max_sessions: c.config().limits.max_sessions as u64,
                    pool4_size: st.pool4_size,
                    held_syns: st.held_syns as u64,
                    sessions_evicted: st.sessions_evicted,
                    reassembly: vec![
                        rc("completed", r.completed, "datagrams reassembled from fragments"),
                        rc("atomic", r.atomic, "IPv6 atomic fragments (RFC 6946)"),
                        rc(
                            "timed_out",
                            r.timed_out,
                            "datagrams abandoned by the reassembly timeout",
                        ),
                        rc(
                            "dropped_memory",
                            r.dropped_memory,
                            "fragments dropped: reassembly memory or datagram cap reached",
                        ),
                        rc(
                            "dropped_overlap",
                            r.dropped_overlap,
                            "fragments dropped for overlapping (RFC 5722)",
                        ),
                        rc(
                            "dropped_too_many",
                            r.dropped_too_many,
                            "fragments dropped: too many fragments in one datagram",
                        ),
                        rc(
                            "dropped_too_big",
                            r.dropped_too_big,
                            "fragments dropped: datagram over 65 535 bytes",
                        ),
                        rc(
                            "dropped_malformed",
                            r.dropped_malformed,
                            "fragments dropped: malformed or inconsistent",
                        ),
                        rc("duplicates", r.duplicates, "duplicate fragments"),
                        rc("in_progress", r.in_progress as u64, "datagrams being reassembled now"),
                    ],
                });
            }
        }
        let c = |label: &str, count: u64, explain: &str| Counter {
            label: label.to_owned(),
            count,
            explain: explain.to_owned(),
        };
        Stats {
            mode: self.mode.to_string(),
            device: device.to_owned(),
            workers: (self.io.len() - 1) as u64,
            uptime_s: self.started.elapsed().as_secs(),
            reloads: self.reloads.load(Relaxed),
            io: {
                let mut v: Vec<Counter> = IO_COUNTERS.iter().zip(io).map(|((l, e), n)| c(l, n, e)).collect();
                v.extend(port);
                v
            },
            verdicts: vec![
                c(
                    "translated_6to4",
                    counters.translated_6to4,
                    "packets translated IPv6 -> IPv4",
                ),
                c(
                    "translated_4to6",
                    counters.translated_4to6,
                    "packets translated IPv4 -> IPv6",
                ),
                c(
                    "hairpinned",
                    counters.hairpinned,
                    "packets hairpinned IPv6 -> IPv4 -> IPv6",
                ),
                c(
                    "fragments_emitted",
                    counters.fragments_emitted,
                    "extra packets emitted because the translator fragmented",
                ),
                c(
                    "icmp_errors_generated",
                    counters.icmp_errors_generated,
                    "ICMP errors generated for untranslatable packets",
                ),
                c(
                    "held",
                    counters.held,
                    "packets held (fragments awaiting their datagram, unsolicited SYNs)",
                ),
            ],
            drops: DropReason::ALL
                .iter()
                .map(|&r| c(r.label(), counters.drops(r), r.explain()))
                .collect(),
            not_ours: NotOurs::ALL
                .iter()
                .map(|&r| c(r.label(), counters.not_ours[r as usize], r.explain()))
                .collect(),
            table,
        }
    }

    /// Applies a new translation configuration (a reload): in place for
    /// SIIT and CLAT, through the core's reconfiguration for NAT64; returns
    /// notes on what the stateful translator removed. On error nothing
    /// changed.
    pub(crate) fn set_xlat(&self, xlat: &Xlat) -> Result<Vec<String>, GatewayError> {
        match (&self.engine, xlat) {
            (Engine::Stateless(ts), Xlat::Stateless(cfg)) => {
                cfg.validate()?;
                for t in ts {
                    lock(t).set_config((**cfg).clone())?;
                }
                Ok(Vec::new())
            }
            (Engine::Stateful(c), Xlat::Stateful(cfg)) => reconfigure_stateful(&mut lock(c), (**cfg).clone()),
            _ => Err(GatewayError::Reload("the mode's configuration changed kind".into())),
        }
    }

    /// A new client filter (the workers take it at their next batch).
    pub(crate) fn set_clients(&self, clients: &Clients) {
        let mut cur = lock(&self.clients.cur);
        if **cur != *clients {
            *cur = Arc::new(clients.clone());
            self.clients.gen.fetch_add(1, Relaxed);
        }
    }

    /// A new ICMP error rate limiter (full buckets).
    pub(crate) fn set_icmp_limit(&self, l: IcmpRateLimiter) {
        *lock(&self.icmp_limit) = l;
    }

    /// Counts a reload applied.
    pub(crate) fn reloaded(&self) {
        self.reloads.fetch_add(1, Relaxed);
    }
}

/// An ICMP error rate limiter for `rate`, its hash keyed at random.
pub(crate) fn icmp_limiter(rate: IcmpRateLimit) -> Result<IcmpRateLimiter, GatewayError> {
    Ok(IcmpRateLimiter::new(rate, random_seed())?)
}

fn add_counters(a: &mut Counters, b: &Counters) {
    a.translated_6to4 += b.translated_6to4;
    a.translated_4to6 += b.translated_4to6;
    a.hairpinned += b.hairpinned;
    a.fragments_emitted += b.fragments_emitted;
    a.icmp_errors_generated += b.icmp_errors_generated;
    a.held += b.held;
    for (x, y) in a.dropped.iter_mut().zip(b.dropped.iter()) {
        *x += y;
    }
    for (x, y) in a.not_ours.iter_mut().zip(b.not_ours.iter()) {
        *x += y;
    }
}

fn parse_proto(s: &str) -> Option<Proto> {
    s.parse().ok()
}

/// A random key for the rate limiter's hash (from the standard library's
/// per-process random hash keys).
fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}

/// Applies a new stateful configuration over the same tables (the RFC 6146
/// rules of what survives are the core's, [`Nat64::reconfigure_with`]);
/// returns the reload notes on what it removed. On error nothing changed.
fn reconfigure_stateful(nat: &mut Nat64<SharedTable>, cfg: Nat64Config) -> Result<Vec<String>, GatewayError> {
    let limits = cfg.limits;
    let r = nat.reconfigure_with(cfg, |t, _| t.lock().set_limits(limits))?;
    let (bibs, sessions) = (r.removed_bibs.len(), r.removed_sessions);
    Ok(if r.pool6_changed {
        vec![format!(
            "pool6 changed: {bibs} BIB entries and {sessions} sessions flushed (their clients used the old prefix)"
        )]
    } else if r.pool4_changed || bibs > 0 {
        vec![format!(
            "{bibs} BIB entries and {sessions} sessions removed (outside the new pool4 or replaced by static entries)"
        )]
    } else {
        Vec::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nat64_core::checksum;
    use nat64_core::nat64::{Instant, Pool4Entry};
    use std::net::Ipv6Addr;

    fn udp6(src: &str, sport: u16, dst: &str) -> Vec<u8> {
        let (s, d): (Ipv6Addr, Ipv6Addr) = (src.parse().unwrap(), dst.parse().unwrap());
        let mut udp = vec![0u8; 8];
        udp[0..2].copy_from_slice(&sport.to_be_bytes());
        udp[2..4].copy_from_slice(&8080u16.to_be_bytes());
        udp[4..6].copy_from_slice(&12u16.to_be_bytes());
        udp.extend_from_slice(b"ping");
        let acc = checksum::add(checksum::pseudo_v6(s, d, 17, 12), checksum::sum(&udp));
        udp[6..8].copy_from_slice(&checksum::finish(acc).to_be_bytes());
        let mut p = vec![0x60, 0, 0, 0, 0, 12, 17, 64];
        p.extend_from_slice(&s.octets());
        p.extend_from_slice(&d.octets());
        p.extend_from_slice(&udp);
        p
    }

    fn config(pool6: &str, pool4: &str) -> Nat64Config {
        let mut e = Pool4Entry::new(pool4.parse().unwrap());
        e.first_port = 1000;
        e.last_port = 1999;
        Nat64Config::new(pool6.parse().unwrap(), vec![e])
    }

    fn core(cfg: Nat64Config) -> Nat64<SharedTable> {
        let t = SharedTable::new(cfg.limits);
        Nat64::with_table(cfg, t).unwrap()
    }

    fn send(c: &mut Nat64<SharedTable>, sport: u16) -> Verdict {
        let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
        let p = udp6("2001:db8:1::2", sport, "2001:db8:64::cb00:7102");
        c.translate(&p, &mut out, Instant::from_secs(10))
    }

    #[test]
    fn reload_keeps_sessions_and_counters() {
        let mut c = core(config("2001:db8:64::/96", "198.51.100.0/30"));
        assert!(
            matches!(send(&mut c, 5000), Verdict::Translated(_)),
            "{:?}",
            send(&mut c, 5000)
        );
        assert_eq!(c.stats().sessions, 1);
        let mut cfg = config("2001:db8:64::/96", "198.51.100.0/30");
        cfg.timeouts.icmp = Duration::from_secs(5);
        let notes = reconfigure_stateful(&mut c, cfg).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(c.stats().sessions, 1);
        assert_eq!(c.config().timeouts.icmp, Duration::from_secs(5));
        // The counters carry on.
        assert_eq!(c.counters().translated_6to4, 1);
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        assert_eq!(c.stats().sessions, 1);
    }

    #[test]
    fn reload_drops_bindings_outside_new_pool4_and_flushes_on_pool6_change() {
        let mut c = core(config("2001:db8:64::/96", "198.51.100.0/30"));
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        let notes = reconfigure_stateful(&mut c, config("2001:db8:64::/96", "198.51.100.8/30")).unwrap();
        assert_eq!(c.stats().sessions, 0, "{notes:?}");
        assert!(notes[0].contains("1 BIB entries and 1 sessions removed"), "{notes:?}");
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        let mut v4 = Vec::new();
        c.for_each_session(SessionFilter::default(), &mut |s| v4.push(s.v4.addr));
        assert!(v4[0].octets()[3] >= 8, "{v4:?}");
        let notes = reconfigure_stateful(&mut c, config("2001:db8:65::/96", "198.51.100.8/30")).unwrap();
        assert_eq!(c.stats().sessions, 0);
        assert!(notes[0].contains("pool6 changed"), "{notes:?}");
    }

    #[test]
    fn reload_refuses_a_broken_config_and_keeps_the_old() {
        let mut c = core(config("2001:db8:64::/96", "198.51.100.0/30"));
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        let mut cfg = config("2001:db8:64::/96", "198.51.100.0/30");
        cfg.timeouts.udp = Duration::from_secs(10);
        assert!(matches!(reconfigure_stateful(&mut c, cfg), Err(GatewayError::Nat64(_))));
        assert_eq!(c.stats().sessions, 1);
    }

    // ------------------------------------------------- the runtime on a port

    /// A port that hands over a list of packets once and keeps what is sent.
    #[derive(Default)]
    struct MockPort {
        input: Mutex<Vec<(Vec<u8>, VnetHdr)>>,
        sent: Mutex<Vec<(Vec<u8>, VnetHdr)>>,
    }

    struct MockWorker<'a> {
        port: &'a MockPort,
        waits: usize,
        tx: MockTx<'a>,
    }

    struct MockTx<'a> {
        out: Vec<u8>,
        sent: &'a Mutex<Vec<(Vec<u8>, VnetHdr)>>,
    }

    impl PacketPort for MockPort {
        type Worker<'a> = MockWorker<'a>;
        fn worker<'a>(&'a self, _: usize, _: &'a IoCounters) -> Option<MockWorker<'a>> {
            Some(MockWorker {
                port: self,
                waits: 0,
                tx: MockTx {
                    out: vec![0u8; OUTPUT_BUFFER_LEN],
                    sent: &self.sent,
                },
            })
        }
        fn send_one(&self, pkt: &[u8], _: &IoCounters) {
            lock(&self.sent).push((pkt.to_vec(), VnetHdr::default()));
        }
    }

    impl<'a> PortWorker for MockWorker<'a> {
        type Tx = MockTx<'a>;
        /// Once; the second wait stops the worker.
        fn wait(&mut self, _: RawFd) -> std::io::Result<bool> {
            self.waits += 1;
            Ok(self.waits == 1)
        }
        fn receive<F: FnMut(&mut [u8], VnetHdr, &mut MockTx<'a>)>(&mut self, mut f: F) -> bool {
            for (mut p, h) in std::mem::take(&mut *lock(&self.port.input)) {
                f(&mut p, h, &mut self.tx);
            }
            false
        }
        fn flush(&mut self) {}
    }

    impl Tx for MockTx<'_> {
        fn space(&mut self) -> &mut [u8] {
            &mut self.out
        }
        fn send(&mut self, len: usize, h: VnetHdr) {
            lock(self.sent).push((self.out[..len].to_vec(), h));
        }
        fn send_each(&mut self, e: &nat64_core::Emitted) {
            for p in e.packets(&self.out) {
                lock(self.sent).push((p.to_vec(), VnetHdr::default()));
            }
        }
    }

    /// IPv6 TCP from the client to 203.0.113.2 (through pool6) with
    /// `payload` bytes; the checksum field holds the pseudo-header sum only
    /// (`partial`) or the full checksum.
    fn tcp6(src: &str, flags: u8, payload: usize, partial: bool) -> Vec<u8> {
        let (s, d): (Ipv6Addr, Ipv6Addr) = (src.parse().unwrap(), "2001:db8:64::cb00:7102".parse().unwrap());
        let mut t = vec![0u8; 20 + payload];
        t[0..2].copy_from_slice(&40000u16.to_be_bytes());
        t[2..4].copy_from_slice(&80u16.to_be_bytes());
        t[12] = 0x50;
        t[13] = flags;
        t[14] = 0xff;
        let pseudo = checksum::pseudo_v6(s, d, 6, t.len() as u32);
        let c = if partial {
            checksum::fold(pseudo)
        } else {
            checksum::finish(checksum::add(pseudo, checksum::sum(&t)))
        };
        t[16..18].copy_from_slice(&c.to_be_bytes());
        let mut p = vec![0x60, 0, 0, 0];
        p.extend_from_slice(&(t.len() as u16).to_be_bytes());
        p.extend_from_slice(&[6, 64]);
        p.extend_from_slice(&s.octets());
        p.extend_from_slice(&d.octets());
        p.extend_from_slice(&t);
        p
    }

    /// Whether an IPv4 TCP or UDP packet's transport checksum is right,
    /// summed here from the RFC 768/9293 pseudo-header.
    fn v4_l4_checksum_ok(p: &[u8]) -> bool {
        let ihl = usize::from(p[0] & 15) * 4;
        let l4 = &p[ihl..];
        let mut b = p[12..20].to_vec();
        b.extend_from_slice(&[0, p[9]]);
        b.extend_from_slice(&(l4.len() as u16).to_be_bytes());
        b.extend_from_slice(l4);
        if b.len() % 2 == 1 {
            b.push(0);
        }
        let mut acc: u32 = b.chunks(2).map(|w| u32::from(u16::from_be_bytes([w[0], w[1]]))).sum();
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc == 0xffff
    }

    #[test]
    fn one_offload_path_over_any_port() {
        let cfg = config("2001:db8:64::/96", "198.51.100.0/30");
        let clients = Clients::V6(vec!["2001:db8:1::/64".parse().unwrap()]);
        let rt = Runtime::new(
            Mode::Nat64,
            &Xlat::Stateful(Box::new(cfg)),
            &clients,
            IcmpRateLimit::default(),
            1,
        )
        .unwrap();
        let port = MockPort::default();
        let partial = VnetHdr {
            flags: vnet::F_NEEDS_CSUM,
            csum_start: 40,
            csum_offset: 16,
            ..VnetHdr::default()
        };
        let gso = VnetHdr {
            gso_type: vnet::GSO_TCPV6,
            hdr_len: 60,
            gso_size: 1000,
            ..partial
        };
        *lock(&port.input) = vec![
            // A plain SYN, then a partial-checksum ACK (finished by the
            // runtime), then a 3000-byte super-packet (translated once).
            (tcp6("2001:db8:1::2", 0x02, 0, false), VnetHdr::default()),
            (tcp6("2001:db8:1::2", 0x10, 100, true), partial),
            (tcp6("2001:db8:1::2", 0x10, 3000, true), gso),
            // Refused: not a client.
            (tcp6("2001:db8:9::2", 0x02, 0, false), VnetHdr::default()),
            // Refused: a partial checksum outside the packet.
            (
                tcp6("2001:db8:1::2", 0x10, 0, true),
                VnetHdr {
                    csum_start: 200,
                    ..partial
                },
            ),
        ];
        rt.worker(&port, 0);
        let sent = std::mem::take(&mut *lock(&port.sent));
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert_eq!(sent[0].1, VnetHdr::default());
        assert!(v4_l4_checksum_ok(&sent[0].0));
        assert_eq!(sent[1].1, VnetHdr::default());
        assert!(v4_l4_checksum_ok(&sent[1].0), "the partial checksum was finished");
        let (p, h) = &sent[2];
        assert_eq!((p[0] >> 4, p[9], p.len()), (4, 6, 20 + 20 + 3000));
        assert_eq!(
            (h.gso_type, h.gso_size, h.flags, h.csum_start, h.csum_offset, h.hdr_len),
            (vnet::GSO_TCPV4, 1000, vnet::F_NEEDS_CSUM, 20, 16, 40)
        );
        let st = rt.stats("mock", Vec::new());
        let get = |l: &str| st.io.iter().find(|c| c.label == l).unwrap().count;
        assert_eq!(get("rx_packets"), 5);
        assert_eq!(get("gso_packets"), 1);
        assert_eq!(get("refused_clients"), 1);
        assert_eq!(get("offload_errors"), 1);
        assert_eq!(st.table.unwrap().sessions, [1, 0, 0]);
    }
}
