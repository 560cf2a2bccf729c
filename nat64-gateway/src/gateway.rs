//! The gateway runtime: it owns the TUN device (or the AF_PACKET rings, see
//! `afpacket.rs`), the worker threads that read packets, run them through
//! the core and write the results back, the timer thread of the stateful
//! translator, and the control and metrics threads. It applies a new
//! [`Settings`] on reload.
//!
//! # Offloads
//!
//! With `[gateway] offload` (the default) the TUN queues carry a
//! `virtio_net_hdr` ([`crate::vnet`]): TCP arrives as GSO/GRO super-packets
//! of up to 64 KiB, each translated once by the core's `translate_gso` and
//! written back whole; partial checksums are finished (plain packets) or
//! re-seeded (super-packets) by the adapter.
//!
//! # TUN queues
//!
//! Measured on 2 vCPUs (BENCHMARKS.md): one queue per worker
//! (IFF_MULTI_QUEUE) beats workers sharing one queue under a UDP flood
//! (with a shared queue the workers take turns at the one queue's locks in
//! the kernel), and TCP is the same either way; so multi-queue stays the
//! default.
//!
//! # Concurrency
//!
//! - **Stateless** (SIIT, CLAT): each worker has its own
//!   [`Translator`]; nothing is shared on the packet path.
//! - **Stateful** (NAT64): one [`Nat64`] behind a mutex, shared by all
//!   workers, because the reply of a flow may arrive on another queue than
//!   its request (the kernel spreads TUN traffic by flow hash, and the two
//!   directions of a flow hash differently). This is the simplest correct
//!   design: the session table, the held SYNs of RFC 6146 section 3.5.2.2
//!   and the fragment reassembly of section 3.4 stay consistent. The lock
//!   is held only for the translation of one packet (well under a
//!   microsecond), never across a system call.
//!
//! # Reload
//!
//! SIIT and CLAT get the new configuration in place. NAT64 builds a new
//! translator over the same [`SharedTable`], so established sessions keep
//! going, except that:
//! - if pool6 changed, every dynamic session is flushed (the clients reach
//!   their remotes through the old prefix, which is no longer ours);
//! - if pool4 changed, the BIB entries (and their sessions) whose IPv4
//!   transport address is no longer in pool4 are removed;
//! - static BIB entries no longer configured are removed, and dynamic ones
//!   that clash with a new static entry give way;
//! - held SYNs and partial datagrams are dropped, and the reassembly
//!   counters restart (the other counters carry on).

use std::fs::File;
use std::io::{IoSlice, Read, Write};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use nat64_core::nat64::{Nat64, Nat64Config, Nat64ConfigError, Pool4, Pool4Error, Proto, SessionFilter, SessionTable};
use nat64_core::{
    ConfigError, Counters, DropReason, IcmpRateLimitError, IcmpRateLimiter, NotOurs, Translator, Verdict,
    OUTPUT_BUFFER_LEN,
};

use crate::afpacket::PacketIo;
use crate::clock::Clock;
use crate::control::{self, Counter, Response, SessionRow, Stats, TableStats};
use crate::log::Level;
use crate::settings::{Adapter, Cidr, Clients, Mode, Settings, Xlat};
use crate::table::SharedTable;
use crate::vnet::{self, Rx, VnetHdr, VNET_HDR_LEN};
use crate::{log, metrics, netconf, sys};

/// Why a gateway could not start, or a reload was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayError {
    /// The stateless configuration cannot work.
    #[error("[translator] {0}")]
    Config(#[from] ConfigError),
    /// The stateful configuration cannot work.
    #[error("[nat64] {0}")]
    Nat64(#[from] Nat64ConfigError),
    /// pool4 cannot work.
    #[error("[nat64] pool4: {0}")]
    Pool4(#[from] Pool4Error),
    /// The ICMP error rate limit cannot work.
    #[error("[gateway] icmp_errors_*: {0}")]
    IcmpRate(#[from] IcmpRateLimitError),
    /// An interface of the AF_PACKET adapter.
    #[error("[af_packet] interface {interface:?}: {error} (the AF_PACKET adapter needs CAP_NET_RAW and an existing Ethernet interface)")]
    Packet {
        /// The interface.
        interface: String,
        /// Why.
        error: std::io::Error,
    },
    /// The TUN device.
    #[error("cannot open TUN device {name:?}: {error} (the gateway needs root or CAP_NET_ADMIN and /dev/net/tun; `modprobe tun` if it is missing)")]
    Tun {
        /// The device.
        name: String,
        /// Why.
        error: std::io::Error,
    },
    /// Configuring the device.
    #[error(transparent)]
    Ip(#[from] netconf::IpError),
    /// The control socket.
    #[error("[gateway] control_socket = {path:?}: cannot listen: {error}")]
    ControlSocket {
        /// The path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The metrics endpoint.
    #[error("[gateway] metrics = \"{addr}\": cannot listen: {error} (pick another port, or set metrics = \"\" to turn it off)")]
    Metrics {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        error: std::io::Error,
    },
    /// A setting that cannot change while running.
    #[error("{0}")]
    Reload(String),
    /// `workers = 0` and the like.
    #[error("[gateway] {key}: {why}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        why: String,
    },
    /// A thread could not start.
    #[error("cannot start a thread: {0}")]
    Thread(std::io::Error),
}

/// Counters kept by one thread (atomics so that readers need no lock).
#[derive(Debug, Default)]
pub(crate) struct IoCounters {
    pub(crate) rx_packets: AtomicU64,
    pub(crate) rx_bytes: AtomicU64,
    pub(crate) tx_packets: AtomicU64,
    pub(crate) tx_bytes: AtomicU64,
    pub(crate) rx_errors: AtomicU64,
    pub(crate) tx_errors: AtomicU64,
    pub(crate) refused_clients: AtomicU64,
    pub(crate) icmp_errors_sent: AtomicU64,
    pub(crate) icmp_errors_rate_limited: AtomicU64,
    pub(crate) sessions_expired: AtomicU64,
    pub(crate) gso_packets: AtomicU64,
    pub(crate) offload_errors: AtomicU64,
    pub(crate) neighbour_misses: AtomicU64,
    pub(crate) rx_dropped: AtomicU64,
}

const IO_COUNTERS: [(&str, &str); N_IO] = [
    ("rx_packets", "packets read from the TUN device or the AF_PACKET rings"),
    ("rx_bytes", "bytes read from the TUN device or the AF_PACKET rings"),
    (
        "tx_packets",
        "packets written to the TUN device or sent on the interfaces (translations and ICMP errors)",
    ),
    ("tx_bytes", "bytes written or sent"),
    (
        "rx_errors",
        "failed reads from the TUN device, or frames cut short in an AF_PACKET ring (see the logs)",
    ),
    (
        "tx_errors",
        "packets the kernel refused to take from the gateway (TUN write or AF_PACKET send; see the logs)",
    ),
    (
        "refused_clients",
        "packets whose source is outside [gateway] clients (the gateway is not an open relay); add the prefix to clients if they are legitimate",
    ),
    ("icmp_errors_sent", "ICMP errors the translator sent back to a sender (Time Exceeded, Packet Too Big, ...)"),
    (
        "icmp_errors_rate_limited",
        "ICMP errors the translator generated but did not send: over [gateway] icmp_errors_per_sec / icmp_errors_burst, or over the per-destination limit icmp_errors_dest_interval_ms / icmp_errors_dest_burst (RFC 4443 section 2.4 (f))",
    ),
    ("sessions_expired", "sessions removed by their timeout (RFC 6146 section 3.5)"),
    (
        "gso_packets",
        "TCP super-packets read with offloads on (GRO/GSO, up to 64 KiB), each translated once",
    ),
    (
        "offload_errors",
        "packets dropped because their offload header (virtio_net_hdr) could not be acted on (see the logs)",
    ),
    (
        "neighbour_misses",
        "AF_PACKET: translations dropped because the next hop's link-layer address could not be resolved within 3 s (or 256 were already waiting), or no route of the interface covers the destination",
    ),
    (
        "rx_dropped",
        "AF_PACKET: frames the kernel dropped because a worker's ring was full (the gateway is overloaded)",
    ),
];

const N_IO: usize = 14;

impl IoCounters {
    fn values(&self) -> [u64; N_IO] {
        [
            self.rx_packets.load(Relaxed),
            self.rx_bytes.load(Relaxed),
            self.tx_packets.load(Relaxed),
            self.tx_bytes.load(Relaxed),
            self.rx_errors.load(Relaxed),
            self.tx_errors.load(Relaxed),
            self.refused_clients.load(Relaxed),
            self.icmp_errors_sent.load(Relaxed),
            self.icmp_errors_rate_limited.load(Relaxed),
            self.sessions_expired.load(Relaxed),
            self.gso_packets.load(Relaxed),
            self.offload_errors.load(Relaxed),
            self.neighbour_misses.load(Relaxed),
            self.rx_dropped.load(Relaxed),
        ]
    }
}

pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}

/// The stateful translator and the counters of the translators it
/// replaced on reload.
struct StatefulCore {
    nat: Nat64<SharedTable>,
    base: Counters,
    /// Sessions evicted by the translators replaced on reload.
    base_evicted: u64,
}

impl StatefulCore {
    /// A drop reason's count since the gateway started, across reloads.
    fn dropped(&self, r: DropReason) -> u64 {
        self.base.dropped[r as usize] + self.nat.counters().dropped[r as usize]
    }
}

enum Engine {
    Stateless(Vec<Mutex<Translator>>),
    Stateful(Box<Mutex<StatefulCore>>),
}

/// The client filter, swapped on reload; workers keep an `Arc` and look
/// at the generation once per batch.
pub(crate) struct ClientsCell {
    pub(crate) gen: AtomicU64,
    cur: Mutex<Arc<Clients>>,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// How the workers meet the network.
pub(crate) enum Io {
    /// TUN queues (one per worker, or one shared); `offload`: each packet
    /// has a `virtio_net_hdr` before it.
    Tun { queues: Vec<Arc<File>>, offload: bool },
    /// The AF_PACKET adapter.
    Packet(Box<PacketIo>),
}

/// A running gateway.
pub struct Gateway {
    mode: Mode,
    device: String,
    settings: Mutex<Settings>,
    engine: Engine,
    pub(crate) clients: ClientsCell,
    pub(crate) io_kind: Io,
    pub(crate) io: Vec<IoCounters>,
    stop_r: UnixStream,
    stop_w: UnixStream,
    threads: Mutex<Vec<JoinHandle<()>>>,
    pub(crate) stopping: std::sync::atomic::AtomicBool,
    started: std::time::Instant,
    pub(crate) clock: Clock,
    /// The ICMP errors the translator originates, rate-limited (RFC 4443
    /// section 2.4 (f)): one limiter shared by the workers and the timers
    /// thread, so the global and per-destination limits hold for the
    /// gateway as a whole whichever queue a sender's packets arrive on.
    /// Taken only for an ICMP error, for a few arithmetic operations.
    icmp_limit: Mutex<IcmpRateLimiter>,
    reloads: AtomicU64,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("mode", &self.mode)
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

/// Appends the routes of `more` that `routes` lacks.
fn add_new(routes: &mut Vec<Cidr>, more: Vec<Cidr>) {
    for r in more {
        if !routes.contains(&r) {
            routes.push(r);
        }
    }
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

impl Gateway {
    /// Checks the settings, opens and configures the TUN device (or the
    /// AF_PACKET rings and the blackhole routes), binds the control socket
    /// and the metrics endpoint, and starts the threads.
    pub fn start(mut s: Settings) -> Result<Arc<Gateway>, GatewayError> {
        for note in fit_mtus(&mut s)? {
            log!(Level::Info, "mtu_lowered", note = note);
        }
        if s.device.workers == 0 || s.device.workers > 64 {
            return Err(GatewayError::Invalid {
                key: "workers",
                why: format!(
                    "{} workers; give 1 to 64 (one per core is a good start)",
                    s.device.workers
                ),
            });
        }
        if s.device.mtu < 1280 || s.device.mtu > 65535 {
            return Err(GatewayError::Invalid {
                key: "mtu",
                why: format!("{}; the TUN device carries IPv6, so 1280 to 65535", s.device.mtu),
            });
        }
        let n = s.device.workers;
        // The configuration first: nothing on the system changes if it is wrong.
        let icmp_limit = IcmpRateLimiter::new(s.icmp_rate, random_seed())?;
        let engine = match &s.xlat {
            Xlat::Stateless(cfg) => Engine::Stateless(
                (0..n)
                    .map(|_| Translator::new((**cfg).clone()).map(Mutex::new))
                    .collect::<Result<_, _>>()?,
            ),
            Xlat::Stateful(cfg) => {
                let table = SharedTable::new(cfg.limits);
                Engine::Stateful(Box::new(Mutex::new(StatefulCore {
                    nat: Nat64::with_table((**cfg).clone(), table)?,
                    base: Counters::default(),
                    base_evicted: 0,
                })))
            }
        };
        let (io_kind, device) = match &s.adapter {
            Adapter::Tun => {
                let nq = if s.device.multi_queue { n } else { 1 };
                let mut queues = Vec::with_capacity(nq);
                let mut device = s.device.name.clone();
                for _ in 0..nq {
                    let (f, name) =
                        sys::open_tun(&device, s.device.multi_queue && n > 1, s.device.offload).map_err(|error| {
                            GatewayError::Tun {
                                name: device.clone(),
                                error,
                            }
                        })?;
                    device = name;
                    queues.push(Arc::new(f));
                }
                if s.device.configure {
                    netconf::link_up(&device, s.device.mtu)?;
                    let eamt = netconf::eamt_routes(&s.device.eamt_routes, &device, &[device.as_str()])?;
                    add_new(&mut s.device.routes, eamt);
                    for a in &s.device.addresses {
                        netconf::add_address(&device, a)?;
                    }
                    for r in &s.device.routes {
                        netconf::add_route(&device, r)?;
                    }
                }
                let offload = s.device.offload;
                (Io::Tun { queues, offload }, device)
            }
            Adapter::AfPacket { ipv6, ipv4 } => {
                if s.mode == Mode::Clat {
                    return Err(GatewayError::Invalid {
                        key: "adapter",
                        why: "a CLAT translates the host's own IPv4 traffic, which only a TUN device receives; use adapter = \"tun\"".into(),
                    });
                }
                let p = PacketIo::open(ipv6, ipv4, n)?;
                let device = format!("{}+{}", ipv6.interface, ipv4.interface);
                (Io::Packet(Box::new(p)), device)
            }
        };
        let off = netconf::forwarding_off();
        if !off.is_empty() && matches!(io_kind, Io::Tun { .. }) {
            log!(
                Level::Warn,
                "forwarding_off",
                sysctls = off.join(","),
                hint = "packets cannot cross between the network and the TUN device; sysctl -w each of them =1"
            );
        }
        let control = match &s.control_socket {
            Some(p) => Some(control::bind(p).map_err(|error| GatewayError::ControlSocket { path: p.clone(), error })?),
            None => None,
        };
        let metrics = match s.metrics {
            Some(addr) => {
                let l = TcpListener::bind(addr).map_err(|error| GatewayError::Metrics { addr, error })?;
                l.set_nonblocking(true)
                    .map_err(|error| GatewayError::Metrics { addr, error })?;
                Some(l)
            }
            None => None,
        };
        let (stop_r, stop_w) = UnixStream::pair().map_err(GatewayError::Thread)?;
        // Last, so that a failure before leaves nothing behind (a TUN
        // device takes its routes with it; blackhole routes stay).
        if let (Io::Packet(_), true) = (&io_kind, s.device.configure) {
            // The AF_PACKET interfaces count as other interfaces: the kernel
            // reaches the nodes on their links through them.
            let eamt = netconf::eamt_routes(&s.device.eamt_routes, &device, &[])?;
            add_new(&mut s.device.routes, eamt);
            for (i, r) in s.device.routes.iter().enumerate() {
                if let Err(e) = netconf::add_blackhole(r) {
                    for r in &s.device.routes[..i] {
                        let _ = netconf::del_blackhole(r);
                    }
                    return Err(e.into());
                }
            }
        }
        let gw = Arc::new(Gateway {
            mode: s.mode,
            device: device.clone(),
            clients: ClientsCell {
                gen: AtomicU64::new(0),
                cur: Mutex::new(Arc::new(s.clients.clone())),
            },
            settings: Mutex::new(s),
            engine,
            io_kind,
            io: (0..n + 1).map(|_| IoCounters::default()).collect(),
            stop_r,
            stop_w,
            threads: Mutex::new(Vec::new()),
            stopping: std::sync::atomic::AtomicBool::new(false),
            started: std::time::Instant::now(),
            clock: Clock::new(),
            icmp_limit: Mutex::new(icmp_limit),
            reloads: AtomicU64::new(0),
        });
        let mut threads = Vec::new();
        let spawn = |name: String, f: Box<dyn FnOnce() + Send>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(f)
                .map_err(GatewayError::Thread)
        };
        for i in 0..n {
            let g = Arc::clone(&gw);
            threads.push(spawn(format!("nat64-worker-{i}"), Box::new(move || g.worker(i)))?);
        }
        if matches!(gw.engine, Engine::Stateful(_)) {
            let g = Arc::clone(&gw);
            threads.push(spawn("nat64-timers".into(), Box::new(move || g.timers()))?);
        }
        if let Io::Packet(_) = gw.io_kind {
            let g = Arc::clone(&gw);
            threads.push(spawn("nat64-neighbours".into(), Box::new(move || g.neighbours()))?);
        }
        if let Some(l) = control {
            let g = Arc::clone(&gw);
            threads.push(spawn("nat64-control".into(), Box::new(move || control::serve(g, l)))?);
        }
        if let Some(l) = metrics {
            let g = Arc::clone(&gw);
            threads.push(spawn("nat64-metrics".into(), Box::new(move || metrics::serve(g, l)))?);
        }
        *lock(&gw.threads) = threads;
        {
            let s = lock(&gw.settings);
            let x = s.xlat.xlat();
            let pool4 = match &s.xlat {
                Xlat::Stateful(c) => c
                    .pool4
                    .iter()
                    .map(|e| e.prefix.to_string())
                    .collect::<Vec<_>>()
                    .join(","),
                Xlat::Stateless(_) => "-".into(),
            };
            log!(
                Level::Info,
                "gateway_started",
                mode = gw.mode,
                device = gw.device,
                workers = n,
                adapter = match &gw.io_kind {
                    Io::Tun { .. } => "tun",
                    Io::Packet(_) => "af_packet",
                },
                queues = match &gw.io_kind {
                    Io::Tun { queues, .. } => queues.len(),
                    Io::Packet(_) => n,
                },
                offload = match &gw.io_kind {
                    Io::Tun { offload, .. } => *offload,
                    Io::Packet(_) => true,
                },
                mtu = s.device.mtu,
                pool6 = x.pool6.map(|p| p.to_string()).unwrap_or_else(|| "-".into()),
                pool4 = pool4,
                eamt = x.eamt.len(),
                clients = s.clients.describe(),
                control_socket = s
                    .control_socket
                    .as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|| "-".into()),
                metrics = s.metrics.map(|a| a.to_string()).unwrap_or_else(|| "-".into()),
                icmp_errors = s.icmp_rate,
            );
        }
        Ok(gw)
    }

    /// The TUN device's name.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn stop_fd(&self) -> RawFd {
        self.stop_r.as_raw_fd()
    }

    /// Stops every thread, waits for them, and removes the control socket
    /// (and the AF_PACKET adapter's blackhole routes). The TUN device (with
    /// its addresses and routes) goes when the last reference to the gateway
    /// is dropped.
    pub fn shutdown(&self) {
        self.stopping.store(true, Relaxed);
        let _ = (&self.stop_w).write_all(&[1]);
        let threads = std::mem::take(&mut *lock(&self.threads));
        for t in threads {
            let _ = t.join();
        }
        let s = lock(&self.settings);
        if let Some(p) = &s.control_socket {
            let _ = std::fs::remove_file(p);
        }
        if let (Io::Packet(_), true) = (&self.io_kind, s.device.configure) {
            for r in &s.device.routes {
                if let Err(e) = netconf::del_blackhole(r) {
                    log!(Level::Warn, "route_not_removed", error = e);
                }
            }
        }
        drop(s);
        let st = self.stats();
        let get = |l: &str| st.io.iter().find(|c| c.label == l).map_or(0, |c| c.count);
        log!(
            Level::Info,
            "gateway_stopped",
            uptime_s = st.uptime_s,
            rx_packets = get("rx_packets"),
            tx_packets = get("tx_packets"),
            drops = st.drops.iter().map(|c| c.count).sum::<u64>()
        );
    }

    pub(crate) fn clients(&self) -> (u64, Arc<Clients>) {
        let g = self.clients.gen.load(Relaxed);
        (g, Arc::clone(&lock(&self.clients.cur)))
    }

    fn worker(&self, idx: usize) {
        match &self.io_kind {
            Io::Tun { queues, offload } => self.tun_worker(idx, Arc::clone(&queues[idx % queues.len()]), *offload),
            Io::Packet(p) => self.packet_worker(idx, p),
        }
    }

    fn tun_worker(&self, idx: usize, q: Arc<File>, offload: bool) {
        let io = &self.io[idx];
        let hl = if offload { VNET_HDR_LEN } else { 0 };
        // A super-packet is at most 64 KiB of IP packet after its header.
        let mut buf = vec![0u8; hl + 65536 + 128];
        let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
        let (mut gen, mut clients) = self.clients();
        loop {
            match sys::poll_readable(q.as_raw_fd(), self.stop_fd(), None) {
                Ok([_, true]) => return,
                Ok([false, false]) => continue,
                Ok(_) => {}
                Err(e) => {
                    log!(Level::Error, "worker_poll_failed", worker = idx, error = e);
                    return;
                }
            }
            for _ in 0..256 {
                match (&*q).read(&mut buf) {
                    Ok(n) if n < hl => {
                        bump(&io.rx_errors, 1);
                        log!(Level::Warn, "tun_read_short", worker = idx, bytes = n);
                    }
                    Ok(n) => {
                        bump(&io.rx_packets, 1);
                        bump(&io.rx_bytes, (n - hl) as u64);
                        let (h, pkt) = buf[..n].split_at_mut(hl);
                        let rx = if offload {
                            let h = VnetHdr::parse(<&[u8; VNET_HDR_LEN]>::try_from(&*h).expect("VNET_HDR_LEN bytes"));
                            match vnet::receive(&h, pkt) {
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
                                    continue;
                                }
                            }
                        } else {
                            Rx::Plain
                        };
                        self.handle(idx, pkt, rx, &mut out, &q, offload, io, &clients);
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(e) => {
                        bump(&io.rx_errors, 1);
                        log!(Level::Warn, "tun_read_failed", worker = idx, error = e);
                        break;
                    }
                }
            }
            if self.clients.gen.load(Relaxed) != gen {
                (gen, clients) = self.clients();
            }
        }
    }

    /// Runs one received packet through the client filter and the core at
    /// time `now` (`None`: read the clock); `None` if the filter refused it.
    /// Drops and packets that are not ours are counted by the core and
    /// logged here (debug).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn translate(
        &self,
        idx: usize,
        pkt: &[u8],
        rx: Rx,
        out: &mut [u8],
        io: &IoCounters,
        clients: &Clients,
        now: Option<nat64_core::nat64::Instant>,
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
            (Engine::Stateful(c), rx) => {
                let now = now.unwrap_or_else(|| self.clock.now());
                match rx {
                    Rx::Plain => lock(c).nat.translate(pkt, out, now),
                    Rx::TcpGso { mss, .. } => lock(c).nat.translate_gso(pkt, out, now, mss),
                }
            }
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

    #[allow(clippy::too_many_arguments)]
    fn handle(
        &self,
        idx: usize,
        pkt: &[u8],
        rx: Rx,
        out: &mut [u8],
        q: &File,
        offload: bool,
        io: &IoCounters,
        clients: &Clients,
    ) {
        let Some(v) = self.translate(idx, pkt, rx, out, io, clients, None) else {
            return;
        };
        match v {
            Verdict::Translated(e) if matches!(rx, Rx::TcpGso { .. }) => {
                let p = &mut out[..e.total_len()];
                match vnet::transmit(rx, p) {
                    Ok(h) if e.count == 1 => self.send(q, offload, p, h, io),
                    Ok(_) | Err(_) => {
                        bump(&io.offload_errors, 1);
                        log!(
                            Level::Warn,
                            "offload_output_refused",
                            packets = e.count,
                            packet = PacketSummary(p)
                        );
                    }
                }
            }
            Verdict::Translated(e) => {
                for p in e.packets(out) {
                    self.send(q, offload, p, VnetHdr::default(), io);
                }
            }
            Verdict::IcmpError { len, .. } => {
                let p = &out[..len as usize];
                if self.icmp_error_admitted(p, None, io) {
                    self.send(q, offload, p, VnetHdr::default(), io);
                }
            }
            Verdict::Dropped(_) | Verdict::NotOurs(_) | Verdict::Held(_) => {}
        }
    }

    /// Whether an ICMP error the core generated (`p`, an IP packet to the
    /// sender of the packet it is about) may be sent now under the rate
    /// limit; counted as sent or as rate-limited.
    pub(crate) fn icmp_error_admitted(
        &self,
        p: &[u8],
        now: Option<nat64_core::nat64::Instant>,
        io: &IoCounters,
    ) -> bool {
        let now = now.unwrap_or_else(|| self.clock.now());
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

    /// Writes one packet, after its offload header `h` when the queues have
    /// one (one `writev`: a TUN write takes the whole packet or fails).
    fn send(&self, q: &File, offload: bool, p: &[u8], h: VnetHdr, io: &IoCounters) {
        let hb = h.to_bytes();
        let r = if offload {
            (&*q)
                .write_vectored(&[IoSlice::new(&hb), IoSlice::new(p)])
                .map(|n| n.saturating_sub(VNET_HDR_LEN))
        } else {
            (&*q).write(p)
        };
        match r {
            Ok(n) if n == p.len() => {
                bump(&io.tx_packets, 1);
                bump(&io.tx_bytes, p.len() as u64);
            }
            Ok(n) => {
                bump(&io.tx_errors, 1);
                log!(Level::Warn, "tun_write_short", written = n, packet = PacketSummary(p));
            }
            Err(e) => {
                bump(&io.tx_errors, 1);
                log!(Level::Warn, "tun_write_failed", error = e, packet = PacketSummary(p));
            }
        }
    }

    /// The stateful translator's timers: session expiry, held SYNs,
    /// reassembly timeouts (RFC 6146 sections 3.4, 3.5.2.2, 4).
    fn timers(&self) {
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
        let mut seen = WATCHED.map(|r| lock(core).dropped(r));
        let mut logged: [Option<std::time::Instant>; 3] = [None; 3];
        loop {
            let mut lines = Vec::new();
            {
                let c = lock(core);
                for (i, r) in WATCHED.iter().enumerate() {
                    let n = c.dropped(*r);
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
            let next = lock(core).nat.next_expiry();
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
                let before = c.nat.stats().sessions;
                while let Some(v) = c.nat.poll(now, &mut out) {
                    if let Verdict::IcmpError { len, .. } = v {
                        sends.push(out[..len as usize].to_vec());
                    }
                }
                let gone = before.saturating_sub(c.nat.stats().sessions);
                bump(&io.sessions_expired, gone as u64);
                if gone > 0 && log::enabled(Level::Debug) {
                    log!(Level::Debug, "sessions_expired", count = gone);
                }
            }
            for p in sends {
                if !self.icmp_error_admitted(&p, Some(now), io) {
                    continue;
                }
                match &self.io_kind {
                    Io::Tun { queues, offload } => self.send(&queues[0], *offload, &p, VnetHdr::default(), io),
                    Io::Packet(pio) => self.packet_send_one(pio, &p, io),
                }
            }
        }
    }

    /// Applies new settings; returns notes on what could not change
    /// without a restart. On error nothing changed.
    pub fn reload(&self, mut new: Settings) -> Result<Vec<String>, GatewayError> {
        let mtu_notes = fit_mtus(&mut new)?;
        let mut cur = lock(&self.settings);
        let icmp_limit = if new.icmp_rate != cur.icmp_rate {
            Some(IcmpRateLimiter::new(new.icmp_rate, random_seed())?)
        } else {
            None
        };
        if new.mode != cur.mode {
            return Err(GatewayError::Reload(format!(
                "[gateway] mode changed from {} to {}: restart the gateway to change mode",
                cur.mode, new.mode
            )));
        }
        let mut notes = mtu_notes;
        let d = &cur.device;
        if new.device.name != d.name
            || new.device.workers != d.workers
            || new.device.multi_queue != d.multi_queue
            || new.device.offload != d.offload
        {
            notes.push("[gateway] device, workers, multi_queue and offload apply at the next restart".to_owned());
            new.device.name = d.name.clone();
            new.device.workers = d.workers;
            new.device.multi_queue = d.multi_queue;
            new.device.offload = d.offload;
        }
        if new.adapter != cur.adapter {
            notes.push("[gateway] adapter and [af_packet] apply at the next restart".to_owned());
            new.adapter = cur.adapter.clone();
        }
        let d = &cur.device;
        if new.device.configure != d.configure {
            notes.push("[gateway] configure applies at the next restart".to_owned());
            new.device.configure = d.configure;
        }
        if new.control_socket != cur.control_socket || new.metrics != cur.metrics {
            notes.push("[gateway] control_socket and metrics apply at the next restart".to_owned());
            new.control_socket = cur.control_socket.clone();
            new.metrics = cur.metrics;
        }
        match (&self.engine, &new.xlat) {
            (Engine::Stateless(ts), Xlat::Stateless(cfg)) => {
                cfg.validate()?;
                for t in ts {
                    lock(t).set_config((**cfg).clone())?;
                }
            }
            (Engine::Stateful(c), Xlat::Stateful(cfg)) => {
                let mut c = lock(c);
                notes.extend(rebuild_stateful(&mut c, (**cfg).clone())?);
            }
            _ => return Err(GatewayError::Reload("the mode's configuration changed kind".into())),
        }
        if *lock(&self.clients.cur) != Arc::new(new.clients.clone()) {
            *lock(&self.clients.cur) = Arc::new(new.clients.clone());
            self.clients.gen.fetch_add(1, Relaxed);
        }
        if cur.device.configure {
            let dev = &self.device;
            let packet = matches!(self.io_kind, Io::Packet(_));
            // The routes already in the device do not count as reaching an
            // EAMT side elsewhere (nor do blackholes), so a side stays routed.
            let own: &[&str] = if packet { &[] } else { &[dev.as_str()] };
            match netconf::eamt_routes(&new.device.eamt_routes, dev, own) {
                Ok(eamt) => add_new(&mut new.device.routes, eamt),
                Err(e) => notes.push(e.to_string()),
            }
            if new.device.mtu != cur.device.mtu && !packet {
                if let Err(e) = netconf::link_up(dev, new.device.mtu) {
                    notes.push(e.to_string());
                }
            }
            for r in cur.device.routes.iter().filter(|r| !new.device.routes.contains(r)) {
                let r = if packet {
                    netconf::del_blackhole(r)
                } else {
                    netconf::del_route(dev, r)
                };
                if let Err(e) = r {
                    notes.push(e.to_string());
                }
            }
            if !packet {
                for a in cur
                    .device
                    .addresses
                    .iter()
                    .filter(|a| !new.device.addresses.contains(a))
                {
                    if let Err(e) = netconf::del_address(dev, a) {
                        notes.push(e.to_string());
                    }
                }
                for a in &new.device.addresses {
                    if let Err(e) = netconf::add_address(dev, a) {
                        notes.push(e.to_string());
                    }
                }
            }
            for r in &new.device.routes {
                let r = if packet {
                    netconf::add_blackhole(r)
                } else {
                    netconf::add_route(dev, r)
                };
                if let Err(e) = r {
                    notes.push(e.to_string());
                }
            }
        }
        if let Some(l) = icmp_limit {
            // New parameters start with full buckets.
            *lock(&self.icmp_limit) = l;
        }
        *cur = new;
        self.reloads.fetch_add(1, Relaxed);
        Ok(notes)
    }

    /// The session table, as the control socket answers it.
    pub fn sessions(&self, proto: Option<&str>) -> Response {
        let filter = match proto {
            None => SessionFilter::default(),
            Some(p) => match parse_proto(p) {
                Some(p) => SessionFilter {
                    proto: Some(p),
                    client: None,
                },
                None => {
                    return Response::Error {
                        message: format!("unknown protocol {p:?}; use tcp, udp or icmp"),
                    }
                }
            },
        };
        let Engine::Stateful(c) = &self.engine else {
            return Response::Sessions {
                mode: self.mode.to_string(),
                total: 0,
                sessions: Vec::new(),
            };
        };
        let mut all = Vec::new();
        let (pool6, now) = {
            let c = lock(c);
            c.nat.for_each_session(filter, &mut |s| all.push(*s));
            (c.nat.config().xlat.pool6, self.clock.now())
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
        Response::Sessions {
            mode: self.mode.to_string(),
            total: sessions.len() as u64,
            sessions,
        }
    }

    /// Every counter.
    pub fn stats(&self) -> Stats {
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
                counters = c.base.clone();
                add_counters(&mut counters, c.nat.counters());
                let mut sessions = [0u64; 3];
                let mut bibs = [0u64; 3];
                c.nat
                    .for_each_session(SessionFilter::default(), &mut |s| sessions[s.proto.index()] += 1);
                c.nat.for_each_bib(None, &mut |b| bibs[b.proto.index()] += 1);
                let st = c.nat.stats();
                let r = c.nat.reassembly_stats();
                let rc = |label: &str, count: u64, explain: &str| Counter {
                    label: label.into(),
                    count,
                    explain: explain.into(),
                };
                table = Some(TableStats {
                    sessions,
                    bib_entries: bibs,
                    max_sessions: c.nat.config().limits.max_sessions as u64,
                    pool4_size: st.pool4_size,
                    held_syns: st.held_syns as u64,
                    sessions_evicted: c.base_evicted + st.sessions_evicted,
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
            device: self.device.clone(),
            workers: (self.io.len() - 1) as u64,
            uptime_s: self.started.elapsed().as_secs(),
            reloads: self.reloads.load(Relaxed),
            io: {
                let mut v: Vec<Counter> = IO_COUNTERS.iter().zip(io).map(|((l, e), n)| c(l, n, e)).collect();
                if lock(&self.settings).adapter == Adapter::Tun {
                    let dropped = std::fs::read_to_string("/proc/net/dev")
                        .ok()
                        .and_then(|t| tun_queue_dropped(&t, &self.device));
                    v.push(c(
                        "tun_queue_dropped",
                        dropped.unwrap_or(0),
                        "packets the kernel dropped because the TUN device's queue to the gateway was full (the gateway is overloaded: more workers, or the af_packet adapter); the kernel's count for the device, since it was created",
                    ));
                }
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
}

/// A random key for the rate limiter's hash (from the standard library's
/// per-process random hash keys).
fn random_seed() -> u64 {
    use std::hash::BuildHasher;
    std::collections::hash_map::RandomState::new().hash_one(std::process::id())
}

/// With the AF_PACKET adapter the gateway sends on the interfaces itself, so
/// nothing behind it answers a packet too big for the link with an ICMP
/// error: the core must, and its egress MTUs ([translator] mtu4 / mtu6) may
/// not exceed the interfaces'. Lowers them if needed; returns what it did.
fn fit_mtus(s: &mut Settings) -> Result<Vec<String>, GatewayError> {
    let Adapter::AfPacket { ipv6, ipv4 } = &s.adapter else {
        return Ok(Vec::new());
    };
    let mtu = |p: &crate::settings::PacketSide| {
        netconf::interface_mtu(&p.interface).map_err(|error| GatewayError::Packet {
            interface: p.interface.clone(),
            error,
        })
    };
    let (m6, m4) = (mtu(ipv6)?, mtu(ipv4)?);
    let cfg = match &mut s.xlat {
        Xlat::Stateless(c) => &mut **c,
        Xlat::Stateful(n) => &mut n.xlat,
    };
    let mut notes = Vec::new();
    if cfg.mtu4 > m4 {
        notes.push(format!(
            "[translator] mtu4 {} lowered to {m4}, the MTU of {}",
            cfg.mtu4, ipv4.interface
        ));
        cfg.mtu4 = m4;
    }
    if cfg.mtu6 > m6 && m6 >= 1280 {
        notes.push(format!(
            "[translator] mtu6 {} lowered to {m6}, the MTU of {}",
            cfg.mtu6, ipv6.interface
        ));
        cfg.mtu6 = m6;
    }
    Ok(notes)
}

/// Builds the new stateful translator over the old one's table (see the
/// module documentation for what is kept).
fn rebuild_stateful(c: &mut StatefulCore, cfg: Nat64Config) -> Result<Vec<String>, GatewayError> {
    // The new configuration must work on its own before the table is touched.
    Nat64::with_table(cfg.clone(), SharedTable::new(cfg.limits))?;
    let new_pool4 = Pool4::new(&cfg.pool4)?;
    let old = c.nat.config();
    let pool6_changed = old.xlat.pool6 != cfg.xlat.pool6;
    let pool4_changed = old.pool4 != cfg.pool4;
    let mut table = c.nat.table().clone();
    let mut doomed = Vec::new();
    table.lock().for_each_bib(&mut |b| {
        let gone = if b.is_static {
            !cfg.static_bib
                .iter()
                .any(|s| s.proto == b.proto && s.v4 == b.v4 && s.v6 == b.v6)
        } else {
            pool6_changed
                || !new_pool4.contains(b.proto, b.v4)
                || cfg
                    .static_bib
                    .iter()
                    .any(|s| s.proto == b.proto && (s.v4 == b.v4 || s.v6 == b.v6))
        };
        if gone {
            doomed.push((b.proto, b.v4));
        }
    });
    let before = table.session_count();
    for (p, v4) in &doomed {
        table.remove_bib(*p, *v4);
    }
    let flushed = before.saturating_sub(table.session_count());
    table.lock().set_limits(cfg.limits);
    let nat = Nat64::with_table(cfg, table)?;
    let old_counters = c.nat.counters().clone();
    add_counters(&mut c.base, &old_counters);
    c.base_evicted += c.nat.stats().sessions_evicted;
    c.nat = nat;
    let mut notes = Vec::new();
    if pool6_changed {
        notes.push(format!(
            "pool6 changed: {} BIB entries and {flushed} sessions flushed (their clients used the old prefix)",
            doomed.len()
        ));
    } else if pool4_changed || !doomed.is_empty() {
        notes.push(format!(
            "{} BIB entries and {flushed} sessions removed (outside the new pool4 or replaced by static entries)",
            doomed.len()
        ));
    }
    Ok(notes)
}

/// A one-line description of a packet for debug logs: version, protocol,
/// addresses.
pub(crate) struct PacketSummary<'a>(pub(crate) &'a [u8]);

impl std::fmt::Display for PacketSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let p = self.0;
        match p.first().map(|b| b >> 4) {
            Some(6) if p.len() >= 40 => {
                let a = |o: usize| std::net::Ipv6Addr::from(<[u8; 16]>::try_from(&p[o..o + 16]).unwrap_or([0; 16]));
                write!(f, "ipv6:{}>{}:nh{}:len{}", a(8), a(24), p[6], p.len())
            }
            Some(4) if p.len() >= 20 => {
                let a = |o: usize| std::net::Ipv4Addr::new(p[o], p[o + 1], p[o + 2], p[o + 3]);
                write!(f, "ipv4:{}>{}:p{}:len{}", a(12), a(16), p[9], p.len())
            }
            _ => write!(f, "garbage:len{}", p.len()),
        }
    }
}

/// The kernel's count of packets dropped on their way from the TUN device
/// to its reader, from the text of `/proc/net/dev`: the device's transmit
/// `drop` column (for a TUN device the kernel transmits to the reader, and
/// counts a full queue there). `/proc/net/dev` shows the network namespace
/// of the reading process (the gateway never changes namespace), so it is
/// the gateway's own device even when another namespace has one of the same
/// name.
fn tun_queue_dropped(proc_net_dev: &str, device: &str) -> Option<u64> {
    proc_net_dev.lines().skip(2).find_map(|line| {
        let (name, rest) = line.split_once(':')?;
        if name.trim() != device {
            return None;
        }
        // Receive: bytes packets errs drop fifo frame compressed multicast;
        // then transmit: bytes packets errs drop ...
        rest.split_whitespace().nth(11)?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tun_queue_drops_from_proc_net_dev() {
        let text = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0
 nat64: 9876543  123456    0    7    0     0          0         0 87654321  234567    0 190207    0     0       0          0
 nat64b:      1       1    0    0    0     0          0         0        1       1    0    5    0     0       0          0
";
        assert_eq!(tun_queue_dropped(text, "nat64"), Some(190_207));
        assert_eq!(tun_queue_dropped(text, "nat64b"), Some(5));
        assert_eq!(tun_queue_dropped(text, "lo"), Some(0));
        assert_eq!(tun_queue_dropped(text, "nat"), None);
        assert_eq!(tun_queue_dropped("", "nat64"), None);
    }
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

    fn core(cfg: Nat64Config) -> StatefulCore {
        let t = SharedTable::new(cfg.limits);
        StatefulCore {
            nat: Nat64::with_table(cfg, t).unwrap(),
            base: Counters::default(),
            base_evicted: 0,
        }
    }

    fn send(c: &mut StatefulCore, sport: u16) -> Verdict {
        let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
        let p = udp6("2001:db8:1::2", sport, "2001:db8:64::cb00:7102");
        c.nat.translate(&p, &mut out, Instant::from_secs(10))
    }

    #[test]
    fn reload_keeps_sessions_and_counters() {
        let mut c = core(config("2001:db8:64::/96", "198.51.100.0/30"));
        assert!(
            matches!(send(&mut c, 5000), Verdict::Translated(_)),
            "{:?}",
            send(&mut c, 5000)
        );
        assert_eq!(c.nat.stats().sessions, 1);
        let mut cfg = config("2001:db8:64::/96", "198.51.100.0/30");
        cfg.timeouts.icmp = Duration::from_secs(5);
        let notes = rebuild_stateful(&mut c, cfg).unwrap();
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(c.nat.stats().sessions, 1);
        assert_eq!(c.nat.config().timeouts.icmp, Duration::from_secs(5));
        // The counters of the replaced translator carry on.
        assert_eq!(c.base.translated_6to4, 1);
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        assert_eq!(c.nat.stats().sessions, 1);
    }

    #[test]
    fn reload_drops_bindings_outside_new_pool4_and_flushes_on_pool6_change() {
        let mut c = core(config("2001:db8:64::/96", "198.51.100.0/30"));
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        let notes = rebuild_stateful(&mut c, config("2001:db8:64::/96", "198.51.100.8/30")).unwrap();
        assert_eq!(c.nat.stats().sessions, 0, "{notes:?}");
        assert!(notes[0].contains("1 BIB entries and 1 sessions removed"), "{notes:?}");
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        let mut v4 = Vec::new();
        c.nat
            .for_each_session(SessionFilter::default(), &mut |s| v4.push(s.v4.addr));
        assert!(v4[0].octets()[3] >= 8, "{v4:?}");
        let notes = rebuild_stateful(&mut c, config("2001:db8:65::/96", "198.51.100.8/30")).unwrap();
        assert_eq!(c.nat.stats().sessions, 0);
        assert!(notes[0].contains("pool6 changed"), "{notes:?}");
    }

    #[test]
    fn reload_refuses_a_broken_config_and_keeps_the_old() {
        let mut c = core(config("2001:db8:64::/96", "198.51.100.0/30"));
        assert!(matches!(send(&mut c, 5000), Verdict::Translated(_)));
        let mut cfg = config("2001:db8:64::/96", "198.51.100.0/30");
        cfg.timeouts.udp = Duration::from_secs(10);
        assert!(matches!(rebuild_stateful(&mut c, cfg), Err(GatewayError::Nat64(_))));
        assert_eq!(c.nat.stats().sessions, 1);
    }
}
