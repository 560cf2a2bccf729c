//! Builders and readers of DNS messages for tests, examples and benchmarks
//! (not for production paths: they allocate). Names are written
//! uncompressed unless a `*_ptr` method asks for a pointer to the question.

use alloc::string::String;
use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::wire::{flags, name_from_str, rtype, DisplayName, Message, Section, CLASS_IN, EDNS_DO, MAX_NAME_LEN};

/// A name in wire format; panics on an invalid name (test helper).
pub fn name(s: &str) -> Vec<u8> {
    let mut b = [0u8; MAX_NAME_LEN];
    let n = name_from_str(s, &mut b).unwrap_or_else(|| panic!("invalid name {s:?}"));
    b[..n].to_vec()
}

/// Builds one DNS message section by section.
#[derive(Clone, Debug)]
pub struct MessageBuilder {
    buf: Vec<u8>,
    counts: [u16; 4],
    section: usize,
    edns: Option<(u16, bool)>,
}

impl MessageBuilder {
    /// A message with this header and question (`qname`, `qtype`, class IN).
    pub fn new(id: u16, flag_bits: u16, qname: &str, qtype: u16) -> Self {
        let mut buf = Vec::with_capacity(512);
        buf.extend_from_slice(&id.to_be_bytes());
        buf.extend_from_slice(&flag_bits.to_be_bytes());
        buf.extend_from_slice(&[0; 8]);
        buf.extend_from_slice(&name(qname));
        buf.extend_from_slice(&qtype.to_be_bytes());
        buf.extend_from_slice(&CLASS_IN.to_be_bytes());
        MessageBuilder {
            buf,
            counts: [1, 0, 0, 0],
            section: 1,
            edns: None,
        }
    }
    /// A query with RD set.
    pub fn query(id: u16, qname: &str, qtype: u16) -> Self {
        Self::new(id, flags::RD, qname, qtype)
    }
    /// A response (QR, RD, RA) with this RCODE.
    pub fn response(id: u16, qname: &str, qtype: u16, rc: u16) -> Self {
        Self::new(id, flags::QR | flags::RD | flags::RA | (rc & 0xf), qname, qtype)
    }
    /// Sets header flag bits.
    pub fn set_flags(mut self, bits: u16) -> Self {
        let f = u16::from_be_bytes([self.buf[2], self.buf[3]]) | bits;
        self.buf[2..4].copy_from_slice(&f.to_be_bytes());
        self
    }
    /// Sets the question class.
    pub fn qclass(mut self, class: u16) -> Self {
        let qend = super::wire::skip_name(&self.buf, 12).expect("question name");
        self.buf[qend + 2..qend + 4].copy_from_slice(&class.to_be_bytes());
        self
    }
    /// Adds an OPT record (EDNS version 0) at the end of the additional
    /// section.
    pub fn edns(mut self, udp_size: u16, dnssec_ok: bool) -> Self {
        self.edns = Some((udp_size, dnssec_ok));
        self
    }
    /// The next records go to the authority section.
    pub fn authority(mut self) -> Self {
        assert!(self.section <= 2, "sections go in order");
        self.section = 2;
        self
    }
    /// The next records go to the additional section.
    pub fn additional(mut self) -> Self {
        self.section = 3;
        self
    }
    /// A record with raw RDATA; the owner `"@"` is a pointer to the question.
    pub fn rr(mut self, owner: &str, t: u16, ttl: u32, rdata: &[u8]) -> Self {
        if owner == "@" {
            self.buf.extend_from_slice(&[0xc0, 12]);
        } else {
            self.buf.extend_from_slice(&name(owner));
        }
        self.buf.extend_from_slice(&t.to_be_bytes());
        self.buf.extend_from_slice(&CLASS_IN.to_be_bytes());
        self.buf.extend_from_slice(&ttl.to_be_bytes());
        self.buf.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        self.buf.extend_from_slice(rdata);
        self.counts[self.section] += 1;
        self
    }
    /// An A record.
    pub fn a(self, owner: &str, ttl: u32, a: Ipv4Addr) -> Self {
        self.rr(owner, rtype::A, ttl, &a.octets())
    }
    /// A AAAA record.
    pub fn aaaa(self, owner: &str, ttl: u32, a: Ipv6Addr) -> Self {
        self.rr(owner, rtype::AAAA, ttl, &a.octets())
    }
    /// A CNAME record.
    pub fn cname(self, owner: &str, ttl: u32, target: &str) -> Self {
        self.rr(owner, rtype::CNAME, ttl, &name(target))
    }
    /// A CNAME record whose target is compressed: a pointer to the
    /// question name's suffix after `skip_labels` labels.
    pub fn cname_ptr(self, owner: &str, ttl: u32, prefix_label: &str, skip_labels: usize) -> Self {
        let mut off = 12usize;
        for _ in 0..skip_labels {
            off += 1 + usize::from(self.buf[off]);
        }
        let mut rd = Vec::new();
        rd.push(prefix_label.len() as u8);
        rd.extend_from_slice(prefix_label.as_bytes());
        rd.extend_from_slice(&(0xc000u16 | off as u16).to_be_bytes());
        self.rr(owner, rtype::CNAME, ttl, &rd)
    }
    /// A DNAME record.
    pub fn dname(self, owner: &str, ttl: u32, target: &str) -> Self {
        self.rr(owner, rtype::DNAME, ttl, &name(target))
    }
    /// A PTR record.
    pub fn ptr(self, owner: &str, ttl: u32, target: &str) -> Self {
        self.rr(owner, rtype::PTR, ttl, &name(target))
    }
    /// An SOA record with this MINIMUM.
    pub fn soa(self, owner: &str, ttl: u32, minimum: u32) -> Self {
        let mut rd = name("ns.invalid");
        rd.extend_from_slice(&name("hostmaster.invalid"));
        for v in [1u32, 7200, 900, 1_209_600, minimum] {
            rd.extend_from_slice(&v.to_be_bytes());
        }
        self.rr(owner, rtype::SOA, ttl, &rd)
    }
    /// An RRSIG record covering `covered` (signature bytes are filler).
    pub fn rrsig(self, owner: &str, ttl: u32, covered: u16) -> Self {
        let mut rd = Vec::new();
        rd.extend_from_slice(&covered.to_be_bytes());
        rd.extend_from_slice(&[13, 2]);
        rd.extend_from_slice(&ttl.to_be_bytes());
        rd.extend_from_slice(&[0; 10]);
        rd.extend_from_slice(&name("example"));
        rd.extend_from_slice(&[0xab; 64]);
        self.rr(owner, rtype::RRSIG, ttl, &rd)
    }
    /// The message.
    pub fn build(mut self) -> Vec<u8> {
        if let Some((size, dnssec_ok)) = self.edns {
            self.buf.push(0);
            self.buf.extend_from_slice(&rtype::OPT.to_be_bytes());
            self.buf.extend_from_slice(&size.to_be_bytes());
            self.buf
                .extend_from_slice(&(if dnssec_ok { EDNS_DO } else { 0 }).to_be_bytes());
            self.buf.extend_from_slice(&[0, 0]);
            self.counts[3] += 1;
        }
        for (i, c) in self.counts.iter().enumerate() {
            self.buf[4 + 2 * i..6 + 2 * i].copy_from_slice(&c.to_be_bytes());
        }
        self.buf
    }
}

/// A query with RD set and no EDNS.
pub fn query(id: u16, qname: &str, qtype: u16) -> Vec<u8> {
    MessageBuilder::query(id, qname, qtype).build()
}

/// A NOERROR/NODATA AAAA response with an SOA (TTL and MINIMUM `soa_min`).
pub fn aaaa_nodata(qname: &str, soa_min: u32) -> Vec<u8> {
    MessageBuilder::response(0, qname, rtype::AAAA, 0)
        .authority()
        .soa(zone_of(qname), soa_min, soa_min)
        .build()
}

/// An A response with these addresses.
pub fn a_response(qname: &str, addrs: &[Ipv4Addr], ttl: u32) -> Vec<u8> {
    let mut b = MessageBuilder::response(0, qname, rtype::A, 0);
    for &a in addrs {
        b = b.a(qname, ttl, a);
    }
    b.build()
}

/// The parent of a name (`"a.example"` -> `"example"`).
pub fn zone_of(qname: &str) -> &str {
    qname.split_once('.').map_or(".", |(_, z)| z)
}

/// One record, read back for assertions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadRr {
    /// Owner, in presentation format with the final dot.
    pub name: String,
    /// TYPE.
    pub rtype: u16,
    /// TTL.
    pub ttl: u32,
    /// RDATA as it is on the wire.
    pub rdata: Vec<u8>,
    /// For CNAME, DNAME, PTR and NS: the target name.
    pub target: Option<String>,
}

/// The records of one section of a message (panics when it is invalid).
pub fn read_section(msg: &[u8], s: Section) -> Vec<ReadRr> {
    let m = Message::parse(msg).expect("valid message");
    m.records(s)
        .map(|rr| {
            let target = matches!(rr.rtype, rtype::CNAME | rtype::DNAME | rtype::PTR | rtype::NS)
                .then(|| alloc::format!("{}", DisplayName(msg, rr.rdata)));
            ReadRr {
                name: alloc::format!("{}", DisplayName(msg, rr.name)),
                rtype: rr.rtype,
                ttl: rr.ttl,
                rdata: rr.rdata(msg).to_vec(),
                target,
            }
        })
        .collect()
}

/// The AAAA addresses of the answer section.
pub fn answer_aaaa(msg: &[u8]) -> Vec<Ipv6Addr> {
    read_section(msg, Section::Answer)
        .into_iter()
        .filter(|r| r.rtype == rtype::AAAA && r.rdata.len() == 16)
        .map(|r| {
            let mut o = [0u8; 16];
            o.copy_from_slice(&r.rdata);
            Ipv6Addr::from(o)
        })
        .collect()
}

/// The header RCODE bits.
pub fn rcode_of(msg: &[u8]) -> u16 {
    u16::from(msg[3] & 0xf)
}
