//! NAT64 prefix discovery: RFC 7050 (from the AAAA records of
//! `ipv4only.arpa`) and RFC 8781 (the PREF64 Router Advertisement option).

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::wire::{rtype, Message, Section, WireError, CLASS_IN};
use crate::addr::{mask128, Prefix64, PrefixError};

/// The Well-Known IPv4-only Name (RFC 7050 section 2.2, RFC 8880).
pub const IPV4ONLY_ARPA: &[u8] = b"\x08ipv4only\x04arpa\x00";

/// The Well-Known IPv4 Addresses, the A records of `ipv4only.arpa` (RFC 7050
/// section 2.2): 192.0.0.170 and 192.0.0.171.
pub const WELL_KNOWN_IPV4: [Ipv4Addr; 2] = [Ipv4Addr::new(192, 0, 0, 170), Ipv4Addr::new(192, 0, 0, 171)];

/// The RFC 6052 prefix lengths, in the order they are tried.
const LENGTHS: [u8; 6] = [96, 64, 56, 48, 40, 32];

/// Why no NAT64 prefix could be learnt.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The DNS response is not valid.
    #[error("the ipv4only.arpa response is not valid DNS ({0}): ask the resolver again")]
    Malformed(WireError),
    /// The response answers another question.
    #[error("the response is not an answer to `ipv4only.arpa. IN AAAA`: send that query")]
    WrongQuestion,
    /// RFC 7050 section 3: no AAAA record holds 192.0.0.170 or 192.0.0.171
    /// at an RFC 6052 position.
    #[error(
        "no AAAA record of ipv4only.arpa embeds 192.0.0.170 or 192.0.0.171 at an RFC 6052 position: \
         the resolver does not do DNS64 (or filters the name), so there is no NAT64 prefix to learn"
    )]
    NoPrefix,
    /// The Well-Known Address appears at several RFC 6052 positions of one
    /// address and the second Well-Known Address does not tell which.
    #[error(
        "{0} holds a Well-Known IPv4 address at more than one RFC 6052 position and the other one \
         (192.0.0.170/171) does not single one out: configure the NAT64 prefix by hand"
    )]
    Ambiguous(Ipv6Addr),
}

/// RFC 7050 section 3: every NAT64 prefix, with its length, that the AAAA
/// records of a response to `ipv4only.arpa. IN AAAA` reveal.
///
/// ```
/// use nat64_core::dns64::discovery::prefixes_from_addresses;
/// let p = prefixes_from_addresses(["2001:db8:1c0:0:aa::".parse().unwrap()]).unwrap();
/// assert_eq!(p[0].to_string(), "2001:db8:100::/40");
/// ```
pub fn prefixes_from_response(response: &[u8]) -> Result<Vec<Prefix64>, DiscoveryError> {
    let m = Message::parse(response).map_err(DiscoveryError::Malformed)?;
    if !m.is_response() || !m.question_is(IPV4ONLY_ARPA, rtype::AAAA, CLASS_IN) {
        return Err(DiscoveryError::WrongQuestion);
    }
    let buf = m.bytes();
    let addrs = m.records(Section::Answer).filter_map(|rr| {
        let rd = rr.rdata(buf);
        (rr.rtype == rtype::AAAA && rr.class == CLASS_IN && rd.len() == 16).then(|| {
            let mut o = [0u8; 16];
            o.copy_from_slice(rd);
            Ipv6Addr::from(o)
        })
    });
    prefixes_from_addresses(addrs)
}

/// The heuristic of RFC 7050 section 3 on a list of addresses: for each one,
/// the RFC 6052 positions (lengths 96, 64, 56, 48, 40, 32) where a
/// Well-Known IPv4 Address is found; an address with one candidate gives
/// that prefix; with several, the candidate whose prefix also carries the
/// other Well-Known Address among the addresses wins. Addresses holding
/// neither are ignored. Prefixes are returned once each, in answer order.
pub fn prefixes_from_addresses(addrs: impl IntoIterator<Item = Ipv6Addr>) -> Result<Vec<Prefix64>, DiscoveryError> {
    let addrs: Vec<Ipv6Addr> = addrs.into_iter().collect();
    let mut out: Vec<Prefix64> = Vec::new();
    for &a in &addrs {
        let mut cands: Vec<(Prefix64, Ipv4Addr)> = Vec::new();
        for len in LENGTHS {
            let net = Ipv6Addr::from(u128::from(a) & mask128(len));
            let Ok(p) = Prefix64::new(net, len) else {
                continue; // u-octet set: not an RFC 6052 address at this length
            };
            if let Some(v4) = p.extract(a) {
                if WELL_KNOWN_IPV4.contains(&v4) {
                    cands.push((p, v4));
                }
            }
        }
        let chosen = match cands.len() {
            0 => continue,
            1 => cands[0].0,
            _ => {
                let confirmed: Vec<Prefix64> = cands
                    .iter()
                    .filter(|(p, v4)| {
                        let other = if *v4 == WELL_KNOWN_IPV4[0] {
                            WELL_KNOWN_IPV4[1]
                        } else {
                            WELL_KNOWN_IPV4[0]
                        };
                        addrs.contains(&p.embed(other))
                    })
                    .map(|(p, _)| *p)
                    .collect();
                match confirmed.as_slice() {
                    [p] => *p,
                    _ => return Err(DiscoveryError::Ambiguous(a)),
                }
            }
        };
        if !out.contains(&chosen) {
            out.push(chosen);
        }
    }
    if out.is_empty() {
        return Err(DiscoveryError::NoPrefix);
    }
    Ok(out)
}

/// Type of the PREF64 Neighbor Discovery option (RFC 8781 section 4).
pub const PREF64_OPTION_TYPE: u8 = 38;
/// The option is two 8-octet units long (RFC 8781 section 4).
pub const PREF64_OPTION_LEN: usize = 16;
/// The longest lifetime the 13-bit Scaled Lifetime can say: 8191 * 8 s.
pub const PREF64_MAX_LIFETIME: u32 = 8191 * 8;

/// Why a PREF64 option was not understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pref64Error {
    /// Fewer than 16 bytes.
    #[error("a PREF64 option is 16 bytes, got {0}")]
    TooShort(usize),
    /// Not type 38.
    #[error("option type {0} is not PREF64 (38)")]
    WrongType(u8),
    /// The Length field is not 2.
    #[error("PREF64 Length field is {0}, must be 2 (units of 8 octets, RFC 8781 section 4)")]
    WrongLength(u8),
    /// RFC 8781 section 4: the receiver MUST ignore an option with another PLC.
    #[error("Prefix Length Code {0} is not 0-5 (RFC 8781 section 4): the option must be ignored")]
    UnknownPlc(u8),
    /// The prefix is not an RFC 6052 prefix (u-octet set in a /96).
    #[error("the advertised prefix is not usable: {0}")]
    Prefix(PrefixError),
    /// Lengths other than 32, 40, 48, 56, 64 and 96 have no code.
    #[error("/{0} has no Prefix Length Code: PREF64 carries /32, /40, /48, /56, /64 or /96")]
    NoCode(u8),
}

/// A PREF64 option (RFC 8781 section 4): a NAT64 prefix and how long it may
/// be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pref64 {
    /// The NAT64 prefix.
    pub prefix: Prefix64,
    /// Scaled Lifetime: units of 8 seconds.
    pub scaled_lifetime: u16,
}

/// RFC 8781 section 4.1: a lifetime in seconds as a Scaled Lifetime,
/// rounded up to a multiple of 8, at least 1 for a non-zero lifetime, at
/// most 8191.
pub fn scale_lifetime(secs: u32) -> u16 {
    if secs == 0 {
        0
    } else {
        secs.div_ceil(8).min(8191) as u16
    }
}

/// Prefix Length Code of RFC 8781 section 4.
pub fn prefix_length_code(len: u8) -> Option<u8> {
    Some(match len {
        96 => 0,
        64 => 1,
        56 => 2,
        48 => 3,
        40 => 4,
        32 => 5,
        _ => return None,
    })
}

impl Pref64 {
    /// An option for `prefix` valid for `lifetime_secs` (scaled as RFC 8781
    /// section 4.1 says).
    pub fn new(prefix: Prefix64, lifetime_secs: u32) -> Self {
        Pref64 {
            prefix,
            scaled_lifetime: scale_lifetime(lifetime_secs),
        }
    }
    /// The lifetime in seconds.
    pub fn lifetime_secs(&self) -> u32 {
        u32::from(self.scaled_lifetime) * 8
    }
    /// The 16 option bytes: type 38, length 2, Scaled Lifetime and PLC, then
    /// the highest 96 bits of the prefix.
    pub fn encode(&self) -> Result<[u8; PREF64_OPTION_LEN], Pref64Error> {
        let len = self.prefix.prefix_len();
        let plc = prefix_length_code(len).ok_or(Pref64Error::NoCode(len))?;
        let mut o = [0u8; PREF64_OPTION_LEN];
        o[0] = PREF64_OPTION_TYPE;
        o[1] = 2;
        let field = (self.scaled_lifetime.min(8191) << 3) | u16::from(plc);
        o[2..4].copy_from_slice(&field.to_be_bytes());
        o[4..16].copy_from_slice(&self.prefix.prefix().addr().octets()[..12]);
        Ok(o)
    }
    /// Reads an option; bits of the 96 after the prefix length are ignored,
    /// as RFC 8781 section 4 tells receivers.
    pub fn decode(b: &[u8]) -> Result<Self, Pref64Error> {
        if b.len() < PREF64_OPTION_LEN {
            return Err(Pref64Error::TooShort(b.len()));
        }
        if b[0] != PREF64_OPTION_TYPE {
            return Err(Pref64Error::WrongType(b[0]));
        }
        if b[1] != 2 {
            return Err(Pref64Error::WrongLength(b[1]));
        }
        let field = u16::from_be_bytes([b[2], b[3]]);
        let len = match field & 7 {
            0 => 96,
            1 => 64,
            2 => 56,
            3 => 48,
            4 => 40,
            5 => 32,
            plc => return Err(Pref64Error::UnknownPlc(plc as u8)),
        };
        let mut a = [0u8; 16];
        a[..12].copy_from_slice(&b[4..16]);
        let net = Ipv6Addr::from(u128::from_be_bytes(a) & mask128(len));
        let prefix = Prefix64::new(net, len).map_err(Pref64Error::Prefix)?;
        Ok(Pref64 {
            prefix,
            scaled_lifetime: field >> 3,
        })
    }
}
