//! The capture reader and writer of `nat64 translate`: reads a pcap or
//! pcapng capture whose link type is raw IP (101, 228, 229) or Ethernet (1),
//! feeds every packet to a translator ([`Xlat`]: SIIT or stateful NAT64,
//! with the capture's timestamps as the clock), writes what the translator
//! emits (the translated packets, and the ICMP errors it generates for
//! senders) into a pcap file with the input packet's timestamp, and counts
//! what happened to the packets ([`Tally`]).
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
//! [`Capture::open`] reads any [`Read`] and [`Capture::translate`] writes to
//! any [`Write`], with a translator from [`XlatConfig::build`]: `nat64
//! translate` runs them over files, the `pcap` fuzz target
//! (`fuzz/fuzz_targets/pcap.rs`) over its bytes, with no files.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nat64_core::nat64::{Bib, Instant, Nat64, Nat64Config, Nat64ConfigError, Pool4Entry};
use nat64_core::{Config, ConfigError, Direction, DropReason, NotOurs, Translator, Verdict};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};

mod read;

use read::{read_pcap, read_pcapng, Input};

/// Why a capture could not be translated, or its translator not built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CaptureError {
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
        error: Box<CaptureError>,
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

/// A translator's configuration; [`XlatConfig::build`] makes the translator.
/// The `pcap` fuzz target keeps one per mode and builds a translator from a
/// copy for every input.
#[derive(Debug, Clone)]
pub struct XlatConfig {
    /// Where the settings came from, for errors: empty, or " (from FILE and
    /// the command line)".
    pub origin: String,
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

/// The stateful NAT64 settings of `nat64 translate`: `--pool4`,
/// `--static-bib`, `--address-dependent-filtering`.
#[derive(Debug, Clone, Default)]
pub struct StatefulArgs {
    /// The pool4 entries; none: SIIT.
    pub pool4: Vec<Pool4Entry>,
    /// Static BIB entries.
    pub static_bib: Vec<Bib>,
    /// Address-dependent filtering (RFC 6146 section 3.5).
    pub address_dependent_filtering: bool,
}

impl XlatConfig {
    /// The configuration of `nat64 translate`: SIIT with `cfg`, or, with
    /// pool4 entries, stateful NAT64 (RFC 6146) over `cfg` (which must then
    /// have a pool6). `origin` says where the settings came from, for
    /// errors (see [`XlatConfig::origin`]).
    pub fn new(cfg: Config, stateful: StatefulArgs, origin: String) -> Result<XlatConfig, CaptureError> {
        let mode = if stateful.pool4.is_empty() {
            XlatMode::Siit(Box::new(cfg))
        } else {
            let pool6 = cfg.pool6.ok_or(CaptureError::Stateful {
                origin: origin.clone(),
                error: Nat64ConfigError::NoPool6,
            })?;
            let mut n = Nat64Config::new(pool6, stateful.pool4);
            n.xlat = cfg;
            n.static_bib = stateful.static_bib;
            n.address_dependent_filtering = stateful.address_dependent_filtering;
            XlatMode::Stateful(Box::new(n))
        };
        Ok(XlatConfig { origin, mode })
    }

    /// The translator; an error if the configuration cannot work.
    pub fn build(self) -> Result<Xlat, CaptureError> {
        let origin = self.origin;
        Ok(match self.mode {
            XlatMode::Siit(cfg) => Xlat::Siit(Box::new(
                Translator::new(*cfg).map_err(|error| CaptureError::Settings { origin, error })?,
            )),
            XlatMode::Stateful(n) => Xlat::Stateful(Box::new(
                Nat64::new(*n).map_err(|error| CaptureError::Stateful { origin, error })?,
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
    /// is [`CaptureError::NotACapture`]. `path` names the input in errors.
    pub fn open(r: R, path: &Path) -> Result<Self, CaptureError> {
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
                return Err(CaptureError::NotACapture { path: input.path, why });
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
    /// [`CaptureError::Stopped`]; `out` is flushed either way.
    pub fn translate<W: Write>(mut self, t: &mut Xlat, out: W, out_path: &Path) -> Result<(Tally, Link), CaptureError> {
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
                CaptureError::Stopped {
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

fn hex_bytes(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect::<Vec<_>>().join(" ")
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
    fn err(&self, e: impl fmt::Display) -> CaptureError {
        CaptureError::Write {
            path: self.path.clone(),
            error: e.to_string(),
        }
    }
    fn pcap_err(&self, e: PcapError) -> CaptureError {
        match e {
            PcapError::IoError(io) => self.err(io),
            e => self.err(e),
        }
    }

    /// Writes the file header, once; the first call sets the link type.
    fn start(&mut self, link: Link, ts_resolution: TsResolution) -> Result<(), CaptureError> {
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
    fn write(&mut self, ts: Duration, macs: Option<&[u8; 12]>, reply: bool, ip: &[u8]) -> Result<(), CaptureError> {
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
    fn finish(mut self) -> Result<Link, CaptureError> {
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
    ) -> Result<(), CaptureError> {
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
        let wrap = |e: CaptureError| match e {
            CaptureError::Write { path, error } => CaptureError::Write {
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
        wrap: &dyn Fn(CaptureError) -> CaptureError,
    ) -> Result<(), CaptureError> {
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
    /// Packets read.
    pub read: u64,
    /// Packets written.
    pub written: u64,
    /// 6->4, 4->6, 6->6.
    pub translated: [u64; 3],
    /// Fragments written beyond the first of each translated packet.
    pub extra_fragments: u64,
    /// ICMP errors written for senders.
    pub icmp_errors: u64,
    /// Packets dropped with nothing written.
    pub silent_drops: u64,
    /// Kept by the stateful translator (fragments, unsolicited SYNs).
    pub held: u64,
    /// Per reason: (dropped silently, answered with an ICMP error).
    pub dropped: BTreeMap<DropReason, (u64, u64)>,
    /// Per reason: packets outside the configuration.
    pub not_ours: BTreeMap<NotOurs, u64>,
    /// Ethernet frames that carry neither IPv4 nor IPv6 (counted as not_ip).
    pub link_not_ip: u64,
}

#[cfg(test)]
mod tests {
    //! The capture reader over bytes, as the `pcap` fuzz target runs it; the
    //! command end to end is in `nat64-cli/tests/translate_cmd.rs`.

    use super::*;
    use etherparse::PacketBuilder;
    use pcap_file::pcap::PcapReader;
    use std::net::Ipv6Addr;

    /// SIIT under 64:ff9b::/96 without the RFC 6052 section 3.1 check
    /// (`nat64 translate --pool6 64:ff9b::/96 --no-wkp-check`).
    fn siit() -> Xlat {
        let mut cfg = Config::with_pool6("64:ff9b::/96".parse().unwrap());
        cfg.wkp_forbids_non_global = false;
        XlatConfig {
            origin: String::new(),
            mode: XlatMode::Siit(Box::new(cfg)),
        }
        .build()
        .unwrap()
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
        assert!(matches!(e, CaptureError::Stopped { written: 1, .. }), "{e}");
        assert!(e.to_string().starts_with("in: packet 2 "), "{e}");
    }

    #[test]
    fn empty_and_foreign_bytes_are_not_captures() {
        for b in [&b""[..], b"GIF89a"] {
            let e = Capture::open(b, Path::new("in")).err().unwrap();
            assert!(matches!(e, CaptureError::NotACapture { .. }), "{e}");
        }
    }
}
