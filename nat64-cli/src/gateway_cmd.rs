//! `nat64 gateway`, `nat64 session display` and `nat64 stats`.
//!
//! `nat64 gateway --config FILE` runs a translator on a TUN device or on
//! AF_PACKET rings (see the `nat64-gateway` crate): stateless SIIT (RFC
//! 7915), stateful NAT64 (RFC 6146) or a 464XLAT CLAT (RFC 6877). The file
//! and its keys are the `nat64-config` crate's ([`nat64_config::gateway`]);
//! see examples/gateway.toml for each key's meaning and default.
//!
//! SIGHUP re-reads the file ([`nat64_config::load`]) and applies it,
//! keeping established sessions (what a pool6 or pool4 change keeps is
//! the core's `Nat64::reconfigure_with`, which the gateway's runtime calls); a file with an error is
//! refused and the running configuration stays. SIGTERM and SIGINT stop the
//! gateway cleanly.

use std::error::Error;
use std::net::{Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args as ClapArgs, Subcommand};
use nat64_config::load;
use nat64_core::nat64::Proto;
use nat64_core::{Ipv6Prefix, Prefix64};
use nat64_gateway::control::{self, Request, Response};
use nat64_gateway::log::{self, Level};
use nat64_gateway::settings::{Adapter, Cidr, Clients, Mode, Settings, Xlat};
use nat64_gateway::sys::{self, Signals};
use nat64_gateway::Gateway;

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
}
