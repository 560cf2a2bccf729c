//! `nat64 translate`: offline translation of capture files.
//!
//! Reads a pcap or pcapng capture whose link type is raw IP (101, 228, 229)
//! or Ethernet (1), feeds every packet to a [`Translator`](nat64_core::Translator), writes what the
//! translator emits (the translated packets, and the ICMP errors it generates
//! for senders) into a pcap file with the input packet's timestamp, and
//! prints what happened to the packets, per verdict and per reason.
//!
//! Output link type: Ethernet when the input's (first packet's) link type is
//! Ethernet, raw IP (101) otherwise. Ethernet output reuses the input frame's
//! MAC addresses, swapped for ICMP errors going back to the sender; 802.1Q
//! tags of the input are not copied.
//!
//! A malformed capture stops the run with an error naming the record (packet
//! or block number and byte offset); the output then holds what was written
//! before that record.
//!
//! [`run`] is the file handling and the printing around the
//! `nat64-capture` crate's [`Capture`], which the `pcap` fuzz target
//! (`fuzz/fuzz_targets/pcap.rs`) runs over its bytes, with no files and no
//! printing; [`translator_config`] is the translator the flags and the
//! `--config` file describe.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use nat64_capture::{Capture, CaptureError, Link, StatefulArgs, Tally, Xlat, XlatConfig};
use nat64_core::nat64::{Bib, Nat64, Pool4Entry, SessionFilter};
use nat64_core::{Config, Eamt, EamtError, Ipv4Prefix, Ipv6Prefix, NotOurs, Prefix64};

use nat64_config::TranslateFile;

/// Command-line arguments of `nat64 translate`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  nat64 translate --pool6 64:ff9b::/96 in.pcapng out.pcap
  nat64 translate --pool6 2001:db8:64::/96 --eamt 192.0.2.0/24=2001:db8:1::/120 \\
      --own-ipv6 2001:db8::1 --own-ipv4 198.51.100.1 in.pcap out.pcap
  nat64 translate --config translator.toml --mtu4 1400 in.pcap out.pcap

Flags override the keys of the --config file ([translator] table); a flag that
takes a list (--eamt, --denylist4) replaces the file's list.")]
pub struct Args {
    /// Input capture: pcap or pcapng, link type raw IP (101, 228, 229) or Ethernet (1).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// Output capture (pcap): translated packets and the ICMP errors generated for senders.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    /// TOML file with a `[translator]` table (see examples/translator.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The translator settings given as flags.
    #[command(flatten)]
    pub settings: Box<Settings>,
}

/// The translator settings flags (each overrides its `--config` key).
#[derive(clap::Args, Debug)]
pub struct Settings {
    /// RFC 6052 translation prefix, e.g. 64:ff9b::/96.
    #[arg(long, value_name = "PREFIX")]
    pub pool6: Option<Prefix64>,
    /// RFC 7757 explicit address mapping (repeatable), e.g. 192.0.2.0/24=2001:db8:1::/120.
    #[arg(long, value_name = "V4PREFIX=V6PREFIX", value_parser = parse_eam)]
    pub eamt: Vec<EamArg>,
    /// Source address of the ICMPv4 errors the translator generates.
    #[arg(long, value_name = "ADDR")]
    pub own_ipv4: Option<Ipv4Addr>,
    /// Source address of the ICMPv6 errors the translator generates.
    #[arg(long, value_name = "ADDR")]
    pub own_ipv6: Option<Ipv6Addr>,
    /// Egress MTU towards IPv4.
    #[arg(long, value_name = "N")]
    pub mtu4: Option<u32>,
    /// Egress MTU towards IPv6.
    #[arg(long, value_name = "N")]
    pub mtu6: Option<u32>,
    /// DF=0 IPv4 packets are fragmented so that every IPv6 fragment fits this (at least 1280).
    #[arg(long, value_name = "N")]
    pub lowest_ipv6_mtu: Option<u32>,
    /// RFC 6791 pool: IPv4 sources for translated ICMPv6 errors whose source does not translate.
    #[arg(long = "rfc6791v4-prefix", value_name = "PREFIX")]
    pub rfc6791v4_prefix: Option<Ipv4Prefix>,
    /// RFC 6791 pool: IPv6 sources for translated ICMPv4 errors whose source does not translate.
    #[arg(long = "rfc6791v6-prefix", value_name = "PREFIX")]
    pub rfc6791v6_prefix: Option<Ipv6Prefix>,
    /// Compute the checksum of IPv4 UDP datagrams that have none (RFC 7915 section 4.5).
    #[arg(long)]
    pub amend_udp_checksum_zero: bool,
    /// Forward UDP checksum 0 unchanged in both directions (Jool's forward-udp-checksum-zero, for RFC 6935 tunnels).
    #[arg(long)]
    pub forward_udp_checksum_zero: bool,
    /// Allow non-global IPv4 addresses under 64:ff9b::/96 (turns off RFC 6052 section 3.1).
    #[arg(long)]
    pub no_wkp_check: bool,
    /// IPv4 prefix never translated with pool6 (repeatable).
    #[arg(long, value_name = "PREFIX")]
    pub denylist4: Vec<Ipv4Prefix>,
    /// Stateful NAT64 (RFC 6146) instead of SIIT: a pool4 entry (repeatable),
    /// `ADDR[/LEN][:FIRST-LAST]`, e.g. 192.0.2.1:61001-65535 (ports default
    /// to 61001-65535). The capture's timestamps are the clock.
    #[arg(long, value_name = "ADDR[/LEN][:PORTS]")]
    pub pool4: Vec<Pool4Entry>,
    /// Stateful: a static BIB entry (repeatable), PROTO/V6ADDR#PORT=V4ADDR#PORT,
    /// e.g. tcp/2001:db8::5#80=192.0.2.1#8080.
    #[arg(long, value_name = "PROTO/V6#PORT=V4#PORT")]
    pub static_bib: Vec<Bib>,
    /// Stateful: address-dependent filtering (RFC 6146 section 3.5).
    #[arg(long)]
    pub address_dependent_filtering: bool,
}

/// One `--eamt V4PREFIX=V6PREFIX`.
#[derive(Debug, Clone, Copy)]
pub struct EamArg {
    v4: Ipv4Prefix,
    v6: Ipv6Prefix,
}

fn parse_eam(s: &str) -> Result<EamArg, String> {
    let (a, b) = s
        .split_once('=')
        .ok_or_else(|| "expected V4PREFIX=V6PREFIX, e.g. 192.0.2.0/24=2001:db8:1::/120".to_owned())?;
    let v4 = a.parse().map_err(|e| format!("IPv4 side: {e}"))?;
    let v6 = b.parse().map_err(|e| format!("IPv6 side: {e}"))?;
    Ok(EamArg { v4, v6 })
}

/// Why `nat64 translate` stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TranslateError {
    /// An `--eamt` entry the table refuses.
    #[error("--eamt {v4}={v6}: {error}")]
    Eam {
        /// IPv4 side.
        v4: Ipv4Prefix,
        /// IPv6 side.
        v6: Ipv6Prefix,
        /// Why.
        error: EamtError,
    },
    /// IN and OUT are the same file.
    #[error("{0}: the input and the output are the same file; writing would destroy the input")]
    SameFile(PathBuf),
    /// Reading, translating or writing the capture.
    #[error(transparent)]
    Capture(#[from] CaptureError),
}

/// Runs `nat64 translate`: the translator from the settings, the capture
/// from IN (through a 1 MiB reader), the translated packets to OUT, then the
/// tally (and the stateful tables) on stdout.
pub fn run(a: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut t = translator(&a)?;
    if same_file(&a.input, &a.output) {
        return Err(TranslateError::SameFile(a.output).into());
    }
    let file = File::open(&a.input).map_err(|error| CaptureError::Read {
        path: a.input.clone(),
        error,
    })?;
    let capture = Capture::open(BufReader::with_capacity(1 << 20, file), &a.input)?;
    let format = capture.format();
    // Created only once the input is known to be a capture.
    let out_file = File::create(&a.output).map_err(|e| CaptureError::Write {
        path: a.output.clone(),
        error: e.to_string(),
    })?;
    let (tally, out_link) = capture.translate(&mut t, BufWriter::new(out_file), &a.output)?;
    print_tally(&tally, &a.input, format, &a.output, out_link);
    if let Xlat::Stateful(n) = &t {
        print_sessions(n);
    }
    Ok(ExitCode::SUCCESS)
}

/// The translator `a` describes (`--config` file, then the flags): SIIT, or
/// stateful NAT64 with `--pool4`. A new one for every capture: the stateful
/// translator keeps sessions, and the capture's timestamps are its clock.
pub fn translator(a: &Args) -> Result<Xlat, Box<dyn std::error::Error>> {
    Ok(translator_config(a)?.build()?)
}

/// The configuration `a` describes, before the translator is built from it.
pub fn translator_config(a: &Args) -> Result<XlatConfig, Box<dyn std::error::Error>> {
    let cfg = build_config(a)?;
    let origin = match &a.config {
        Some(p) => format!(" (from {} and the command line)", p.display()),
        None => String::new(),
    };
    let stateful = StatefulArgs {
        pool4: a.settings.pool4.clone(),
        static_bib: a.settings.static_bib.clone(),
        address_dependent_filtering: a.settings.address_dependent_filtering,
    };
    Ok(XlatConfig::new(cfg, stateful, origin)?)
}

/// The configuration: the file's `[translator]` table, then the flags.
fn build_config(a: &Args) -> Result<Config, Box<dyn std::error::Error>> {
    let f = &a.settings;
    let mut cfg = Config::default();
    if let Some(path) = &a.config {
        TranslateFile::load(path)?
            .translator
            .apply(&mut cfg)
            .map_err(|e| e.in_file(path))?;
    }
    if let Some(p) = f.pool6 {
        cfg.pool6 = Some(p);
    }
    if !f.eamt.is_empty() {
        cfg.eamt = Eamt::new();
        for e in &f.eamt {
            cfg.eamt.add(e.v4, e.v6, false).map_err(|error| TranslateError::Eam {
                v4: e.v4,
                v6: e.v6,
                error,
            })?;
        }
    }
    if f.own_ipv4.is_some() {
        cfg.own_ipv4 = f.own_ipv4;
    }
    if f.own_ipv6.is_some() {
        cfg.own_ipv6 = f.own_ipv6;
    }
    if let Some(v) = f.mtu4 {
        cfg.mtu4 = v;
    }
    if let Some(v) = f.mtu6 {
        cfg.mtu6 = v;
    }
    if let Some(v) = f.lowest_ipv6_mtu {
        cfg.lowest_ipv6_mtu = v;
    }
    if f.rfc6791v4_prefix.is_some() {
        cfg.rfc6791v4_prefix = f.rfc6791v4_prefix;
    }
    if f.rfc6791v6_prefix.is_some() {
        cfg.rfc6791v6_prefix = f.rfc6791v6_prefix;
    }
    if f.amend_udp_checksum_zero {
        cfg.amend_udp_checksum_zero = true;
    }
    if f.forward_udp_checksum_zero {
        cfg.forward_udp_checksum_zero = true;
    }
    if f.no_wkp_check {
        cfg.wkp_forbids_non_global = false;
    }
    if !f.denylist4.is_empty() {
        cfg.denylist4 = f.denylist4.clone();
    }
    Ok(cfg)
}

fn same_file(a: &Path, b: &Path) -> bool {
    matches!((std::fs::canonicalize(a), std::fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

/// The stateful translator's tables after the replay, as Jool's `session
/// display` shows them.
fn print_sessions(n: &Nat64) {
    let st = n.stats();
    println!();
    println!(
        "stateful NAT64: {} sessions, {} BIB entries, {} unsolicited SYNs held; pool4 tcp/udp/icmp: {}/{}/{} transport addresses",
        st.sessions, st.bib_entries, st.held_syns, st.pool4_size[0], st.pool4_size[1], st.pool4_size[2]
    );
    let mut rows = Vec::new();
    n.for_each_session(SessionFilter::default(), &mut |s| rows.push(*s));
    rows.sort_by_key(|s| (s.proto, s.v6, s.remote));
    if rows.is_empty() {
        return;
    }
    println!(
        "{:<5} {:<44} {:<22} {:<22} {:<18} expires at (capture time, s)",
        "proto", "IPv6 client", "IPv4 (pool4)", "remote", "state"
    );
    for s in rows.iter().take(200) {
        println!(
            "{:<5} {:<44} {:<22} {:<22} {:<18} {:.3}",
            s.proto.name(),
            s.v6.to_string(),
            s.v4.to_string(),
            s.remote.to_string(),
            s.state.name(),
            s.expires.as_micros() as f64 / 1e6
        );
    }
    if rows.len() > 200 {
        println!("... and {} more", rows.len() - 200);
    }
}

/// What happened to the packets, per verdict and per reason.
fn print_tally(tally: &Tally, input: &Path, format: &str, output: &Path, out_link: Link) {
    let this = tally;
    {
        let [t64, t46, t66] = this.translated;
        let not_ours: u64 = this.not_ours.values().sum();
        let link = match out_link {
            Link::Raw => "raw IP",
            Link::Ethernet => "Ethernet",
        };
        println!("read {} packets from {} ({format})", this.read, input.display());
        println!("wrote {} packets to {} (pcap, {link})", this.written, output.display());
        println!();
        println!(
            "translated          {:>10}   (6->4: {t64}, 4->6: {t46}, 6->6 hairpinned: {t66})",
            t64 + t46 + t66
        );
        println!(
            "extra fragments     {:>10}   (written in addition: translated packets the translator fragmented)",
            this.extra_fragments
        );
        println!(
            "icmp error          {:>10}   (not translated; an ICMP error was written for the sender)",
            this.icmp_errors
        );
        println!(
            "dropped             {:>10}   (not translated, nothing written)",
            this.silent_drops
        );
        println!(
            "not ours            {:>10}   (outside the configuration; not written)",
            not_ours
        );
        if this.held > 0 {
            println!(
                "held                {:>10}   (kept by the stateful translator: fragments, unsolicited SYNs)",
                this.held
            );
        }
        if !this.dropped.is_empty() {
            println!();
            println!("not translated, per reason:");
            for (r, (silent, icmp)) in &this.dropped {
                let how = match (silent, icmp) {
                    (_, 0) => "dropped".to_owned(),
                    (0, _) => "answered with an ICMP error".to_owned(),
                    (s, i) => format!("{i} answered with an ICMP error, {s} dropped"),
                };
                println!("  {:<30} {:>8}   ({how})", r.label(), silent + icmp);
                println!("      {}", r.explain());
            }
        }
        if !this.not_ours.is_empty() {
            println!();
            println!("not ours, per reason:");
            for (r, n) in &this.not_ours {
                let note = if *r == NotOurs::NotIp && this.link_not_ip > 0 {
                    format!(
                        "   ({} Ethernet frames carrying neither IPv4 nor IPv6)",
                        this.link_not_ip
                    )
                } else {
                    String::new()
                };
                println!("  {:<30} {:>8}{note}", r.label(), n);
                println!("      {}", r.explain());
            }
        }
    }
}
