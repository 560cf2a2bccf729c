//! `nat64 translate`: offline translation of capture files.
//!
//! Reads a pcap or pcapng capture whose link type is raw IP (101, 228, 229)
//! or Ethernet (1), feeds every packet to a [`Translator`], writes what the
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
//! [`run`] is the file handling around [`Capture`]: [`Capture::open`] reads
//! any [`Read`] and [`Capture::translate`] writes to any [`Write`], with a
//! translator from [`translator_config`]. The `pcap` fuzz target
//! (`fuzz/fuzz_targets/pcap.rs`, which compiles this file in with `#[path]`)
//! calls the same three over its bytes, with no files and no printing.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use nat64_core::nat64::{Bib, Instant, Nat64, Nat64Config, Nat64ConfigError, Pool4Entry, SessionFilter};
use nat64_core::{
    Config, ConfigError, Direction, DropReason, Eamt, EamtError, Ipv4Prefix, Ipv6Prefix, NotOurs, Prefix64, Translator,
    Verdict,
};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgParser;
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

use crate::config_file::TranslateFile;

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
    /// The stateful settings cannot work.
    #[error("the stateful NAT64 settings{origin} cannot work: {error}")]
    Stateful {
        /// Where the settings came from.
        origin: String,
        /// Why.
        error: Nat64ConfigError,
    },
    /// The settings cannot work.
    #[error("the translator settings{origin} cannot work: {error}")]
    Settings {
        /// Where the settings came from.
        origin: String,
        /// Why.
        error: ConfigError,
    },
    /// IN and OUT are the same file.
    #[error("{0}: the input and the output are the same file; writing would destroy the input")]
    SameFile(PathBuf),
    /// The input cannot be opened or read.
    #[error("cannot read {path}: {error}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: io::Error,
    },
    /// The output cannot be created or written.
    #[error("cannot write {path}: {error}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        error: String,
    },
    /// The input is not a capture file.
    #[error("{path}: {why}")]
    NotACapture {
        /// The file.
        path: PathBuf,
        /// What it looks like.
        why: String,
    },
    /// A record of the input is malformed or unsupported.
    #[error("{path}: {record}: {why}")]
    Record {
        /// The file.
        path: PathBuf,
        /// Which record.
        record: Record,
        /// What is wrong.
        why: String,
    },
    /// An error after some packets were written.
    #[error("{error}\n  (stopped there; {out} holds the {written} packets written before it)")]
    Stopped {
        /// The error.
        error: Box<TranslateError>,
        /// The output file.
        out: PathBuf,
        /// Packets written.
        written: u64,
    },
}

/// A record of the input file, for error messages.
#[derive(Debug, Clone, Copy)]
pub enum Record {
    /// The pcap file header.
    PcapHeader,
    /// A pcap packet record.
    Packet {
        /// 1-based packet number.
        n: u64,
        /// Byte offset of its record header.
        offset: u64,
    },
    /// A pcapng block.
    Block {
        /// 1-based block number.
        n: u64,
        /// Byte offset of the block.
        offset: u64,
        /// Block type.
        kind: u32,
        /// 1-based packet number, for packet blocks.
        packet: Option<u64>,
    },
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Record::PcapHeader => f.write_str("pcap file header (byte offset 0)"),
            Record::Packet { n, offset } => {
                write!(f, "packet {n} (record at byte offset {offset})")
            }
            Record::Block {
                n,
                offset,
                kind,
                packet,
            } => {
                write!(f, "block {n} (")?;
                match block_name(kind) {
                    Some(name) => f.write_str(name)?,
                    None => write!(f, "block type {kind:#010x}")?,
                }
                if let Some(p) = packet {
                    write!(f, ", packet {p}")?;
                }
                write!(f, " at byte offset {offset})")
            }
        }
    }
}

const SHB: u32 = 0x0A0D_0D0A;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;

fn block_name(kind: u32) -> Option<&'static str> {
    Some(match kind {
        SHB => "Section Header Block",
        IDB => "Interface Description Block",
        PB => "Packet Block",
        SPB => "Simple Packet Block",
        4 => "Name Resolution Block",
        5 => "Interface Statistics Block",
        EPB => "Enhanced Packet Block",
        _ => return None,
    })
}

/// Largest snap length tcpdump writes; larger records mean a corrupt file
/// (unless the file's own snap length is larger).
const MAX_SNAPLEN: u32 = 262_144;
/// The translator's output buffer: room for a 65 535-byte packet cut into
/// fragments, each with its own headers.
const OUT_BUF: usize = 2 * 65_536;

/// The link layer of input packets (and of the output file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// An IP packet, no link header (101, 228, 229).
    Raw,
    /// Ethernet II, possibly with 802.1Q tags (1).
    Ethernet,
}

impl Link {
    fn of(d: DataLink) -> Option<Link> {
        match d {
            DataLink::ETHERNET => Some(Link::Ethernet),
            DataLink::RAW | DataLink::IPV4 | DataLink::IPV6 => Some(Link::Raw),
            _ => None,
        }
    }
    fn datalink(self) -> DataLink {
        match self {
            Link::Raw => DataLink::RAW,
            Link::Ethernet => DataLink::ETHERNET,
        }
    }
}

fn unsupported_link(d: DataLink) -> String {
    format!(
        "link type {} ({d:?}) is not supported; nat64 translate reads raw IP (101, 228, 229) and Ethernet (1) captures",
        u32::from(d)
    )
}

/// Runs `nat64 translate`: the translator from the settings, the capture
/// from IN (through a 1 MiB reader), the translated packets to OUT, then the
/// tally (and the stateful tables) on stdout.
pub fn run(a: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut t = translator(&a)?;
    if same_file(&a.input, &a.output) {
        return Err(TranslateError::SameFile(a.output).into());
    }
    let file = File::open(&a.input).map_err(|error| TranslateError::Read {
        path: a.input.clone(),
        error,
    })?;
    let capture = Capture::open(BufReader::with_capacity(1 << 20, file), &a.input)?;
    let format = capture.format();
    // Created only once the input is known to be a capture.
    let out_file = File::create(&a.output).map_err(|e| TranslateError::Write {
        path: a.output.clone(),
        error: e.to_string(),
    })?;
    let (tally, out_link) = capture.translate(&mut t, BufWriter::new(out_file), &a.output)?;
    tally.print(&a.input, format, &a.output, out_link);
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
    let mode = if a.settings.pool4.is_empty() {
        XlatMode::Siit(Box::new(cfg))
    } else {
        let pool6 = cfg.pool6.ok_or(TranslateError::Stateful {
            origin: origin.clone(),
            error: Nat64ConfigError::NoPool6,
        })?;
        let mut n = Nat64Config::new(pool6, a.settings.pool4.clone());
        n.xlat = cfg;
        n.static_bib = a.settings.static_bib.clone();
        n.address_dependent_filtering = a.settings.address_dependent_filtering;
        XlatMode::Stateful(Box::new(n))
    };
    Ok(XlatConfig { origin, mode })
}

/// A translator's configuration; [`XlatConfig::build`] makes the translator.
/// The `pcap` fuzz target keeps one per mode and builds a translator from a
/// copy for every input.
#[derive(Debug, Clone)]
pub struct XlatConfig {
    /// Where the settings came from, for errors: empty, or " (from FILE and
    /// the command line)".
    origin: String,
    /// SIIT or stateful, with its configuration.
    pub mode: XlatMode,
}

/// SIIT or stateful NAT64, with the configuration of either.
#[derive(Debug, Clone)]
pub enum XlatMode {
    /// SIIT (RFC 7915, RFC 6052, RFC 7757).
    Siit(Box<Config>),
    /// Stateful NAT64 (RFC 6146), with `--pool4`.
    Stateful(Box<Nat64Config>),
}

impl XlatConfig {
    /// The translator; an error if the configuration cannot work.
    pub fn build(self) -> Result<Xlat, TranslateError> {
        let origin = self.origin;
        Ok(match self.mode {
            XlatMode::Siit(cfg) => Xlat::Siit(Box::new(
                Translator::new(*cfg).map_err(|error| TranslateError::Settings { origin, error })?,
            )),
            XlatMode::Stateful(n) => Xlat::Stateful(Box::new(
                Nat64::new(*n).map_err(|error| TranslateError::Stateful { origin, error })?,
            )),
        })
    }
}

/// The two capture formats, told apart by the first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Pcap,
    PcapNg,
}

/// A capture being read from any [`Read`]: a file for `nat64 translate`,
/// the fuzzer's bytes for the `pcap` fuzz target (`fuzz/fuzz_targets/pcap.rs`),
/// so both run the same reader.
pub struct Capture<R> {
    input: Input<R>,
    magic: [u8; 4],
    format: Format,
}

impl<R: Read> Capture<R> {
    /// Reads the first four bytes and tells pcap from pcapng; anything else
    /// is [`TranslateError::NotACapture`]. `path` names the input in errors.
    pub fn open(r: R, path: &Path) -> Result<Self, TranslateError> {
        let mut input = Input {
            r,
            offset: 0,
            path: path.to_owned(),
        };
        let mut magic = [0u8; 4];
        let got = input.fill(&mut magic).map_err(|e| input.read_err(e))?;
        let format = match magic {
            [0xa1, 0xb2, 0xc3, 0xd4]
            | [0xd4, 0xc3, 0xb2, 0xa1]
            | [0xa1, 0xb2, 0x3c, 0x4d]
            | [0x4d, 0x3c, 0xb2, 0xa1] => Format::Pcap,
            [0x0a, 0x0d, 0x0d, 0x0a] => Format::PcapNg,
            _ => {
                let why = if got == 0 {
                    "the file is empty, not a pcap or pcapng capture".to_owned()
                } else {
                    format!(
                        "not a pcap or pcapng capture: it starts with {}; a pcap file starts with a1 b2 c3 d4 \
                         (or d4 c3 b2 a1, a1 b2 3c 4d, 4d 3c b2 a1), a pcapng file with 0a 0d 0d 0a",
                        hex_bytes(&magic[..got])
                    )
                };
                return Err(TranslateError::NotACapture { path: input.path, why });
            }
        };
        Ok(Capture { input, magic, format })
    }

    /// `"pcap"` or `"pcapng"`.
    pub fn format(&self) -> &'static str {
        match self.format {
            Format::Pcap => "pcap",
            Format::PcapNg => "pcapng",
        }
    }

    /// Feeds every packet to `t` and writes what it emits to `out` as a pcap
    /// file (`out_path` names it in errors); returns the tally and the
    /// output's link type. An error after packets were written is
    /// [`TranslateError::Stopped`]; `out` is flushed either way.
    pub fn translate<W: Write>(
        mut self,
        t: &mut Xlat,
        out: W,
        out_path: &Path,
    ) -> Result<(Tally, Link), TranslateError> {
        let mut s = Session {
            t,
            buf: vec![0; OUT_BUF],
            out: Output {
                path: out_path.to_owned(),
                file: Some(out),
                w: None,
                link: Link::Raw,
                frame: Vec::new(),
            },
            tally: Tally::default(),
        };
        let r = match self.format {
            Format::Pcap => read_pcap(&mut self.input, self.magic, &mut s),
            Format::PcapNg => read_pcapng(&mut self.input, self.magic, &mut s),
        };
        let written = s.tally.written;
        let finished = s.out.finish();
        if let Err(error) = r {
            return Err(if written > 0 {
                TranslateError::Stopped {
                    error: Box::new(error),
                    out: out_path.to_owned(),
                    written,
                }
            } else {
                error
            });
        }
        let out_link = finished?;
        Ok((s.tally, out_link))
    }
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

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
}

// ------------------------------------------------------------------ input

struct Input<R> {
    r: R,
    offset: u64,
    path: PathBuf,
}

impl<R: Read> Input<R> {
    /// Fills `buf`; returns fewer bytes only at the end of the file.
    fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() {
            match self.r.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
    /// Appends up to `len` bytes to `v` (fewer only at the end of the file),
    /// growing `v` as data arrives rather than trusting `len`.
    fn append(&mut self, v: &mut Vec<u8>, len: u64) -> io::Result<u64> {
        let n = (&mut self.r).take(len).read_to_end(v)? as u64;
        self.offset += n;
        Ok(n)
    }
    fn err(&self, record: Record, why: impl Into<String>) -> TranslateError {
        TranslateError::Record {
            path: self.path.clone(),
            record,
            why: why.into(),
        }
    }
    fn read_err(&self, error: io::Error) -> TranslateError {
        TranslateError::Read {
            path: self.path.clone(),
            error,
        }
    }
}

fn u32_at(b: &[u8], i: usize, e: Endianness) -> u32 {
    let a = [b[i], b[i + 1], b[i + 2], b[i + 3]];
    match e {
        Endianness::Big => u32::from_be_bytes(a),
        Endianness::Little => u32::from_le_bytes(a),
    }
}

fn read_pcap<R: Read, W: Write>(inp: &mut Input<R>, magic: [u8; 4], s: &mut Session<W>) -> Result<(), TranslateError> {
    let mut hdr = [0u8; 24];
    hdr[..4].copy_from_slice(&magic);
    let got = inp.fill(&mut hdr[4..]).map_err(|e| inp.read_err(e))?;
    if got < 20 {
        return Err(inp.err(
            Record::PcapHeader,
            format!(
                "the file is {} bytes long, too short for the 24-byte pcap file header",
                4 + got
            ),
        ));
    }
    let (_, header) = PcapHeader::from_slice(&hdr).map_err(|e| inp.err(Record::PcapHeader, e.to_string()))?;
    let link =
        Link::of(header.datalink).ok_or_else(|| inp.err(Record::PcapHeader, unsupported_link(header.datalink)))?;
    s.out.start(link, header.ts_resolution)?;
    let (e, micro) = (header.endianness, header.ts_resolution == TsResolution::MicroSecond);
    let limit = header.snaplen.max(MAX_SNAPLEN);
    let mut n = 0u64;
    let mut data = Vec::new();
    loop {
        let offset = inp.offset;
        let mut rh = [0u8; 16];
        let got = inp.fill(&mut rh).map_err(|e| inp.read_err(e))?;
        if got == 0 {
            return Ok(());
        }
        n += 1;
        let rec = Record::Packet { n, offset };
        if got < 16 {
            return Err(inp.err(
                rec,
                format!("the file ends {got} bytes into the 16-byte record header; the capture was cut short"),
            ));
        }
        let (ts_sec, ts_frac, incl) = (u32_at(&rh, 0, e), u32_at(&rh, 4, e), u32_at(&rh, 8, e));
        let frac_max = if micro { 1_000_000 } else { 1_000_000_000 };
        if ts_frac >= frac_max {
            return Err(inp.err(
                rec,
                format!(
                    "the timestamp's {} field is {ts_frac}, not below {frac_max}: this is not a record header \
                     (the file is corrupt)",
                    if micro { "microseconds" } else { "nanoseconds" }
                ),
            ));
        }
        if incl > limit {
            return Err(inp.err(
                rec,
                format!(
                    "the record claims {incl} captured bytes, more than the file's snap length ({}) allows: \
                     the file is corrupt",
                    header.snaplen
                ),
            ));
        }
        data.clear();
        let got = inp.append(&mut data, u64::from(incl)).map_err(|e| inp.read_err(e))?;
        if got < u64::from(incl) {
            return Err(inp.err(
                rec,
                format!(
                    "the record claims {incl} captured bytes but only {got} follow its header; the capture was cut short"
                ),
            ));
        }
        let ts = Duration::new(u64::from(ts_sec), if micro { ts_frac * 1000 } else { ts_frac });
        s.packet(inp, rec, link, ts, &data)?;
    }
}

fn read_pcapng<R: Read, W: Write>(
    inp: &mut Input<R>,
    magic: [u8; 4],
    s: &mut Session<W>,
) -> Result<(), TranslateError> {
    let mut parser: Option<PcapNgParser> = None;
    let mut endian = Endianness::Big;
    let (mut blocks, mut packets) = (0u64, 0u64);
    let mut first = Some(magic);
    let mut block = Vec::new();
    loop {
        let offset = inp.offset - if first.is_some() { 4 } else { 0 };
        let mut h = [0u8; 8];
        let got = match first.take() {
            Some(m) => {
                h[..4].copy_from_slice(&m);
                4 + inp.fill(&mut h[4..]).map_err(|e| inp.read_err(e))?
            }
            None => inp.fill(&mut h).map_err(|e| inp.read_err(e))?,
        };
        if got == 0 {
            break;
        }
        blocks += 1;
        // The SHB type reads the same in both byte orders; other types are
        // in the current section's.
        let kind = u32_at(&h, 0, endian);
        let is_shb = kind == SHB;
        let packet = matches!(kind, EPB | SPB | PB).then(|| {
            packets += 1;
            packets
        });
        let rec = Record::Block {
            n: blocks,
            offset,
            kind,
            packet,
        };
        if got < 8 {
            return Err(inp.err(
                rec,
                format!("the file ends {got} bytes into the 8-byte block header; the capture was cut short"),
            ));
        }
        block.clear();
        block.extend_from_slice(&h);
        if is_shb {
            let mut m = [0u8; 4];
            if inp.fill(&mut m).map_err(|e| inp.read_err(e))? < 4 {
                return Err(inp.err(
                    rec,
                    "the file ends inside the Section Header Block; the capture was cut short",
                ));
            }
            endian = match m {
                [0x1a, 0x2b, 0x3c, 0x4d] => Endianness::Big,
                [0x4d, 0x3c, 0x2b, 0x1a] => Endianness::Little,
                _ => {
                    return Err(inp.err(
                        rec,
                        format!(
                            "the byte-order magic is {}, not 1a 2b 3c 4d (or 4d 3c 2b 1a): the file is corrupt",
                            hex_bytes(&m)
                        ),
                    ))
                }
            };
            block.extend_from_slice(&m);
        }
        let len = u32_at(&h, 4, endian);
        if len % 4 != 0 || len < 12 || (is_shb && len < 28) {
            return Err(inp.err(
                rec,
                format!("the block length is {len}, which is not a valid length (a multiple of 4, at least 12): the file is corrupt"),
            ));
        }
        let want = u64::from(len) - block.len() as u64;
        let got = inp.append(&mut block, want).map_err(|e| inp.read_err(e))?;
        if got < want {
            return Err(inp.err(
                rec,
                format!(
                    "the block claims {len} bytes but the file ends {} bytes into it; the capture was cut short",
                    got + (u64::from(len) - want)
                ),
            ));
        }
        let raw = match parser.as_mut() {
            None => {
                let (_, p) = PcapNgParser::new(&block).map_err(|e| inp.err(rec, pcap_error(&e)))?;
                parser = Some(p);
                continue;
            }
            Some(p) => p.next_raw_block(&block).map_err(|e| inp.err(rec, pcap_error(&e)))?.1,
        };
        let body: &[u8] = &raw.body;
        let Some(p) = parser.as_ref() else { continue };
        let (iface, ts_raw, data) = match kind {
            EPB | PB => {
                if body.len() < 20 {
                    return Err(inp.err(
                        rec,
                        format!(
                            "the block body is {} bytes, shorter than its 20-byte header",
                            body.len()
                        ),
                    ));
                }
                let iface = if kind == EPB {
                    u32_at(body, 0, endian)
                } else {
                    let b = [body[0], body[1]];
                    u32::from(if endian == Endianness::Big {
                        u16::from_be_bytes(b)
                    } else {
                        u16::from_le_bytes(b)
                    })
                };
                let ts = (u64::from(u32_at(body, 4, endian)) << 32) | u64::from(u32_at(body, 8, endian));
                let cap = u32_at(body, 12, endian) as usize;
                if cap > body.len() - 20 {
                    return Err(inp.err(
                        rec,
                        format!("the captured length {cap} runs past the end of the block ({} bytes of data): the file is corrupt", body.len() - 20),
                    ));
                }
                (iface, Some(ts), &body[20..20 + cap])
            }
            SPB => {
                if body.len() < 4 {
                    return Err(inp.err(rec, "the block is too short for a Simple Packet Block"));
                }
                let orig = u32_at(body, 0, endian) as usize;
                let snap = p.interfaces().first().map_or(0, |i| i.snaplen as usize);
                let mut cap = orig.min(body.len() - 4);
                if snap != 0 {
                    cap = cap.min(snap);
                }
                (0, None, &body[4..4 + cap])
            }
            _ => continue,
        };
        let ifaces = p.interfaces();
        let Some(idb) = ifaces.get(iface as usize) else {
            return Err(inp.err(
                rec,
                format!(
                    "the packet refers to interface {iface}, but its section describes {} interface(s) before it",
                    ifaces.len()
                ),
            ));
        };
        let link = Link::of(idb.linktype).ok_or_else(|| {
            inp.err(
                rec,
                format!("its interface {iface} has {}", unsupported_link(idb.linktype)),
            )
        })?;
        let ts = match ts_raw {
            Some(raw_ts) => pcapng_timestamp(raw_ts, idb).map_err(|why| inp.err(rec, why))?,
            None => Duration::ZERO,
        };
        s.out.start(link, TsResolution::NanoSecond)?;
        s.packet(inp, rec, link, ts, data)?;
    }
    // A capture without packets: still a valid (empty) output.
    let link = parser
        .as_ref()
        .and_then(|p| p.interfaces().first())
        .and_then(|i| Link::of(i.linktype))
        .unwrap_or(Link::Raw);
    s.out.start(link, TsResolution::NanoSecond)
}

fn pcap_error(e: &PcapError) -> String {
    match e {
        PcapError::IncompleteBuffer => "the block is cut short".to_owned(),
        PcapError::IoError(e) => e.to_string(),
        e => format!("malformed block: {e}"),
    }
}

/// An Enhanced Packet Block timestamp in the interface's resolution
/// (`if_tsresol`, default microseconds) plus its `if_tsoffset`.
fn pcapng_timestamp(raw: u64, idb: &InterfaceDescriptionBlock) -> Result<Duration, String> {
    let mut resol = 6u8;
    let mut offset = 0i64;
    for o in &idb.options {
        match o {
            InterfaceDescriptionOption::IfTsResol(r) => resol = *r,
            InterfaceDescriptionOption::IfTsOffset(v) => offset = *v as i64,
            _ => {}
        }
    }
    let (secs, nanos) = if resol & 0x80 == 0 {
        let exp = u32::from(resol);
        if exp > 19 {
            return Err(format!(
                "its interface's timestamp resolution is 10^-{exp} s, which nat64 translate does not read"
            ));
        }
        let unit = 10u64.pow(exp);
        let rem = raw % unit;
        let nanos = if exp <= 9 {
            rem * 10u64.pow(9 - exp)
        } else {
            rem / 10u64.pow(exp - 9)
        };
        (raw / unit, nanos)
    } else {
        let exp = u32::from(resol & 0x7f);
        if exp > 63 {
            return Err(format!(
                "its interface's timestamp resolution is 2^-{exp} s, which nat64 translate does not read"
            ));
        }
        let rem = u128::from(raw & ((1u64 << exp) - 1));
        (raw >> exp, ((rem * 1_000_000_000) >> exp) as u64)
    };
    let secs = secs
        .checked_add_signed(offset)
        .ok_or_else(|| format!("the timestamp plus the interface's if_tsoffset ({offset} s) is out of range"))?;
    Ok(Duration::new(secs, nanos as u32))
}

// ------------------------------------------------------------------ output

struct Output<W: Write> {
    path: PathBuf,
    /// The writer until the header is written.
    file: Option<W>,
    w: Option<PcapWriter<W>>,
    link: Link,
    frame: Vec<u8>,
}

impl<W: Write> Output<W> {
    fn err(&self, e: impl fmt::Display) -> TranslateError {
        TranslateError::Write {
            path: self.path.clone(),
            error: e.to_string(),
        }
    }
    fn pcap_err(&self, e: PcapError) -> TranslateError {
        match e {
            PcapError::IoError(io) => self.err(io),
            e => self.err(e),
        }
    }

    /// Writes the file header, once; the first call sets the link type.
    fn start(&mut self, link: Link, ts_resolution: TsResolution) -> Result<(), TranslateError> {
        let Some(file) = self.file.take() else {
            return Ok(());
        };
        let header = PcapHeader {
            snaplen: MAX_SNAPLEN,
            datalink: link.datalink(),
            ts_resolution,
            endianness: Endianness::native(),
            ..PcapHeader::default()
        };
        self.w = Some(PcapWriter::with_header(file, header).map_err(|e| self.pcap_err(e))?);
        self.link = link;
        Ok(())
    }

    /// Writes one IP packet. `macs` are the input frame's destination and
    /// source MAC addresses; `reply` swaps them (an ICMP error going back).
    fn write(&mut self, ts: Duration, macs: Option<&[u8; 12]>, reply: bool, ip: &[u8]) -> Result<(), TranslateError> {
        self.frame.clear();
        if self.link == Link::Ethernet {
            let m = macs.copied().unwrap_or([0; 12]);
            if reply {
                self.frame.extend_from_slice(&m[6..12]);
                self.frame.extend_from_slice(&m[..6]);
            } else {
                self.frame.extend_from_slice(&m);
            }
            let ethertype: u16 = if ip.first().is_some_and(|b| b >> 4 == 6) {
                0x86dd
            } else {
                0x0800
            };
            self.frame.extend_from_slice(&ethertype.to_be_bytes());
        }
        self.frame.extend_from_slice(ip);
        let len = u32::try_from(self.frame.len()).map_err(|_| self.err("packet too large"))?;
        let r = match self.w.as_mut() {
            Some(w) => w.write_packet(&PcapPacket::new(ts, len, &self.frame)),
            None => return Err(self.err("internal error: packet before the file header")),
        };
        r.map(|_| ()).map_err(|e| self.pcap_err(e))
    }

    /// Flushes; returns the output link type.
    fn finish(mut self) -> Result<Link, TranslateError> {
        if self.w.is_none() {
            self.start(Link::Raw, TsResolution::MicroSecond)?;
        }
        let Some(w) = self.w.take() else {
            return Ok(self.link);
        };
        w.into_writer().flush().map_err(|e| self.err(e))?;
        Ok(self.link)
    }
}

// ------------------------------------------------------------------ translation

/// The translator: stateless, or stateful with the capture as its clock.
pub enum Xlat {
    /// SIIT (RFC 7915, RFC 6052, RFC 7757).
    Siit(Box<Translator>),
    /// Stateful NAT64 (RFC 6146).
    Stateful(Box<Nat64>),
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

struct Session<'a, W: Write> {
    t: &'a mut Xlat,
    buf: Vec<u8>,
    out: Output<W>,
    tally: Tally,
}

/// The IP packet inside an Ethernet frame, with the frame's MAC addresses;
/// `None` for a frame that does not carry IPv4 or IPv6.
fn ethernet_payload(frame: &[u8]) -> Option<(&[u8; 12], &[u8])> {
    let macs: &[u8; 12] = frame.get(..12)?.try_into().ok()?;
    let mut off = 12;
    loop {
        let ty = u16::from_be_bytes([*frame.get(off)?, *frame.get(off + 1)?]);
        match ty {
            // 802.1Q, 802.1ad and the old QinQ tag: 4 bytes each.
            0x8100 | 0x88a8 | 0x9100 => off += 4,
            0x0800 | 0x86dd => return Some((macs, &frame[off + 2..])),
            _ => return None,
        }
    }
}

impl<W: Write> Session<'_, W> {
    fn packet<R>(
        &mut self,
        inp: &Input<R>,
        rec: Record,
        link: Link,
        ts: Duration,
        frame: &[u8],
    ) -> Result<(), TranslateError> {
        self.tally.read += 1;
        let (macs, ip) = match link {
            Link::Raw => (None, frame),
            Link::Ethernet => match ethernet_payload(frame) {
                Some((m, ip)) => (Some(m), ip),
                None => {
                    self.tally.link_not_ip += 1;
                    *self.tally.not_ours.entry(NotOurs::NotIp).or_default() += 1;
                    return Ok(());
                }
            },
        };
        let wrap = |e: TranslateError| match e {
            TranslateError::Write { path, error } => TranslateError::Write {
                path,
                error: format!("{error} (writing the output of {}, {rec})", inp.path.display()),
            },
            e => e,
        };
        let now = Instant::from_micros(ts.as_micros().min(u128::from(u64::MAX)) as u64);
        let v = match &mut self.t {
            Xlat::Siit(t) => t.translate(ip, &mut self.buf),
            Xlat::Stateful(n) => n.translate(ip, &mut self.buf, now),
        };
        self.verdict(v, ts, macs, &wrap)?;
        // Timers the capture's clock has passed (held SYNs answered).
        while let Xlat::Stateful(n) = &mut self.t {
            match n.poll(now, &mut self.buf) {
                Some(v) => self.verdict(v, ts, macs, &wrap)?,
                None => break,
            }
        }
        Ok(())
    }

    fn verdict(
        &mut self,
        v: Verdict,
        ts: Duration,
        macs: Option<&[u8; 12]>,
        wrap: &dyn Fn(TranslateError) -> TranslateError,
    ) -> Result<(), TranslateError> {
        match v {
            Verdict::Translated(e) => {
                let i = match e.direction {
                    Direction::SixToFour => 0,
                    Direction::FourToSix => 1,
                    Direction::SixToSix => 2,
                };
                self.tally.translated[i] += 1;
                self.tally.extra_fragments += (e.count as u64).saturating_sub(1);
                for p in e.packets(&self.buf) {
                    self.out.write(ts, macs, false, p).map_err(wrap)?;
                    self.tally.written += 1;
                }
            }
            Verdict::IcmpError { len, reason } => {
                self.tally.icmp_errors += 1;
                self.tally.dropped.entry(reason).or_default().1 += 1;
                self.out
                    .write(ts, macs, true, &self.buf[..len as usize])
                    .map_err(wrap)?;
                self.tally.written += 1;
            }
            Verdict::Dropped(reason) => {
                self.tally.silent_drops += 1;
                self.tally.dropped.entry(reason).or_default().0 += 1;
            }
            Verdict::NotOurs(why) => *self.tally.not_ours.entry(why).or_default() += 1,
            Verdict::Held(_) => self.tally.held += 1,
        }
        Ok(())
    }
}

/// What happened to the packets of a capture.
#[derive(Debug, Default)]
pub struct Tally {
    read: u64,
    written: u64,
    /// 6->4, 4->6, 6->6.
    translated: [u64; 3],
    extra_fragments: u64,
    icmp_errors: u64,
    silent_drops: u64,
    /// Kept by the stateful translator (fragments, unsolicited SYNs).
    held: u64,
    /// Per reason: (dropped silently, answered with an ICMP error).
    dropped: BTreeMap<DropReason, (u64, u64)>,
    not_ours: BTreeMap<NotOurs, u64>,
    /// Ethernet frames that carry neither IPv4 nor IPv6 (counted as not_ip).
    link_not_ip: u64,
}

impl Tally {
    fn print(&self, input: &Path, format: &str, output: &Path, out_link: Link) {
        let [t64, t46, t66] = self.translated;
        let not_ours: u64 = self.not_ours.values().sum();
        let link = match out_link {
            Link::Raw => "raw IP",
            Link::Ethernet => "Ethernet",
        };
        println!("read {} packets from {} ({format})", self.read, input.display());
        println!("wrote {} packets to {} (pcap, {link})", self.written, output.display());
        println!();
        println!(
            "translated          {:>10}   (6->4: {t64}, 4->6: {t46}, 6->6 hairpinned: {t66})",
            t64 + t46 + t66
        );
        println!(
            "extra fragments     {:>10}   (written in addition: translated packets the translator fragmented)",
            self.extra_fragments
        );
        println!(
            "icmp error          {:>10}   (not translated; an ICMP error was written for the sender)",
            self.icmp_errors
        );
        println!(
            "dropped             {:>10}   (not translated, nothing written)",
            self.silent_drops
        );
        println!(
            "not ours            {:>10}   (outside the configuration; not written)",
            not_ours
        );
        if self.held > 0 {
            println!(
                "held                {:>10}   (kept by the stateful translator: fragments, unsolicited SYNs)",
                self.held
            );
        }
        if !self.dropped.is_empty() {
            println!();
            println!("not translated, per reason:");
            for (r, (silent, icmp)) in &self.dropped {
                let how = match (silent, icmp) {
                    (_, 0) => "dropped".to_owned(),
                    (0, _) => "answered with an ICMP error".to_owned(),
                    (s, i) => format!("{i} answered with an ICMP error, {s} dropped"),
                };
                println!("  {:<30} {:>8}   ({how})", r.label(), silent + icmp);
                println!("      {}", r.explain());
            }
        }
        if !self.not_ours.is_empty() {
            println!();
            println!("not ours, per reason:");
            for (r, n) in &self.not_ours {
                let note = if *r == NotOurs::NotIp && self.link_not_ip > 0 {
                    format!(
                        "   ({} Ethernet frames carrying neither IPv4 nor IPv6)",
                        self.link_not_ip
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

#[cfg(test)]
mod tests {
    //! The capture reader over bytes, as the `pcap` fuzz target runs it; the
    //! command end to end is in `tests/translate_cmd.rs`.

    use super::*;
    use clap::Parser;
    use etherparse::PacketBuilder;
    use pcap_file::pcap::PcapReader;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn siit() -> Xlat {
        let argv = ["nat64", "--pool6", "64:ff9b::/96", "--no-wkp-check", "in", "out"];
        translator(&Cli::try_parse_from(argv).unwrap().args).unwrap()
    }

    /// A raw IP pcap file of `packets`, each at 1 s.
    fn pcap(packets: &[Vec<u8>]) -> Vec<u8> {
        let header = PcapHeader {
            datalink: DataLink::RAW,
            ..PcapHeader::default()
        };
        let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
        for p in packets {
            let len = p.len() as u32;
            w.write_packet(&PcapPacket::new(Duration::from_secs(1), len, p))
                .unwrap();
        }
        w.into_writer()
    }

    /// 192.0.2.5 -> 203.0.113.7 under 64:ff9b::/96.
    fn udp6() -> Vec<u8> {
        let addr = |s: &str| s.parse::<Ipv6Addr>().unwrap().octets();
        let (src, dst) = (addr("64:ff9b::192.0.2.5"), addr("64:ff9b::203.0.113.7"));
        let mut p = Vec::new();
        PacketBuilder::ipv6(src, dst, 64)
            .udp(1000, 53)
            .write(&mut p, b"hello")
            .unwrap();
        p
    }

    #[test]
    fn translates_bytes_into_any_writer() {
        let input = pcap(&[udp6(), vec![0x60; 3]]);
        let c = Capture::open(&input[..], Path::new("in")).unwrap();
        assert_eq!(c.format(), "pcap");
        let mut out = Vec::new();
        let (tally, link) = c.translate(&mut siit(), &mut out, Path::new("out")).unwrap();
        assert_eq!((tally.read, tally.written, tally.translated), (2, 1, [1, 0, 0]));
        assert_eq!(link, Link::Raw);
        let mut r = PcapReader::new(&out[..]).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.data[0] >> 4, &p.data[12..20]),
            (4, &[192, 0, 2, 5, 203, 0, 113, 7][..])
        );
        assert_eq!(p.timestamp, Duration::from_secs(1));
        assert!(r.next_packet().is_none());
    }

    #[test]
    fn a_cut_capture_stops_after_what_was_written() {
        let mut input = pcap(&[udp6(), udp6()]);
        input.pop();
        let c = Capture::open(&input[..], Path::new("in")).unwrap();
        let e = c.translate(&mut siit(), io::sink(), Path::new("out")).unwrap_err();
        assert!(matches!(e, TranslateError::Stopped { written: 1, .. }), "{e}");
        assert!(e.to_string().starts_with("in: packet 2 "), "{e}");
    }

    #[test]
    fn empty_and_foreign_bytes_are_not_captures() {
        for b in [&b""[..], b"GIF89a"] {
            let e = Capture::open(b, Path::new("in")).err().unwrap();
            assert!(matches!(e, TranslateError::NotACapture { .. }), "{e}");
        }
    }
}
