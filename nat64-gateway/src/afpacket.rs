//! The AF_PACKET adapter: the gateway attached to an IPv6-side and an
//! IPv4-side Ethernet interface, for deployments where a TUN device is
//! unwanted.
//!
//! - **Receive**: per worker, one TPACKET_V3 ring per interface (IPv6
//!   frames on the IPv6 side, IPv4 frames on the IPv4 side): the kernel
//!   copies frames into shared memory and hands over whole blocks, so a
//!   busy gateway makes no system call per packet. With several workers the
//!   rings of an interface form a fanout group (flow hash).
//! - **Translate**: by the runtime, as with TUN ([`crate::port`]): the
//!   rings carry a `virtio_net_hdr`, handed over with each packet (its
//!   offsets moved past the Ethernet header), so GRO super-packets are
//!   translated once. The core writes straight into the send batch, behind
//!   room for the headers.
//! - **Send**: each translation gets its `virtio_net_hdr` and Ethernet
//!   header (the next hop's link-layer address from [`crate::neigh`]) and
//!   the batch leaves in one `sendmmsg` per ring block (`PACKET_QDISC_BYPASS`).
//! - **The host's kernel** still sees every frame (a tap does not steal):
//!   blackhole routes for pool6 and pool4 make it discard them quietly.

use std::collections::HashMap;
use std::net::IpAddr;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use nat64_core::wire::IpPacket;
use nat64_core::{Emitted, OUTPUT_BUFFER_LEN};

use crate::error::GatewayError;
use crate::lock;
use crate::log::{Level, PacketSummary};
use crate::neigh::{self, Hop, Neighbours, SideTable};
use crate::port::{PacketPort, PortWorker, Tx};
use crate::settings::{NextHop, PacketSide};
use crate::snapshot::{bump, IoCounters};
use crate::sys::packet::{self, PacketSocket, RingSpec, SendScratch};
use crate::vnet::{VnetHdr, F_NEEDS_CSUM};
use crate::{log, netconf, sys};

const ETH_HLEN: usize = 14;
const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
/// `virtio_net_hdr` + Ethernet header in front of each frame sent.
const HDR: usize = packet::VNET_LEN + ETH_HLEN;
/// Send batch size: a flush happens when less than one translation's worth
/// of room is left.
const BATCH_BYTES: usize = 1 << 20;
/// How often the neighbour snapshot is re-read without a miss.
const NEIGH_REFRESH: Duration = Duration::from_secs(2);
/// Packets held per worker while their next hop is being resolved, and for
/// how long at most (the kernel's `unres_qlen` and retransmit time, roughly).
const PENDING_MAX: usize = 256;
const PENDING_TIME: Duration = Duration::from_secs(3);

/// One side, resolved at start.
#[derive(Debug)]
pub(crate) struct Side {
    name: String,
    ifindex: u32,
    mac: [u8; 6],
    rule: NextHop,
    ethertype: u16,
}

/// The rings of one worker.
struct WorkerSockets {
    rx6: PacketSocket,
    rx4: PacketSocket,
    tx: PacketSocket,
}

/// The AF_PACKET adapter's state.
pub(crate) struct AfPacketPort {
    /// `[IPv6 side, IPv4 side]`.
    sides: [Side; 2],
    workers: Mutex<Vec<Option<WorkerSockets>>>,
    /// The timers thread's socket (ICMP errors for held SYNs).
    timer_tx: Mutex<(PacketSocket, SendScratch)>,
    neigh_gen: AtomicU64,
    neigh: Mutex<Arc<Neighbours>>,
    miss_tx: Mutex<mpsc::Sender<(IpAddr, usize)>>,
    miss_rx: Mutex<Option<mpsc::Receiver<(IpAddr, usize)>>>,
}

impl std::fmt::Debug for AfPacketPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AfPacketPort")
            .field("sides", &self.sides)
            .finish_non_exhaustive()
    }
}

fn side(s: &PacketSide, ethertype: u16) -> Result<Side, GatewayError> {
    let (ifindex, mac) = netconf::interface(&s.interface).map_err(|error| GatewayError::Packet {
        interface: s.interface.clone(),
        error,
    })?;
    Ok(Side {
        name: s.interface.clone(),
        ifindex,
        mac,
        rule: s.next_hop,
        ethertype,
    })
}

impl AfPacketPort {
    /// Opens the rings of `workers` workers on both interfaces and reads
    /// the kernel's neighbours.
    pub(crate) fn open(ipv6: &PacketSide, ipv4: &PacketSide, workers: usize) -> Result<AfPacketPort, GatewayError> {
        let sides = [side(ipv6, ETH_P_IPV6)?, side(ipv4, ETH_P_IP)?];
        let err = |s: &Side| {
            let interface = s.name.clone();
            move |error| GatewayError::Packet { interface, error }
        };
        let spec = RingSpec::default();
        let mut ws = Vec::with_capacity(workers);
        let (mut g6, mut g4) = (None, None);
        for _ in 0..workers {
            let rx6 = PacketSocket::open(sides[0].ifindex, ETH_P_IPV6, Some(spec)).map_err(err(&sides[0]))?;
            let rx4 = PacketSocket::open(sides[1].ifindex, ETH_P_IP, Some(spec)).map_err(err(&sides[1]))?;
            let tx = PacketSocket::open(sides[1].ifindex, 0, None).map_err(err(&sides[1]))?;
            if workers > 1 {
                g6 = Some(rx6.join_fanout(g6).map_err(err(&sides[0]))?);
                g4 = Some(rx4.join_fanout(g4).map_err(err(&sides[1]))?);
            }
            ws.push(Some(WorkerSockets { rx6, rx4, tx }));
        }
        let timer = PacketSocket::open(sides[1].ifindex, 0, None).map_err(err(&sides[1]))?;
        let table = Neighbours {
            v6: SideTable::load(&sides[0].name, false)?,
            v4: SideTable::load(&sides[1].name, true)?,
        };
        let (tx, rx) = mpsc::channel();
        Ok(AfPacketPort {
            sides,
            workers: Mutex::new(ws),
            timer_tx: Mutex::new((timer, SendScratch::default())),
            neigh_gen: AtomicU64::new(0),
            neigh: Mutex::new(Arc::new(table)),
            miss_tx: Mutex::new(tx),
            miss_rx: Mutex::new(Some(rx)),
        })
    }

    fn neighbours(&self) -> (u64, Arc<Neighbours>) {
        (self.neigh_gen.load(Relaxed), Arc::clone(&lock(&self.neigh)))
    }
}

/// Frames waiting to be sent: each `virtio_net_hdr`, Ethernet header and
/// packet back to back in one buffer, the core writing each translation in
/// place.
struct TxBatch {
    buf: Vec<u8>,
    used: usize,
    frames: Vec<(usize, usize, u32, u16)>,
}

impl TxBatch {
    fn new() -> Self {
        TxBatch {
            buf: vec![0u8; BATCH_BYTES],
            used: 0,
            frames: Vec::with_capacity(1024),
        }
    }

    /// Whether one more translation fits.
    fn has_room(&self) -> bool {
        self.buf.len() - self.used >= HDR + OUTPUT_BUFFER_LEN
    }

    /// Where the next translation goes (call [`TxBatch::has_room`] first).
    fn space(&mut self) -> &mut [u8] {
        &mut self.buf[self.used + HDR..]
    }

    /// Puts the headers in front of the `len` bytes at [`TxBatch::space`]
    /// and queues the frame.
    fn commit(&mut self, len: usize, mut vh: VnetHdr, side: &Side, dst: [u8; 6]) {
        if vh.flags & F_NEEDS_CSUM != 0 {
            vh.csum_start += ETH_HLEN as u16;
            vh.hdr_len += ETH_HLEN as u16;
        }
        let h = &mut self.buf[self.used..self.used + HDR];
        h[..packet::VNET_LEN].copy_from_slice(&vh.to_bytes());
        let e = &mut h[packet::VNET_LEN..];
        e[..6].copy_from_slice(&dst);
        e[6..12].copy_from_slice(&side.mac);
        e[12..14].copy_from_slice(&side.ethertype.to_be_bytes());
        self.frames.push((self.used, HDR + len, side.ifindex, side.ethertype));
        self.used = (self.used + HDR + len + 15) & !15;
    }
}

/// The socket a [`Sender`] sends on: a worker's own, or the timers
/// thread's (borrowed under its lock).
enum SendSocket<'a> {
    Owned(PacketSocket),
    Borrowed(&'a PacketSocket),
}

impl std::ops::Deref for SendSocket<'_> {
    type Target = PacketSocket;
    fn deref(&self) -> &PacketSocket {
        match self {
            SendSocket::Owned(s) => s,
            SendSocket::Borrowed(s) => s,
        }
    }
}

/// A worker's sending state.
pub(crate) struct Sender<'a> {
    p: &'a AfPacketPort,
    tx: SendSocket<'a>,
    batch: TxBatch,
    scratch: SendScratch,
    neigh: Arc<Neighbours>,
    gen: u64,
    asked: HashMap<IpAddr, Instant>,
    /// Translations waiting for their next hop's link-layer address.
    pending: Vec<(Vec<u8>, VnetHdr, Instant)>,
    /// The last next hop found (most traffic goes to few), cleared with the
    /// snapshot.
    last: Option<(usize, IpAddr, [u8; 6])>,
    io: &'a IoCounters,
}

impl Sender<'_> {
    /// Sends the batch.
    fn flush(&mut self) {
        if self.batch.frames.is_empty() {
            return;
        }
        let n = self.batch.frames.len();
        let bytes: usize = self.batch.frames.iter().map(|f| f.1 - HDR).sum();
        match self
            .tx
            .send_frames(&self.batch.buf, &self.batch.frames, &mut self.scratch)
        {
            Ok(sent) => {
                bump(&self.io.tx_packets, sent as u64);
                if sent == n {
                    bump(&self.io.tx_bytes, bytes as u64);
                } else {
                    bump(&self.io.tx_errors, (n - sent) as u64);
                    log!(Level::Warn, "send_incomplete", sent = sent, frames = n);
                }
            }
            Err(e) => {
                bump(&self.io.tx_errors, n as u64);
                log!(Level::Warn, "send_failed", frames = n, error = e);
            }
        }
        self.batch.frames.clear();
        self.batch.used = 0;
    }

    /// Queues the `len`-byte packet at the batch's space for its next hop;
    /// one whose next hop is not resolved yet waits (since `since`).
    fn emit(&mut self, len: usize, vh: VnetHdr, since: Option<Instant>) {
        let pkt = &self.batch.space()[..len];
        // Lax: only the version and the header are needed to route it.
        let (si, dst) = match IpPacket::new_lax(pkt) {
            Ok(IpPacket::V4(p)) => (1, IpAddr::V4(p.dst_addr())),
            Ok(IpPacket::V6(p)) => (0, IpAddr::V6(p.dst_addr())),
            Err(_) => return,
        };
        let side = &self.p.sides[si];
        if let Some((lsi, ldst, m)) = self.last {
            if lsi == si && ldst == dst {
                self.batch.commit(len, vh, side, m);
                return;
            }
        }
        let t = if si == 0 { &self.neigh.v6 } else { &self.neigh.v4 };
        match t.hop(dst, &side.rule) {
            Hop::Mac(m) => {
                self.last = Some((si, dst, m));
                self.batch.commit(len, vh, side, m)
            }
            Hop::Unresolved(a) => {
                let now = Instant::now();
                let since = since.unwrap_or(now);
                if self.pending.len() < PENDING_MAX && now.duration_since(since) < PENDING_TIME {
                    self.pending.push((pkt.to_vec(), vh, since));
                } else {
                    bump(&self.io.neighbour_misses, 1);
                }
                if self
                    .asked
                    .get(&a)
                    .is_none_or(|t| now.duration_since(*t) > Duration::from_secs(1))
                {
                    if self.asked.len() > 4096 {
                        self.asked.clear();
                    }
                    self.asked.insert(a, now);
                    let _ = lock(&self.p.miss_tx).send((a, si));
                }
            }
            Hop::NoRoute => {
                bump(&self.io.neighbour_misses, 1);
                if log::enabled(Level::Debug) {
                    log!(
                        Level::Debug,
                        "no_route",
                        interface = side.name,
                        packet = PacketSummary(pkt)
                    );
                }
            }
        }
    }

    /// Queues a copy of `pkt` (fragments, the timers' ICMP errors, packets
    /// that waited for their next hop).
    fn emit_copy(&mut self, pkt: &[u8], vh: VnetHdr, since: Option<Instant>) {
        if !self.batch.has_room() {
            self.flush();
        }
        self.batch.space()[..pkt.len()].copy_from_slice(pkt);
        self.emit(pkt.len(), vh, since);
    }

    /// Takes a new neighbour snapshot if there is one.
    fn refresh(&mut self) {
        if self.p.neigh_gen.load(Relaxed) != self.gen {
            (self.gen, self.neigh) = self.p.neighbours();
            self.last = None;
        }
    }

    /// Tries the waiting packets again (after the snapshot changed).
    fn retry_pending(&mut self) {
        for (pkt, vh, since) in std::mem::take(&mut self.pending) {
            self.emit_copy(&pkt, vh, Some(since));
        }
    }
}

impl Tx for Sender<'_> {
    fn space(&mut self) -> &mut [u8] {
        if !self.batch.has_room() {
            self.flush();
        }
        self.batch.space()
    }

    fn send(&mut self, len: usize, h: VnetHdr) {
        self.emit(len, h, None);
    }

    fn send_each(&mut self, e: &Emitted) {
        // Fragments lie back to back: copy them out, each gets its own
        // headers.
        let frags: Vec<Vec<u8>> = e.packets(self.batch.space()).map(<[u8]>::to_vec).collect();
        for f in frags {
            self.emit_copy(&f, VnetHdr::default(), None);
        }
    }
}

/// A worker's rings and send state.
pub(crate) struct AfWorker<'a> {
    idx: usize,
    rx6: PacketSocket,
    rx4: PacketSocket,
    s: Sender<'a>,
    stats_at: Instant,
}

impl<'a> PortWorker for AfWorker<'a> {
    type Tx = Sender<'a>;

    fn wait(&mut self, stop: RawFd) -> std::io::Result<bool> {
        let wait = (!self.s.pending.is_empty()).then_some(Duration::from_millis(10));
        Ok(sys::poll_set(&[self.rx6.fd(), self.rx4.fd(), stop], wait)? & 4 == 0)
    }

    /// One block of each ring, so that neither side starves the other.
    fn receive<F: FnMut(&mut [u8], VnetHdr, &mut Sender<'a>)>(&mut self, mut f: F) -> bool {
        let AfWorker { idx, rx6, rx4, s, .. } = self;
        let mut any = false;
        for ring in [rx6, rx4] {
            if let Some(mut b) = ring.next_block() {
                any = true;
                b.for_each(|fr| {
                    if let Some((pkt, h)) = frame(*idx, fr, s.io) {
                        f(pkt, h, s);
                    }
                });
            }
        }
        any
    }

    fn flush(&mut self) {
        self.s.flush();
    }

    fn between(&mut self) {
        self.s.refresh();
    }

    fn idle(&mut self) {
        self.s.refresh();
        if !self.s.pending.is_empty() {
            self.s.retry_pending();
            self.s.flush();
        }
        if self.stats_at.elapsed() >= Duration::from_secs(1) {
            self.stats_at = Instant::now();
            for ring in [&self.rx6, &self.rx4] {
                if let Ok(d) = ring.take_drops() {
                    bump(&self.s.io.rx_dropped, d);
                }
            }
        }
    }
}

/// The IP packet of a received frame and its offload header (offsets from
/// the IP header); `None` for a frame that is not for the gateway: sent by
/// the host, to another host, VLAN-tagged, multicast or broadcast (the
/// host's neighbour discovery, ARP, ...), or cut short by the ring
/// (counted).
fn frame<'f>(idx: usize, f: packet::Frame<'f>, io: &IoCounters) -> Option<(&'f mut [u8], VnetHdr)> {
    if f.pkttype == packet::PACKET_OUTGOING
        || f.pkttype == packet::PACKET_OTHERHOST
        || f.status & packet::TP_STATUS_VLAN_VALID != 0
    {
        return None;
    }
    let data = f.data;
    if data.len() < ETH_HLEN || data[0] & 1 != 0 {
        return None;
    }
    if f.len > data.len() {
        bump(&io.rx_errors, 1);
        log!(
            Level::Warn,
            "frame_cut",
            worker = idx,
            length = f.len,
            kept = data.len()
        );
        return None;
    }
    let mut h = VnetHdr::parse(&f.vnet);
    if h.flags & F_NEEDS_CSUM != 0 {
        // The ring's offsets count the Ethernet header.
        h.csum_start = h.csum_start.wrapping_sub(ETH_HLEN as u16);
        h.hdr_len = h.hdr_len.saturating_sub(ETH_HLEN as u16);
    }
    Some((&mut data[ETH_HLEN..], h))
}

impl PacketPort for AfPacketPort {
    type Worker<'a> = AfWorker<'a>;

    fn worker<'a>(&'a self, idx: usize, io: &'a IoCounters) -> Option<AfWorker<'a>> {
        let WorkerSockets { rx6, rx4, tx } = lock(&self.workers).get_mut(idx).and_then(Option::take)?;
        let (gen, neigh) = self.neighbours();
        Some(AfWorker {
            idx,
            rx6,
            rx4,
            s: Sender {
                p: self,
                tx: SendSocket::Owned(tx),
                batch: TxBatch::new(),
                scratch: SendScratch::default(),
                neigh,
                gen,
                asked: HashMap::new(),
                pending: Vec::new(),
                last: None,
                io,
            },
            stats_at: Instant::now(),
        })
    }

    /// From the timers thread.
    fn send_one(&self, pkt: &[u8], io: &IoCounters) {
        let guard = lock(&self.timer_tx);
        let (sock, _) = &*guard;
        let mut s = Sender {
            p: self,
            tx: SendSocket::Borrowed(sock),
            batch: TxBatch::new(),
            scratch: SendScratch::default(),
            neigh: self.neighbours().1,
            gen: 0,
            asked: HashMap::new(),
            pending: Vec::new(),
            last: None,
            io,
        };
        s.emit_copy(pkt, VnetHdr::default(), None);
        s.flush();
        // The timers thread does not wait for a next hop: one more try.
        if !s.pending.is_empty() {
            bump(&io.neighbour_misses, s.pending.len() as u64);
        }
    }
}

impl AfPacketPort {
    /// Keeps the neighbour snapshot fresh: re-read every few seconds, and
    /// soon after a worker missed a next hop (once the kernel was asked to
    /// resolve it).
    pub(crate) fn keep_neighbours(&self, stopping: &AtomicBool) {
        let p = self;
        let Some(rx) = lock(&p.miss_rx).take() else { return };
        let mut last = Instant::now();
        let mut failing = false;
        loop {
            let mut want: Vec<(IpAddr, String)> = Vec::new();
            match rx.recv_timeout(Duration::from_millis(250)) {
                Ok((a, si)) => {
                    want.push((a, p.sides[si].name.clone()));
                    while let Ok((a, si)) = rx.try_recv() {
                        want.push((a, p.sides[si].name.clone()));
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
            if stopping.load(Relaxed) {
                return;
            }
            want.sort();
            want.dedup();
            if want.is_empty() && last.elapsed() < NEIGH_REFRESH {
                continue;
            }
            if !want.is_empty() {
                if let Err(e) = neigh::resolve(&want) {
                    log!(Level::Warn, "neighbour_resolve_failed", error = e);
                }
            }
            // A resolution takes a round trip: look a few times.
            for attempt in 0..if want.is_empty() { 1 } else { 5 } {
                if attempt > 0 || !want.is_empty() {
                    std::thread::sleep(Duration::from_millis(20 << attempt));
                }
                let t = match (
                    SideTable::load(&p.sides[0].name, false),
                    SideTable::load(&p.sides[1].name, true),
                ) {
                    (Ok(v6), Ok(v4)) => Neighbours { v6, v4 },
                    (Err(e), _) | (_, Err(e)) => {
                        if !failing {
                            log!(Level::Warn, "neighbours_unreadable", error = e);
                        }
                        failing = true;
                        break;
                    }
                };
                failing = false;
                let done = want.iter().all(|(a, _)| {
                    let t = if a.is_ipv4() { &t.v4 } else { &t.v6 };
                    matches!(t.hop(*a, &NextHop::Address(*a)), Hop::Mac(_))
                });
                if **lock(&p.neigh) != t {
                    *lock(&p.neigh) = Arc::new(t);
                    p.neigh_gen.fetch_add(1, Relaxed);
                }
                if done {
                    break;
                }
            }
            last = Instant::now();
        }
    }
}
