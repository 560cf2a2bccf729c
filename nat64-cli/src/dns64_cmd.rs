//! `nat64 dns64`: a DNS64 resolver (RFC 6147) in front of one or more
//! upstream resolvers.
//!
//! It listens on UDP and TCP, forwards queries to the upstreams (in order,
//! failing over on timeouts, network errors, SERVFAIL and REFUSED), retries
//! over TCP when an upstream truncates, and applies [`nat64_core::dns64`] to
//! every answer: synthesized AAAA records (section 5.1), PTR CNAMEs (section
//! 5.3.1), the RFC 8880 names answered locally, everything else relayed
//! unchanged. Responses are cached for their TTL (RFC 2181 section 8, RFC
//! 2308 for negative answers) in a bounded cache. A malformed query gets
//! FORMERR, an unsupported opcode NOTIMP, an unknown EDNS version BADVERS,
//! and a failure of every upstream SERVFAIL (section 5.1.3); responses and
//! runts are dropped.
//!
//! Worker threads (`--threads`, one per CPU by default) each run a
//! single-threaded runtime on the same sockets and share the cache (in
//! locked shards). A UDP query answered from the cache is answered in the
//! receive loop itself, with no task and no allocation: the cached response
//! is copied, and its ID, RD bit, question spelling and TTLs are patched.
//!
//! Metrics (counters, and upstream and DNS64 latency histograms) go to
//! standard error as one JSON line every `--metrics-interval` seconds.
//!
//! Settings come from flags and from the `[dns64]` table of a TOML file
//! (`--config`); flags win, and a list flag replaces the file's list. Other
//! tables of the file (e.g. `[translator]`) are ignored here.

use std::collections::HashMap;
use std::error::Error;
use std::hash::BuildHasher;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nat64_core::dns64::wire::{age_ttls, cache_ttl, flags, rcode, rtype, Message, Section, HEADER_LEN};
use nat64_core::dns64::{
    Answer, ClientPrefix, Decision, Dns64, Dns64Config, MappedRange, Plan, PrefixRule, Query, DEFAULT_EDNS_UDP_SIZE,
};
use nat64_core::{Ipv6Prefix, Prefix64};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};

/// Largest DNS message (TCP length field).
const MAX_MSG: usize = 65535;
/// UDP queries handled at once; more are dropped (the client retries).
/// At most half of them may be slow ones, waiting longer than [`JOSTLE`]
/// for their answer: see [`Resolver::slow_in_flight`].
const MAX_IN_FLIGHT: usize = 4096;
/// How long a UDP query may wait for its answer before it counts as slow
/// (as unbound's `jostle-timeout`, whose default this is: about one
/// round trip to a distant server).
const JOSTLE: Duration = Duration::from_millis(200);
/// The receive buffer asked for each listening UDP socket.
const UDP_RCVBUF: usize = 4 << 20;
/// TCP connections open at once (see [`TcpConns`]).
const MAX_TCP_CONNS: usize = 256;
/// How long a client TCP connection may wait for the next message, for the
/// rest of a message, or for room to write an answer, before it is closed
/// (RFC 7766 section 6.2.3).
const TCP_IDLE: Duration = Duration::from_secs(10);

/// Command-line arguments of `nat64 dns64`.
#[derive(clap::Args, Debug, Default)]
#[command(after_help = "\
Examples:
  nat64 dns64 --upstream 192.0.2.53                         # 64:ff9b::/96, listen on [::]:53
  nat64 dns64 --listen [::1]:5353 --upstream 127.0.0.1:53 --prefix 2001:db8:64::/96
  nat64 dns64 --upstream 192.0.2.53 --prefix '2001:db8:1::/96=198.51.100.0/24' --translate-all
  nat64 dns64 --upstream 192.0.2.53 --prefix '2001:db8:1::/96=198.51.100.0/24' \
              --prefix '2001:db8:2::/96=!198.51.100.0/24'    # one prefix for a range, one for the rest
  nat64 dns64 --upstream 127.0.0.1:5353 --upstream-validates    # behind a local validating resolver
  nat64 dns64 --config gateway.toml                         # the [dns64] table

Flags override the keys of the --config file's [dns64] table; a flag that takes a
list (--listen, --upstream, --prefix, --exclude, --client) replaces the file's list.

IPv4 ranges of a prefix (--prefix PREFIX=LIST, or `mapped` in the file) work like BIND's
`mapped` address match list: the elements are tried in order, the first that holds the
address decides, and `!RANGE` means the prefix is NOT used for it; `any` is 0.0.0.0/0.
An address no element holds is used only when the list has no positive element, so
'!10.0.0.0/8' alone means every address but 10/8. An element that an earlier one of the
other sign already covers (any,!10.0.0.0/8) is refused: put the exclusion first. Quote
the list for the shell ('!' is special to interactive bash).

PTR queries for ip6.arpa names under a prefix (RFC 6147 section 5.3.1) are answered from
the matching in-addr.arpa name: a CNAME to it when it has PTR records, its NXDOMAIN or
empty answer (with its SOA) when it has none; otherwise the query is forwarded.

DNSSEC (RFC 6147 section 5.5): a client setting both CD and DO gets no synthesis (its query
is forwarded as it is); a client setting CD alone gets synthesis and no AD. Synthesized
answers never carry AD unless --upstream-validates (item 2: DO set, CD clear, and both the
negative AAAA answer and the A answer came with AD).")]
pub struct Args {
    /// TOML file with a `[dns64]` table (other tables are ignored).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to listen on, UDP and TCP (repeatable; default `[::]:53`; port 0 picks a free port).
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// Upstream resolver, tried in the order given (repeatable; port 53 unless given).
    #[arg(long = "upstream", value_name = "ADDR[:PORT]", value_parser = parse_upstream)]
    pub upstreams: Vec<SocketAddr>,
    /// Synthesis prefix (repeatable; default 64:ff9b::/96), optionally with the IPv4 ranges it is
    /// used for, first match wins, `!` for ranges it is not used for, `any` for all:
    /// 2001:db8:1::/96=198.51.100.0/24,203.0.113.0/24 or '2001:db8:2::/96=!10.0.0.0/8,any'.
    #[arg(long = "prefix", value_name = "PREFIX[=V4RANGES]", value_parser = parse_prefix_rule)]
    pub prefixes: Vec<PrefixRule>,
    /// AAAA records in this range are treated as absent (repeatable; default ::ffff:0:0/96).
    #[arg(long, value_name = "V6PREFIX")]
    pub exclude: Vec<Ipv6Prefix>,
    /// Only these clients get DNS64 (repeatable; default all).
    #[arg(long = "client", value_name = "PREFIX")]
    pub clients: Vec<ClientPrefix>,
    /// Synthesize even when real AAAA records exist, replacing them (CoreDNS translate_all, unbound
    /// dns64-synthall; RFC 6147 section 5.1.1's non-default option). A name with AAAA records and
    /// nothing to synthesize from (no A record, or only ones no prefix is used for, or a failed A
    /// query) still gets its real AAAA records, less the --exclude ranges (section 5.1.4).
    #[arg(long)]
    pub translate_all: bool,
    /// Also synthesize for clients asking over IPv4 (CoreDNS allow_ipv4).
    #[arg(long)]
    pub allow_ipv4: bool,
    /// Synthesize non-global IPv4 addresses under 64:ff9b::/96 too (RFC 6052 section 3.1).
    #[arg(long)]
    pub allow_non_global: bool,
    /// The upstreams validate DNSSEC and their AD bit is trusted (RFC 6147 section 5.5 item 2):
    /// synthesized answers to DO clients (CD clear) carry AD when both upstream answers did.
    #[arg(long)]
    pub upstream_validates: bool,
    /// Time to wait for one upstream before trying the next, in milliseconds (default 1500).
    #[arg(long, value_name = "MS")]
    pub timeout_ms: Option<u64>,
    /// Cache entries (default 10000; 0 disables the cache).
    #[arg(long, value_name = "N")]
    pub cache_size: Option<usize>,
    /// Longest time a response is cached, in seconds (default 86400).
    #[arg(long, value_name = "SECS")]
    pub max_cache_ttl: Option<u32>,
    /// EDNS UDP payload size we send and accept (default 1232).
    #[arg(long, value_name = "BYTES")]
    pub edns_udp_size: Option<u16>,
    /// Seconds between metrics lines on standard error (default 60; 0 turns them off).
    #[arg(long, value_name = "SECS")]
    pub metrics_interval: Option<u64>,
    /// Worker threads, each answering from the shared sockets and cache (default: one per CPU).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

fn parse_upstream(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!("{s:?} is not an address: write 192.0.2.53, 192.0.2.53:5353, 2001:db8::53 or [2001:db8::53]:5353")
        })
}

/// `PREFIX` or `PREFIX=RANGE,RANGE,...`, each range optionally `!RANGE` or
/// `any` (see [`MappedRange`]).
fn parse_prefix_rule(s: &str) -> Result<PrefixRule, String> {
    let (p, mapped) = match s.split_once('=') {
        Some((p, m)) => (p, Some(m)),
        None => (s, None),
    };
    let prefix: Prefix64 = p.trim().parse().map_err(|e| format!("{e}"))?;
    let mut rule = PrefixRule::new(prefix);
    if let Some(m) = mapped {
        for r in m.split(',').filter(|r| !r.trim().is_empty()) {
            rule.mapped.push(parse_mapped(p, r)?);
        }
    }
    Ok(rule)
}

/// One element of a prefix's IPv4 ranges; the error names the element.
fn parse_mapped(prefix: &str, element: &str) -> Result<MappedRange, String> {
    element.trim().parse::<MappedRange>().map_err(|e| {
        format!(
            "in the IPv4 ranges of {}: element {:?}: {e} (an element is RANGE, !RANGE, any or !any)",
            prefix.trim(),
            element.trim()
        )
    })
}

/// A prefix in the TOML file: `"64:ff9b::/96"`,
/// `{ prefix = "2001:db8:1::/96", mapped = ["198.51.100.0/24"] }` or
/// `{ prefix = "2001:db8:2::/96", mapped = ["!10.0.0.0/8", "any"] }` (the
/// `--prefix` rules: first match wins, `!` excludes), or the `--prefix`
/// text `"2001:db8:1::/96=198.51.100.0/24"`.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum PrefixEntry {
    /// Just the prefix.
    Plain(String),
    /// With its IPv4 ranges.
    Mapped(MappedPrefix),
}

/// A prefix with the IPv4 ranges it is used for.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MappedPrefix {
    /// The RFC 6052 prefix.
    pub prefix: String,
    /// The IPv4 ranges, `!RANGE` for exclusions, `any` for all.
    #[serde(default)]
    pub mapped: Vec<String>,
}

/// The `[dns64]` table of the configuration file; every key optional.
#[derive(Deserialize, Debug, Default, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dns64Table {
    /// Listening addresses.
    pub listen: Option<Vec<String>>,
    /// Upstream resolvers.
    pub upstreams: Option<Vec<String>>,
    /// Synthesis prefixes.
    pub prefixes: Option<Vec<PrefixEntry>>,
    /// Excluded AAAA ranges.
    pub exclude: Option<Vec<String>>,
    /// Client ACL.
    pub clients: Option<Vec<String>>,
    /// translate_all / dns64-synthall.
    pub translate_all: Option<bool>,
    /// allow_ipv4.
    pub allow_ipv4: Option<bool>,
    /// RFC 6052 section 3.1 override.
    pub allow_non_global: Option<bool>,
    /// RFC 6147 section 5.5 item 2: the upstreams validate.
    pub upstream_validates: Option<bool>,
    /// Per-upstream timeout.
    pub timeout_ms: Option<u64>,
    /// Cache entries.
    pub cache_size: Option<usize>,
    /// Cache TTL cap.
    pub max_cache_ttl: Option<u32>,
    /// EDNS UDP size.
    pub edns_udp_size: Option<u16>,
    /// Metrics interval.
    pub metrics_interval: Option<u64>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// Reads the `[dns64]` table of a TOML file, ignoring its other tables.
pub fn load_table(path: &std::path::Path) -> Result<Dns64Table, Box<dyn Error>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    match doc.get("dns64") {
        None => Err(format!("{} has no [dns64] table", path.display()).into()),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e| format!("{}: in [dns64]: {e}", path.display()).into()),
    }
}

/// Everything the resolver needs, from flags and file.
#[derive(Debug)]
pub struct Settings {
    /// DNS64 rules.
    pub dns64: Dns64Config,
    /// Listening addresses.
    pub listen: Vec<SocketAddr>,
    /// Upstreams.
    pub upstreams: Vec<SocketAddr>,
    /// Per-upstream timeout.
    pub timeout: Duration,
    /// Cache entries.
    pub cache_size: usize,
    /// Cache TTL cap.
    pub max_cache_ttl: u32,
    /// Metrics interval (zero: off).
    pub metrics_interval: Duration,
    /// Worker threads (at least 1).
    pub threads: usize,
}

fn parse_all<T: std::str::FromStr>(what: &str, v: &[String]) -> Result<Vec<T>, String>
where
    T::Err: std::fmt::Display,
{
    v.iter()
        .map(|s| s.parse::<T>().map_err(|e| format!("[dns64] {what} {s:?}: {e}")))
        .collect()
}

/// Merges flags over the file's table.
pub fn settings(a: &Args) -> Result<Settings, Box<dyn Error>> {
    let t = match &a.config {
        Some(p) => load_table(p)?,
        None => Dns64Table::default(),
    };
    settings_from(a, &t)
}

/// Merges flags over a `[dns64]` table already read: `nat64 gateway` reads
/// the whole file itself and passes its table with no flags.
pub fn settings_from(a: &Args, t: &Dns64Table) -> Result<Settings, Box<dyn Error>> {
    let listen = if !a.listen.is_empty() {
        a.listen.clone()
    } else if let Some(l) = &t.listen {
        parse_all::<SocketAddr>("listen", l)?
    } else {
        vec![SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 53)]
    };
    let upstreams = if !a.upstreams.is_empty() {
        a.upstreams.clone()
    } else if let Some(u) = &t.upstreams {
        u.iter().map(|s| parse_upstream(s)).collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    if upstreams.is_empty() {
        return Err("no upstream resolver: give --upstream ADDR (or `upstreams = [...]` in [dns64])".into());
    }
    let prefixes = if !a.prefixes.is_empty() {
        a.prefixes.clone()
    } else {
        let mut v = Vec::new();
        for e in t.prefixes.clone().unwrap_or_default() {
            v.push(match e {
                PrefixEntry::Plain(s) => parse_prefix_rule(&s).map_err(|e| format!("[dns64] prefixes: {e}"))?,
                PrefixEntry::Mapped(m) => {
                    let prefix: Prefix64 = m.prefix.parse().map_err(|e| format!("[dns64] prefixes: {e}"))?;
                    PrefixRule {
                        prefix,
                        mapped: m
                            .mapped
                            .iter()
                            .map(|e| parse_mapped(&m.prefix, e).map_err(|e| format!("[dns64] prefixes: {e}")))
                            .collect::<Result<_, _>>()?,
                    }
                }
            });
        }
        v
    };
    let mut cfg = Dns64Config {
        prefixes,
        ..Dns64Config::default()
    };
    if !a.exclude.is_empty() {
        cfg.exclude = a.exclude.clone();
    } else if let Some(e) = &t.exclude {
        cfg.exclude = parse_all("exclude", e)?;
    }
    if !a.clients.is_empty() {
        cfg.clients = a.clients.clone();
    } else if let Some(c) = &t.clients {
        cfg.clients = parse_all("clients", c)?;
    }
    cfg.translate_all = a.translate_all || t.translate_all.unwrap_or(false);
    cfg.allow_ipv4 = a.allow_ipv4 || t.allow_ipv4.unwrap_or(false);
    cfg.allow_non_global = a.allow_non_global || t.allow_non_global.unwrap_or(false);
    cfg.upstream_validates = a.upstream_validates || t.upstream_validates.unwrap_or(false);
    cfg.edns_udp_size = a.edns_udp_size.or(t.edns_udp_size).unwrap_or(DEFAULT_EDNS_UDP_SIZE);
    let timeout_ms = a.timeout_ms.or(t.timeout_ms).unwrap_or(1500);
    if timeout_ms == 0 {
        return Err("timeout_ms must be at least 1".into());
    }
    let threads = match a.threads.or(t.threads) {
        Some(0) => return Err("threads must be at least 1".into()),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok(Settings {
        dns64: cfg,
        listen,
        upstreams,
        timeout: Duration::from_millis(timeout_ms),
        cache_size: a.cache_size.or(t.cache_size).unwrap_or(10_000),
        max_cache_ttl: a.max_cache_ttl.or(t.max_cache_ttl).unwrap_or(86_400),
        metrics_interval: Duration::from_secs(a.metrics_interval.or(t.metrics_interval).unwrap_or(60)),
        threads,
    })
}

// ---- metrics ----------------------------------------------------------------

/// Bucket upper bounds of the latency histograms, in microseconds.
const BOUNDS_US: [u64; 16] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000,
    5_000_000,
];
const BUCKETS: usize = BOUNDS_US.len() + 1;

/// A latency histogram with fixed buckets (the last one unbounded).
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BUCKETS],
    count: AtomicU64,
    sum_us: AtomicU64,
}

/// The values of one or more histograms added up.
#[derive(Default, Clone, Copy)]
struct HistogramSum {
    buckets: [u64; BUCKETS],
    count: u64,
    sum_us: u64,
}

impl Histogram {
    /// Adds one observation.
    pub fn record(&self, d: Duration) {
        let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
        let i = BOUNDS_US.iter().position(|&b| us <= b).unwrap_or(BOUNDS_US.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.sum_us.fetch_add(us, Relaxed);
    }
}

impl HistogramSum {
    fn add(&mut self, h: &Histogram) {
        for (s, b) in self.buckets.iter_mut().zip(&h.buckets) {
            *s += b.load(Relaxed);
        }
        self.count += h.count.load(Relaxed);
        self.sum_us += h.sum_us.load(Relaxed);
    }
    /// The upper bound (ms) of the bucket holding quantile `q`.
    fn quantile_ms(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let want = ((self.count as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, &b) in self.buckets.iter().enumerate() {
            seen += b;
            if seen >= want {
                return Some(BOUNDS_US.get(i).map_or(f64::INFINITY, |&u| u as f64 / 1000.0));
            }
        }
        None
    }
    fn json(&self) -> serde_json::Value {
        let n = self.count;
        let mut buckets = serde_json::Map::new();
        for (i, &b) in self.buckets.iter().enumerate() {
            let key = BOUNDS_US
                .get(i)
                .map_or("+Inf".to_string(), |&u| format!("{}", u as f64 / 1000.0));
            buckets.insert(key, b.into());
        }
        serde_json::json!({
            "count": n,
            "mean_ms": if n == 0 { 0.0 } else { self.sum_us as f64 / n as f64 / 1000.0 },
            "p50_ms": self.quantile_ms(0.5),
            "p99_ms": self.quantile_ms(0.99),
            "le_ms": buckets,
        })
    }
}

macro_rules! counters {
    ($($name:ident),* $(,)?) => {
        /// Counters of the resolver.
        #[derive(Default)]
        pub struct Counters { $(
            #[doc = stringify!($name)]
            pub $name: AtomicU64,
        )* }
        impl Counters {
            /// Adds these counters to `m` (name -> total).
            fn add_to(&self, m: &mut serde_json::Map<String, serde_json::Value>) {
                $(
                    let v = m.get(stringify!($name)).and_then(|v| v.as_u64()).unwrap_or(0);
                    m.insert(stringify!($name).to_string(), (v + self.$name.load(Relaxed)).into());
                )*
            }
        }
    };
}

counters!(
    queries_udp,
    queries_tcp,
    dropped,
    formerr,
    notimp,
    badvers,
    servfail,
    responses,
    truncated,
    synthesized,
    synthesized_records,
    filtered,
    relayed,
    empty,
    ptr_cname,
    local,
    cache_hits,
    cache_misses,
    upstream_queries,
    upstream_timeouts,
    upstream_errors,
    upstream_failovers,
    upstream_tcp_retries,
    upstream_bad_responses,
    slow_abandoned,
    tcp_evicted,
    tcp_refused,
);

/// The counters and histograms of one worker thread (on their own cache
/// lines, so that workers do not slow each other down).
#[derive(Default)]
#[repr(align(128))]
pub struct WorkerMetrics {
    /// Counters.
    pub c: Counters,
    /// Time for one upstream exchange (the successful attempt).
    pub upstream_latency: Histogram,
    /// Time from a query's arrival to its answer.
    pub dns64_latency: Histogram,
}

thread_local! {
    /// The index of the worker running on this thread (0 outside workers).
    static WORKER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Counters and histograms, one set per worker thread, added up when shown.
pub struct Metrics {
    workers: Box<[WorkerMetrics]>,
}

impl Metrics {
    fn new(workers: usize) -> Self {
        Metrics {
            workers: (0..workers.max(1)).map(|_| WorkerMetrics::default()).collect(),
        }
    }
    /// The metrics of the calling worker.
    #[inline]
    pub fn mine(&self) -> &WorkerMetrics {
        &self.workers[WORKER.with(|w| w.get()) % self.workers.len()]
    }
    /// One JSON object: every worker added up.
    pub fn json(&self) -> serde_json::Value {
        let mut c = serde_json::Map::new();
        let (mut up, mut dns) = (HistogramSum::default(), HistogramSum::default());
        for w in self.workers.iter() {
            w.c.add_to(&mut c);
            up.add(&w.upstream_latency);
            dns.add(&w.dns64_latency);
        }
        serde_json::json!({
            "dns64_metrics": c,
            "upstream_latency": up.json(),
            "dns64_latency": dns.json(),
        })
    }
}

#[inline]
fn inc(c: &AtomicU64) {
    c.fetch_add(1, Relaxed);
}

// ---- cache ------------------------------------------------------------------

/// Longest cache key: a name (255 bytes), type, class and a flags byte.
const KEY_MAX: usize = 255 + 5;

/// A cache key, built on the stack: the question with the name in lower
/// case, then DO, CD, whether the client gets DNS64 and whether it used EDNS
/// (which decides whether the response has an OPT record).
struct Key {
    buf: [u8; KEY_MAX],
    len: usize,
}

impl Key {
    fn new(q: &Query<'_>, synth: bool) -> Option<Self> {
        let name = q.qname_wire();
        let n = name.len();
        // `Query::parse` refuses a compressed question name, so the name is
        // written out at this same length (what `Cache::get` relies on).
        if n > 255 {
            return None;
        }
        let mut buf = [0u8; KEY_MAX];
        for (d, s) in buf[..n].iter_mut().zip(name) {
            *d = s.to_ascii_lowercase();
        }
        buf[n..n + 2].copy_from_slice(&q.qtype().to_be_bytes());
        buf[n + 2..n + 4].copy_from_slice(&q.qclass().to_be_bytes());
        buf[n + 4] = u8::from(q.dnssec_ok())
            | u8::from(q.checking_disabled()) << 1
            | u8::from(synth) << 2
            | u8::from(q.edns().is_some()) << 3;
        Some(Key { buf, len: n + 5 })
    }
    fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    /// Which shard holds it (FNV-1a; each shard's map has its own keyed hash).
    fn shard(&self, shards: usize) -> usize {
        let h = self.bytes().iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        });
        (h ^ (h >> 32)) as usize % shards
    }
}

/// A final response as it was sent to the first client that asked.
struct Entry {
    msg: Box<[u8]>,
    /// Where its TTL fields are (OPT left out) and their values when stored.
    ttls: Box<[(u16, u32)]>,
    stored: Instant,
    ttl: u32,
}

#[derive(Default)]
struct Shard {
    map: HashMap<Box<[u8]>, Entry>,
    last_sweep: Option<Instant>,
}

/// What the cache had for a query.
enum Hit {
    /// The response, written into the caller's buffer: `len` bytes.
    Written(usize),
    /// The response (TTLs aged) is larger than the client can take: the
    /// caller truncates it with [`Dns64::relay`].
    TooBig(Vec<u8>),
}

/// A bounded cache of final responses (RFC 2181 section 8, RFC 2308 for
/// negative answers), in shards with a lock each so that worker threads
/// rarely wait for one another.
struct Cache {
    shards: Box<[Mutex<Shard>]>,
    cap_per_shard: usize,
    max_ttl: u32,
}

impl Cache {
    fn new(cap: usize, max_ttl: u32) -> Self {
        let n = if cap >= 1024 { 16 } else { 1 };
        Cache {
            shards: (0..n).map(|_| Mutex::new(Shard::default())).collect(),
            cap_per_shard: cap.div_ceil(n),
            max_ttl,
        }
    }

    fn enabled(&self) -> bool {
        self.cap_per_shard > 0
    }

    /// The cached response to `q`, if still fresh, with the client's ID, RD
    /// bit and question spelling, and its TTLs aged.
    fn get(&self, key: &Key, q: &Query<'_>, now: Instant, out: &mut [u8]) -> Option<Hit> {
        if !self.enabled() {
            return None;
        }
        let len = {
            let mut shard = self.shards[key.shard(self.shards.len())].lock().ok()?;
            let e = shard.map.get(key.bytes())?;
            let age = now.saturating_duration_since(e.stored).as_secs();
            if age >= u64::from(e.ttl) {
                shard.map.remove(key.bytes());
                return None;
            }
            let age = age as u32;
            let n = e.msg.len();
            if n > out.len() {
                let mut m = e.msg.to_vec();
                age_ttls(&mut m, age).ok()?;
                return Some(Hit::TooBig(m));
            }
            out[..n].copy_from_slice(&e.msg);
            for &(at, ttl) in e.ttls.iter() {
                let at = usize::from(at);
                out[at..at + 4].copy_from_slice(&ttl.saturating_sub(age).to_be_bytes());
            }
            n
        };
        // The names are equal but for case, so they have the same length;
        // names in the records that point at the question follow its case.
        let qb = q.message().bytes();
        let name = q.qname_wire();
        out[..2].copy_from_slice(&qb[..2]);
        out[2] = (out[2] & !0x01) | (qb[2] & 0x01); // RD
        out[HEADER_LEN..HEADER_LEN + name.len()].copy_from_slice(name);
        Some(Hit::Written(len))
    }

    fn put(&self, key: &Key, msg: &[u8], now: Instant) {
        if !self.enabled() {
            return;
        }
        let Ok(m) = Message::parse(msg) else { return };
        let Some(ttl) = cache_ttl(&m).map(|t| t.min(self.max_ttl)) else {
            return;
        };
        if ttl == 0 || m.qname() != HEADER_LEN {
            return;
        }
        let ttls = [Section::Answer, Section::Authority, Section::Additional]
            .into_iter()
            .flat_map(|s| m.records(s))
            .filter(|rr| rr.rtype != rtype::OPT)
            .map(|rr| (rr.ttl_at as u16, rr.ttl))
            .collect();
        let Ok(mut shard) = self.shards[key.shard(self.shards.len())].lock() else {
            return;
        };
        if shard.map.len() >= self.cap_per_shard && !shard.map.contains_key(key.bytes()) {
            // Full: drop the expired entries (at most once a second), else
            // an arbitrary one.
            if shard
                .last_sweep
                .is_none_or(|t| now.saturating_duration_since(t) >= Duration::from_secs(1))
            {
                shard.last_sweep = Some(now);
                shard
                    .map
                    .retain(|_, e| now.saturating_duration_since(e.stored).as_secs() < u64::from(e.ttl));
            }
            if shard.map.len() >= self.cap_per_shard {
                if let Some(k) = shard.map.keys().next().cloned() {
                    shard.map.remove(&k);
                }
            }
        }
        shard.map.insert(
            key.bytes().into(),
            Entry {
                msg: msg.into(),
                ttls,
                stored: now,
                ttl,
            },
        );
    }
}

// ---- the resolver -------------------------------------------------------------

/// Why an upstream exchange gave nothing.
#[derive(Debug)]
enum UpstreamError {
    Timeout,
    Io,
}

/// The resolver state shared by every task.
pub struct Resolver {
    dns64: Dns64,
    upstreams: Vec<SocketAddr>,
    timeout: Duration,
    cache: Cache,
    /// Metrics.
    pub metrics: Metrics,
    /// The upstream tried first (the last one that answered).
    preferred: AtomicUsize,
    ids: std::collections::hash_map::RandomState,
    id_counter: AtomicU64,
    in_flight: AtomicUsize,
    /// The UDP queries in flight that have waited longer than [`JOSTLE`]:
    /// at most half of [`MAX_IN_FLIGHT`]. A slow query finding no room
    /// among them is given up (no answer; `slow_abandoned`), so that a burst
    /// of queries for names whose servers do not answer, each holding its
    /// slot for the whole upstream timeout, cannot take every slot and
    /// starve the names answered in time (as unbound, which lets half of
    /// its queries run to completion and replaces the others once older
    /// than jostle-timeout).
    slow_in_flight: AtomicUsize,
    tcp_conns: TcpConns,
}

impl Resolver {
    /// A resolver for these settings.
    pub fn new(s: &Settings) -> Result<Self, Box<dyn Error>> {
        Ok(Resolver {
            dns64: Dns64::new(s.dns64.clone())?,
            upstreams: s.upstreams.clone(),
            timeout: s.timeout,
            cache: Cache::new(s.cache_size, s.max_cache_ttl),
            metrics: Metrics::new(s.threads),
            preferred: AtomicUsize::new(0),
            ids: std::collections::hash_map::RandomState::new(),
            id_counter: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            slow_in_flight: AtomicUsize::new(0),
            tcp_conns: TcpConns::default(),
        })
    }

    /// An unpredictable query ID (RFC 5452 section 9.2): SipHash with a
    /// random key over a counter.
    fn next_id(&self) -> u16 {
        self.ids.hash_one(self.id_counter.fetch_add(1, Relaxed)) as u16
    }

    /// The answer to one client message, or `None` to stay silent.
    pub async fn handle(&self, msg: &[u8], client: IpAddr, tcp: bool) -> Option<Vec<u8>> {
        let start = Instant::now();
        let r = self.answer(msg, client, tcp, start).await;
        if r.is_some() {
            let m = self.metrics.mine();
            inc(&m.c.responses);
            m.dns64_latency.record(start.elapsed());
        }
        r
    }

    /// The answer to a UDP query from the cache, written into `out`: the
    /// common case, answered without a task or an allocation. `None` sends
    /// the query the full way ([`Resolver::handle`]).
    pub fn answer_cached(&self, msg: &[u8], client: IpAddr, now: Instant, out: &mut [u8]) -> Option<usize> {
        if !self.cache.enabled() {
            return None;
        }
        let q = Query::parse(msg).ok()?;
        let key = Key::new(&q, gets_dns64(self.dns64.plan(&q, client)))?;
        let limit = self.dns64.response_limit(&q, false).min(out.len());
        match self.cache.get(&key, &q, now, &mut out[..limit])? {
            Hit::Written(n) => {
                inc(&self.metrics.mine().c.cache_hits);
                Some(n)
            }
            Hit::TooBig(_) => None,
        }
    }

    fn error(&self, msg: &[u8], rc: u16) -> Option<Vec<u8>> {
        let c = &self.metrics.mine().c;
        inc(match rc {
            rcode::FORMERR => &c.formerr,
            rcode::NOTIMP => &c.notimp,
            rcode::BADVERS => &c.badvers,
            _ => &c.servfail,
        });
        let mut out = vec![0u8; 512];
        let n = self.dns64.error_response(msg, rc, &mut out).ok()??;
        out.truncate(n);
        Some(out)
    }

    async fn answer(&self, msg: &[u8], client: IpAddr, tcp: bool, now: Instant) -> Option<Vec<u8>> {
        let q = match Query::parse(msg) {
            Ok(q) => q,
            Err(e) => {
                return match e.rcode() {
                    Some(rc) => self.error(msg, rc),
                    None => {
                        inc(&self.metrics.mine().c.dropped);
                        None
                    }
                }
            }
        };
        let limit = self.dns64.response_limit(&q, tcp);
        let plan = self.dns64.plan(&q, client);
        let key = Key::new(&q, gets_dns64(plan));
        let mut out = vec![0u8; limit];
        let m = self.metrics.mine();
        match key.as_ref().and_then(|k| self.cache.get(k, &q, now, &mut out)) {
            Some(Hit::Written(n)) => {
                inc(&m.c.cache_hits);
                out.truncate(n);
                return Some(out);
            }
            Some(Hit::TooBig(c)) => {
                inc(&m.c.cache_hits);
                if let Ok(w) = self.dns64.relay(&q, &c, &mut out) {
                    if w.truncated {
                        inc(&m.c.truncated);
                    }
                    out.truncate(w.len);
                    return Some(out);
                }
            }
            None => {}
        }
        inc(&m.c.cache_misses);
        let written = match plan {
            Plan::Forward => match self.exchange(&q, q.qname_wire(), q.qtype()).await {
                Some(r) => self.dns64.relay(&q, &r, &mut out),
                None => return self.error(msg, rcode::SERVFAIL),
            },
            Plan::Local { synthesize } => self.dns64.answer_local(&q, synthesize, &mut out),
            Plan::Aaaa => {
                // RFC 6147 section 5.1.3: no answer counts as SERVFAIL, which
                // section 5.1.2 treats as an empty answer.
                let aaaa = self.exchange(&q, q.qname_wire(), rtype::AAAA).await;
                let a = match self.dns64.needs_a_query(&q, aaaa.as_deref()) {
                    Ok(Decision::Respond) => None,
                    Ok(Decision::QueryA) | Err(_) => self.exchange(&q, q.qname_wire(), rtype::A).await,
                };
                self.dns64.synthesize(&q, aaaa.as_deref(), a.as_deref(), &mut out)
            }
            Plan::Ptr(target) => {
                let ptr = self.exchange(&q, target.wire(), rtype::PTR).await;
                match ptr.map(|p| self.dns64.synthesize_ptr(&q, &target, &p, &mut out)) {
                    Some(Ok(Some(w))) => Ok(w),
                    _ => match self.exchange(&q, q.qname_wire(), q.qtype()).await {
                        Some(r) => self.dns64.relay(&q, &r, &mut out),
                        None => return self.error(msg, rcode::SERVFAIL),
                    },
                }
            }
        };
        let w = match written {
            Ok(w) => w,
            Err(_) => return self.error(msg, rcode::SERVFAIL),
        };
        let c = &self.metrics.mine().c;
        match w.answer {
            Answer::Synthesized { records } => {
                inc(&c.synthesized);
                c.synthesized_records.fetch_add(u64::from(records), Relaxed);
            }
            Answer::Filtered { .. } => inc(&c.filtered),
            Answer::Relayed => inc(&c.relayed),
            Answer::Empty => inc(&c.empty),
            Answer::PtrCname => inc(&c.ptr_cname),
            Answer::Local => inc(&c.local),
            _ => {}
        }
        out.truncate(w.len);
        if w.truncated {
            inc(&c.truncated);
        } else if out[3] & 0xf != rcode::SERVFAIL as u8 {
            if let Some(k) = &key {
                self.cache.put(k, &out, Instant::now());
            }
        }
        Some(out)
    }

    /// Asks the upstreams, in order from the preferred one, for
    /// `qname`/`qtype`. Timeouts, errors, SERVFAIL and REFUSED move on to the
    /// next; when every upstream failed, the last SERVFAIL/REFUSED answer
    /// (if any) is returned.
    async fn exchange(&self, q: &Query<'_>, qname: &[u8], qtype: u16) -> Option<Vec<u8>> {
        let n = self.upstreams.len();
        let first = self.preferred.load(Relaxed) % n;
        let mut last = None;
        for i in 0..n {
            let idx = (first + i) % n;
            let up = self.upstreams[idx];
            let id = self.next_id();
            let mut qbuf = [0u8; 300];
            let len = self.dns64.upstream_query(q, id, qname, qtype, &mut qbuf).ok()?;
            let t0 = Instant::now();
            inc(&self.metrics.mine().c.upstream_queries);
            let bad = &self.metrics.mine().c.upstream_bad_responses;
            let max = usize::from(self.dns64.config().edns_udp_size.max(512));
            let r = match udp_exchange(up, &qbuf[..len], id, qname, qtype, q.qclass(), self.timeout, max, bad).await {
                Ok(Udp::Truncated) => {
                    inc(&self.metrics.mine().c.upstream_tcp_retries);
                    tcp_exchange(up, &qbuf[..len], id, qname, qtype, q.qclass(), self.timeout, bad).await
                }
                Ok(Udp::Answer(r)) => Ok(r),
                Err(e) => Err(e),
            };
            match r {
                Ok(resp) => {
                    let m = self.metrics.mine();
                    m.upstream_latency.record(t0.elapsed());
                    if i > 0 {
                        inc(&m.c.upstream_failovers);
                    }
                    let rc = u16::from(resp[3] & 0xf);
                    if (rc == rcode::SERVFAIL || rc == rcode::REFUSED) && i + 1 < n {
                        last = Some(resp);
                        continue;
                    }
                    self.preferred.store(idx, Relaxed);
                    return Some(resp);
                }
                Err(UpstreamError::Timeout) => inc(&self.metrics.mine().c.upstream_timeouts),
                Err(UpstreamError::Io) => inc(&self.metrics.mine().c.upstream_errors),
            }
        }
        last
    }
}

/// Whether the client of this plan gets DNS64 (part of the cache key).
fn gets_dns64(plan: Plan) -> bool {
    match plan {
        Plan::Forward => false,
        Plan::Local { synthesize } => synthesize,
        Plan::Aaaa | Plan::Ptr(_) => true,
    }
}

/// Whether `resp` is the answer to our query: QR, our ID, our question.
fn matches(resp: &[u8], id: u16, qname: &[u8], qtype: u16, qclass: u16) -> bool {
    match Message::parse(resp) {
        Ok(m) => m.is_response() && m.id() == id && m.question_is(qname, qtype, qclass),
        Err(_) => false,
    }
}

fn unspecified_for(a: SocketAddr) -> SocketAddr {
    match a {
        SocketAddr::V4(_) => SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
        SocketAddr::V6(_) => SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0),
    }
}

/// One UDP exchange from a fresh socket (a random source port, RFC 5452
/// section 9.2); datagrams that are not the answer are ignored (and counted
/// in `bad`) until the deadline.
///
/// The receive buffer is the EDNS payload size the query advertised
/// (`max`, RFC 6891 section 6.2.3: the responder must not send more), plus
/// one byte to notice a responder that does: such an answer (with our ID)
/// comes back as [`Udp::Truncated`] and is asked again over TCP, like a TC
/// answer. Thousands of queries in flight then hold a few MiB, not 64 KiB
/// each.
#[allow(clippy::too_many_arguments)]
async fn udp_exchange(
    up: SocketAddr,
    query: &[u8],
    id: u16,
    qname: &[u8],
    qtype: u16,
    qclass: u16,
    timeout: Duration,
    max: usize,
    bad: &AtomicU64,
) -> Result<Udp, UpstreamError> {
    let deadline = tokio::time::Instant::now() + timeout;
    let sock = UdpSocket::bind(unspecified_for(up))
        .await
        .map_err(|_| UpstreamError::Io)?;
    sock.connect(up).await.map_err(|_| UpstreamError::Io)?;
    sock.send(query).await.map_err(|_| UpstreamError::Io)?;
    let mut buf = vec![0u8; max + 1];
    loop {
        match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
            Err(_) => return Err(UpstreamError::Timeout),
            Ok(Err(_)) => return Err(UpstreamError::Io),
            Ok(Ok(n)) if n > max => {
                // Cut by the buffer: only the header can be trusted to be
                // whole; TCP checks the question.
                if buf[..2] == id.to_be_bytes() && buf[2] & 0x80 != 0 {
                    return Ok(Udp::Truncated);
                }
                inc(bad);
            }
            Ok(Ok(n)) => {
                if matches(&buf[..n], id, qname, qtype, qclass) {
                    buf.truncate(n);
                    if buf[2] & (flags::TC >> 8) as u8 != 0 {
                        return Ok(Udp::Truncated);
                    }
                    return Ok(Udp::Answer(buf));
                }
                inc(bad);
            }
        }
    }
}

/// What a UDP exchange with an upstream gave.
enum Udp {
    /// A whole answer.
    Answer(Vec<u8>),
    /// TC set, or more than the advertised size: ask again over TCP.
    Truncated,
}

/// One TCP exchange (RFC 7766), after a truncated UDP answer; an answer
/// that is not the answer to the query is counted in `bad`.
#[allow(clippy::too_many_arguments)]
async fn tcp_exchange(
    up: SocketAddr,
    query: &[u8],
    id: u16,
    qname: &[u8],
    qtype: u16,
    qclass: u16,
    timeout: Duration,
    bad: &AtomicU64,
) -> Result<Vec<u8>, UpstreamError> {
    let run = async {
        let mut s = TcpStream::connect(up).await?;
        let mut m = Vec::with_capacity(query.len() + 2);
        m.extend_from_slice(&(query.len() as u16).to_be_bytes());
        m.extend_from_slice(query);
        s.write_all(&m).await?;
        let len = s.read_u16().await?;
        let mut buf = vec![0u8; usize::from(len)];
        s.read_exact(&mut buf).await?;
        Ok::<_, std::io::Error>(buf)
    };
    match tokio::time::timeout(timeout, run).await {
        Err(_) => Err(UpstreamError::Timeout),
        Ok(Err(_)) => Err(UpstreamError::Io),
        Ok(Ok(buf)) if matches(&buf, id, qname, qtype, qclass) => Ok(buf),
        Ok(Ok(_)) => {
            inc(bad);
            Err(UpstreamError::Io)
        }
    }
}

// ---- servers ----------------------------------------------------------------

/// One worker's UDP loop. Every worker reads the same socket (each through
/// its own descriptor, registered with its own runtime); whichever wakes
/// first takes the datagram. Cache hits are answered right here; the rest
/// become tasks.
async fn serve_udp(r: Arc<Resolver>, sock: Arc<UdpSocket>) {
    let mut buf = vec![0u8; MAX_MSG];
    let mut out = vec![0u8; MAX_MSG];
    loop {
        let (n, peer) = match sock.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors from earlier sends surface here on some systems.
            Err(_) => continue,
        };
        let m = r.metrics.mine();
        inc(&m.c.queries_udp);
        let now = Instant::now();
        if let Some(len) = r.answer_cached(&buf[..n], peer.ip(), now, &mut out) {
            match sock.try_send_to(&out[..len], peer) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    let (resp, s2) = (out[..len].to_vec(), sock.clone());
                    tokio::spawn(async move {
                        let _ = s2.send_to(&resp, peer).await;
                    });
                }
                _ => {}
            }
            inc(&m.c.responses);
            m.dns64_latency.record(now.elapsed());
            continue;
        }
        if r.in_flight.load(Relaxed) >= MAX_IN_FLIGHT {
            inc(&m.c.dropped);
            continue;
        }
        r.in_flight.fetch_add(1, Relaxed);
        let pkt = buf[..n].to_vec();
        let (r2, s2) = (r.clone(), sock.clone());
        tokio::spawn(async move {
            let mut answer = std::pin::pin!(r2.handle(&pkt, peer.ip(), false));
            let resp = match tokio::time::timeout(JOSTLE, &mut answer).await {
                Ok(resp) => resp,
                // Slow: room among the slow half, or given up (see
                // `Resolver::slow_in_flight`).
                Err(_) if r2.slow_in_flight.fetch_add(1, Relaxed) < MAX_IN_FLIGHT / 2 => {
                    let resp = answer.await;
                    r2.slow_in_flight.fetch_sub(1, Relaxed);
                    resp
                }
                Err(_) => {
                    r2.slow_in_flight.fetch_sub(1, Relaxed);
                    inc(&r2.metrics.mine().c.slow_abandoned);
                    None
                }
            };
            if let Some(resp) = resp {
                let _ = s2.send_to(&resp, peer).await;
            }
            r2.in_flight.fetch_sub(1, Relaxed);
        });
    }
}

/// The client TCP connections, at most [`MAX_TCP_CONNS`] at once.
///
/// RFC 7766 section 10 advises limiting the number of connections and how
/// long one may stay idle; section 6.2.3 lets a server close idle
/// connections, sooner when short of resources, and clients must expect it.
/// A cap alone lets a crowd of idle or stalled connections (slowloris) hold
/// every slot and lock other clients out for as long as it likes, so when
/// the slots are full a new connection takes the one that has gone longest
/// without completing a message, unless it is answering a query (bounded by
/// the upstream timeouts). Only when every connection is answering a query
/// is the new one refused.
#[derive(Default)]
struct TcpConns {
    open: Mutex<TcpSlots>,
}

#[derive(Default)]
struct TcpSlots {
    next_id: u64,
    slots: HashMap<u64, TcpSlot>,
}

struct TcpSlot {
    /// The same socket through another descriptor: shutting it down from
    /// any worker ends the connection's task (its read or write fails).
    sock: std::net::TcpStream,
    /// When it was accepted or last had an answer written.
    progress: Instant,
    /// Whether one of its queries is being answered.
    busy: bool,
}

impl TcpConns {
    fn slots(&self) -> std::sync::MutexGuard<'_, TcpSlots> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a new connection, closing the stalest idle one when full;
    /// `None` when every slot is busy.
    fn admit(&self, sock: std::net::TcpStream, c: &Counters) -> Option<u64> {
        let mut t = self.slots();
        if t.slots.len() >= MAX_TCP_CONNS {
            let stalest = t.slots.iter().filter(|(_, s)| !s.busy).min_by_key(|(_, s)| s.progress);
            let Some(id) = stalest.map(|(&id, _)| id) else {
                inc(&c.tcp_refused);
                return None;
            };
            if let Some(old) = t.slots.remove(&id) {
                let _ = old.sock.shutdown(std::net::Shutdown::Both);
                inc(&c.tcp_evicted);
            }
        }
        let id = t.next_id;
        t.next_id += 1;
        let progress = Instant::now();
        t.slots.insert(
            id,
            TcpSlot {
                sock,
                progress,
                busy: false,
            },
        );
        Some(id)
    }

    /// Marks a connection as answering a query, or not.
    fn set_busy(&self, id: u64, busy: bool) {
        if let Some(s) = self.slots().slots.get_mut(&id) {
            s.busy = busy;
        }
    }

    /// Notes that a connection had an answer written.
    fn answered(&self, id: u64) {
        if let Some(s) = self.slots().slots.get_mut(&id) {
            s.progress = Instant::now();
        }
    }

    fn remove(&self, id: u64) {
        self.slots().slots.remove(&id);
    }
}

/// A tokio stream and, for [`TcpConns`], another descriptor of its socket.
fn with_handle(s: TcpStream) -> std::io::Result<(TcpStream, std::net::TcpStream)> {
    let std = s.into_std()?;
    let dup = std.try_clone()?;
    Ok((TcpStream::from_std(std)?, dup))
}

/// One worker's TCP accept loop (the workers share the listening socket
/// like the UDP one).
async fn serve_tcp(r: Arc<Resolver>, l: TcpListener) {
    loop {
        let (s, peer) = match l.accept().await {
            Ok(x) => x,
            Err(_) => {
                // Out of file descriptors (EMFILE, ENFILE) or memory: the
                // connection stays queued and accept fails again at once.
                // Pause instead of spinning; the queries in flight give
                // their descriptors back within the upstream timeout.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let Ok((mut s, handle)) = with_handle(s) else {
            continue;
        };
        let Some(id) = r.tcp_conns.admit(handle, &r.metrics.mine().c) else {
            continue; // dropped: closes the connection
        };
        let r2 = r.clone();
        tokio::spawn(async move {
            let mut buf = vec![0u8; MAX_MSG];
            loop {
                let len = match tokio::time::timeout(TCP_IDLE, s.read_u16()).await {
                    Ok(Ok(l)) => usize::from(l),
                    _ => break,
                };
                // A message cut short (timeout, end of stream, error) is
                // not answered: the buffer would hold stale bytes.
                match tokio::time::timeout(TCP_IDLE, s.read_exact(&mut buf[..len])).await {
                    Ok(Ok(_)) => {}
                    _ => break,
                }
                inc(&r2.metrics.mine().c.queries_tcp);
                r2.tcp_conns.set_busy(id, true);
                let resp = r2.handle(&buf[..len], peer.ip(), true).await;
                r2.tcp_conns.set_busy(id, false);
                let Some(resp) = resp else {
                    break;
                };
                let mut m = Vec::with_capacity(resp.len() + 2);
                m.extend_from_slice(&(resp.len() as u16).to_be_bytes());
                m.extend_from_slice(&resp);
                // A client that does not read its answers holds the
                // connection no longer than an idle one.
                match tokio::time::timeout(TCP_IDLE, s.write_all(&m)).await {
                    Ok(Ok(())) => r2.tcp_conns.answered(id),
                    _ => break,
                }
            }
            r2.tcp_conns.remove(id);
        });
    }
}

/// Binds UDP and TCP on the same address; with port 0, a port free for both.
/// Both are non-blocking, ready for the workers' runtimes.
fn bind_pair(a: SocketAddr) -> std::io::Result<(std::net::UdpSocket, std::net::TcpListener)> {
    let mut tries = 0;
    loop {
        let u = std::net::UdpSocket::bind(a)?;
        let port = u.local_addr()?.port();
        match std::net::TcpListener::bind(SocketAddr::new(a.ip(), port)) {
            Ok(t) => {
                u.set_nonblocking(true)?;
                t.set_nonblocking(true)?;
                return Ok((u, t));
            }
            Err(_) if a.port() == 0 && tries < 20 => tries += 1,
            Err(e) => return Err(e),
        }
    }
}

/// One worker thread: a single-threaded runtime serving every listening
/// address until the process stops.
/// A worker's runtime and its own handles on every listening socket, made
/// before its thread starts, so that a failure (no descriptors left, say)
/// is reported by [`start`] rather than killing a running process.
struct WorkerIo {
    rt: tokio::runtime::Runtime,
    socks: Vec<(UdpSocket, TcpListener)>,
}

fn worker_io(socks: &[(std::net::UdpSocket, std::net::TcpListener)]) -> std::io::Result<WorkerIo> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut mine = Vec::with_capacity(socks.len());
    {
        // from_std registers the sockets with this runtime's reactor.
        let _in_rt = rt.enter();
        for (u, t) in socks {
            mine.push((
                UdpSocket::from_std(u.try_clone()?)?,
                TcpListener::from_std(t.try_clone()?)?,
            ));
        }
    }
    Ok(WorkerIo { rt, socks: mine })
}

fn worker(index: usize, r: Arc<Resolver>, io: WorkerIo) {
    WORKER.with(|w| w.set(index));
    let WorkerIo { rt, socks } = io;
    rt.block_on(async move {
        let mut tasks = Vec::new();
        for (u, t) in socks {
            tasks.push(tokio::spawn(serve_udp(r.clone(), Arc::new(u))));
            tasks.push(tokio::spawn(serve_tcp(r.clone(), t)));
        }
        for t in tasks {
            let _ = t.await;
        }
    })
}

/// A resolver started by [`start`]: its worker threads run until the
/// process exits.
pub struct Running {
    /// The bound addresses (UDP and TCP on each), ports filled in.
    pub addrs: Vec<SocketAddr>,
}

/// Binds every listening address, sets up every worker's runtime and
/// sockets, then starts the worker threads and the metrics thread and
/// returns. Used by `nat64 dns64` and by `nat64 gateway` when its file has
/// a `[dns64]` table (one process serving both). Everything that can fail
/// fails here, before any thread starts; the serving loops themselves do
/// not end.
pub fn start(s: &Settings) -> Result<Running, Box<dyn Error>> {
    let r = Arc::new(Resolver::new(s)?);
    // Every upstream query in flight holds a socket, every TCP client two
    // (the stream and the handle its registry keeps to shut it).
    let fds_needed = (MAX_IN_FLIGHT + 2 * MAX_TCP_CONNS + 64) as u64;
    match nat64_gateway::sys::raise_nofile_limit() {
        Ok(n) if n < fds_needed => eprintln!(
            "nat64 dns64: warning: the open-file limit is {n} (hard limit), below the {fds_needed} the in-flight \
             and TCP caps can use: under a burst of slow queries others get SERVFAIL; raise it (ulimit -Hn, \
             LimitNOFILE= in systemd)"
        ),
        Ok(_) => {}
        Err(e) => eprintln!("nat64 dns64: warning: cannot raise the open-file limit: {e}"),
    }
    let mut socks = Vec::new();
    let mut addrs = Vec::new();
    for &addr in &s.listen {
        let (u, t) = bind_pair(addr)
            .map_err(|e| format!("cannot listen on {addr}: {e} (port 53 needs root or CAP_NET_BIND_SERVICE)"))?;
        let la = u.local_addr()?;
        eprintln!("nat64 dns64: listening on udp {la} and tcp {la}");
        // Room for a burst of a few thousand queries while the workers
        // are busy; the kernel default (about 200 KiB) holds ~250.
        // Linux reports twice the size asked (its bookkeeping overhead).
        match nat64_gateway::sys::set_recv_buffer(&u, UDP_RCVBUF).map(|got| got / 2) {
            Ok(got) if got < UDP_RCVBUF => eprintln!(
                "nat64 dns64: udp {la}: receive buffer {got} bytes, not {UDP_RCVBUF} (net.core.rmem_max caps it \
                 without CAP_NET_ADMIN): bursts beyond it are dropped by the kernel"
            ),
            Ok(_) => {}
            Err(e) => eprintln!("nat64 dns64: udp {la}: cannot size the receive buffer: {e}"),
        }
        addrs.push(la);
        socks.push((u, t));
    }
    let cfg = r.dns64.config();
    let prefixes: Vec<String> = cfg.prefixes.iter().map(|p| p.to_string()).collect();
    let ups: Vec<String> = s.upstreams.iter().map(|u| u.to_string()).collect();
    eprintln!(
        "nat64 dns64: upstreams {}; prefixes {}; translate_all={} upstream_validates={} allow_ipv4={}{}; {} worker \
         thread{}",
        ups.join(", "),
        prefixes.join(", "),
        cfg.translate_all,
        cfg.upstream_validates,
        cfg.allow_ipv4,
        if cfg.allow_ipv4 {
            ""
        } else {
            " (clients asking over IPv4 get no synthesis)"
        },
        s.threads,
        if s.threads == 1 { "" } else { "s" },
    );
    if !s.metrics_interval.is_zero() {
        let (r2, every) = (r.clone(), s.metrics_interval);
        std::thread::Builder::new()
            .name("dns64-metrics".into())
            .spawn(move || loop {
                std::thread::sleep(every);
                eprintln!("{}", r2.metrics.json());
            })?;
    }
    let ios = (0..s.threads)
        .map(|_| worker_io(&socks))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(|e| format!("cannot set up the worker threads: {e}"))?;
    for (i, io) in ios.into_iter().enumerate() {
        let r2 = r.clone();
        std::thread::Builder::new()
            .name(format!("dns64-{i}"))
            .spawn(move || worker(i, r2, io))?;
    }
    Ok(Running { addrs })
}

/// Runs the resolver until the process is stopped.
pub fn run(a: Args) -> Result<ExitCode, Box<dyn Error>> {
    let s = settings(&a)?;
    start(&s)?;
    // The workers never return; a failing one exits the process.
    loop {
        std::thread::park();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_and_prefix_flags() {
        assert_eq!(parse_upstream("192.0.2.53").unwrap(), "192.0.2.53:53".parse().unwrap());
        assert_eq!(
            parse_upstream("[2001:db8::53]:5353").unwrap(),
            "[2001:db8::53]:5353".parse().unwrap()
        );
        assert_eq!(
            parse_upstream("2001:db8::53").unwrap(),
            "[2001:db8::53]:53".parse().unwrap()
        );
        assert!(parse_upstream("resolver").unwrap_err().contains("192.0.2.53:5353"));
        let r = parse_prefix_rule("2001:db8:1::/96=198.51.100.0/24, 203.0.113.0/24").unwrap();
        assert_eq!(r.mapped.len(), 2);
        assert!(parse_prefix_rule("2001:db8::/33").unwrap_err().contains("/32, /40"));
        // Exclusions and `any` (BIND's `mapped { !10/8; any; }`).
        let r = parse_prefix_rule("2001:db8:2::/96=!10.0.0.0/8, any").unwrap();
        assert_eq!(r.to_string(), "2001:db8:2::/96=!10.0.0.0/8,0.0.0.0/0");
        assert!(!r.maps("10.1.2.3".parse().unwrap()) && r.maps("192.0.2.1".parse().unwrap()));
        // The bad element is named.
        let e = parse_prefix_rule("2001:db8:2::/96=any,!10.0.0.1/8").unwrap_err();
        assert!(e.contains("element \"!10.0.0.1/8\"") && e.contains("10.0.0.0/8"), "{e}");
        let e = parse_prefix_rule("2001:db8:2::/96=!").unwrap_err();
        assert!(e.contains("element \"!\""), "{e}");
    }

    #[test]
    fn config_table_and_flags_merge() {
        let dir = std::env::temp_dir().join(format!("nat64-dns64-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            r#"
[translator]
pool6 = "64:ff9b::/96"

[dns64]
listen = ["127.0.0.1:5353"]
upstreams = ["127.0.0.1:5300", "[::1]"]
prefixes = [
  "64:ff9b::/96=!198.51.100.0/24",
  { prefix = "2001:db8:1::/96", mapped = ["198.51.100.0/24"] },
  { prefix = "2001:db8:2::/96", mapped = ["!198.51.100.0/24", "any"] },
]
exclude = ["::ffff:0:0/96", "2001:db8:bad::/48"]
clients = ["2001:db8::/32"]
translate_all = true
upstream_validates = true
timeout_ms = 300
"#,
        )
        .unwrap();
        let mut a = Args {
            config: Some(f.clone()),
            ..Args::default()
        };
        let s = settings(&a).unwrap();
        assert_eq!(s.upstreams[1], "[::1]:53".parse().unwrap());
        assert_eq!(s.dns64.prefixes.len(), 3);
        assert_eq!(s.dns64.prefixes[0].to_string(), "64:ff9b::/96=!198.51.100.0/24");
        assert_eq!(s.dns64.prefixes[1].mapped.len(), 1);
        assert_eq!(
            s.dns64.prefixes[2].to_string(),
            "2001:db8:2::/96=!198.51.100.0/24,0.0.0.0/0"
        );
        assert!(s.dns64.translate_all && !s.dns64.allow_ipv4);
        assert!(s.dns64.upstream_validates);
        assert_eq!(s.timeout, Duration::from_millis(300));
        a.upstreams = vec!["127.0.0.2:53".parse().unwrap()];
        a.timeout_ms = Some(100);
        let s = settings(&a).unwrap();
        assert_eq!(s.upstreams, vec!["127.0.0.2:53".parse().unwrap()]);
        assert_eq!(s.timeout, Duration::from_millis(100));
        std::fs::write(&f, "[dns64]\nupstream = [\"127.0.0.1\"]\n").unwrap();
        let e = settings(&a).unwrap_err().to_string();
        assert!(e.contains("unknown field `upstream`"), "{e}");
        std::fs::write(&f, "[dns64]\nupstream_validate = true\n").unwrap();
        let e = settings(&a).unwrap_err().to_string();
        assert!(e.contains("unknown field `upstream_validate`"), "{e}");
        std::fs::write(
            &f,
            "[dns64]\nprefixes = [{ prefix = \"2001:db8:1::/96\", mapped = [\"!10.0.0.0/8\", \"!300.0.0.0/8\"] }]\n",
        )
        .unwrap();
        let e = settings(&a).unwrap_err().to_string();
        assert!(
            e.contains("[dns64] prefixes") && e.contains("element \"!300.0.0.0/8\""),
            "{e}"
        );
        // Without the key or the flag: AD is not trusted.
        std::fs::write(&f, "[dns64]\ntranslate_all = true\n").unwrap();
        assert!(!settings(&a).unwrap().dns64.upstream_validates);
        a.upstream_validates = true;
        assert!(settings(&a).unwrap().dns64.upstream_validates);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn histogram_quantiles() {
        let h = Histogram::default();
        for _ in 0..98 {
            h.record(Duration::from_micros(80));
        }
        h.record(Duration::from_millis(30));
        h.record(Duration::from_secs(9));
        let mut s = HistogramSum::default();
        s.add(&h);
        assert_eq!(s.quantile_ms(0.5), Some(0.1));
        assert_eq!(s.quantile_ms(0.99), Some(50.0));
        assert_eq!(s.quantile_ms(1.0), Some(f64::INFINITY));
        s.add(&h); // a second worker's histogram
        assert_eq!(s.count, 200);
        assert_eq!(s.quantile_ms(0.99), Some(50.0));
    }

    #[test]
    fn cache_hits_take_the_clients_id_rd_and_spelling_and_age_the_ttls() {
        use nat64_core::dns64::testing::{read_section, MessageBuilder};
        let cache = Cache::new(2000, 86400);
        let first = MessageBuilder::query(1, "www.example.net", rtype::AAAA)
            .edns(1232, false)
            .build();
        let q = Query::parse(&first).unwrap();
        // As the resolver wrote it for the first client: the owner points at the question.
        let resp = MessageBuilder::response(1, "www.example.net", rtype::AAAA, rcode::NOERROR)
            .aaaa("@", 300, "64:ff9b::1".parse().unwrap())
            .authority()
            .soa("example.net", 3600, 60)
            .edns(1232, false)
            .build();
        let t0 = Instant::now();
        cache.put(&Key::new(&q, true).unwrap(), &resp, t0);

        // Another client: other ID, no RD, 0x20 spelling, 7 s later.
        let second = MessageBuilder::new(0xbeef, 0, "wWw.ExAmple.NET", rtype::AAAA)
            .edns(4096, false)
            .build();
        let q2 = Query::parse(&second).unwrap();
        let mut out = [0u8; 1232];
        let k2 = Key::new(&q2, true).unwrap();
        let Some(Hit::Written(n)) = cache.get(&k2, &q2, t0 + Duration::from_secs(7), &mut out) else {
            panic!("a hit")
        };
        let m = Message::parse(&out[..n]).unwrap();
        assert_eq!(m.id(), 0xbeef);
        assert_eq!(m.flags() & flags::RD, 0);
        assert!(m.is_response());
        assert_eq!(m.qname_wire(), q2.qname_wire(), "the client's spelling");
        let an = read_section(&out[..n], Section::Answer);
        assert_eq!(an[0].ttl, 293);
        assert_eq!(read_section(&out[..n], Section::Authority)[0].ttl, 3593);
        assert_eq!(m.edns().unwrap().udp_size, 1232, "OPT left alone");

        // Not for a client without EDNS, another DNS64 status, or DO.
        let plain = MessageBuilder::query(2, "www.example.net", rtype::AAAA).build();
        let qp = Query::parse(&plain).unwrap();
        assert!(cache.get(&Key::new(&qp, true).unwrap(), &qp, t0, &mut out).is_none());
        assert!(cache.get(&Key::new(&q, false).unwrap(), &q, t0, &mut out).is_none());
        let dnssec = MessageBuilder::query(3, "www.example.net", rtype::AAAA)
            .edns(1232, true)
            .build();
        let qd = Query::parse(&dnssec).unwrap();
        assert!(cache.get(&Key::new(&qd, true).unwrap(), &qd, t0, &mut out).is_none());

        // Too big for the client's buffer: an aged copy to truncate.
        let Some(Hit::TooBig(c)) = cache.get(&k2, &q2, t0 + Duration::from_secs(1), &mut out[..40]) else {
            panic!("too big")
        };
        assert_eq!(read_section(&c, Section::Answer)[0].ttl, 299);
        // Expired after its smallest TTL, 300 s (the answer has data: the
        // SOA minimum does not apply).
        assert!(cache.get(&k2, &q2, t0 + Duration::from_secs(300), &mut out).is_none());
        assert!(cache.get(&k2, &q2, t0, &mut out).is_none(), "removed once expired");
    }

    #[test]
    fn a_compressed_question_name_is_refused_so_cached_names_keep_their_length() {
        // QDCOUNT's high byte (0) read as the root name: "\xc0\x04".
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 4];
        m.extend_from_slice(&rtype::AAAA.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        assert!(Query::parse(&m).is_err());
    }

    #[test]
    fn a_full_cache_makes_room() {
        let cache = Cache::new(4, 86400);
        let t0 = Instant::now();
        for i in 0..10 {
            let qn = format!("n{i}.example");
            let qm = nat64_core::dns64::testing::query(1, &qn, rtype::A);
            let q = Query::parse(&qm).unwrap();
            let r = nat64_core::dns64::testing::a_response(&qn, &["192.0.2.1".parse().unwrap()], 60);
            cache.put(&Key::new(&q, false).unwrap(), &r, t0);
        }
        let n: usize = cache.shards.iter().map(|s| s.lock().unwrap().map.len()).sum();
        assert_eq!(n, 4);
    }
}
