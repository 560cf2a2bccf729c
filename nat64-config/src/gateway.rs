//! The `nat64 gateway` file: the `[gateway]`, `[translator]`, `[nat64]`,
//! `[clat]`, `[af_packet]` and `[dns64]` tables, read into the gateway's
//! [`Settings`] and the resolver's settings ([`load`]). `nat64 gateway`
//! reads it when it starts and again on SIGHUP (its reload).
//!
//! `nat64 gateway --config FILE` runs a translator on a TUN device (see the
//! `nat64-gateway` crate): stateless SIIT (RFC 7915), stateful NAT64
//! (RFC 6146) or a 464XLAT CLAT (RFC 6877). The file reuses the
//! `[translator]` table of `nat64 translate` ([`crate::translator`]) and adds:
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
//! (what a pool6 or pool4 change keeps is the core's
//! `Nat64::reconfigure_with`, which the gateway's runtime calls); a file with an error is refused and the running
//! configuration stays. SIGTERM and SIGINT stop the gateway cleanly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nat64_core::nat64::{
    Bib, Nat64Config, Pool4Entry, Pool4EntryError, StaticBibError, TableLimits, Timeouts, UDP_MIN,
};
use nat64_core::{Clat, Config, HairpinMode, IcmpRateLimit, IcmpRateLimitError, Ipv4Prefix, Ipv6Prefix, Prefix64};
use nat64_gateway::control;
use nat64_gateway::log::Level;
use nat64_gateway::settings::{Adapter, Cidr, Clients, Device, Mode, NextHop, PacketSide, Settings, Xlat};
use serde::Deserialize;

use crate::dns64::{Dns64Table, PrefixEntry};
use crate::translator::{ConfigFileError, TranslatorTable};

/// The pool6 every mode starts with: the Well-Known Prefix (RFC 6052
/// section 2.1).
pub const DEFAULT_POOL6: &str = "64:ff9b::/96";
/// The default pool4: TAYGA's customary dynamic pool, private, to be
/// masqueraded to the host's public address (see examples/gateway.toml).
pub const DEFAULT_POOL4: &str = "192.168.255.0/24";
/// Default clients in SIIT and NAT64 mode: unique local addresses (RFC 4193).
pub const DEFAULT_CLIENTS6: &str = "fc00::/7";

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
            let ipv4 = match c.and_then(|c| c.ipv4.as_deref()) {
                None => Clat::DEFAULT_IPV4,
                Some(t) => t
                    .trim()
                    .parse()
                    .map_err(|_| bad("clat", "ipv4", t, "not an IPv4 address, e.g. 192.0.0.2 (RFC 7335)"))?,
            };
            if f.translator.eamt.is_some() {
                return Err(bad(
                    "translator",
                    "eamt",
                    "...",
                    "in CLAT mode the EAMT is built from [clat] ipv4 and ipv6; remove it",
                ));
            }
            // Hairpinning is off in a CLAT (see `Clat::apply`): a file that
            // asks for it is refused rather than overridden.
            if f.translator.eam_hairpin_mode.is_some_and(|m| m != HairpinMode::Off) {
                return Err(bad(
                    "translator",
                    "eam_hairpin_mode",
                    "simple/intrinsic",
                    "a CLAT's EAM maps the host's own IPv4 address, so hairpinning must be \"off\" (the default in CLAT mode)",
                ));
            }
            Clat { ipv6, ipv4 }
                .apply(&mut xlat)
                .map_err(|e| bad("clat", "ipv4/ipv6", format!("{ipv4} <-> {ipv6}"), e.to_string()))?;
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
            let list: Vec<String> = list
                .clone()
                .unwrap_or_else(|| vec![Clat::continuity_prefix().to_string()]);
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
    let s = crate::dns64::from_table(t).map_err(|e| GatewayConfigError::Dns64(e.to_string()))?;
    // Checked here, not only when the resolver starts, so that `--check`
    // and a reload report it.
    nat64_core::dns64::Dns64::new(s.dns64.clone()).map_err(|e| GatewayConfigError::Dns64(e.to_string()))?;
    Ok(s)
}

#[cfg(test)]
mod tests;
