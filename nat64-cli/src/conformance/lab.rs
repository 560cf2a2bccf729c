//! The lab a Jool graybox record describes, read strictly: the translator's
//! configuration (`config`, then the commands of `config_changes_in_effect`
//! and any command quoted in `notes`), and the two nodes beside it.
//!
//! Every key and every command is either understood and applied, or the case
//! fails with `unsupported configuration: <the text>`: a setting we skipped
//! would make a pass or a byte mismatch mean nothing. Commands take Jool's
//! forms (`global update KEY VALUE`, the bare `KEY VALUE` shorthand, `eamt
//! add|remove|flush`, `denylist4 add`, `ip link set [dev] IFACE mtu N`) with
//! booleans spelled `true/false`, `on/off`, `yes/no` or `1/0`.
//!
//! The lab's Linux machines are emulated where a case's expected packet comes
//! from them rather than from the translator (see [`Lab::host_reply`] and
//! [`Lab::router_reply`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use nat64_core::nat64::{Bib, Nat64Config, Pool4Entry, Proto, Taddr4, Taddr6};
use nat64_core::{checksum, Config, HairpinMode, Ipv4Prefix, Ipv6Prefix, Prefix64};
use serde_json::Value;

/// Which translator the record configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Stateless (`jool_siit`).
    Siit,
    /// Stateful (`jool`).
    Nat64,
}

/// One of the lab's other machines.
#[derive(Debug, Clone, Copy, Default)]
pub struct Node {
    /// Its address on the translator's link.
    pub addr: Option<IpAddr>,
    /// Whether it forwards (then it answers, as a router, for packets the
    /// translator sends through it).
    pub forwarding: bool,
}

/// Everything the record says about the translator and its neighbours.
#[derive(Debug, Clone)]
pub struct Lab {
    /// SIIT or NAT64.
    pub mode: Mode,
    /// The stateless settings (also the stateful one's `xlat`).
    pub xlat: Config,
    /// The stateful settings, for `Mode::Nat64`.
    pub nat64: Option<Nat64Config>,
    /// The IPv4 node (n4) and the IPv6 node (n6).
    pub n4: Node,
    /// The IPv6 node.
    pub n6: Node,
    /// The translator's IPv4 routes: prefix via next hop.
    pub routes4: Vec<(Ipv4Prefix, Ipv4Addr)>,
    /// The translator's IPv6 routes.
    pub routes6: Vec<(Ipv6Prefix, Ipv6Addr)>,
}

/// The settings as they are read, before they become a [`Config`].
#[derive(Debug, Default)]
struct Settings {
    mode: Option<Mode>,
    pool6: Option<Option<Prefix64>>,
    eamt: Vec<(Ipv4Prefix, Ipv6Prefix)>,
    denylist4: Vec<Ipv4Prefix>,
    override_tos: bool,
    tos: u8,
    xlat: Config,
    n64: Nat64Extra,
    pool4: Vec<Pool4Entry>,
    bib: Vec<Bib>,
    own4: Option<Ipv4Addr>,
    own6: Option<Ipv6Addr>,
    lab: (Node, Node),
    routes4: Vec<(Ipv4Prefix, Ipv4Addr)>,
    routes6: Vec<(Ipv6Prefix, Ipv6Addr)>,
}

/// The stateful options, kept until the mode is known.
#[derive(Debug)]
struct Nat64Extra {
    adf: bool,
    drop_ext_tcp: bool,
    drop_icmpv6_info: bool,
    better: bool,
    rst_fin: bool,
    max_so: usize,
    timeouts: [Option<Duration>; 4],
}

impl Default for Nat64Extra {
    fn default() -> Self {
        Nat64Extra {
            adf: false,
            drop_ext_tcp: false,
            drop_icmpv6_info: false,
            better: true,
            rst_fin: false,
            max_so: 10,
            timeouts: [None; 4],
        }
    }
}

fn unsupported(text: impl std::fmt::Display) -> String {
    format!("unsupported configuration: {text}")
}

/// A JSON value as the text an operator would type.
fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".into(),
        other => other.to_string(),
    }
}

/// Jool's boolean spellings.
pub fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "on" | "yes" | "1" => Some(true),
        "false" | "off" | "no" | "0" => Some(false),
        _ => None,
    }
}

fn is_null(s: &str) -> bool {
    matches!(s.trim(), "null" | "none" | "")
}

/// Jool's times: `[HH:[MM:]]SS[.mmm]`.
fn parse_time(s: &str) -> Option<Duration> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    let mut secs = 0u64;
    for part in whole.split(':') {
        secs = secs.checked_mul(60)?.checked_add(part.parse().ok()?)?;
    }
    let ms: u64 = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<3}").get(..3)?.parse().ok()?
    };
    Some(Duration::from_secs(secs) + Duration::from_millis(ms))
}

/// The first word of a descriptive string, without `/len`.
fn leading_addr(s: &str) -> Option<&str> {
    let w = s.split_whitespace().next()?;
    Some(w.split('/').next().unwrap_or(w))
}

impl Settings {
    /// `global update KEY VALUE` (or a config key with the same meaning).
    fn global(&mut self, key: &str, value: &str, whole: &str) -> Result<(), String> {
        let bad = || unsupported(whole);
        let key = key.replace('_', "-");
        let b = || parse_bool(value).ok_or_else(bad);
        let x = &mut self.xlat;
        match key.as_str() {
            "pool6" => {
                self.pool6 = Some(if is_null(value) {
                    None
                } else {
                    Some(value.parse().map_err(|e| format!("{}: {e}", bad()))?)
                })
            }
            "lowest-ipv6-mtu" => x.lowest_ipv6_mtu = value.trim().parse().map_err(|_| bad())?,
            "amend-udp-checksum-zero" => x.amend_udp_checksum_zero = b()?,
            "forward-udp-checksum-zero" => x.forward_udp_checksum_zero = b()?,
            "zeroize-traffic-class" => x.zeroize_traffic_class = b()?,
            "override-tos" => self.override_tos = b()?,
            "tos" => self.tos = value.trim().parse().map_err(|_| bad())?,
            "randomize-rfc6791-addresses" => x.randomize_rfc6791_addresses = b()?,
            "rfc6791v4-prefix" | "pool6791v4" => {
                x.rfc6791v4_prefix = if is_null(value) {
                    None
                } else {
                    Some(value.trim().parse().map_err(|e| format!("{}: {e}", bad()))?)
                }
            }
            "rfc6791v6-prefix" | "pool6791v6" => {
                x.rfc6791v6_prefix = if is_null(value) {
                    None
                } else {
                    Some(value.trim().parse().map_err(|e| format!("{}: {e}", bad()))?)
                }
            }
            "eam-hairpin-mode" => {
                // Jool's numeric values too: 0, 1, 2.
                x.eam_hairpin_mode = match value.split_whitespace().next().unwrap_or("") {
                    "0" => HairpinMode::Off,
                    "1" => HairpinMode::Simple,
                    "2" => HairpinMode::Intrinsic,
                    name => name.parse().map_err(|_| bad())?,
                }
            }
            "mtu-plateaus" => {
                let v: Result<Vec<u16>, _> = value.split(',').map(|p| p.trim().parse()).collect();
                x.mtu_plateaus = v.map_err(|_| bad())?;
            }
            // Paused translation is not something a replay can show.
            "manually-enabled" if b()? => {}
            // Logging changes no packet.
            "logging-debug" | "logging-bib" | "logging-session" => {
                b()?;
            }
            "address-dependent-filtering" | "drop-by-addr" => self.n64.adf = b()?,
            "drop-externally-initiated-tcp" => self.n64.drop_ext_tcp = b()?,
            "drop-icmpv6-info" => self.n64.drop_icmpv6_info = b()?,
            "source-icmpv6-errors-better" => self.n64.better = b()?,
            "handle-rst-during-fin-rcv" => self.n64.rst_fin = b()?,
            "maximum-simultaneous-opens" => self.n64.max_so = value.trim().parse().map_err(|_| bad())?,
            "udp-timeout" | "tcp-est-timeout" | "tcp-trans-timeout" | "icmp-timeout" => {
                let i = ["udp-timeout", "tcp-est-timeout", "tcp-trans-timeout", "icmp-timeout"]
                    .iter()
                    .position(|k| *k == key)
                    .unwrap_or(0);
                self.n64.timeouts[i] = Some(parse_time(value.trim()).ok_or_else(bad)?);
            }
            _ => return Err(bad()),
        }
        Ok(())
    }

    /// `eamt add A B` (either order).
    fn eamt_add(&mut self, a: &str, b: &str, whole: &str) -> Result<(), String> {
        let (v4, v6) = if a.contains(':') { (b, a) } else { (a, b) };
        let v4: Ipv4Prefix = v4.parse().map_err(|e| format!("{}: {e}", unsupported(whole)))?;
        let v6: Ipv6Prefix = v6.parse().map_err(|e| format!("{}: {e}", unsupported(whole)))?;
        if !self.eamt.contains(&(v4, v6)) {
            self.eamt.push((v4, v6));
        }
        Ok(())
    }

    /// One command of `config_changes_in_effect` (or quoted in `notes`).
    fn command(&mut self, cmd: &str) -> Result<(), String> {
        let whole = cmd.trim();
        let mut w: Vec<&str> = whole.split_whitespace().collect();
        if matches!(w.first(), Some(&"jool" | &"jool_siit")) {
            w.remove(0);
        }
        // `--force` and the instance's name (`-i NAME`) change nothing here:
        // a record describes one instance.
        w.retain(|t| *t != "--force");
        if let Some(i) = w.iter().position(|t| *t == "-i" || *t == "--instance") {
            if i + 1 < w.len() {
                w.drain(i..i + 2);
            }
        }
        match w.as_slice() {
            [] => Ok(()),
            ["global", "update", key, value @ ..] if !value.is_empty() => self.global(key, &value.join(" "), whole),
            ["eamt", "add", a, b] => self.eamt_add(a, b, whole),
            ["eamt", "remove" | "rm", a, rest @ ..] if rest.len() <= 1 => {
                let before = self.eamt.len();
                self.eamt.retain(|(v4, v6)| {
                    let hit = |s: &str| s == v4.to_string() || s == v6.to_string();
                    !(hit(a) && rest.iter().all(|b| hit(b)))
                });
                if self.eamt.len() == before {
                    return Err(format!("{}: no such EAMT entry", unsupported(whole)));
                }
                Ok(())
            }
            ["eamt", "flush"] => {
                self.eamt.clear();
                Ok(())
            }
            ["denylist4" | "blacklist4", "add", p] => {
                let p = p.parse().map_err(|e| format!("{}: {e}", unsupported(whole)))?;
                if !self.denylist4.contains(&p) {
                    self.denylist4.push(p);
                }
                Ok(())
            }
            ["ip", "link", "set", rest @ ..] => {
                let rest = rest.strip_prefix(&["dev"]).unwrap_or(rest);
                match rest {
                    [iface, "mtu", n] => {
                        let n: u32 = n.parse().map_err(|_| unsupported(whole))?;
                        match *iface {
                            "to_client_v6" => self.xlat.mtu6 = n,
                            "to_client_v4" => self.xlat.mtu4 = n,
                            _ => return Err(format!("{}: unknown interface {iface}", unsupported(whole))),
                        }
                        Ok(())
                    }
                    _ => Err(unsupported(whole)),
                }
            }
            // The bare `KEY VALUE` form of a global.
            [key, value @ ..] if !value.is_empty() => self.global(key, &value.join(" "), whole),
            _ => Err(unsupported(whole)),
        }
    }

    /// `jool_siit instance add --netfilter -6 2001:db8:100::/40` and the like.
    fn instance(&mut self, s: &str) -> Result<(), String> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let (mode, rest) = match w.as_slice() {
            ["jool_siit", "instance", "add", rest @ ..] => (Mode::Siit, rest),
            ["jool", "instance", "add", rest @ ..] => (Mode::Nat64, rest),
            _ => return Err(unsupported(format!("jool_instance = {s}"))),
        };
        if self.mode.is_some_and(|m| m != mode) {
            return Err(unsupported(format!("jool_instance = {s} (mode is not {mode:?})")));
        }
        let mut it = rest.iter();
        let mut pool6 = None;
        while let Some(t) = it.next() {
            match *t {
                "--netfilter" | "--iptables" => {}
                "-6" | "--pool6" => pool6 = it.next().copied(),
                t if t.starts_with("--pool6=") => pool6 = Some(&t[8..]),
                // An instance name.
                t if !t.starts_with('-') => {}
                _ => return Err(unsupported(format!("jool_instance = {s}"))),
            }
        }
        // The instance's pool6 is the starting point; `pool6` (later keys,
        // commands) may change it.
        if let (Some(p), None) = (pool6, self.pool6) {
            self.pool6 = Some(Some(p.parse().map_err(|e| format!("{}: {e}", unsupported(s)))?));
        }
        Ok(())
    }

    /// `n4` / `n6`: `ADDR/LEN; route ... via Jool; IPv4 forwarding on ...`.
    fn node(s: &str) -> Node {
        Node {
            addr: leading_addr(s).and_then(|a| a.parse().ok()),
            forwarding: s.contains("forwarding on"),
        }
    }

    fn config_key(&mut self, key: &str, v: &Value) -> Result<(), String> {
        let shown = || unsupported(format!("{key} = {v}"));
        match key {
            "mode" => {
                let m = match v.as_str() {
                    Some("siit") => Mode::Siit,
                    Some("nat64") => Mode::Nat64,
                    _ => return Err(shown()),
                };
                self.mode = Some(m);
            }
            "jool_instance" => self.instance(v.as_str().ok_or_else(shown)?)?,
            "eamt" => {
                for r in v.as_array().ok_or_else(shown)? {
                    match r.as_array().map(Vec::as_slice) {
                        Some([Value::String(a), Value::String(b)]) => self.eamt_add(a, b, &format!("eamt {r}"))?,
                        _ => return Err(shown()),
                    }
                }
            }
            "denylist4" | "blacklist4" => {
                for p in v.as_array().ok_or_else(shown)? {
                    self.command(&format!("denylist4 add {}", p.as_str().ok_or_else(shown)?))?;
                }
            }
            "other_globals" => {
                let s = v.as_str().ok_or_else(shown)?;
                if !(s.starts_with("Jool ") && s.ends_with(" defaults")) {
                    return Err(shown());
                }
            }
            "sysctl" => {
                for item in v.as_str().ok_or_else(shown)?.split(',') {
                    match item.trim() {
                        // Errors the kernel sends on the translator's behalf
                        // carry flow label 0, as ours do.
                        "net.ipv6.auto_flowlabels=0" | "forwarding on" | "" => {}
                        _ => return Err(shown()),
                    }
                }
            }
            "translator_ipv4_addr" => {
                let a = v.as_str().and_then(leading_addr).ok_or_else(shown)?;
                self.own4 = Some(a.parse().map_err(|_| shown())?);
            }
            "translator_ipv6_addr" => {
                let a = v.as_str().and_then(leading_addr).ok_or_else(shown)?;
                self.own6 = Some(a.parse().map_err(|_| shown())?);
            }
            "translator_routes" => {
                for r in v.as_array().ok_or_else(shown)? {
                    let s = r.as_str().ok_or_else(shown)?;
                    let w: Vec<&str> = s.split_whitespace().collect();
                    let bad = || unsupported(format!("translator route {s:?}"));
                    let [p, "via", hop, ..] = w.as_slice() else {
                        return Err(bad());
                    };
                    if p.contains(':') {
                        self.routes6
                            .push((p.parse().map_err(|_| bad())?, hop.parse().map_err(|_| bad())?));
                    } else {
                        self.routes4
                            .push((p.parse().map_err(|_| bad())?, hop.parse().map_err(|_| bad())?));
                    }
                }
            }
            "egress_mtu" => {
                for (k, m) in v.as_object().ok_or_else(shown)? {
                    let n = m.as_u64().and_then(|n| u32::try_from(n).ok()).ok_or_else(shown)?;
                    match k.as_str() {
                        "to_client_v6" => self.xlat.mtu6 = n,
                        "to_client_v4" => self.xlat.mtu4 = n,
                        _ => return Err(unsupported(format!("egress_mtu.{k}"))),
                    }
                }
            }
            "n4" => self.lab.0 = Self::node(v.as_str().ok_or_else(shown)?),
            "n6" => self.lab.1 = Self::node(v.as_str().ok_or_else(shown)?),
            "pool4" => {
                for e in v.as_array().ok_or_else(shown)? {
                    self.pool4.push(pool4_entry(e)?);
                }
            }
            "bib_static" => {
                for b in v.as_array().ok_or_else(shown)? {
                    self.bib.push(static_bib(b)?);
                }
            }
            // Every other key is a global option under its config name.
            _ => self.global(key, &text_of(v), &format!("{key} = {v}"))?,
        }
        Ok(())
    }

    fn finish(self) -> Result<Lab, String> {
        let mode = self.mode.ok_or("the record names no mode (siit or nat64)")?;
        let mut x = self.xlat;
        // Jool has no RFC 6052 section 3.1 check.
        x.wkp_forbids_non_global = false;
        x.pool6 = self.pool6.flatten();
        x.own_ipv4 = self.own4;
        x.own_ipv6 = self.own6;
        x.override_tos = self.override_tos.then_some(self.tos);
        x.denylist4 = self.denylist4;
        for (v4, v6) in &self.eamt {
            x.eamt.add(*v4, *v6, true).map_err(|e| format!("eamt {v4} {v6}: {e}"))?;
        }
        let nat64 = match mode {
            Mode::Siit => None,
            Mode::Nat64 => {
                let pool6 = x.pool6.ok_or("a nat64 record needs pool6")?;
                let mut c = Nat64Config::new(pool6, self.pool4);
                c.xlat = x.clone();
                c.static_bib = self.bib;
                let e = self.n64;
                c.address_dependent_filtering = e.adf;
                c.drop_externally_initiated_tcp = e.drop_ext_tcp;
                c.drop_icmpv6_info = e.drop_icmpv6_info;
                c.source_icmpv6_errors_better = e.better;
                c.handle_rst_during_fin_rcv = e.rst_fin;
                c.max_simultaneous_opens = e.max_so;
                let t = &mut c.timeouts;
                for (slot, d) in [&mut t.udp, &mut t.tcp_est, &mut t.tcp_trans, &mut t.icmp]
                    .into_iter()
                    .zip(e.timeouts)
                {
                    if let Some(d) = d {
                        *slot = d;
                    }
                }
                Some(c)
            }
        };
        Ok(Lab {
            mode,
            xlat: x,
            nat64,
            n4: self.lab.0,
            n6: self.lab.1,
            routes4: self.routes4,
            routes6: self.routes6,
        })
    }
}

fn proto_of(s: &str) -> Result<Proto, String> {
    // Jool's flags (--tcp) or the names.
    s.strip_prefix("--")
        .unwrap_or(s)
        .parse()
        .map_err(|_| unsupported(format!("protocol {s:?}")))
}

/// `"192.0.2.2#2000"` -> address and port.
fn taddr<A: std::str::FromStr>(s: &str) -> Result<(A, u16), String> {
    let bad = || unsupported(format!("transport address {s:?} (address#port)"));
    let (a, p) = s.rsplit_once('#').ok_or_else(bad)?;
    Ok((a.parse().map_err(|_| bad())?, p.parse().map_err(|_| bad())?))
}

fn pool4_entry(e: &Value) -> Result<Pool4Entry, String> {
    let shown = || unsupported(format!("pool4 entry {e}"));
    let o = e.as_object().ok_or_else(shown)?;
    let addr: Ipv4Prefix = o
        .get("addr")
        .and_then(Value::as_str)
        .ok_or_else(shown)?
        .parse()
        .map_err(|_| shown())?;
    let mut entry = Pool4Entry::new(addr);
    for (k, v) in o {
        match k.as_str() {
            "addr" => {}
            "ports" => {
                let r = v.as_str().ok_or_else(shown)?;
                let (a, b) = r.split_once('-').unwrap_or((r, r));
                entry.first_port = a.trim().parse().map_err(|_| shown())?;
                entry.last_port = b.trim().parse().map_err(|_| shown())?;
            }
            "protocols" => {
                entry.protocols = [false; 3];
                for p in v.as_array().ok_or_else(shown)? {
                    entry.protocols[proto_of(p.as_str().unwrap_or(""))?.index()] = true;
                }
            }
            _ => return Err(unsupported(format!("pool4 entry key {k} = {v}"))),
        }
    }
    Ok(entry)
}

fn static_bib(b: &Value) -> Result<Bib, String> {
    let shown = || unsupported(format!("bib_static entry {b}"));
    let o = b.as_object().ok_or_else(shown)?;
    if let Some(k) = o.keys().find(|k| !matches!(k.as_str(), "proto" | "v4" | "v6")) {
        return Err(unsupported(format!("bib_static key {k}")));
    }
    let s = |k: &str| o.get(k).and_then(Value::as_str).ok_or_else(shown);
    let (a4, p4) = taddr::<Ipv4Addr>(s("v4")?)?;
    let (a6, p6) = taddr::<Ipv6Addr>(s("v6")?)?;
    Ok(Bib {
        proto: proto_of(s("proto")?)?,
        v6: Taddr6 { addr: a6, port: p6 },
        v4: Taddr4 { addr: a4, port: p4 },
        is_static: true,
    })
}

/// The commands a note quotes: `global update K V` and `ip link set ... mtu N`.
fn commands_in_note(note: &str) -> Vec<String> {
    let mut found = Vec::new();
    // Quoting marks and punctuation around a command are not part of it.
    let w: Vec<&str> = note
        .split_whitespace()
        .map(|t| t.trim_matches(['`', '"', '\'', '(', ')', ',', ';']))
        .map(|t| t.strip_suffix('.').unwrap_or(t))
        .collect();
    let clean = |t: &str| t.to_owned();
    for i in 0..w.len() {
        if w[i] == "global" && w.get(i + 1) == Some(&"update") && i + 3 < w.len() {
            found.push(format!("global update {} {}", clean(w[i + 2]), clean(w[i + 3])));
        }
        if w[i] == "ip" && w.get(i + 1) == Some(&"link") && w.get(i + 2) == Some(&"set") {
            let rest: Vec<String> = w[i + 3..].iter().take(4).map(|t| clean(t)).collect();
            let rest = if rest.first().map(String::as_str) == Some("dev") {
                &rest[1..]
            } else {
                &rest[..]
            };
            if rest.len() >= 3 && rest[1] == "mtu" {
                found.push(format!("ip link set dev {} mtu {}", rest[0], rest[2]));
            }
        }
    }
    found
}

/// Reads a record's lab: its `config`, then `config_changes_in_effect`, then
/// commands quoted in `notes`.
pub fn lab_from_record(config: &Value, changes: &Value, notes: &Value) -> Result<Lab, String> {
    let mut s = Settings {
        xlat: Config::default(),
        ..Settings::default()
    };
    let obj = config.as_object().ok_or("the record has no config object")?;
    // The mode and the instance first: they give pool6 its starting value.
    for k in ["mode", "jool_instance"] {
        if let Some(v) = obj.get(k) {
            s.config_key(k, v)?;
        }
    }
    for (k, v) in obj {
        if k != "mode" && k != "jool_instance" {
            s.config_key(k, v)?;
        }
    }
    match changes {
        Value::Null => {}
        Value::Array(a) => {
            for c in a {
                let c = c.as_str().ok_or_else(|| unsupported(format!("config change {c}")))?;
                for part in c.split(';') {
                    s.command(part)?;
                }
            }
        }
        other => return Err(unsupported(format!("config_changes_in_effect = {other}"))),
    }
    let notes: Vec<&str> = match notes {
        Value::String(n) => vec![n.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for n in notes {
        for c in commands_in_note(n) {
            s.command(&c)?;
        }
    }
    s.finish()
}

// ------------------------------------------------ the lab's Linux machines

/// An ICMPv4 error as Linux's `icmp_send` builds it: TOS 0xc0, DF clear,
/// TTL 64, at most 576 bytes.
fn icmp4_error(src: Ipv4Addr, pkt: &[u8], ty: u8, code: u8) -> Vec<u8> {
    let quote = &pkt[..pkt.len().min(576 - 28)];
    let mut e = vec![0u8; 28 + quote.len()];
    e[0] = 0x45;
    e[1] = 0xc0;
    let total = e.len() as u16;
    e[2..4].copy_from_slice(&total.to_be_bytes());
    e[8] = 64;
    e[9] = 1;
    e[12..16].copy_from_slice(&src.octets());
    e[16..20].copy_from_slice(&pkt[12..16]);
    let c = checksum::finish(checksum::sum(&e[..20]));
    e[10..12].copy_from_slice(&c.to_be_bytes());
    e[20] = ty;
    e[21] = code;
    e[28..].copy_from_slice(quote);
    let c = checksum::finish(checksum::sum(&e[20..]));
    e[22..24].copy_from_slice(&c.to_be_bytes());
    e
}

/// An ICMPv6 error as Linux's `icmpv6_send` builds it: hop limit 64, flow
/// label 0, at most 1280 bytes.
fn icmp6_error(src: Ipv6Addr, pkt: &[u8], ty: u8, code: u8) -> Vec<u8> {
    let quote = &pkt[..pkt.len().min(1280 - 48)];
    let mut e = vec![0u8; 48 + quote.len()];
    e[0] = 0x60;
    e[4..6].copy_from_slice(&((8 + quote.len()) as u16).to_be_bytes());
    e[6] = 58;
    e[7] = 64;
    e[8..24].copy_from_slice(&src.octets());
    e[24..40].copy_from_slice(&pkt[8..24]);
    e[40] = ty;
    e[41] = code;
    e[48..].copy_from_slice(quote);
    let mut dst = [0u8; 16];
    dst.copy_from_slice(&pkt[8..24]);
    let s = checksum::add(
        checksum::pseudo_v6(src, Ipv6Addr::from(dst), 58, (8 + quote.len()) as u32),
        checksum::sum(&e[40..]),
    );
    e[42..44].copy_from_slice(&checksum::finish(s).to_be_bytes());
    e
}

/// The upper-layer protocol of an unfragmented packet without extension
/// headers (IPv6) or at offset 0 (IPv4), and its bytes.
fn upper(pkt: &[u8]) -> Option<(u8, &[u8])> {
    match pkt.first()? >> 4 {
        4 if pkt.len() >= 20 => {
            let hl = usize::from(pkt[0] & 15) * 4;
            let off = u16::from_be_bytes([pkt[6], pkt[7]]) & 0x1fff;
            (off == 0 && pkt.len() >= hl).then(|| (pkt[9], &pkt[hl..]))
        }
        6 if pkt.len() >= 40 => Some((pkt[6], &pkt[40..])),
        _ => None,
    }
}

impl Lab {
    /// What the translator's own Linux host answers to a packet the
    /// translator handed back (`NotOurs`) that is addressed to the host
    /// itself: UDP to a port nobody listens on gets port unreachable
    /// (ICMPv4 3/3, ICMPv6 1/4), as in Jool's lab, where the pool4 address is
    /// also the host's. Other packets get no emulated answer.
    pub fn host_reply(&self, pkt: &[u8]) -> Option<Vec<u8>> {
        let (proto, _) = upper(pkt)?;
        match pkt[0] >> 4 {
            4 => {
                let own = self.xlat.own_ipv4?;
                let dst = Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]);
                (dst == own && proto == 17).then(|| icmp4_error(own, pkt, 3, 3))
            }
            _ => {
                let own = self.xlat.own_ipv6?;
                let mut d = [0u8; 16];
                d.copy_from_slice(&pkt[24..40]);
                (Ipv6Addr::from(d) == own && proto == 17).then(|| icmp6_error(own, pkt, 1, 4))
            }
        }
    }

    /// What the node on the far side answers, as a Linux router (`n4` or
    /// `n6` with forwarding on), to a packet the translator sent through it
    /// (its destination is routed via that node and is not the node itself):
    /// Time Exceeded when the hop limit runs out there, else Destination
    /// Unreachable, no route (the lab's nodes have no route beyond their
    /// link). The answer goes back into the translator.
    pub fn router_reply(&self, pkt: &[u8]) -> Option<Vec<u8>> {
        let (proto, l4) = upper(pkt)?;
        let v4 = pkt[0] >> 4 == 4;
        let node = if v4 { self.n4 } else { self.n6 };
        if !node.forwarding {
            return None;
        }
        // Never an error about an ICMP error (RFC 1812 section 4.3.2.7, RFC
        // 4443 section 2.4 (e)).
        let is_error = match proto {
            1 => l4.first().is_some_and(|t| matches!(t, 3 | 4 | 5 | 11 | 12)),
            58 => l4.first().is_some_and(|t| *t < 128),
            _ => false,
        };
        if is_error {
            return None;
        }
        match node.addr? {
            IpAddr::V4(n4) if v4 => {
                let dst = Ipv4Addr::new(pkt[16], pkt[17], pkt[18], pkt[19]);
                let via = self.routes4.iter().any(|(p, hop)| *hop == n4 && p.contains(dst));
                (dst != n4 && via).then(|| {
                    let (ty, code) = if pkt[8] <= 1 { (11, 0) } else { (3, 0) };
                    icmp4_error(n4, pkt, ty, code)
                })
            }
            IpAddr::V6(n6) if !v4 => {
                let mut d = [0u8; 16];
                d.copy_from_slice(&pkt[24..40]);
                let dst = Ipv6Addr::from(d);
                let via = self.routes6.iter().any(|(p, hop)| *hop == n6 && p.contains(dst));
                (dst != n6 && via).then(|| {
                    let (ty, code) = if pkt[7] <= 1 { (3, 0) } else { (1, 0) };
                    icmp6_error(n6, pkt, ty, code)
                })
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base() -> Value {
        json!({
            "mode": "siit",
            "jool_instance": "jool_siit instance add --netfilter -6 2001:db8:100::/40",
            "pool6": "2001:db8:100::/40",
            "lowest_ipv6_mtu": 1280,
            "translator_ipv4_addr": "198.51.100.1/24 (iface to_client_v4)",
            "translator_ipv6_addr": "2001:db8:1c0:2:1::/64 (iface to_client_v6)",
            "egress_mtu": {"to_client_v6": 1500, "to_client_v4": 1500},
            "other_globals": "Jool 4.1 defaults",
            "sysctl": "net.ipv6.auto_flowlabels=0, forwarding on"
        })
    }

    fn lab(changes: Value) -> Result<Lab, String> {
        lab_from_record(&base(), &changes, &Value::Null)
    }

    #[test]
    fn every_form_of_a_change_applies() {
        for c in [
            "ip link set dev to_client_v6 mtu 1280",
            "ip link set to_client_v6 mtu 1280",
            "jool_siit global update lowest-ipv6-mtu 1500",
            "jool_siit -i default global update lowest-ipv6-mtu 1500",
        ] {
            lab(json!([c])).unwrap();
        }
        assert_eq!(
            lab(json!(["ip link set to_client_v6 mtu 1280"])).unwrap().xlat.mtu6,
            1280
        );
        assert_eq!(
            lab(json!(["ip link set dev to_client_v4 mtu 1400"])).unwrap().xlat.mtu4,
            1400
        );
        for (v, want) in [
            ("true", true),
            ("on", true),
            ("1", true),
            ("false", false),
            ("off", false),
            ("0", false),
        ] {
            for key in [
                "amend-udp-checksum-zero",
                "zeroize-traffic-class",
                "forward-udp-checksum-zero",
            ] {
                let l = lab(json!([format!("global update {key} {v}")])).unwrap();
                let got = match key {
                    "amend-udp-checksum-zero" => l.xlat.amend_udp_checksum_zero,
                    "zeroize-traffic-class" => l.xlat.zeroize_traffic_class,
                    _ => l.xlat.forward_udp_checksum_zero,
                };
                assert_eq!(got, want, "{key} {v}");
            }
        }
        let l = lab(json!(["global update lowest-ipv6-mtu 1500"])).unwrap();
        assert_eq!(l.xlat.lowest_ipv6_mtu, 1500);
        let l = lab(json!([
            "rfc6791v4-prefix 203.0.113.8",
            "global update rfc6791v6-prefix 2::2/128"
        ]))
        .unwrap();
        assert_eq!(l.xlat.rfc6791v4_prefix.unwrap().to_string(), "203.0.113.8/32");
        assert!(l.xlat.rfc6791v6_prefix.is_some());
        let l = lab(json!(["pool6 null; eamt add 198.51.100.0/24 2001:db8:1c6:3364::/72"])).unwrap();
        assert!(l.xlat.pool6.is_none());
        assert_eq!(l.xlat.eamt.entries().len(), 1);
        let l = lab(json!([
            "eamt add 2001:db8:1::/120 192.0.2.0/24",
            "eamt remove 192.0.2.0/24"
        ]))
        .unwrap();
        assert!(l.xlat.eamt.is_empty());
        // NAT64 options.
        let mut c = base();
        c["mode"] = json!("nat64");
        c["jool_instance"] = json!("jool instance add -6 64:ff9b::/96 --netfilter");
        c["pool6"] = json!("64:ff9b::/96");
        c["pool4"] = json!([{"addr": "192.0.2.2", "ports": "1-3000", "protocols": ["tcp", "udp", "icmp"]}]);
        let l = lab_from_record(
            &c,
            &json!([
                "global update source-icmpv6-errors-better off",
                "global update udp-timeout 2:30"
            ]),
            &Value::Null,
        )
        .unwrap();
        let n = l.nat64.unwrap();
        assert!(!n.source_icmpv6_errors_better);
        assert_eq!(n.timeouts.udp, Duration::from_secs(150));
    }

    #[test]
    fn notes_quoting_a_command_apply_it() {
        let l = lab_from_record(
            &base(),
            &Value::Null,
            &json!("after `global update forward-udp-checksum-zero on`, the zero is kept"),
        )
        .unwrap();
        assert!(l.xlat.forward_udp_checksum_zero);
    }

    #[test]
    fn what_is_not_understood_is_refused_by_name() {
        for c in [
            "global update forward-udp-checksum-zero-ports 53",
            "global update amend-udp-checksum-zero maybe",
            "ip link set dev eth7 mtu 1280",
            "ip link set dev to_client_v6 up",
            "pool4 add --tcp 192.0.2.2 1-3000",
            "global update manually-enabled false",
        ] {
            let e = lab(json!([c])).unwrap_err();
            assert!(e.starts_with("unsupported configuration: "), "{e}");
            assert!(e.contains(c.split_whitespace().last().unwrap()), "{c}: {e}");
        }
        let mut c = base();
        c["some_new_knob"] = json!(true);
        let e = lab_from_record(&c, &Value::Null, &Value::Null).unwrap_err();
        assert!(e.contains("some_new_knob"), "{e}");
        let mut c = base();
        c["eam_hairpin_mode"] = json!("sideways");
        assert!(lab_from_record(&c, &Value::Null, &Value::Null)
            .unwrap_err()
            .contains("sideways"));
        let mut c = base();
        c["sysctl"] = json!("net.ipv4.ip_no_pmtu_disc=1");
        assert!(lab_from_record(&c, &Value::Null, &Value::Null).is_err());
    }

    #[test]
    fn times_parse_as_jool_writes_them() {
        assert_eq!(parse_time("2:00:00"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_time("4:00"), Some(Duration::from_secs(240)));
        assert_eq!(parse_time("6.5"), Some(Duration::from_millis(6500)));
        assert_eq!(parse_time("x"), None);
    }

    #[test]
    fn the_host_answers_udp_to_itself_and_n4_routes() {
        let mut c = base();
        c["n4"] = json!("198.51.100.2/24; IPv4 forwarding on");
        c["translator_routes"] = json!(["203.0.113.0/24 via 198.51.100.2 (n4)"]);
        let l = lab_from_record(&c, &Value::Null, &Value::Null).unwrap();
        let mut udp = vec![
            0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 198, 51, 100, 2, 198, 51, 100, 1,
        ];
        udp.extend_from_slice(&[0, 1, 0, 2, 0, 12, 0, 0, 1, 2, 3, 4]);
        let e = l.host_reply(&udp).unwrap();
        assert_eq!((e[20], e[21]), (3, 3));
        assert_eq!(checksum::fold(checksum::sum(&e[..20])), 0xffff);
        assert_eq!(checksum::fold(checksum::sum(&e[20..])), 0xffff);
        // Through n4: net unreachable; with TTL 1, time exceeded.
        let mut out = udp.clone();
        out[16..20].copy_from_slice(&[203, 0, 113, 9]);
        assert_eq!(l.router_reply(&out).map(|e| (e[20], e[21])), Some((3, 0)));
        out[8] = 1;
        assert_eq!(l.router_reply(&out).map(|e| (e[20], e[21])), Some((11, 0)));
        assert!(l.router_reply(&udp).is_none(), "n4 itself");
    }
}
