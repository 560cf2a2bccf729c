//! Reading pcap and pcapng records: each packet with its timestamp and link
//! type goes to the [`Session`]; a malformed record is an error naming it.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::time::Duration;

use pcap_file::pcap::PcapHeader;
use pcap_file::pcapng::blocks::interface_description::{InterfaceDescriptionBlock, InterfaceDescriptionOption};
use pcap_file::pcapng::PcapNgParser;
use pcap_file::{Endianness, PcapError, TsResolution};

use crate::{hex_bytes, unsupported_link, CaptureError, Link, Record, Session, EPB, MAX_SNAPLEN, PB, SHB, SPB};

pub(crate) struct Input<R> {
    pub(crate) r: R,
    pub(crate) offset: u64,
    pub(crate) path: PathBuf,
}

impl<R: Read> Input<R> {
    /// Fills `buf`; returns fewer bytes only at the end of the file.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
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
    fn err(&self, record: Record, why: impl Into<String>) -> CaptureError {
        CaptureError::Record {
            path: self.path.clone(),
            record,
            why: why.into(),
        }
    }
    pub(crate) fn read_err(&self, error: io::Error) -> CaptureError {
        CaptureError::Read {
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

pub(crate) fn read_pcap<R: Read, W: Write>(
    inp: &mut Input<R>,
    magic: [u8; 4],
    s: &mut Session<W>,
) -> Result<(), CaptureError> {
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

pub(crate) fn read_pcapng<R: Read, W: Write>(
    inp: &mut Input<R>,
    magic: [u8; 4],
    s: &mut Session<W>,
) -> Result<(), CaptureError> {
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
