//! Whose packets a translator takes: the client filter that keeps a gateway
//! from being an open relay. Only sources in the configured prefixes may
//! open flows through it: IPv6 sources for SIIT and NAT64, IPv4 sources
//! (the host's own applications) for a CLAT (RFC 6877 section 6.3).
//!
//! An ICMP error is judged by the packet it quotes, whose destination is the
//! client the error is about: routers anywhere on the path may send one
//! (RFC 4443 section 2.4, RFC 792), and their addresses are not clients.
//! The ICMPv6 header is found after the IPv6 extension headers (RFC 8200
//! section 4: Hop-by-Hop, Destination Options, Routing, Fragment), with the
//! translator's own walk ([`crate::wire`]).
//!
//! A fragment of a datagram (offset or More Fragments set; RFC 8200 section
//! 4.5, RFC 791) is judged by its source, every fragment alike, so that the
//! fragments of one datagram are all taken or all refused. ICMP errors are
//! never fragmented in practice: they are cut to the minimum MTU (RFC 4443
//! section 2.4 (c): 1280 bytes; RFC 1812 section 4.3.2.3: 576 bytes). An
//! IPv6 atomic fragment (RFC 6946: a Fragment header with offset 0 and no
//! More Fragments) is a whole packet, judged as one.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use core::net::{Ipv4Addr, Ipv6Addr};

use crate::addr::{Ipv4Prefix, Ipv6Prefix};
use crate::wire::{proto, walk_chain, V4Header};

/// The sources allowed on the side that opens connections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clients {
    /// IPv6 packets must come from one of these prefixes.
    V6(Vec<Ipv6Prefix>),
    /// IPv4 packets must come from one of these prefixes.
    V4(Vec<Ipv4Prefix>),
}

impl Clients {
    /// Whether `pkt` (an IP packet about to be translated) may be
    /// translated. Packets of the other family, IPv6 multicast (the host's
    /// neighbour discovery and MLD, which the translator calls not ours)
    /// and packets too short or malformed to tell pass: the translator
    /// judges them.
    #[inline]
    pub fn allows(&self, pkt: &[u8]) -> bool {
        match self {
            Clients::V6(list) => match client_v6(pkt) {
                Some(a) => list.iter().any(|p| p.contains(a)),
                None => true,
            },
            Clients::V4(list) => match client_v4(pkt) {
                Some(a) => list.iter().any(|p| p.contains(a)),
                None => true,
            },
        }
    }

    /// The prefixes, comma-separated.
    pub fn describe(&self) -> String {
        let mut s = String::new();
        match self {
            Clients::V6(l) => l.iter().enumerate().for_each(|(i, p)| {
                let _ = write!(s, "{}{p}", if i > 0 { "," } else { "" });
            }),
            Clients::V4(l) => l.iter().enumerate().for_each(|(i, p)| {
                let _ = write!(s, "{}{p}", if i > 0 { "," } else { "" });
            }),
        }
        s
    }
}

/// The IPv6 client of `pkt`: the destination quoted by an ICMPv6 error
/// (type below 128, RFC 4443 section 2.1) after any extension headers, else
/// the source. `None` for a packet that is not IPv6, to multicast, or too
/// short or malformed to tell.
#[inline]
pub fn client_v6(pkt: &[u8]) -> Option<Ipv6Addr> {
    if pkt.len() < 40 || pkt[0] >> 4 != 6 || pkt[24] == 0xff {
        return None;
    }
    let addr = |at: usize| <[u8; 16]>::try_from(&pkt[at..at + 16]).ok().map(Ipv6Addr::from);
    let mut at = 8;
    if pkt[6] != proto::TCP && pkt[6] != proto::UDP {
        if let Ok(c) = walk_chain(pkt, pkt.len(), pkt[6]) {
            // The quoted IPv6 header follows the 8-byte ICMPv6 header; its
            // destination is 24 bytes in.
            if c.proto == proto::ICMPV6 && !c.is_fragment() && pkt.len() >= c.l4_off + 48 && pkt[c.l4_off] < 128 {
                at = c.l4_off + 8 + 24;
            }
        }
    }
    addr(at)
}

/// The IPv4 client of `pkt`: the destination quoted by an ICMP error
/// (Destination Unreachable, Source Quench, Redirect, Time Exceeded,
/// Parameter Problem: types 3, 4, 5, 11, 12 of RFC 792), else the source.
/// `None` for a packet that is not IPv4 or too short to tell.
#[inline]
pub fn client_v4(pkt: &[u8]) -> Option<Ipv4Addr> {
    let h = V4Header::parse(pkt)?;
    let l4 = h.hlen;
    let quoted = l4 + 8 + 16;
    if h.proto == proto::ICMP && !h.is_fragment() && pkt.len() >= l4 + 28 && matches!(pkt[l4], 3 | 4 | 5 | 11 | 12) {
        return Some(Ipv4Addr::new(
            pkt[quoted],
            pkt[quoted + 1],
            pkt[quoted + 2],
            pkt[quoted + 3],
        ));
    }
    Some(h.src)
}
