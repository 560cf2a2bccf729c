//! DNS messages on the wire (RFC 1035 section 4), read in place and written
//! into a caller's buffer.
//!
//! Reading never copies: [`Message::parse`] checks the whole message once
//! (header, every name with its compression pointers, every RDLENGTH) and
//! keeps offsets; [`Rr`]s are then read from the caller's bytes. Writing goes
//! through [`Writer`], which expands the names it copies (compression pointers
//! only mean something inside their own message) and compresses them again
//! against the names already written in the new message (RFC 1035 section
//! 4.1.4), for the types whose RDATA may be compressed (RFC 3597 section 4).
//!
//! Every check that can fail on untrusted input returns a [`WireError`];
//! nothing here panics on any byte string (the unit tests feed it every
//! truncation of real messages and random bytes).

use core::fmt;

/// Length of the fixed header (RFC 1035 section 4.1.1).
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire, root label included (RFC 1035 section 2.3.4).
pub const MAX_NAME_LEN: usize = 255;
/// The smallest UDP payload every DNS client accepts (RFC 1035 section 4.2.1).
pub const MIN_UDP_PAYLOAD: usize = 512;

/// Resource record types this crate names (IANA "Resource Record (RR) TYPEs").
pub mod rtype {
    /// IPv4 address (RFC 1035).
    pub const A: u16 = 1;
    /// Name server (RFC 1035).
    pub const NS: u16 = 2;
    /// Canonical name (RFC 1035).
    pub const CNAME: u16 = 5;
    /// Start of authority (RFC 1035).
    pub const SOA: u16 = 6;
    /// Domain name pointer (RFC 1035).
    pub const PTR: u16 = 12;
    /// Mail exchange (RFC 1035).
    pub const MX: u16 = 15;
    /// Text (RFC 1035).
    pub const TXT: u16 = 16;
    /// IPv6 address (RFC 3596).
    pub const AAAA: u16 = 28;
    /// Service location (RFC 2782).
    pub const SRV: u16 = 33;
    /// Delegation name (RFC 6672).
    pub const DNAME: u16 = 39;
    /// EDNS(0) pseudo-record (RFC 6891).
    pub const OPT: u16 = 41;
    /// DNSSEC signature (RFC 4034).
    pub const RRSIG: u16 = 46;
    /// Any type, in questions (RFC 1035).
    pub const ANY: u16 = 255;
}

/// Class IN (RFC 1035 section 3.2.4).
pub const CLASS_IN: u16 = 1;

/// Response codes (RFC 1035 section 4.1.1, RFC 6891 section 9).
pub mod rcode {
    /// No error.
    pub const NOERROR: u16 = 0;
    /// The server could not interpret the query.
    pub const FORMERR: u16 = 1;
    /// The server could not process the query.
    pub const SERVFAIL: u16 = 2;
    /// The name does not exist.
    pub const NXDOMAIN: u16 = 3;
    /// The kind of query is not implemented.
    pub const NOTIMP: u16 = 4;
    /// Refused by policy.
    pub const REFUSED: u16 = 5;
    /// EDNS version not supported (RFC 6891 section 6.1.3), an extended code.
    pub const BADVERS: u16 = 16;
}

/// Header flag bits (RFC 1035 section 4.1.1, RFC 4035 section 3.2).
pub mod flags {
    /// Response.
    pub const QR: u16 = 0x8000;
    /// The four OPCODE bits.
    pub const OPCODE_MASK: u16 = 0x7800;
    /// Authoritative answer.
    pub const AA: u16 = 0x0400;
    /// Truncated.
    pub const TC: u16 = 0x0200;
    /// Recursion desired.
    pub const RD: u16 = 0x0100;
    /// Recursion available.
    pub const RA: u16 = 0x0080;
    /// Authentic data (RFC 4035).
    pub const AD: u16 = 0x0020;
    /// Checking disabled (RFC 4035).
    pub const CD: u16 = 0x0010;
    /// The four low RCODE bits.
    pub const RCODE_MASK: u16 = 0x000f;
}

/// The DO bit in the OPT record's TTL field (RFC 3225).
pub const EDNS_DO: u32 = 0x8000;

/// A message is not valid DNS wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WireError {
    /// What is wrong.
    pub what: &'static str,
    /// Byte offset in the message where it was found.
    pub offset: usize,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.what, self.offset)
    }
}

#[inline]
fn err<T>(what: &'static str, offset: usize) -> Result<T, WireError> {
    Err(WireError { what, offset })
}

#[inline]
pub(crate) fn be16(b: &[u8], off: usize) -> Option<u16> {
    let s = b.get(off..off + 2)?;
    Some(u16::from_be_bytes([s[0], s[1]]))
}

#[inline]
pub(crate) fn be32(b: &[u8], off: usize) -> Option<u32> {
    let s = b.get(off..off + 4)?;
    Some(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Checks the name at `off` (following compression pointers, which must
/// point strictly backwards so that no loop is possible) and returns the
/// offset just after its in-place bytes.
pub fn skip_name(buf: &[u8], off: usize) -> Result<usize, WireError> {
    let mut pos = off;
    let mut end = None;
    let mut total = 1usize; // the root label
                            // The lowest offset a pointer may still target: every jump must go
                            // strictly below the previous one.
    let mut limit = off;
    loop {
        let Some(&len) = buf.get(pos) else {
            return err("name runs past the end of the message", pos);
        };
        match len & 0xc0 {
            0x00 => {
                if len == 0 {
                    return Ok(end.unwrap_or(pos + 1));
                }
                let l = usize::from(len);
                total += l + 1;
                if total > MAX_NAME_LEN {
                    return err("name longer than 255 bytes", off);
                }
                if pos + 1 + l > buf.len() {
                    return err("label runs past the end of the message", pos);
                }
                pos += 1 + l;
            }
            0xc0 => {
                let Some(p) = be16(buf, pos) else {
                    return err("compression pointer cut short", pos);
                };
                let target = usize::from(p & 0x3fff);
                if target >= limit || target >= pos {
                    return err("compression pointer does not point backwards", pos);
                }
                if end.is_none() {
                    end = Some(pos + 2);
                }
                limit = target;
                pos = target;
            }
            _ => return err("unknown label type (RFC 6891 section 5)", pos),
        }
    }
}

/// The labels of a checked name, pointers followed.
#[derive(Clone)]
pub struct Labels<'a> {
    buf: &'a [u8],
    pos: usize,
    hops: u16,
}

impl<'a> Labels<'a> {
    /// Labels of the name at `off` in `buf` (the name should have passed
    /// [`skip_name`]; if not, iteration stops early instead of panicking).
    pub fn new(buf: &'a [u8], off: usize) -> Self {
        Labels { buf, pos: off, hops: 0 }
    }
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];
    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        loop {
            let len = *self.buf.get(self.pos)?;
            if len & 0xc0 == 0xc0 {
                let p = be16(self.buf, self.pos)?;
                self.hops += 1;
                if self.hops > 127 {
                    return None;
                }
                self.pos = usize::from(p & 0x3fff);
                continue;
            }
            if len == 0 || len & 0xc0 != 0 {
                return None;
            }
            let l = usize::from(len);
            let s = self.buf.get(self.pos + 1..self.pos + 1 + l)?;
            self.pos += 1 + l;
            return Some(s);
        }
    }
}

/// Whether two names are equal, ASCII case ignored (RFC 4343).
pub fn name_eq(a: &[u8], ao: usize, b: &[u8], bo: usize) -> bool {
    let mut la = Labels::new(a, ao);
    let mut lb = Labels::new(b, bo);
    loop {
        match (la.next(), lb.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
            _ => return false,
        }
    }
}

/// Whether the name at `off` ends with the labels of `suffix` (an
/// uncompressed name, e.g. `b"\x04arpa\x00"`), ignoring case. Returns the
/// number of labels before the suffix.
pub fn strip_suffix(buf: &[u8], off: usize, suffix: &[u8]) -> Option<usize> {
    let n = Labels::new(buf, off).count();
    let m = Labels::new(suffix, 0).count();
    if n < m {
        return None;
    }
    let mut l = Labels::new(buf, off);
    for _ in 0..n - m {
        l.next();
    }
    if l.zip(Labels::new(suffix, 0)).all(|(x, y)| x.eq_ignore_ascii_case(y)) {
        Some(n - m)
    } else {
        None
    }
}

/// One resource record, as offsets into its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rr {
    /// Offset of the owner name.
    pub name: usize,
    /// TYPE.
    pub rtype: u16,
    /// CLASS (for OPT: the UDP payload size).
    pub class: u16,
    /// TTL (for OPT: extended RCODE, version and flags).
    pub ttl: u32,
    /// Offset of the TTL field (to age it in place).
    pub ttl_at: usize,
    /// Offset of the RDATA.
    pub rdata: usize,
    /// RDLENGTH.
    pub rdlen: u16,
}

impl Rr {
    /// The RDATA bytes of this record in `buf`.
    pub fn rdata<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.rdata..self.rdata + usize::from(self.rdlen)).unwrap_or(&[])
    }
    /// The end of the record.
    pub fn end(&self) -> usize {
        self.rdata + usize::from(self.rdlen)
    }
}

fn read_rr(buf: &[u8], off: usize) -> Result<Rr, WireError> {
    let n = skip_name(buf, off)?;
    let (Some(rtype), Some(class), Some(ttl), Some(rdlen)) =
        (be16(buf, n), be16(buf, n + 2), be32(buf, n + 4), be16(buf, n + 8))
    else {
        return err("resource record header cut short", n);
    };
    let rdata = n + 10;
    if rdata + usize::from(rdlen) > buf.len() {
        return err("RDATA runs past the end of the message", rdata);
    }
    Ok(Rr {
        name: off,
        rtype,
        class,
        ttl,
        ttl_at: n + 4,
        rdata,
        rdlen,
    })
}

/// The four sections after the question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Answer.
    Answer = 0,
    /// Authority.
    Authority = 1,
    /// Additional.
    Additional = 2,
}

/// EDNS(0) parameters of an OPT record (RFC 6891 section 6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edns {
    /// Requestor's UDP payload size.
    pub udp_size: u16,
    /// Upper eight bits of the extended RCODE.
    pub ext_rcode: u8,
    /// EDNS version.
    pub version: u8,
    /// DNSSEC OK (RFC 3225).
    pub dnssec_ok: bool,
}

/// A checked DNS message with at most one question.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    buf: &'a [u8],
    /// Start of the answer, authority and additional sections, then the end.
    sections: [usize; 4],
    counts: [u16; 3],
    qdcount: u16,
    opt: Option<Rr>,
}

impl<'a> Message<'a> {
    /// Checks every part of `buf`. Only messages with QDCOUNT 0 or 1 are
    /// accepted (RFC 9619: a query or response has at most one question).
    /// Bytes after the last record are ignored.
    pub fn parse(buf: &'a [u8]) -> Result<Self, WireError> {
        if buf.len() < HEADER_LEN {
            return err("message shorter than the 12-byte header", buf.len());
        }
        let qdcount = be16(buf, 4).unwrap_or(0);
        if qdcount > 1 {
            return err("more than one question (RFC 9619)", 4);
        }
        let mut off = HEADER_LEN;
        if qdcount == 1 {
            // The question's name is the first name of the message: a
            // compression pointer anywhere in it could only point into the
            // header (RFC 1035 section 4.1.4 points to earlier names).
            let mut p = HEADER_LEN;
            while let Some(&l) = buf.get(p) {
                if l & 0xc0 == 0xc0 {
                    return err(
                        "compression pointer in the question name (the first name of the message)",
                        p,
                    );
                }
                // Extended label types are skip_name's to report.
                if l == 0 || l & 0xc0 != 0 {
                    break;
                }
                p += 1 + usize::from(l);
            }
            off = skip_name(buf, off)?;
            if off + 4 > buf.len() {
                return err("question cut short", off);
            }
            off += 4;
        }
        let counts = [
            be16(buf, 6).unwrap_or(0),
            be16(buf, 8).unwrap_or(0),
            be16(buf, 10).unwrap_or(0),
        ];
        let mut sections = [0usize; 4];
        let mut opt = None;
        for (s, &count) in counts.iter().enumerate() {
            sections[s] = off;
            for _ in 0..count {
                let rr = read_rr(buf, off)?;
                if rr.rtype == rtype::OPT {
                    if s != Section::Additional as usize {
                        return err(
                            "OPT record outside the additional section (RFC 6891 section 6.1.1)",
                            off,
                        );
                    }
                    if opt.is_some() {
                        return err("more than one OPT record (RFC 6891 section 6.1.1)", off);
                    }
                    if buf.get(off) != Some(&0) {
                        return err("OPT record owner is not the root (RFC 6891 section 6.1.2)", off);
                    }
                    opt = Some(rr);
                }
                off = rr.end();
            }
        }
        sections[3] = off;
        Ok(Message {
            buf,
            sections,
            counts,
            qdcount,
            opt,
        })
    }

    /// The bytes of the message.
    pub fn bytes(&self) -> &'a [u8] {
        self.buf
    }
    /// Length of the message up to the end of its last record.
    pub fn len(&self) -> usize {
        self.sections[3]
    }
    /// Whether the message is only a header.
    pub fn is_empty(&self) -> bool {
        self.len() == HEADER_LEN
    }
    /// ID.
    pub fn id(&self) -> u16 {
        be16(self.buf, 0).unwrap_or(0)
    }
    /// The 16 flag bits (QR, OPCODE, AA, TC, RD, RA, Z, AD, CD, RCODE).
    pub fn flags(&self) -> u16 {
        be16(self.buf, 2).unwrap_or(0)
    }
    /// Whether QR is set.
    pub fn is_response(&self) -> bool {
        self.flags() & flags::QR != 0
    }
    /// OPCODE.
    pub fn opcode(&self) -> u8 {
        ((self.flags() & flags::OPCODE_MASK) >> 11) as u8
    }
    /// The full RCODE: the header's four bits and the OPT record's upper
    /// eight (RFC 6891 section 6.1.3).
    pub fn rcode(&self) -> u16 {
        let low = self.flags() & flags::RCODE_MASK;
        match self.opt {
            Some(o) => (u16::from((o.ttl >> 24) as u8) << 4) | low,
            None => low,
        }
    }
    /// Whether the message has a question.
    pub fn has_question(&self) -> bool {
        self.qdcount == 1
    }
    /// Offset of the question name (always 12).
    pub fn qname(&self) -> usize {
        HEADER_LEN
    }
    /// The question name as wire bytes (never compressed).
    pub fn qname_wire(&self) -> &'a [u8] {
        if self.qdcount == 0 {
            return &[0];
        }
        &self.buf[HEADER_LEN..self.sections[0] - 4]
    }
    /// QTYPE (0 without a question).
    pub fn qtype(&self) -> u16 {
        if self.qdcount == 0 {
            return 0;
        }
        be16(self.buf, self.sections[0] - 4).unwrap_or(0)
    }
    /// QCLASS (0 without a question).
    pub fn qclass(&self) -> u16 {
        if self.qdcount == 0 {
            return 0;
        }
        be16(self.buf, self.sections[0] - 2).unwrap_or(0)
    }
    /// The number of records in a section.
    pub fn count(&self, s: Section) -> u16 {
        self.counts[s as usize]
    }
    /// The records of a section.
    pub fn records(&self, s: Section) -> Records<'a> {
        Records {
            buf: self.buf,
            off: self.sections[s as usize],
            left: self.counts[s as usize],
        }
    }
    /// The OPT record, if any.
    pub fn opt(&self) -> Option<Rr> {
        self.opt
    }
    /// EDNS(0) parameters, if the message has an OPT record.
    pub fn edns(&self) -> Option<Edns> {
        self.opt.map(|o| Edns {
            udp_size: o.class,
            ext_rcode: (o.ttl >> 24) as u8,
            version: (o.ttl >> 16) as u8,
            dnssec_ok: o.ttl & EDNS_DO != 0,
        })
    }
    /// Whether the question is the same (name case-insensitively, type and
    /// class) as `name`/`qtype`/`qclass`.
    pub fn question_is(&self, name: &[u8], qtype: u16, qclass: u16) -> bool {
        self.qdcount == 1 && self.qtype() == qtype && self.qclass() == qclass && name_eq(self.buf, HEADER_LEN, name, 0)
    }
}

/// Iterator over the records of one section.
#[derive(Clone)]
pub struct Records<'a> {
    buf: &'a [u8],
    off: usize,
    left: u16,
}

impl Iterator for Records<'_> {
    type Item = Rr;
    #[inline]
    fn next(&mut self) -> Option<Rr> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // Checked by `Message::parse`.
        let rr = read_rr(self.buf, self.off).ok()?;
        self.off = rr.end();
        Some(rr)
    }
}

/// The SOA MINIMUM and TTL of the first SOA record of the authority section,
/// combined as RFC 2308 section 5 does for negative caching: the smaller of
/// the two.
pub fn negative_ttl(m: &Message<'_>) -> Option<u32> {
    m.records(Section::Authority)
        .find(|rr| rr.rtype == rtype::SOA)
        .and_then(|rr| {
            let rd = rr.rdata;
            let a = skip_name(m.bytes(), rd).ok()?;
            let b = skip_name(m.bytes(), a).ok()?;
            if b + 20 != rr.end() {
                return None;
            }
            let minimum = be32(m.bytes(), b + 16)?;
            Some(minimum.min(rr.ttl))
        })
}

/// How long a response may be cached: the smallest TTL of its answer and
/// authority records (RFC 2181 section 5.2), or for a negative answer the
/// SOA rule of RFC 2308 section 5. `None` when nothing says (e.g. SERVFAIL).
pub fn cache_ttl(m: &Message<'_>) -> Option<u32> {
    let neg = negative_ttl(m);
    let has_answer = m.count(Section::Answer) > 0;
    if !has_answer {
        return neg;
    }
    m.records(Section::Answer)
        .chain(m.records(Section::Authority))
        .filter(|rr| rr.rtype != rtype::OPT)
        .map(|rr| rr.ttl)
        .min()
}

/// Subtracts `secs` from every TTL of a message in place (saturating at 0),
/// leaving OPT alone. Used by caches (RFC 1035 section 7.4 / RFC 2181 section
/// 8). Returns an error, with `buf` unchanged, if the message is not valid or
/// if one of its names reads bytes of a TTL field through a compression
/// pointer: aging would rewrite that name (or break it). RFC 1035 section
/// 4.1.4 points only to earlier names, so no compressor produces such a
/// message, but a cache must not turn a valid input into an invalid one.
pub fn age_ttls(buf: &mut [u8], secs: u32) -> Result<(), WireError> {
    let mut ttl_bytes = alloc::vec![0u64; buf.len() / 64 + 1];
    let mut names_at = alloc::vec::Vec::new();
    let mut ttls_at = alloc::vec::Vec::new();
    {
        let m = Message::parse(buf)?;
        if m.has_question() {
            names_at.push(m.qname());
        }
        let total: u32 = m.counts.iter().map(|&c| u32::from(c)).sum();
        let mut off = m.sections[0];
        for _ in 0..total {
            let rr = read_rr(buf, off)?;
            names_at.push(rr.name);
            if let RdataNames::Names { skip, names, .. } = rdata_names(rr.rtype) {
                let mut at = rr.rdata + skip;
                // Message::parse does not check RDATA names: one that is
                // not a name before ageing is opaque bytes, left unchecked
                // (with what follows it in this RDATA).
                for _ in 0..names {
                    let Ok(next) = skip_name(buf, at) else { break };
                    if at >= rr.end() {
                        break;
                    }
                    names_at.push(at);
                    at = next;
                }
            }
            if rr.rtype != rtype::OPT {
                for b in rr.ttl_at..rr.ttl_at + 4 {
                    ttl_bytes[b / 64] |= 1 << (b % 64);
                }
                ttls_at.push(rr.ttl_at);
            }
            off = rr.end();
        }
    }
    let in_ttl = |b: usize| ttl_bytes[b / 64] & (1 << (b % 64)) != 0;
    for &start in &names_at {
        // The name passed skip_name: pointers go strictly backwards, so
        // this walk ends; it reads every byte the name is made of.
        let mut pos = start;
        while let Some(&len) = buf.get(pos) {
            if len & 0xc0 == 0xc0 {
                if in_ttl(pos) || in_ttl(pos + 1) {
                    return err("name reads a TTL field", pos);
                }
                let Some(p) = be16(buf, pos) else { break };
                pos = usize::from(p & 0x3fff);
                continue;
            }
            let end = pos + 1 + usize::from(len);
            if (pos..end.min(buf.len())).any(in_ttl) {
                return err("name reads a TTL field through a compression pointer", pos);
            }
            if len == 0 {
                break;
            }
            pos = end;
        }
    }
    for at in ttls_at {
        let t = u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]).saturating_sub(secs);
        buf[at..at + 4].copy_from_slice(&t.to_be_bytes());
    }
    Ok(())
}

/// The output buffer filled up; the caller writes a truncated response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Full;

/// Where the names of a record's RDATA are, for the types whose RDATA holds
/// names (RFC 3597 section 4): these are expanded when copied.
#[derive(Clone, Copy)]
enum RdataNames {
    /// Opaque.
    None,
    /// `skip` fixed bytes, then `names` names, then `tail` fixed bytes; the
    /// names may be compressed on output when `compress`.
    Names {
        skip: usize,
        names: u8,
        tail: usize,
        compress: bool,
    },
}

fn rdata_names(t: u16) -> RdataNames {
    let n = |skip, names, tail, compress| RdataNames::Names {
        skip,
        names,
        tail,
        compress,
    };
    match t {
        // RFC 1035 types: NS, MD, MF, CNAME, MB, MG, MR, PTR.
        2 | 3 | 4 | 5 | 7 | 8 | 9 | 12 => n(0, 1, 0, true),
        // SOA: MNAME, RNAME, then five 32-bit fields.
        6 => n(0, 2, 20, true),
        // MINFO.
        14 => n(0, 2, 0, true),
        // MX.
        15 => n(2, 1, 0, true),
        // RP (RFC 1183): two names, never compressed on output.
        17 => n(0, 2, 0, false),
        // AFSDB, RT (RFC 1183): preference and a name.
        18 | 21 => n(2, 1, 0, false),
        // PX (RFC 2163).
        26 => n(2, 2, 0, false),
        // SRV (RFC 2782).
        33 => n(6, 1, 0, false),
        // DNAME (RFC 6672 section 2.5: never compressed on output).
        39 => n(0, 1, 0, false),
        _ => RdataNames::None,
    }
}

/// Writes a DNS message into a caller's buffer.
pub struct Writer<'o> {
    buf: &'o mut [u8],
    len: usize,
    /// Offsets of the uncompressed names written so far, for compression.
    names: [u16; 16],
    n_names: usize,
}

impl<'o> Writer<'o> {
    /// A writer over `buf`; nothing is written beyond `buf.len()`.
    pub fn new(buf: &'o mut [u8]) -> Self {
        Writer {
            buf,
            len: 0,
            names: [0; 16],
            n_names: 0,
        }
    }
    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether nothing has been written.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The message written so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    #[inline]
    fn put(&mut self, b: &[u8]) -> Result<(), Full> {
        let end = self.len + b.len();
        let dst = self.buf.get_mut(self.len..end).ok_or(Full)?;
        dst.copy_from_slice(b);
        self.len = end;
        Ok(())
    }
    /// Appends a 16-bit value.
    #[inline]
    pub fn u16(&mut self, v: u16) -> Result<(), Full> {
        self.put(&v.to_be_bytes())
    }
    /// Appends a 32-bit value.
    #[inline]
    pub fn u32(&mut self, v: u32) -> Result<(), Full> {
        self.put(&v.to_be_bytes())
    }
    /// Appends raw bytes.
    #[inline]
    pub fn bytes(&mut self, b: &[u8]) -> Result<(), Full> {
        self.put(b)
    }
    /// Overwrites a 16-bit value already written at `at`.
    pub fn patch16(&mut self, at: usize, v: u16) {
        if let Some(d) = self.buf.get_mut(at..at + 2) {
            d.copy_from_slice(&v.to_be_bytes());
        }
    }
    /// Writes the 12-byte header with zero counts (patched by
    /// [`Writer::set_counts`]).
    pub fn header(&mut self, id: u16, flags: u16) -> Result<(), Full> {
        self.u16(id)?;
        self.u16(flags)?;
        self.put(&[0; 8])
    }
    /// Sets QDCOUNT, ANCOUNT, NSCOUNT and ARCOUNT.
    pub fn set_counts(&mut self, qd: u16, an: u16, ns: u16, ar: u16) {
        self.patch16(4, qd);
        self.patch16(6, an);
        self.patch16(8, ns);
        self.patch16(10, ar);
    }

    /// Writes the name at `off` of `src` (pointers followed), as a pointer
    /// to an equal name already written when `compress` allows and one
    /// exists, otherwise in full.
    pub fn name(&mut self, src: &[u8], off: usize, compress: bool) -> Result<(), Full> {
        if compress {
            for i in 0..self.n_names {
                let at = usize::from(self.names[i]);
                if name_eq(src, off, &self.buf[..self.len], at) {
                    return self.u16(0xc000 | self.names[i]);
                }
            }
        }
        let start = self.len;
        for label in Labels::new(src, off) {
            let l = [label.len() as u8];
            self.put(&l)?;
            self.put(label)?;
        }
        self.put(&[0])?;
        if start < 0x3fff && self.n_names < self.names.len() && self.len - start > 1 {
            self.names[self.n_names] = start as u16;
            self.n_names += 1;
        }
        Ok(())
    }

    /// Copies a record of `src` with a new TTL, expanding (and, where RFC
    /// 3597 allows, recompressing) the names in its RDATA.
    pub fn record(&mut self, src: &[u8], rr: &Rr, ttl: u32) -> Result<(), CopyError> {
        self.name(src, rr.name, true)?;
        self.u16(rr.rtype)?;
        self.u16(rr.class)?;
        self.u32(ttl)?;
        let rdlen_at = self.len;
        self.u16(0)?;
        let start = self.len;
        let end = rr.end();
        match rdata_names(rr.rtype) {
            RdataNames::None => self.put(rr.rdata(src))?,
            RdataNames::Names {
                skip,
                names,
                tail,
                compress,
            } => {
                let mut p = rr.rdata;
                let fixed = src
                    .get(p..p + skip)
                    .filter(|_| p + skip <= end)
                    .ok_or(CopyError::Wire(WireError {
                        what: "RDATA too short for its type",
                        offset: p,
                    }))?;
                self.put(fixed)?;
                p += skip;
                for _ in 0..names {
                    let after = skip_name(src, p).map_err(CopyError::Wire)?;
                    if after > end {
                        return Err(CopyError::Wire(WireError {
                            what: "name runs past the end of its RDATA",
                            offset: p,
                        }));
                    }
                    self.name(src, p, compress)?;
                    p = after;
                }
                let rest = src
                    .get(p..end)
                    .filter(|r| r.len() == tail)
                    .ok_or(CopyError::Wire(WireError {
                        what: "RDATA length does not match its type",
                        offset: rr.rdata,
                    }))?;
                self.put(rest)?;
            }
        }
        let rdlen = self.len - start;
        self.patch16(rdlen_at, rdlen as u16);
        Ok(())
    }

    /// Appends an OPT record (RFC 6891 section 6.1.2) with no options.
    pub fn opt(&mut self, udp_size: u16, ext_rcode: u8, dnssec_ok: bool) -> Result<(), Full> {
        self.put(&[0])?;
        self.u16(rtype::OPT)?;
        self.u16(udp_size)?;
        let ttl = (u32::from(ext_rcode) << 24) | if dnssec_ok { EDNS_DO } else { 0 };
        self.u32(ttl)?;
        self.u16(0)
    }

    /// The number of bytes written.
    pub fn finish(self) -> usize {
        self.len
    }
}

/// Why copying a record failed: the output is full, or the input record is
/// malformed in a way only its type reveals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyError {
    /// Output full.
    Full,
    /// Input malformed.
    Wire(WireError),
}

impl From<Full> for CopyError {
    fn from(_: Full) -> Self {
        CopyError::Full
    }
}

/// Converts a dotted name (`"example.com"`, trailing dot optional) to wire
/// format in `out`, returning its length. For tests, configuration and
/// tools; `None` when a label is empty or too long or the name too long.
pub fn name_from_str(s: &str, out: &mut [u8; MAX_NAME_LEN]) -> Option<usize> {
    let s = s.strip_suffix('.').unwrap_or(s);
    let mut n = 0;
    if !s.is_empty() {
        for label in s.split('.') {
            let l = label.len();
            if l == 0 || l > 63 || n + 1 + l + 1 > MAX_NAME_LEN {
                return None;
            }
            out[n] = l as u8;
            out[n + 1..n + 1 + l].copy_from_slice(label.as_bytes());
            n += 1 + l;
        }
    }
    out[n] = 0;
    Some(n + 1)
}

/// Writes the name at `off` of `buf` in presentation format (RFC 1035
/// section 5.1), escaping unusual bytes.
pub struct DisplayName<'a>(pub &'a [u8], pub usize);

impl fmt::Display for DisplayName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut any = false;
        for label in Labels::new(self.0, self.1) {
            any = true;
            for &b in label {
                match b {
                    b'.' | b'\\' | b'"' | b'(' | b')' | b';' | b'@' | b'$' => write!(f, "\\{}", b as char)?,
                    0x21..=0x7e => write!(f, "{}", b as char)?,
                    _ => write!(f, "\\{b:03}")?,
                }
            }
            f.write_str(".")?;
        }
        if !any {
            f.write_str(".")?;
        }
        Ok(())
    }
}
