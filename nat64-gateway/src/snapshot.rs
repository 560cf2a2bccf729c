//! What the control socket and the metrics endpoint read: a snapshot of a
//! gateway's counters and tables ([`Stats`], [`SessionRow`]), taken by the
//! runtime, never the gateway itself; and the per-thread `IoCounters` it
//! is summed from.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::{Deserialize, Serialize};

/// One session, as `nat64 session display` shows it (Jool's columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionRow {
    /// "tcp", "udp" or "icmp".
    pub proto: String,
    /// The IPv6 client's address and port (`addr#port`).
    pub ipv6_src: String,
    /// The pool4 address and port it is mapped to.
    pub ipv4_src: String,
    /// The IPv4 remote.
    pub remote: String,
    /// The remote as the IPv6 client sees it (through pool6).
    pub remote6: String,
    /// TCP state (RFC 6146 section 3.5.2), "-" for UDP and ICMP.
    pub state: String,
    /// Milliseconds until it expires unless refreshed.
    pub expires_in_ms: u64,
}

/// A counter with its label and what it means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counter {
    /// Stable name (snake case).
    pub label: String,
    /// The count.
    pub count: u64,
    /// What it means and what to do about it.
    pub explain: String,
}

/// The stateful translator's tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableStats {
    /// Sessions, per protocol (tcp, udp, icmp).
    pub sessions: [u64; 3],
    /// BIB entries (pool4 transport addresses in use), per protocol.
    pub bib_entries: [u64; 3],
    /// The session cap.
    pub max_sessions: u64,
    /// pool4 transport addresses, per protocol.
    pub pool4_size: [u64; 3],
    /// Unsolicited IPv4 SYNs held (RFC 6146 section 3.5.2.2).
    pub held_syns: u64,
    /// Half-open or closing TCP sessions evicted to make room for new
    /// flows when the table was full (since the gateway started).
    #[serde(default)]
    pub sessions_evicted: u64,
    /// Fragment reassembly counters (since the last reload).
    pub reassembly: Vec<Counter>,
}

/// Every counter of a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// "siit", "nat64" or "clat".
    pub mode: String,
    /// The TUN device.
    pub device: String,
    /// Worker threads.
    pub workers: u64,
    /// Seconds since start.
    pub uptime_s: u64,
    /// Configuration reloads applied.
    pub reloads: u64,
    /// Device and gateway counters (packets read and written, refused
    /// clients, ...).
    pub io: Vec<Counter>,
    /// The core's counters per verdict.
    pub verdicts: Vec<Counter>,
    /// Packets not translated, per reason (every reason, zeros included).
    pub drops: Vec<Counter>,
    /// Packets outside the configuration, per reason.
    pub not_ours: Vec<Counter>,
    /// Stateful mode only.
    pub table: Option<TableStats>,
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

/// The labels and explanations of [`IoCounters`], in [`IoCounters::values`] order.
pub(crate) const IO_COUNTERS: [(&str, &str); N_IO] = [
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

pub(crate) const N_IO: usize = 14;

impl IoCounters {
    /// Every count, in [`IO_COUNTERS`] order.
    pub(crate) fn values(&self) -> [u64; N_IO] {
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

/// Adds `n` to a counter.
#[inline]
pub(crate) fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Relaxed);
}
