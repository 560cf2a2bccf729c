//! `nat64 gateway`, `nat64 session display` and `nat64 stats`.
//!
//! `nat64 gateway --config FILE` runs a translator on a TUN device (see the
//! `nat64-gateway` crate): stateless SIIT (RFC 7915), stateful NAT64
//! (RFC 6146) or a 464XLAT CLAT (RFC 6877). The file reuses the
//! `[translator]` table of `nat64 translate` (config_file.rs) and adds:
//!
//! ```toml
//! [gateway]
//! mode = "nat64"                           # "siit", "nat64" (default) or "clat"
//! adapter = "tun"                          # or "af_packet" (see [af_packet])
//! device = "nat64"                         # the TUN device
//! workers = 1                              # worker threads
//! multi_queue = true                       # one TUN queue per worker
//! mtu = 1500
//! offload = true                           # TCP as 64 KiB super-packets (IFF_VNET_HDR)
//! configure = true                         # bring it up, add addresses and routes with `ip`
//! addresses = []                           # extra addresses of the device
//! routes = []                              # extra routes into the device
//! eamt_routes = "auto"                     # siit: EAMT sides not reached on another interface, or "none"
//! clients = ["fc00::/7"]                   # who may use the translator (not an open relay)
//! control_socket = "/run/nat64/nat64.sock" # "" turns it off
//! metrics = "127.0.0.1:9164"               # Prometheus; "" turns it off
//! log_level = "info"
//! icmp_errors_per_sec = 1000               # ICMP errors sent, all senders (0: no limit)
//! icmp_errors_burst = 50
//! icmp_errors_dest_interval_ms = 1000      # one per interval to each sender (0: no limit)
//! icmp_errors_dest_burst = 6
//!
//! [nat64]
//! pool4 = ["192.168.255.0/24"]             # ADDR[/LEN][:FIRST-LAST]
//! static_bib = ["tcp/2001:db8::5#80=192.168.255.1#80"]
//! timeouts = { udp = 300, tcp_est = 7440, tcp_trans = 240, icmp = 60 }
//!
//! [clat]
//! ipv6 = "2001:db8:1::464"                 # the host's address for translated traffic
//! ipv4 = "192.0.0.2"                       # the host's IPv4 address (RFC 7335)
//!
//! [af_packet]                              # with [gateway] adapter = "af_packet"
//! ipv6_interface = "eth0"
//! ipv4_interface = "eth1"
//! ipv6_next_hop = "auto"                   # "auto", a router's address, or a MAC
//! ipv4_next_hop = "auto"
//! ```
//!
//! Every key is optional except `[clat] ipv6` in CLAT mode; see
//! examples/gateway.toml for each key's meaning and default. Unknown keys
//! are errors and every error names its key.
//!
//! SIGHUP re-reads the file and applies it, keeping established sessions
//! (what a pool6 or pool4 change does is in the `nat64-gateway` crate's
//! gateway module); a file with an error is refused and the running
//! configuration stays. SIGTERM and SIGINT stop the gateway cleanly.

use std::error::Error;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args as ClapArgs, Subcommand};
use nat64_core::nat64::{
    Bib, Nat64Config, Pool4Entry, Pool4EntryError, Proto, StaticBibError, TableLimits, Timeouts, UDP_MIN,
};
use nat64_core::{Config, Eamt, IcmpRateLimit, IcmpRateLimitError, Ipv4Prefix, Ipv6Prefix, Prefix64};
use nat64_gateway::control::{self, Request, Response};
use nat64_gateway::log::{self, Level};
use nat64_gateway::settings::{Adapter, Cidr, Clients, Device, Mode, NextHop, PacketSide, Settings, Xlat};
use nat64_gateway::sys::{self, Signals};
use nat64_gateway::Gateway;
use serde::Deserialize;

use crate::config_file::{ConfigFileError, TranslatorTable};
use nat64_dns64::{Dns64Table, PrefixEntry};

/// The pool6 every mode starts with: the Well-Known Prefix (RFC 6052
/// section 2.1).
pub const DEFAULT_POOL6: &str = "64:ff9b::/96";
/// The default pool4: TAYGA's customary dynamic pool, private, to be
/// masqueraded to the host's public address (see examples/gateway.toml).
pub const DEFAULT_POOL4: &str = "192.168.255.0/24";
/// Default clients in SIIT and NAT64 mode: unique local addresses (RFC 4193).
pub const DEFAULT_CLIENTS6: &str = "fc00::/7";
/// Default clients in CLAT mode: the IPv4 service continuity prefix (RFC 7335).
pub const DEFAULT_CLIENTS4: &str = "192.0.0.0/29";

/// `nat64 gateway`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The configuration file (TOML); without it, the built-in defaults: stateful
    /// NAT64, pool6 64:ff9b::/96, pool4 192.168.255.0/24, clients fc00::/7.
    #[arg(long, short)]
    pub config: Option<PathBuf>,
    /// Check the configuration, print what the gateway would run with, and exit.
    #[arg(long)]
    pub check: bool,
}

/// `nat64 session ...`.
#[derive(Debug, Subcommand)]
pub enum SessionCmd {
    /// Show the stateful gateway's sessions (RFC 6146 section 3.1), like Jool's `session display`.
    Display(DisplayArgs),
}

/// `nat64 session display`.
#[derive(Debug, ClapArgs)]
pub struct DisplayArgs {
    /// Only TCP sessions.
    #[arg(long)]
    pub tcp: bool,
    /// Only UDP sessions.
    #[arg(long)]
    pub udp: bool,
    /// Only ICMP sessions.
    #[arg(long)]
    pub icmp: bool,
    /// The gateway's control socket.
    #[arg(long, default_value = control::DEFAULT_SOCKET)]
    pub socket: PathBuf,
    /// Print the JSON the gateway answered.
    #[arg(long)]
    pub json: bool,
    /// Instead of the sessions, their count per client: the IPv6 source
    /// address masked to LEN bits (the gateway's `client_prefix_len`, as the
    /// quota counts them), largest first. Who holds its quota?
    #[arg(long, value_name = "LEN", value_parser = clap::value_parser!(u8).range(0..=128))]
    pub by_client: Option<u8>,
}

/// `nat64 stats`.
#[derive(Debug, ClapArgs)]
pub struct StatsArgs {
    /// The gateway's control socket.
    #[arg(long, default_value = control::DEFAULT_SOCKET)]
    pub socket: PathBuf,
    /// Show drop reasons that are still zero too.
    #[arg(long)]
    pub all: bool,
    /// Print the JSON the gateway answered.
    #[arg(long)]
    pub json: bool,
}

// ------------------------------------------------------------------ the file

/// A gateway configuration that cannot be used. Every message names the key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GatewayConfigError {
    /// The `[translator]` table, or the file itself.
    #[error(transparent)]
    File(#[from] ConfigFileError),
    /// A key with a bad value.
    #[error("[{table}] {key} = {value:?}: {why}")]
    Value {
        /// The table.
        table: &'static str,
        /// The key (with its index for lists).
        key: String,
        /// The text given.
        value: String,
        /// What is wrong and what to write instead.
        why: String,
    },
    /// A key that is required.
    #[error("[{table}] {key} is required: {why}")]
    Missing {
        /// The table.
        table: &'static str,
        /// The key.
        key: &'static str,
        /// What to give.
        why: &'static str,
    },
    /// The `[dns64]` table (the resolver's own message).
    #[error("in [dns64]: {0}")]
    Dns64(String),
    /// A setting that does not belong to the mode.
    #[error("[{table}] is set but [gateway] mode = \"{mode}\" does not use it; remove it or change the mode")]
    WrongMode {
        /// The table.
        table: &'static str,
        /// The mode.
        mode: Mode,
    },
}

fn bad(
    table: &'static str,
    key: impl Into<String>,
    value: impl Into<String>,
    why: impl Into<String>,
) -> GatewayConfigError {
    GatewayConfigError::Value {
        table,
        key: key.into(),
        value: value.into(),
        why: why.into(),
    }
}

/// The file's tables.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayFile {
    /// `[gateway]`.
    #[serde(default)]
    pub gateway: GatewayTable,
    /// `[translator]`, shared with `nat64 translate`.
    #[serde(default)]
    pub translator: TranslatorTable,
    /// `[nat64]`.
    pub nat64: Option<Nat64Table>,
    /// `[clat]`.
    pub clat: Option<ClatTable>,
    /// `[af_packet]`.
    pub af_packet: Option<AfPacketTable>,
    /// `[dns64]`: when present, the gateway process also runs the DNS64
    /// resolver of `nat64 dns64` (the same keys), so one process and one
    /// file serve both.
    pub dns64: Option<Dns64Table>,
}

/// `[af_packet]`: the AF_PACKET adapter's interfaces.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AfPacketTable {
    /// The IPv6-side interface.
    pub ipv6_interface: Option<String>,
    /// The IPv4-side interface.
    pub ipv4_interface: Option<String>,
    /// "auto", a router's address, or a MAC address.
    pub ipv6_next_hop: Option<String>,
    /// "auto", a router's address, or a MAC address.
    pub ipv4_next_hop: Option<String>,
}

/// `[gateway]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GatewayTable {
    /// "siit", "nat64" or "clat".
    pub mode: Option<String>,
    /// "tun" or "af_packet".
    pub adapter: Option<String>,
    /// TUN device name.
    pub device: Option<String>,
    /// Worker threads.
    pub workers: Option<usize>,
    /// One TUN queue per worker.
    pub multi_queue: Option<bool>,
    /// Device MTU.
    pub mtu: Option<u32>,
    /// TUN offloads (TCP super-packets, partial checksums).
    pub offload: Option<bool>,
    /// Configure the device with `ip`.
    pub configure: Option<bool>,
    /// Extra device addresses ("addr/len").
    pub addresses: Option<Vec<String>>,
    /// Extra routes into the device.
    pub routes: Option<Vec<String>>,
    /// SIIT: which EAMT sides are routed into the device, "auto" or "none".
    pub eamt_routes: Option<String>,
    /// Client prefixes.
    pub clients: Option<Vec<String>>,
    /// Control socket path ("" = none).
    pub control_socket: Option<String>,
    /// Metrics address ("" = none).
    pub metrics: Option<String>,
    /// "error", "warn", "info" or "debug".
    pub log_level: Option<String>,
    /// ICMP errors the translator may send per second, all destinations
    /// together (RFC 4443 section 2.4 (f); 0: no limit).
    pub icmp_errors_per_sec: Option<u32>,
    /// Their burst.
    pub icmp_errors_burst: Option<u32>,
    /// One ICMP error per this many milliseconds to any one destination
    /// (0: no per-destination limit).
    pub icmp_errors_dest_interval_ms: Option<u64>,
    /// The per-destination burst.
    pub icmp_errors_dest_burst: Option<u32>,
}

/// `[nat64]`: the stateful translator (RFC 6146).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Nat64Table {
    /// pool4 entries, `ADDR[/LEN][:FIRST-LAST]`.
    pub pool4: Option<Vec<String>>,
    /// Static BIB entries, "PROTO/V6ADDR#PORT=V4ADDR#PORT".
    pub static_bib: Option<Vec<String>>,
    /// Session lifetimes in seconds.
    pub timeouts: Option<TimeoutsTable>,
    /// RFC 6146 section 3.5.
    pub address_dependent_filtering: Option<bool>,
    /// RFC 6146 section 3.5.2.2.
    pub drop_externally_initiated_tcp: Option<bool>,
    /// RFC 6146 section 3.5.3.
    pub drop_icmpv6_info: Option<bool>,
    /// Unsolicited SYNs held at once.
    pub max_simultaneous_opens: Option<usize>,
    /// Jool's handle-rst-during-fin-rcv.
    pub handle_rst_during_fin_rcv: Option<bool>,
    /// Session cap.
    pub max_sessions: Option<usize>,
    /// Per-client quota (0: none).
    pub max_sessions_per_client: Option<usize>,
    /// What a client is for the quota (prefix length).
    pub client_prefix_len: Option<u8>,
}

/// `[nat64.timeouts]`, in seconds.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsTable {
    /// UDP (at least 120, RFC 6146 section 4).
    pub udp: Option<u64>,
    /// TCP established.
    pub tcp_est: Option<u64>,
    /// TCP transitory.
    pub tcp_trans: Option<u64>,
    /// ICMP query.
    pub icmp: Option<u64>,
    /// Unsolicited SYN hold time.
    pub tcp_incoming_syn: Option<u64>,
}

/// `[clat]`: RFC 6877 customer-side translator.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClatTable {
    /// The host's IPv6 address for translated traffic (not assigned to
    /// any interface: the CLAT owns it).
    pub ipv6: Option<String>,
    /// The host's IPv4 address (default 192.0.0.2, RFC 7335).
    pub ipv4: Option<String>,
    /// Route the IPv4 default route into the device (default true).
    pub default_route: Option<bool>,
}

/// The settings and the log level a file gives.
#[derive(Debug)]
pub struct Loaded {
    /// For the gateway.
    pub settings: Settings,
    /// For the logs.
    pub log_level: Level,
    /// The `[dns64]` table in effect (`prefixes` filled in from `pool6`
    /// when not given), to tell a reload that changes the resolver.
    pub dns64_table: Option<Dns64Table>,
    /// The resolver's settings, when the file has a `[dns64]` table.
    pub dns64: Option<nat64_dns64::Settings>,
}

impl GatewayFile {
    /// Parses a file's text.
    pub fn parse(text: &str) -> Result<Self, GatewayConfigError> {
        toml::from_str(text)
            .map_err(|e| GatewayConfigError::File(ConfigFileError::Syntax(e.to_string().trim_end().to_owned())))
    }
}

/// Reads `path` (or the defaults) into settings.
pub fn load(path: Option<&Path>) -> Result<Loaded, GatewayConfigError> {
    let file = match path {
        None => GatewayFile::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|error| ConfigFileError::Read {
                path: p.to_owned(),
                error,
            })?;
            GatewayFile::parse(&text).map_err(|e| match e {
                GatewayConfigError::File(f) => GatewayConfigError::File(f.in_file(p)),
                e => e,
            })?
        }
    };
    build(&file).map_err(|e| match (e, path) {
        (GatewayConfigError::File(f), Some(p)) => GatewayConfigError::File(f.in_file(p)),
        (e, _) => e,
    })
}

fn parse_cidr(table: &'static str, key: String, s: &str) -> Result<Cidr, GatewayConfigError> {
    let (a, l) = s.split_once('/').unwrap_or((s, ""));
    let addr: IpAddr = a.trim().parse().map_err(|_| {
        bad(
            table,
            key.clone(),
            s,
            "not an address/length, e.g. 2001:db8::1/64 or 192.0.2.1/24",
        )
    })?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = if l.is_empty() {
        max
    } else {
        l.parse::<u8>()
            .ok()
            .filter(|&n| n <= max)
            .ok_or_else(|| bad(table, key, s, format!("the prefix length must be 0 to {max}")))?
    };
    Ok(Cidr { addr, len })
}

/// A pool4 entry (the core's text form), the error naming the key.
pub fn parse_pool4(key: String, s: &str) -> Result<Pool4Entry, GatewayConfigError> {
    s.parse()
        .map_err(|e: Pool4EntryError| bad("nat64", key, s, e.to_string()))
}

/// A static BIB entry (the core's text form), the error naming the key.
pub fn parse_static_bib(key: String, s: &str) -> Result<Bib, GatewayConfigError> {
    s.parse()
        .map_err(|e: StaticBibError| bad("nat64", key, s, e.to_string()))
}

fn build(f: &GatewayFile) -> Result<Loaded, GatewayConfigError> {
    let g = &f.gateway;
    let mode = match g.mode.as_deref().unwrap_or("nat64") {
        "siit" => Mode::Siit,
        "nat64" => Mode::Nat64,
        "clat" => Mode::Clat,
        m => return Err(bad("gateway", "mode", m, "use \"siit\", \"nat64\" or \"clat\"")),
    };
    let log_level = match g.log_level.as_deref() {
        None => Level::Info,
        Some(l) => Level::parse(l).ok_or_else(|| bad("gateway", "log_level", l, "use error, warn, info or debug"))?,
    };
    if let (Some(v), false) = (&g.eamt_routes, mode == Mode::Siit) {
        return Err(bad(
            "gateway",
            "eamt_routes",
            v,
            format!("only SIIT routes EAMT entries into the device (mode is {mode}); remove it"),
        ));
    }
    if f.nat64.is_some() && mode != Mode::Nat64 {
        return Err(GatewayConfigError::WrongMode { table: "nat64", mode });
    }
    if f.clat.is_some() && mode != Mode::Clat {
        return Err(GatewayConfigError::WrongMode { table: "clat", mode });
    }
    // [translator], over the mode's defaults.
    let mut xlat = Config::with_pool6(DEFAULT_POOL6.parse().expect("the default pool6 parses"));
    f.translator.apply(&mut xlat)?;
    let pool6: Option<Prefix64> = xlat.pool6;
    let mut routes: Vec<Cidr> = Vec::new();
    let mut eamt_routes: Vec<Cidr> = Vec::new();
    let mut addresses: Vec<Cidr> = Vec::new();
    // pool6 is routed into the device, except by a CLAT, whose pool6 is the
    // PLAT's prefix, reached through the host's uplink.
    if let (Some(p), false) = (pool6, mode == Mode::Clat) {
        routes.push(p.prefix().into());
    }
    let xl = match mode {
        Mode::Siit => {
            // RFC 7757: each entry's side that stands for a node on the
            // other network is a destination to translate; the side that is
            // the node's own address is reached on its link. The gateway
            // tells them apart with the kernel's routes when it starts.
            match g.eamt_routes.as_deref().unwrap_or("auto") {
                "auto" => {
                    for e in xlat.eamt.entries() {
                        eamt_routes.push(e.v6.into());
                        eamt_routes.push(e.v4.into());
                    }
                }
                "none" => {}
                v => {
                    return Err(bad(
                        "gateway",
                        "eamt_routes",
                        v,
                        "use \"auto\" (each EAMT side the kernel does not reach on another interface) or \"none\" (list the device's routes in [gateway] routes)",
                    ))
                }
            }
            xlat.validate().map_err(ConfigFileError::invalid)?;
            Xlat::Stateless(Box::new(xlat))
        }
        Mode::Clat => {
            let c = f.clat.as_ref();
            let ipv6 = c.and_then(|c| c.ipv6.as_deref()).ok_or(GatewayConfigError::Missing {
                table: "clat",
                key: "ipv6",
                why: "the IPv6 address the CLAT translates the host's IPv4 traffic to and from (one not assigned to any interface, e.g. from the host's /64)",
            })?;
            let ipv6: Ipv6Addr = ipv6
                .trim()
                .parse()
                .map_err(|_| bad("clat", "ipv6", ipv6, "not an IPv6 address, e.g. 2001:db8:1::464"))?;
            let ipv4_text = c.and_then(|c| c.ipv4.as_deref()).unwrap_or("192.0.0.2");
            let ipv4: Ipv4Addr = ipv4_text.trim().parse().map_err(|_| {
                bad(
                    "clat",
                    "ipv4",
                    ipv4_text,
                    "not an IPv4 address, e.g. 192.0.0.2 (RFC 7335)",
                )
            })?;
            if f.translator.eamt.is_some() {
                return Err(bad(
                    "translator",
                    "eamt",
                    "...",
                    "in CLAT mode the EAMT is built from [clat] ipv4 and ipv6; remove it",
                ));
            }
            let mut eamt = Eamt::new();
            eamt.add(Ipv4Prefix::host(ipv4), Ipv6Prefix::host(ipv6), false)
                .map_err(|e| bad("clat", "ipv4/ipv6", format!("{ipv4} <-> {ipv6}"), e.to_string()))?;
            xlat.eamt = eamt;
            // RFC 7757 section 4.2 hairpinning is for EAMs of nodes on the
            // IPv6 side (SIIT-DC); a CLAT's EAM is the host's IPv4 side, so
            // every reply would be hairpinned back to IPv6.
            if f.translator
                .eam_hairpin_mode
                .is_some_and(|m| m != nat64_core::HairpinMode::Off)
            {
                return Err(bad(
                    "translator",
                    "eam_hairpin_mode",
                    "simple/intrinsic",
                    "a CLAT's EAM maps the host's own IPv4 address, so hairpinning must be \"off\" (the default in CLAT mode)",
                ));
            }
            xlat.eam_hairpin_mode = nat64_core::HairpinMode::Off;
            if xlat.own_ipv4.is_none() {
                xlat.own_ipv4 = Some(Ipv4Addr::new(192, 0, 0, 1));
            }
            if xlat.own_ipv6.is_none() {
                xlat.own_ipv6 = Some(ipv6);
            }
            addresses.push(Cidr {
                addr: ipv4.into(),
                len: 32,
            });
            routes.push(Ipv6Prefix::host(ipv6).into());
            if c.and_then(|c| c.default_route).unwrap_or(true) {
                routes.push(Cidr {
                    addr: Ipv4Addr::UNSPECIFIED.into(),
                    len: 0,
                });
            }
            xlat.validate().map_err(ConfigFileError::invalid)?;
            Xlat::Stateless(Box::new(xlat))
        }
        Mode::Nat64 => {
            let empty = Nat64Table::default();
            let n = f.nat64.as_ref().unwrap_or(&empty);
            let pool4 = match &n.pool4 {
                None => vec![parse_pool4("pool4[1]".into(), DEFAULT_POOL4)?],
                Some(v) if v.is_empty() => {
                    return Err(bad("nat64", "pool4", "[]", "give at least one IPv4 address or prefix"))
                }
                Some(v) => v
                    .iter()
                    .enumerate()
                    .map(|(i, s)| parse_pool4(format!("pool4[{}]", i + 1), s))
                    .collect::<Result<_, _>>()?,
            };
            let pool6 = pool6.ok_or(GatewayConfigError::Missing {
                table: "translator",
                key: "pool6",
                why: "stateful NAT64 needs pool6 (e.g. 64:ff9b::/96)",
            })?;
            for e in &pool4 {
                routes.push(e.prefix.into());
            }
            if xlat.own_ipv4.is_none() {
                // The first host address of the first entry (not the .0 of a prefix).
                let p = pool4[0].prefix;
                xlat.own_ipv4 = Some(if p.size() > 2 { p.nth(1) } else { p.addr() });
            }
            if xlat.own_ipv6.is_none() {
                xlat.own_ipv6 = xlat.own_ipv4.map(|a| pool6.embed(a));
            }
            let mut cfg = Nat64Config::new(pool6, pool4);
            cfg.xlat = xlat;
            if let Some(list) = &n.static_bib {
                cfg.static_bib = list
                    .iter()
                    .enumerate()
                    .map(|(i, s)| parse_static_bib(format!("static_bib[{}]", i + 1), s))
                    .collect::<Result<_, _>>()?;
            }
            if let Some(t) = &n.timeouts {
                let d = Timeouts::default();
                let secs = |v: Option<u64>, dflt: Duration| v.map(Duration::from_secs).unwrap_or(dflt);
                cfg.timeouts = Timeouts {
                    udp: secs(t.udp, d.udp),
                    tcp_est: secs(t.tcp_est, d.tcp_est),
                    tcp_trans: secs(t.tcp_trans, d.tcp_trans),
                    icmp: secs(t.icmp, d.icmp),
                    tcp_incoming_syn: secs(t.tcp_incoming_syn, d.tcp_incoming_syn),
                };
                for (k, v) in [
                    ("timeouts.tcp_est", t.tcp_est),
                    ("timeouts.tcp_trans", t.tcp_trans),
                    ("timeouts.icmp", t.icmp),
                    ("timeouts.tcp_incoming_syn", t.tcp_incoming_syn),
                ] {
                    if v == Some(0) {
                        return Err(bad(
                            "nat64",
                            k,
                            "0",
                            "a timeout of 0 s expires every session at once; give seconds >= 1",
                        ));
                    }
                }
                if let Some(u) = t.udp {
                    if u < UDP_MIN.as_secs() {
                        return Err(bad(
                            "nat64",
                            "timeouts.udp",
                            u.to_string(),
                            "RFC 6146 section 4 requires at least 120 s (UDP_MIN)",
                        ));
                    }
                }
            }
            let b = |v: Option<bool>, d: bool| v.unwrap_or(d);
            cfg.address_dependent_filtering = b(n.address_dependent_filtering, cfg.address_dependent_filtering);
            cfg.drop_externally_initiated_tcp = b(n.drop_externally_initiated_tcp, cfg.drop_externally_initiated_tcp);
            cfg.drop_icmpv6_info = b(n.drop_icmpv6_info, cfg.drop_icmpv6_info);
            cfg.handle_rst_during_fin_rcv = b(n.handle_rst_during_fin_rcv, cfg.handle_rst_during_fin_rcv);
            if let Some(v) = n.max_simultaneous_opens {
                cfg.max_simultaneous_opens = v;
            }
            let d = TableLimits::default();
            cfg.limits = TableLimits {
                max_sessions: n.max_sessions.unwrap_or(d.max_sessions),
                max_sessions_per_client: n.max_sessions_per_client.unwrap_or(d.max_sessions_per_client),
                client_prefix_len: n.client_prefix_len.unwrap_or(d.client_prefix_len),
            };
            if cfg.limits.max_sessions == 0 {
                return Err(bad(
                    "nat64",
                    "max_sessions",
                    "0",
                    "give the most sessions at once, e.g. 1048576",
                ));
            }
            if cfg.limits.client_prefix_len > 128 {
                return Err(bad(
                    "nat64",
                    "client_prefix_len",
                    cfg.limits.client_prefix_len.to_string(),
                    "a prefix length of 0 to 128",
                ));
            }
            cfg.secret = [nat64_gateway::table::random_u64(), nat64_gateway::table::random_u64()];
            // The core's own checks, named as keys here.
            nat64_core::nat64::Nat64::new(cfg.clone()).map_err(|e| bad("nat64", "settings", "", e.to_string()))?;
            Xlat::Stateful(Box::new(cfg))
        }
    };
    let clients = match (mode, &g.clients) {
        (Mode::Clat, list) => {
            let list: Vec<String> = list.clone().unwrap_or_else(|| vec![DEFAULT_CLIENTS4.into()]);
            Clients::V4(
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        s.trim().parse::<Ipv4Prefix>().map_err(|e| {
                            bad(
                                "gateway",
                                format!("clients[{}]", i + 1),
                                s,
                                format!(
                                    "{e} (in CLAT mode the clients are the host's IPv4 prefixes, e.g. 192.0.0.0/29)"
                                ),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
        (_, list) => {
            let list: Vec<String> = list.clone().unwrap_or_else(|| vec![DEFAULT_CLIENTS6.into()]);
            Clients::V6(
                list.iter()
                    .enumerate()
                    .map(|(i, s)| {
                        s.trim().parse::<Ipv6Prefix>().map_err(|e| {
                            bad(
                                "gateway",
                                format!("clients[{}]", i + 1),
                                s,
                                format!("{e} (the IPv6 prefixes of the clients, e.g. 2001:db8:1::/64)"),
                            )
                        })
                    })
                    .collect::<Result<_, _>>()?,
            )
        }
    };
    for (i, s) in g.addresses.iter().flatten().enumerate() {
        addresses.push(parse_cidr("gateway", format!("addresses[{}]", i + 1), s)?);
    }
    for (i, s) in g.routes.iter().flatten().enumerate() {
        routes.push(parse_cidr("gateway", format!("routes[{}]", i + 1), s)?);
    }
    let device = g.device.clone().unwrap_or_else(|| "nat64".into());
    if device.is_empty() || device.len() > 15 || device.contains(|c: char| c == '/' || c.is_whitespace()) {
        return Err(bad(
            "gateway",
            "device",
            &device,
            "an interface name of 1 to 15 characters, no '/' or spaces",
        ));
    }
    let workers = g.workers.unwrap_or(1);
    if workers == 0 || workers > 64 {
        return Err(bad(
            "gateway",
            "workers",
            workers.to_string(),
            "1 to 64 (one per core is a good start)",
        ));
    }
    let mtu = g.mtu.unwrap_or(1500);
    if !(1280..=65535).contains(&mtu) {
        return Err(bad(
            "gateway",
            "mtu",
            mtu.to_string(),
            "1280 to 65535 (the device carries IPv6)",
        ));
    }
    let control_socket = match g.control_socket.as_deref() {
        None => Some(PathBuf::from(control::DEFAULT_SOCKET)),
        Some("") => None,
        Some(p) => Some(PathBuf::from(p)),
    };
    let metrics = match g.metrics.as_deref() {
        None => Some(
            nat64_gateway::metrics::DEFAULT_ADDR
                .parse()
                .expect("the default parses"),
        ),
        Some("") => None,
        Some(a) => {
            let sa: SocketAddr = a.parse().map_err(|_| {
                bad(
                    "gateway",
                    "metrics",
                    a,
                    "an address:port on loopback, e.g. 127.0.0.1:9164, or \"\" for none",
                )
            })?;
            if !sa.ip().is_loopback() {
                return Err(bad(
                    "gateway",
                    "metrics",
                    a,
                    "the endpoint has no authentication, so it listens on loopback only (127.0.0.1 or [::1])",
                ));
            }
            Some(sa)
        }
    };
    let adapter = match g.adapter.as_deref().unwrap_or("tun") {
        "tun" => {
            if f.af_packet.is_some() {
                return Err(bad(
                    "gateway",
                    "adapter",
                    "tun",
                    "[af_packet] is set but the adapter is the TUN device; set adapter = \"af_packet\" or remove [af_packet]",
                ));
            }
            Adapter::Tun
        }
        "af_packet" => {
            if mode == Mode::Clat {
                return Err(bad(
                    "gateway",
                    "adapter",
                    "af_packet",
                    "a CLAT translates the host's own IPv4 traffic, which only a TUN device receives; use \"tun\"",
                ));
            }
            if g.addresses.as_ref().is_some_and(|a| !a.is_empty()) {
                return Err(bad(
                    "gateway",
                    "addresses",
                    "...",
                    "addresses belong to the TUN device; with adapter = \"af_packet\" give the interfaces their addresses yourself",
                ));
            }
            let empty = AfPacketTable::default();
            let t = f.af_packet.as_ref().unwrap_or(&empty);
            let iface = |key: &'static str, v: &Option<String>| -> Result<String, GatewayConfigError> {
                let v = v.as_deref().ok_or(GatewayConfigError::Missing {
                    table: "af_packet",
                    key,
                    why: "the Ethernet interface of that side (the same one for both sides is fine)",
                })?;
                if v.is_empty() || v.len() > 15 || v.contains(|c: char| c == '/' || c.is_whitespace()) {
                    return Err(bad("af_packet", key, v, "an interface name of 1 to 15 characters"));
                }
                Ok(v.to_owned())
            };
            let hop = |key: &'static str, v: &Option<String>, v4: bool| -> Result<NextHop, GatewayConfigError> {
                let Some(v) = v.as_deref().map(str::trim) else {
                    return Ok(NextHop::Auto);
                };
                if v == "auto" {
                    return Ok(NextHop::Auto);
                }
                if let Some(m) = nat64_gateway::netconf::parse_mac(v) {
                    return Ok(NextHop::Mac(m));
                }
                match v.parse::<IpAddr>() {
                    Ok(a) if a.is_ipv4() == v4 => Ok(NextHop::Address(a)),
                    _ => Err(bad(
                        "af_packet",
                        key,
                        v,
                        format!(
                            "\"auto\" (the kernel's routes and neighbours), the {} address of a router, or a MAC address like 02:00:00:00:00:01",
                            if v4 { "IPv4" } else { "IPv6" }
                        ),
                    )),
                }
            };
            Adapter::AfPacket {
                ipv6: PacketSide {
                    interface: iface("ipv6_interface", &t.ipv6_interface)?,
                    next_hop: hop("ipv6_next_hop", &t.ipv6_next_hop, false)?,
                },
                ipv4: PacketSide {
                    interface: iface("ipv4_interface", &t.ipv4_interface)?,
                    next_hop: hop("ipv4_next_hop", &t.ipv4_next_hop, true)?,
                },
            }
        }
        a => return Err(bad("gateway", "adapter", a, "use \"tun\" or \"af_packet\"")),
    };
    let icmp_rate = icmp_rate(g)?;
    let settings = Settings {
        mode,
        xlat: xl,
        clients,
        adapter,
        device: Device {
            name: device,
            workers,
            multi_queue: g.multi_queue.unwrap_or(true),
            mtu,
            offload: g.offload.unwrap_or(true),
            configure: g.configure.unwrap_or(true),
            addresses,
            routes,
            eamt_routes,
        },
        control_socket,
        metrics,
        icmp_rate,
    };
    let (dns64_table, dns64) = match &f.dns64 {
        None => (None, None),
        Some(t) => {
            let t = dns64_table_in_effect(t, settings.xlat.xlat().pool6);
            let d = dns64_settings(&t)?;
            (Some(t), Some(d))
        }
    };
    Ok(Loaded {
        settings,
        log_level,
        dns64_table,
        dns64,
    })
}

/// `[gateway] icmp_errors_*` over Linux's limits (the core's default).
fn icmp_rate(g: &GatewayTable) -> Result<IcmpRateLimit, GatewayConfigError> {
    let d = IcmpRateLimit::default();
    let r = IcmpRateLimit {
        per_sec: g.icmp_errors_per_sec.unwrap_or(d.per_sec),
        burst: g.icmp_errors_burst.unwrap_or(d.burst),
        dest_interval: g
            .icmp_errors_dest_interval_ms
            .map_or(d.dest_interval, Duration::from_millis),
        dest_burst: g.icmp_errors_dest_burst.unwrap_or(d.dest_burst),
    };
    r.validate().map_err(|e| {
        let (key, value) = match e {
            IcmpRateLimitError::ZeroBurst { .. } => ("icmp_errors_burst", r.burst.to_string()),
            IcmpRateLimitError::ZeroDestBurst => ("icmp_errors_dest_burst", r.dest_burst.to_string()),
            _ => ("icmp_errors_dest_interval_ms", r.dest_interval.as_millis().to_string()),
        };
        bad("gateway", key, value, e.to_string())
    })?;
    Ok(r)
}

/// The resolver's settings from the gateway file's `[dns64]` table. Without
/// `prefixes`, the resolver synthesizes under the translator's `pool6`: the
/// addresses it hands out are then the ones this gateway translates (RFC
/// 6147 section 5.2 makes the Well-Known Prefix the default only when
/// nothing is configured; here the translator's prefix is).
fn dns64_table_in_effect(t: &Dns64Table, pool6: Option<Prefix64>) -> Dns64Table {
    let mut t = t.clone();
    if t.prefixes.is_none() {
        t.prefixes = pool6.map(|p| vec![PrefixEntry::Plain(p.to_string())]);
    }
    t
}

/// The resolver's settings, checked.
fn dns64_settings(t: &Dns64Table) -> Result<nat64_dns64::Settings, GatewayConfigError> {
    let s = nat64_dns64::Settings::from_table(t).map_err(|e| GatewayConfigError::Dns64(e.to_string()))?;
    // Checked here, not only when the resolver starts, so that `--check`
    // and a reload report it.
    nat64_core::dns64::Dns64::new(s.dns64.clone()).map_err(|e| GatewayConfigError::Dns64(e.to_string()))?;
    Ok(s)
}

// ------------------------------------------------------------------ commands

/// `nat64 gateway`.
pub fn run(a: Args) -> Result<ExitCode, Box<dyn Error>> {
    // Block the signals before any thread starts, so that all of them
    // inherit the mask and the signals come to `wait` below.
    let signals = Signals::block(&[sys::SIGHUP, sys::SIGTERM, sys::SIGINT])?;
    let loaded = load(a.config.as_deref())?;
    log::set_level(loaded.log_level);
    if a.check {
        print_settings(&loaded.settings);
        if let Some(d) = &loaded.dns64 {
            print_dns64(d);
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Xlat::Stateless(c) = &loaded.settings.xlat {
        if c.own_ipv4.is_none() || c.own_ipv6.is_none() {
            nat64_gateway::log!(
                Level::Warn,
                "no_own_address",
                hint = "[translator] own_ipv4 / own_ipv6 unset: ICMP errors the translator generates (Time Exceeded, Packet Too Big) are dropped"
            );
        }
    }
    if let Clients::V6(l) = &loaded.settings.clients {
        if l.iter().any(|p| p.prefix_len() == 0) {
            nat64_gateway::log!(
                Level::Warn,
                "open_relay",
                hint = "[gateway] clients contains ::/0: any IPv6 host may use this translator"
            );
        }
    }
    let gw = Gateway::start(loaded.settings)?;
    // After the gateway, so that the addresses it configures on its device
    // can be listened on.
    if let Some(d) = &loaded.dns64 {
        match nat64_dns64::start(d) {
            Ok(r) => {
                let addrs: Vec<String> = r.addrs.iter().map(|a| a.to_string()).collect();
                nat64_gateway::log!(Level::Info, "dns64_started", listen = addrs.join(","));
            }
            Err(e) => {
                gw.shutdown();
                return Err(format!("[dns64]: {e}").into());
            }
        }
    }
    let dns64_table = loaded.dns64_table;
    let config = a
        .config
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "-".into());
    loop {
        let sig = signals.wait()?;
        match sig {
            sys::SIGHUP => match load(a.config.as_deref()) {
                Err(e) => nat64_gateway::log!(Level::Error, "reload_refused", config = config, error = e),
                Ok(l) => {
                    log::set_level(l.log_level);
                    if l.dns64_table != dns64_table {
                        // The resolver's sockets and workers are not
                        // rebuilt in place; say so rather than pretend.
                        nat64_gateway::log!(
                            Level::Warn,
                            "reload_note",
                            note = "[dns64] changed (or the pool6 its prefixes default to): the resolver keeps its settings until the gateway restarts"
                        );
                    }
                    match gw.reload(l.settings) {
                        Ok(notes) => {
                            nat64_gateway::log!(Level::Info, "reloaded", config = config, notes = notes.len());
                            for n in notes {
                                nat64_gateway::log!(Level::Info, "reload_note", note = n);
                            }
                        }
                        Err(e) => nat64_gateway::log!(Level::Error, "reload_refused", config = config, error = e),
                    }
                }
            },
            _ => {
                nat64_gateway::log!(Level::Info, "stopping", signal = sys::signal_name(sig));
                gw.shutdown();
                return Ok(ExitCode::SUCCESS);
            }
        }
    }
}

fn print_dns64(d: &nat64_dns64::Settings) {
    let list = |v: &[SocketAddr]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>().join(", ");
    println!("dns64 listen    {} (udp and tcp)", list(&d.listen));
    println!("dns64 upstreams {}", list(&d.upstreams));
    let prefixes: Vec<String> = if d.dns64.prefixes.is_empty() {
        vec![format!("{} (RFC 6147 section 5.2 default)", Prefix64::well_known())]
    } else {
        d.dns64.prefixes.iter().map(|p| p.to_string()).collect()
    };
    println!("dns64 prefixes  {}", prefixes.join(", "));
    println!(
        "dns64 options   translate_all={} upstream_validates={} allow_ipv4={} timeout {} ms, cache {} entries",
        d.dns64.translate_all,
        d.dns64.upstream_validates,
        d.dns64.allow_ipv4,
        d.timeout.as_millis(),
        d.cache_size
    );
}

fn print_settings(s: &Settings) {
    let x = s.xlat.xlat();
    println!("mode            {}", s.mode);
    if let Adapter::AfPacket { ipv6, ipv4 } = &s.adapter {
        println!(
            "adapter         af_packet: IPv6 side {} (next hop {}), IPv4 side {} (next hop {}), {} worker(s)",
            ipv6.interface, ipv6.next_hop, ipv4.interface, ipv4.next_hop, s.device.workers
        );
    }
    if s.adapter == Adapter::Tun {
        println!(
            "device          {} (mtu {}, {} worker(s), {}, offloads {})",
            s.device.name,
            s.device.mtu,
            s.device.workers,
            if s.device.multi_queue {
                "one queue each"
            } else {
                "one shared queue"
            },
            if s.device.offload { "on" } else { "off" }
        );
    }
    println!(
        "pool6           {}",
        x.pool6.map(|p| p.to_string()).unwrap_or_else(|| "-".into())
    );
    for e in x.eamt.entries() {
        println!("eamt            {} <-> {}", e.v4, e.v6);
    }
    if let Xlat::Stateful(c) = &s.xlat {
        for e in &c.pool4 {
            println!("pool4           {} ports {}-{}", e.prefix, e.first_port, e.last_port);
        }
        for b in &c.static_bib {
            println!("static bib      {} {} <-> {}", b.proto, b.v6, b.v4);
        }
        println!(
            "timeouts        udp {}s, tcp established {}s, tcp transitory {}s, icmp {}s",
            c.timeouts.udp.as_secs(),
            c.timeouts.tcp_est.as_secs(),
            c.timeouts.tcp_trans.as_secs(),
            c.timeouts.icmp.as_secs()
        );
        println!("max sessions    {}", c.limits.max_sessions);
    }
    let own = |a: Option<String>| a.unwrap_or_else(|| "- (generated ICMP errors are dropped)".into());
    println!("own ipv4        {}", own(x.own_ipv4.map(|a| a.to_string())));
    println!("own ipv6        {}", own(x.own_ipv6.map(|a| a.to_string())));
    println!("clients         {}", s.clients.describe());
    let list = |v: &[Cidr]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ");
    println!("addresses       {}", list(&s.device.addresses));
    println!("routes          {}", list(&s.device.routes));
    if s.mode == Mode::Siit {
        println!(
            "eamt routes     {} (each unless the kernel reaches it on another interface)",
            list(&s.device.eamt_routes)
        );
    }
    println!("configure       {}", s.device.configure);
    println!("icmp errors     {}", s.icmp_rate);
    println!(
        "control socket  {}",
        s.control_socket
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "-".into())
    );
    println!(
        "metrics         {}",
        s.metrics
            .map(|a| format!("http://{a}/metrics"))
            .unwrap_or_else(|| "-".into())
    );
}

fn hms(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}.{:03}", s / 3600, s / 60 % 60, s % 60, ms % 1000)
}

/// `nat64 session display`.
/// A client prefix and its sessions per protocol (tcp, udp, icmp).
type ClientCount = (Ipv6Prefix, [u64; 3]);

/// Sessions per client prefix, largest first, then by prefix.
fn by_client(rows: &[control::SessionRow], len: u8) -> Result<Vec<ClientCount>, Box<dyn Error>> {
    let mut counts: std::collections::HashMap<u128, [u64; 3]> = std::collections::HashMap::new();
    let mask = if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len))
    };
    for r in rows {
        let addr = r.ipv6_src.rsplit_once('#').map_or(r.ipv6_src.as_str(), |(a, _)| a);
        let a: Ipv6Addr = addr.parse().map_err(|_| {
            format!(
                "the gateway answered a session source {:?} that is not an address#port",
                r.ipv6_src
            )
        })?;
        let i = r
            .proto
            .to_ascii_lowercase()
            .parse::<Proto>()
            .map_or(Proto::Icmp.index(), Proto::index);
        counts.entry(a.to_bits() & mask).or_default()[i] += 1;
    }
    let mut v: Vec<ClientCount> = counts
        .into_iter()
        .map(|(k, c)| {
            let p = Ipv6Prefix::new(Ipv6Addr::from_bits(k), len).map_err(|e| e.to_string())?;
            Ok::<_, String>((p, c))
        })
        .collect::<Result<_, _>>()?;
    v.sort_by(|a, b| {
        let (sa, sb) = (a.1.iter().sum::<u64>(), b.1.iter().sum::<u64>());
        sb.cmp(&sa).then(a.0.addr().cmp(&b.0.addr()))
    });
    Ok(v)
}

fn print_by_client(rows: &[control::SessionRow], len: u8) -> Result<(), Box<dyn Error>> {
    let v = by_client(rows, len)?;
    let w = v.iter().map(|(p, _)| p.to_string().len()).max().unwrap_or(0).max(6);
    println!(
        "{:<w$}  {:>8}  {:>8}  {:>8}  {:>8}",
        "CLIENT", "SESSIONS", "TCP", "UDP", "ICMP"
    );
    for (p, c) in &v {
        let total: u64 = c.iter().sum();
        println!(
            "{:<w$}  {:>8}  {:>8}  {:>8}  {:>8}",
            p.to_string(),
            total,
            c[0],
            c[1],
            c[2]
        );
    }
    println!(
        "({} client{}, {} sessions)",
        v.len(),
        if v.len() == 1 { "" } else { "s" },
        rows.len()
    );
    Ok(())
}

pub fn display(a: DisplayArgs) -> Result<ExitCode, Box<dyn Error>> {
    let protos: Vec<&str> = [("tcp", a.tcp), ("udp", a.udp), ("icmp", a.icmp)]
        .iter()
        .filter(|x| x.1)
        .map(|x| x.0)
        .collect();
    let reqs: Vec<Option<String>> = if protos.is_empty() {
        vec![None]
    } else {
        protos.iter().map(|p| Some((*p).to_owned())).collect()
    };
    let mut rows = Vec::new();
    let mut mode = String::new();
    for proto in reqs {
        match control::request(&a.socket, &Request::Sessions { proto })? {
            Response::Sessions { mode: m, sessions, .. } => {
                mode = m;
                rows.extend(sessions);
            }
            other => return Err(format!("unexpected answer from the gateway: {other:?}").into()),
        }
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if mode != "nat64" {
        println!("the gateway runs in {mode} mode, which is stateless: it keeps no sessions");
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(len) = a.by_client {
        print_by_client(&rows, len)?;
        return Ok(ExitCode::SUCCESS);
    }
    let w6 = rows.iter().map(|r| r.ipv6_src.len()).max().unwrap_or(0).max(8);
    let w4 = rows.iter().map(|r| r.ipv4_src.len()).max().unwrap_or(0).max(8);
    let wr = rows.iter().map(|r| r.remote.len()).max().unwrap_or(0).max(6);
    println!(
        "{:<5}  {:<w6$}  {:<w4$}  {:<wr$}  {:<17}  EXPIRES IN",
        "PROTO", "IPV6 SRC", "IPV4 SRC", "REMOTE", "STATE"
    );
    for r in &rows {
        println!(
            "{:<5}  {:<w6$}  {:<w4$}  {:<wr$}  {:<17}  {}",
            r.proto,
            r.ipv6_src,
            r.ipv4_src,
            r.remote,
            r.state,
            hms(r.expires_in_ms)
        );
    }
    println!("({} session{})", rows.len(), if rows.len() == 1 { "" } else { "s" });
    Ok(ExitCode::SUCCESS)
}

/// `nat64 stats`.
pub fn stats(a: StatsArgs) -> Result<ExitCode, Box<dyn Error>> {
    let st = match control::request(&a.socket, &Request::Stats)? {
        Response::Stats(s) => s,
        other => return Err(format!("unexpected answer from the gateway: {other:?}").into()),
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&st)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} gateway on {} ({} worker(s)), up {}s, {} reload(s)",
        st.mode, st.device, st.workers, st.uptime_s, st.reloads
    );
    println!();
    for c in st.io.iter().chain(st.verdicts.iter()) {
        println!("{:<24} {:>12}  {}", c.label, c.count, c.explain);
    }
    if let Some(t) = &st.table {
        println!();
        for (i, p) in ["tcp", "udp", "icmp"].iter().enumerate() {
            println!(
                "{:<5} sessions {:>9}   pool4 in use {:>9} of {}",
                p, t.sessions[i], t.bib_entries[i], t.pool4_size[i]
            );
        }
        println!(
            "session cap {}, unsolicited SYNs held {}, half-open/closing TCP sessions evicted for room {}",
            t.max_sessions, t.held_syns, t.sessions_evicted
        );
        let r: Vec<String> = t
            .reassembly
            .iter()
            .filter(|c| c.count > 0)
            .map(|c| format!("{}={}", c.label, c.count))
            .collect();
        if !r.is_empty() {
            println!("reassembly: {}", r.join(" "));
        }
    }
    println!();
    let drops: Vec<_> = st.drops.iter().filter(|c| a.all || c.count > 0).collect();
    if drops.is_empty() {
        println!("drops: none");
    } else {
        println!("drops:");
        for c in drops {
            println!("  {:<28} {:>10}  {}", c.label, c.count, c.explain);
        }
    }
    let not_ours: Vec<_> = st.not_ours.iter().filter(|c| a.all || c.count > 0).collect();
    if !not_ours.is_empty() {
        println!("not ours (outside the configuration, dropped by the gateway):");
        for c in not_ours {
            println!("  {:<28} {:>10}  {}", c.label, c.count, c.explain);
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        let f = match GatewayFile::parse(text) {
            Ok(f) => f,
            Err(e) => return e.to_string(),
        };
        match build(&f) {
            Ok(_) => panic!("accepted: {text}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults_start() {
        let l = build(&GatewayFile::default()).unwrap();
        let s = l.settings;
        assert_eq!(s.mode, Mode::Nat64);
        let Xlat::Stateful(c) = &s.xlat else { panic!() };
        assert_eq!(c.xlat.pool6.unwrap().to_string(), "64:ff9b::/96");
        assert_eq!(c.pool4[0].prefix.to_string(), "192.168.255.0/24");
        assert_eq!(c.xlat.own_ipv4, Some("192.168.255.1".parse().unwrap()));
        assert_eq!(s.device.routes.len(), 2);
        assert_eq!(s.clients, Clients::V6(vec!["fc00::/7".parse().unwrap()]));
        assert_eq!(s.control_socket.unwrap(), PathBuf::from("/run/nat64/nat64.sock"));
        assert_eq!(s.icmp_rate, IcmpRateLimit::default());
    }

    #[test]
    fn example_file_builds_with_the_defaults_it_documents() {
        let f = GatewayFile::parse(include_str!("../../examples/gateway.toml")).unwrap();
        let s = build(&f).unwrap().settings;
        assert_eq!(s.icmp_rate, IcmpRateLimit::default());
    }

    #[test]
    fn icmp_error_rate_keys() {
        let f = GatewayFile::parse(
            "[gateway]\nicmp_errors_per_sec = 200\nicmp_errors_burst = 20\nicmp_errors_dest_interval_ms = 500\nicmp_errors_dest_burst = 10\n",
        )
        .unwrap();
        let r = build(&f).unwrap().settings.icmp_rate;
        assert_eq!(
            (r.per_sec, r.burst, r.dest_interval, r.dest_burst),
            (200, 20, Duration::from_millis(500), 10)
        );
        // 0 turns a limit off; its burst no longer matters.
        let f = GatewayFile::parse("[gateway]\nicmp_errors_per_sec = 0\nicmp_errors_burst = 0\nicmp_errors_dest_interval_ms = 0\nicmp_errors_dest_burst = 0\n").unwrap();
        assert_eq!(build(&f).unwrap().settings.icmp_rate, IcmpRateLimit::UNLIMITED);
        let e = err("[gateway]\nicmp_errors_burst = 0\n");
        assert!(
            e.contains("[gateway] icmp_errors_burst = \"0\"") && e.contains("at least 1"),
            "{e}"
        );
        let e = err("[gateway]\nicmp_errors_dest_burst = 0\n");
        assert!(e.contains("[gateway] icmp_errors_dest_burst"), "{e}");
        let e = err("[gateway]\nicmp_errors_dest_interval_ms = 7200000\n");
        assert!(
            e.contains("[gateway] icmp_errors_dest_interval_ms") && e.contains("one hour"),
            "{e}"
        );
        let e = err("[gateway]\nicmp_errors_per_sec = -1\n");
        assert!(e.contains("icmp_errors_per_sec"), "{e}");
        let e = err("[gateway]\nicmp_error_per_sec = 10\n");
        assert!(e.contains("unknown field") && e.contains("icmp_error_per_sec"), "{e}");
    }

    #[test]
    fn siit_eamt_routes() {
        let text = |extra: &str| {
            format!(
                "[gateway]\nmode = \"siit\"\n{extra}\n[translator]\npool6 = \"2001:db8:64::/96\"\n\
                 eamt = [ {{ ipv4 = \"198.51.100.2\", ipv6 = \"2001:db8:1::2\" }} ]\n"
            )
        };
        // Both sides are candidates, decided by the gateway against the
        // kernel's routes; only pool6 is routed unconditionally.
        let s = build(&GatewayFile::parse(&text("")).unwrap()).unwrap().settings;
        let names = |v: &[Cidr]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(names(&s.device.routes), ["2001:db8:64::/96"]);
        assert_eq!(names(&s.device.eamt_routes), ["2001:db8:1::2/128", "198.51.100.2/32"]);
        let s = build(&GatewayFile::parse(&text("eamt_routes = \"none\"")).unwrap())
            .unwrap()
            .settings;
        assert!(s.device.eamt_routes.is_empty());
        let e = err(&text("eamt_routes = \"both\""));
        assert!(
            e.contains("eamt_routes") && e.contains("\"both\"") && e.contains("auto"),
            "{e}"
        );
        let e = err("[gateway]\nmode = \"nat64\"\neamt_routes = \"auto\"\n");
        assert!(e.contains("eamt_routes") && e.contains("only SIIT"), "{e}");
    }

    #[test]
    fn lab_config() {
        let f = GatewayFile::parse(
            r#"
            [gateway]
            mode = "nat64"
            device = "nat64lab"
            workers = 2
            clients = ["2001:db8:1::/64"]
            metrics = ""
            [translator]
            pool6 = "2001:db8:64::/96"
            [nat64]
            pool4 = ["198.51.100.0/28:1024-65535"]
            static_bib = ["tcp/2001:db8:1::5#80=198.51.100.1#8080"]
            timeouts = { icmp = 2, tcp_trans = 4 }
            "#,
        )
        .unwrap();
        let s = build(&f).unwrap().settings;
        let Xlat::Stateful(c) = &s.xlat else { panic!() };
        assert_eq!((c.pool4[0].first_port, c.pool4[0].last_port), (1024, 65535));
        assert_eq!(c.timeouts.icmp, Duration::from_secs(2));
        assert_eq!(c.static_bib.len(), 1);
        assert!(s.metrics.is_none());
        assert_eq!(s.device.workers, 2);
    }

    #[test]
    fn dns64_table_in_the_gateway_file() {
        let f = GatewayFile::parse(
            r#"
            [translator]
            pool6 = "2001:db8:64::/96"
            [dns64]
            listen = ["[2001:db8:1::1]:53"]
            upstreams = ["203.0.113.53"]
            translate_all = true
            "#,
        )
        .unwrap();
        let l = build(&f).unwrap();
        let d = l.dns64.expect("a [dns64] table starts the resolver");
        // No prefixes: the translator's pool6, not 64:ff9b::/96.
        assert_eq!(d.dns64.prefixes.len(), 1);
        assert_eq!(d.dns64.prefixes[0].prefix.to_string(), "2001:db8:64::/96");
        assert_eq!(d.upstreams, vec!["203.0.113.53:53".parse().unwrap()]);
        assert!(d.dns64.translate_all);
        // The table in effect has the prefix filled in, so that a reload
        // that changes pool6 is seen to change the resolver too.
        let effective = l.dns64_table.unwrap();
        assert_eq!(
            effective.prefixes,
            Some(vec![PrefixEntry::Plain("2001:db8:64::/96".into())])
        );
        let f2 = GatewayFile::parse(
            r#"
            [translator]
            pool6 = "2001:db8:65::/96"
            [dns64]
            listen = ["[2001:db8:1::1]:53"]
            upstreams = ["203.0.113.53"]
            translate_all = true
            "#,
        )
        .unwrap();
        assert_ne!(build(&f2).unwrap().dns64_table.unwrap(), effective);

        // Given prefixes win over pool6.
        let f = GatewayFile::parse(
            "[dns64]\nupstreams = [\"203.0.113.53\"]\nprefixes = [\"64:ff9b::/96\", \"2001:db8:46::/64\"]\n",
        )
        .unwrap();
        let d = build(&f).unwrap().dns64.unwrap();
        let p: Vec<String> = d.dns64.prefixes.iter().map(|p| p.prefix.to_string()).collect();
        assert_eq!(p, ["64:ff9b::/96", "2001:db8:46::/64"]);

        // Without the table, no resolver.
        assert!(build(&GatewayFile::default()).unwrap().dns64.is_none());
    }

    #[test]
    fn dns64_errors_name_the_table() {
        let e = err("[dns64]\nlisten = [\"[::1]:5353\"]\n");
        assert!(e.contains("[dns64]") && e.contains("upstream"), "{e}");
        let e = err("[dns64]\nupstream = [\"192.0.2.53\"]\n");
        assert!(e.contains("upstream") && e.contains("unknown field"), "{e}");
        let e = err("[dns64]\nupstreams = [\"192.0.2.53\"]\nprefixes = [\"2001:db8::/33\"]\n");
        assert!(e.contains("[dns64]") && e.contains("/96"), "{e}");
        let e = err("[dns64]\nupstreams = [\"192.0.2.53\"]\nprefixes = [\"64:ff9b::/96\", \"64:ff9b::/96\"]\n");
        assert!(e.contains("[dns64]") && e.contains("64:ff9b::/96"), "{e}");
    }

    #[test]
    fn sessions_by_client_prefix() {
        let row = |proto: &str, src: &str| control::SessionRow {
            proto: proto.into(),
            ipv6_src: src.into(),
            ipv4_src: "198.51.100.1#61001".into(),
            remote: "203.0.113.2#80".into(),
            remote6: String::new(),
            state: String::new(),
            expires_in_ms: 0,
        };
        let rows = [
            row("tcp", "2001:db8:66::1#1000"),
            row("udp", "2001:db8:66::2#1001"),
            row("udp", "2001:db8:66:0:1::3#1002"),
            row("icmp", "2001:db8:1::2#7"),
        ];
        let v = by_client(&rows, 64).unwrap();
        let got: Vec<(String, [u64; 3])> = v.iter().map(|(p, c)| (p.to_string(), *c)).collect();
        assert_eq!(
            got,
            [
                ("2001:db8:66::/64".to_string(), [1, 2, 0]),
                ("2001:db8:1::/64".to_string(), [0, 0, 1])
            ]
        );
        assert_eq!(by_client(&rows, 128).unwrap().len(), 4);
        assert_eq!(by_client(&rows, 0).unwrap()[0].1, [1, 2, 1]);
        assert!(by_client(&[row("tcp", "not-an-address")], 64).is_err());
    }

    #[test]
    fn clat_config() {
        let f = GatewayFile::parse("[gateway]\nmode = \"clat\"\n[clat]\nipv6 = \"2001:db8:1::464\"\n").unwrap();
        let s = build(&f).unwrap().settings;
        let Xlat::Stateless(c) = &s.xlat else { panic!() };
        assert_eq!(
            c.eamt.to_v6("192.0.0.2".parse().unwrap()),
            Some("2001:db8:1::464".parse().unwrap())
        );
        assert!(s.device.routes.iter().any(|r| r.len == 0));
        assert_eq!(s.clients, Clients::V4(vec!["192.0.0.0/29".parse().unwrap()]));
    }

    #[test]
    fn errors_name_the_key() {
        let e = err("[gateway]\nmode = \"stateful\"\n");
        assert!(e.contains("[gateway] mode") && e.contains("nat64"), "{e}");
        let e = err("[gateway]\nclients = [\"2001:db8::/129\"]\n");
        assert!(e.contains("clients[1]"), "{e}");
        let e = err("[gateway]\nworkerz = 2\n");
        assert!(e.contains("workerz"), "{e}");
        let e = err("[nat64]\npool4 = [\"198.51.100.0/28\", \"198.51.100.300\"]\n");
        assert!(e.contains("pool4[2]"), "{e}");
        let e = err("[nat64]\npool4 = [\"198.51.100.1:9-1\"]\n");
        assert!(e.contains("pool4[1]") && e.contains("low-high"), "{e}");
        let e = err("[nat64]\ntimeouts = { udp = 30 }\n");
        assert!(e.contains("timeouts.udp") && e.contains("120"), "{e}");
        let e = err("[nat64]\nstatic_bib = [\"sctp/2001:db8::1#1=192.0.2.1#1\"]\n");
        assert!(e.contains("static_bib[1]") && e.contains("sctp"), "{e}");
        let e = err("[gateway]\nmode = \"clat\"\n");
        assert!(e.contains("[clat] ipv6 is required"), "{e}");
        let e = err("[gateway]\nmode = \"siit\"\n[nat64]\npool4 = [\"192.0.2.1\"]\n");
        assert!(e.contains("[nat64] is set"), "{e}");
        let e = err("[gateway]\nmetrics = \"0.0.0.0:9164\"\n");
        assert!(e.contains("[gateway] metrics") && e.contains("loopback"), "{e}");
        let e = err("[translator]\npool6 = \"64:ff9b::/95\"\n");
        assert!(e.contains("pool6"), "{e}");
        let e = err("[gateway]\ndevice = \"a-very-long-device-name\"\n");
        assert!(e.contains("[gateway] device"), "{e}");
        let e = err("[gateway]\nadapter = \"xdp\"\n");
        assert!(e.contains("[gateway] adapter"), "{e}");
        let e = err("[gateway]\nadapter = \"af_packet\"\n");
        assert!(e.contains("[af_packet] ipv6_interface is required"), "{e}");
        let e = err("[af_packet]\nipv6_interface = \"eth0\"\n");
        assert!(
            e.contains("[gateway] adapter") && e.contains("[af_packet] is set"),
            "{e}"
        );
        let e = err(
            "[gateway]\nadapter = \"af_packet\"\n[af_packet]\nipv6_interface = \"a\"\nipv4_interface = \"b\"\nipv4_next_hop = \"2001:db8::1\"\n",
        );
        assert!(e.contains("[af_packet] ipv4_next_hop") && e.contains("IPv4"), "{e}");
    }

    #[test]
    fn af_packet_config() {
        let f = GatewayFile::parse(
            r#"
            [gateway]
            adapter = "af_packet"
            workers = 2
            [af_packet]
            ipv6_interface = "eth0"
            ipv4_interface = "eth1"
            ipv4_next_hop = "198.51.100.254"
            ipv6_next_hop = "02:00:00:00:00:01"
            "#,
        )
        .unwrap();
        let s = build(&f).unwrap().settings;
        assert_eq!(
            s.adapter,
            Adapter::AfPacket {
                ipv6: PacketSide {
                    interface: "eth0".into(),
                    next_hop: NextHop::Mac([2, 0, 0, 0, 0, 1])
                },
                ipv4: PacketSide {
                    interface: "eth1".into(),
                    next_hop: NextHop::Address("198.51.100.254".parse().unwrap())
                },
            }
        );
        assert!(s.device.offload);
        let f = GatewayFile::parse("[gateway]\nadapter = \"af_packet\"\nmode = \"clat\"\n[clat]\nipv6 = \"2001:db8::464\"\n[af_packet]\nipv6_interface = \"a\"\nipv4_interface = \"b\"\n").unwrap();
        let e = build(&f).unwrap_err().to_string();
        assert!(e.contains("[gateway] adapter") && e.contains("CLAT"), "{e}");
    }
}
