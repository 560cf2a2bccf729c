//! TUN offloads: the `virtio_net_hdr` that precedes every packet on a TUN
//! descriptor opened with `IFF_VNET_HDR` (see `include/uapi/linux/virtio_net.h`),
//! and what the adapter does with it. No translation happens here: the core
//! translates a TCP super-packet once ([`nat64_core::Translator::translate_gso`]);
//! this module only
//!
//! - reads the header: a plain packet, or a TCP super-packet (GRO/GSO, up to
//!   64 KiB) with its segment size;
//! - finishes a partial checksum (`VIRTIO_NET_HDR_F_NEEDS_CSUM`: the
//!   transport checksum field holds only the pseudo-header sum) of a plain
//!   packet before translation, as the kernel does for a device without
//!   checksum offload (`skb_checksum_help`);
//! - writes the header of a translated super-packet: `gso_type` TCPV4 or
//!   TCPV6 after the output's IP version, the same segment size, `hdr_len`,
//!   `csum_start` and `csum_offset` of the output, and the partial checksum
//!   recomputed as the output's pseudo-header sum.
//!
//! Why recompute rather than let the core's incremental update carry the
//! partial sum: with `CHECKSUM_PARTIAL` the field covers the pseudo-header
//! only, while the TCP header (ports included) is summed later by the
//! kernel when it cuts the segments. The core's RFC 1624 update also folds
//! in the port rewrite of the stateful NAT64, which the kernel would then
//! count twice. The pseudo-header of the output is known exactly from the
//! output's addresses and length, so the adapter writes it.

use nat64_core::checksum;
use nat64_core::wire::{proto, IpPacket};

/// Size of `struct virtio_net_hdr` (the TUN default, `TUNSETVNETHDRSZ`).
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `csum_start + csum_offset`
/// holds the pseudo-header sum; the rest is to be summed from `csum_start`.
pub const F_NEEDS_CSUM: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_NONE`.
pub const GSO_NONE: u8 = 0;
/// `VIRTIO_NET_HDR_GSO_TCPV4`.
pub const GSO_TCPV4: u8 = 1;
/// `VIRTIO_NET_HDR_GSO_TCPV6`.
pub const GSO_TCPV6: u8 = 4;
/// `VIRTIO_NET_HDR_GSO_ECN`: the super-packet's first segment has CWR set.
pub const GSO_ECN: u8 = 0x80;

/// TCP's checksum field offset in its header.
const TCP_CSUM: u16 = 16;

/// One `struct virtio_net_hdr`, fields in host order (a legacy TUN header
/// is in the host's byte order unless `TUNSETVNETLE`/`BE` says otherwise).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct VnetHdr {
    /// `F_NEEDS_CSUM` (and `VIRTIO_NET_HDR_F_DATA_VALID`, ignored).
    pub flags: u8,
    /// `GSO_*`, with `GSO_ECN` or-ed in.
    pub gso_type: u8,
    /// Bytes of headers (IP + TCP) of each segment: a hint for the kernel.
    pub hdr_len: u16,
    /// Payload bytes per segment (the MSS).
    pub gso_size: u16,
    /// Where the checksummed data starts (the transport header).
    pub csum_start: u16,
    /// Where the checksum is, from `csum_start`.
    pub csum_offset: u16,
}

impl VnetHdr {
    /// Parses the first [`VNET_HDR_LEN`] bytes of `b`.
    pub fn parse(b: &[u8; VNET_HDR_LEN]) -> Self {
        let u = |i: usize| u16::from_ne_bytes([b[i], b[i + 1]]);
        VnetHdr {
            flags: b[0],
            gso_type: b[1],
            hdr_len: u(2),
            gso_size: u(4),
            csum_start: u(6),
            csum_offset: u(8),
        }
    }

    /// The bytes to write in front of a packet.
    pub fn to_bytes(self) -> [u8; VNET_HDR_LEN] {
        let mut b = [0u8; VNET_HDR_LEN];
        b[0] = self.flags;
        b[1] = self.gso_type;
        b[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        b[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        b[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        b[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        b
    }
}

/// What a received packet is, once its header is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rx {
    /// One packet, its checksum complete: translate it as usual.
    Plain,
    /// A TCP super-packet to translate once with `translate_gso`, cut into
    /// segments of `mss` payload bytes by the kernel after it is written back.
    TcpGso {
        /// Payload bytes per segment.
        mss: u16,
        /// `GSO_ECN`, kept on the output.
        ecn: bool,
    },
}

/// A header the adapter cannot act on (counted as `offload_errors`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VnetError {
    /// `csum_start + csum_offset` outside the packet.
    #[error("partial checksum at {start}+{offset} outside a {len}-byte packet")]
    ChecksumOutside {
        /// `csum_start`.
        start: u16,
        /// `csum_offset`.
        offset: u16,
        /// Packet length.
        len: usize,
    },
    /// A segmentation type the gateway did not ask for (only TCP is
    /// enabled with `TUNSETOFFLOAD`), or TCP segmentation without the
    /// partial checksum it requires.
    #[error("unexpected segmentation offload: gso_type {gso_type:#x}, flags {flags:#x}, gso_size {gso_size}")]
    UnexpectedGso {
        /// `gso_type`.
        gso_type: u8,
        /// `flags`.
        flags: u8,
        /// `gso_size`.
        gso_size: u16,
    },
    /// A translated super-packet that is not one TCP packet (the core never
    /// fragments one; this would be a bug).
    #[error("a TCP super-packet did not translate to one TCP packet")]
    NotTcpOut,
}

/// Reads `h`, the header of the received packet `pkt`, and prepares the
/// packet for translation: a plain packet's partial checksum is finished
/// in place.
pub fn receive(h: &VnetHdr, pkt: &mut [u8]) -> Result<Rx, VnetError> {
    let ty = h.gso_type & !GSO_ECN;
    if ty == GSO_NONE {
        if h.flags & F_NEEDS_CSUM != 0 {
            finish_checksum(pkt, h.csum_start, h.csum_offset)?;
        }
        return Ok(Rx::Plain);
    }
    let unexpected = VnetError::UnexpectedGso {
        gso_type: h.gso_type,
        flags: h.flags,
        gso_size: h.gso_size,
    };
    if (ty != GSO_TCPV4 && ty != GSO_TCPV6) || h.flags & F_NEEDS_CSUM == 0 || h.gso_size == 0 {
        return Err(unexpected);
    }
    if h.csum_offset != TCP_CSUM || usize::from(h.csum_start) + 20 > pkt.len() {
        return Err(unexpected);
    }
    Ok(Rx::TcpGso {
        mss: h.gso_size,
        ecn: h.gso_type & GSO_ECN != 0,
    })
}

/// Finishes a partial checksum: sums from `start` to the end of the packet
/// (the field holds the pseudo-header sum) and stores the complement, as
/// `skb_checksum_help` does (a zero result is sent as 0xffff).
pub fn finish_checksum(pkt: &mut [u8], start: u16, offset: u16) -> Result<(), VnetError> {
    let (s, at) = (usize::from(start), usize::from(start) + usize::from(offset));
    if at + 2 > pkt.len() {
        return Err(VnetError::ChecksumOutside {
            start,
            offset,
            len: pkt.len(),
        });
    }
    let c = checksum::finish(checksum::sum(&pkt[s..]));
    let c = if c == 0 { 0xffff } else { c };
    pkt[at..at + 2].copy_from_slice(&c.to_be_bytes());
    Ok(())
}

/// The header to write in front of `out`, the translation of a packet
/// received as `rx`. For a super-packet, the output's TCP checksum field is
/// set to its pseudo-header sum (see the module documentation).
pub fn transmit(rx: Rx, out: &mut [u8]) -> Result<VnetHdr, VnetError> {
    let Rx::TcpGso { mss, ecn } = rx else {
        return Ok(VnetHdr::default());
    };
    let (l4, len, sum, ty) = match IpPacket::new_checked(&*out) {
        Ok(IpPacket::V4(p)) if p.protocol() == proto::TCP => {
            let (ihl, total) = (p.header_len(), usize::from(p.total_len()));
            if total != out.len() || total < ihl + 20 {
                return Err(VnetError::NotTcpOut);
            }
            let len = total - ihl;
            let sum = checksum::pseudo_v4(p.src_addr(), p.dst_addr(), proto::TCP, len as u16);
            (ihl, len, sum, GSO_TCPV4)
        }
        // TCP right after the fixed header: the core writes no extension
        // header in front of a super-packet's TCP.
        Ok(IpPacket::V6(p)) if p.next_header() == proto::TCP => {
            let len = usize::from(p.payload_len());
            if 40 + len != out.len() || len < 20 {
                return Err(VnetError::NotTcpOut);
            }
            let sum = checksum::pseudo_v6(p.src_addr(), p.dst_addr(), proto::TCP, len as u32);
            (40, len, sum, GSO_TCPV6)
        }
        _ => return Err(VnetError::NotTcpOut),
    };
    let doff = usize::from(out[l4 + 12] >> 4) * 4;
    if doff < 20 || doff > len {
        return Err(VnetError::NotTcpOut);
    }
    let at = l4 + usize::from(TCP_CSUM);
    out[at..at + 2].copy_from_slice(&checksum::fold(sum).to_be_bytes());
    Ok(VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: ty | if ecn { GSO_ECN } else { 0 },
        hdr_len: (l4 + doff) as u16,
        gso_size: mss,
        csum_start: l4 as u16,
        csum_offset: TCP_CSUM,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry};
    use nat64_core::{Config, Translator, Verdict, OUTPUT_BUFFER_LEN};
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn ones(b: &[u8]) -> u32 {
        b.chunks(2)
            .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
            .sum()
    }

    /// A full checksum over `l4` with `pseudo` is valid.
    fn valid(pseudo: u32, l4: &[u8]) -> bool {
        checksum::fold(pseudo + ones(l4)) == 0xffff
    }

    fn tcp6(src: &str, dst: &str, flags: u8, n: usize, partial: bool) -> Vec<u8> {
        let (s, d): (Ipv6Addr, Ipv6Addr) = (src.parse().unwrap(), dst.parse().unwrap());
        let mut tcp = vec![0u8; 20 + n];
        tcp[0..2].copy_from_slice(&40000u16.to_be_bytes());
        tcp[2..4].copy_from_slice(&8080u16.to_be_bytes());
        tcp[12] = 5 << 4;
        tcp[13] = flags;
        for (i, b) in tcp[20..].iter_mut().enumerate() {
            *b = (i * 7) as u8;
        }
        let p = checksum::pseudo_v6(s, d, 6, tcp.len() as u32);
        let c = if partial {
            checksum::fold(p)
        } else {
            checksum::finish(checksum::add(p, checksum::sum(&tcp)))
        };
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        let mut pkt = vec![0x60, 0, 0, 0];
        pkt.extend_from_slice(&(tcp.len() as u16).to_be_bytes());
        pkt.extend_from_slice(&[6, 64]);
        pkt.extend_from_slice(&s.octets());
        pkt.extend_from_slice(&d.octets());
        pkt.extend_from_slice(&tcp);
        pkt
    }

    fn gso6(mss: u16) -> VnetHdr {
        VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: GSO_TCPV6,
            hdr_len: 60,
            gso_size: mss,
            csum_start: 40,
            csum_offset: 16,
        }
    }

    /// Cuts a translated super-packet as the kernel would and checks every
    /// segment's checksum once the partial sum is finished: the seed must be
    /// the pseudo-header over the super-packet's length, adjusted per
    /// segment (tcp_gso_segment's `delta`).
    fn segments_valid_v4(out: &[u8], h: &VnetHdr) {
        let l4 = usize::from(h.csum_start);
        let doff = usize::from(h.hdr_len) - l4;
        let tcp = &out[l4..];
        let data = &tcp[doff..];
        let seed = u16::from_be_bytes([tcp[16], tcp[17]]);
        let src = Ipv4Addr::new(out[12], out[13], out[14], out[15]);
        let dst = Ipv4Addr::new(out[16], out[17], out[18], out[19]);
        assert_eq!(
            seed,
            checksum::fold(checksum::pseudo_v4(src, dst, 6, tcp.len() as u16)),
            "the seed is the output's pseudo-header sum"
        );
        for chunk in data.chunks(usize::from(h.gso_size)) {
            // tcp_gso_segment: the seed loses the old length, gains the
            // segment's; then the checksum is finished from csum_start.
            let mut seg = tcp[..doff].to_vec();
            seg.extend_from_slice(chunk);
            let s = checksum::fold(u32::from(seed) + u32::from(!(tcp.len() as u16)) + seg.len() as u32);
            seg[16..18].copy_from_slice(&s.to_be_bytes());
            let c = checksum::finish(checksum::sum(&seg));
            seg[16..18].copy_from_slice(&c.to_be_bytes());
            assert!(valid(checksum::pseudo_v4(src, dst, 6, seg.len() as u16), &seg));
        }
    }

    #[test]
    fn header_round_trip() {
        let h = gso6(1440);
        assert_eq!(VnetHdr::parse(&h.to_bytes()), h);
        assert_eq!(VnetHdr::default().to_bytes(), [0; VNET_HDR_LEN]);
    }

    #[test]
    fn plain_partial_checksum_is_finished() {
        let mut p = tcp6("2001:db8:1::2", "2001:db8:64::cb00:7102", 0x18, 333, true);
        let h = VnetHdr {
            flags: F_NEEDS_CSUM,
            csum_start: 40,
            csum_offset: 16,
            ..VnetHdr::default()
        };
        assert_eq!(receive(&h, &mut p), Ok(Rx::Plain));
        let full = tcp6("2001:db8:1::2", "2001:db8:64::cb00:7102", 0x18, 333, false);
        assert_eq!(p, full);
        let mut short = p[..50].to_vec();
        assert!(matches!(
            receive(&h, &mut short),
            Err(VnetError::ChecksumOutside { .. })
        ));
    }

    #[test]
    fn unexpected_offloads_are_refused() {
        let mut p = tcp6("2001:db8:1::2", "2001:db8:64::cb00:7102", 0x10, 3000, true);
        let udp = VnetHdr {
            gso_type: 5,
            ..gso6(1440)
        };
        assert!(receive(&udp, &mut p).is_err());
        let no_csum = VnetHdr { flags: 0, ..gso6(1440) };
        assert!(receive(&no_csum, &mut p).is_err());
        assert_eq!(receive(&gso6(1440), &mut p), Ok(Rx::TcpGso { mss: 1440, ecn: false }));
        let ecn = VnetHdr {
            gso_type: GSO_TCPV6 | GSO_ECN,
            ..gso6(1440)
        };
        assert_eq!(receive(&ecn, &mut p), Ok(Rx::TcpGso { mss: 1440, ecn: true }));
    }

    /// Stateful NAT64 rewrites the source port: the seed must still be the
    /// plain pseudo-header sum of the output, and every segment the kernel
    /// cuts must carry a valid checksum.
    #[test]
    fn stateful_super_packet_gets_a_correct_seed() {
        let mut cfg = Nat64Config::new(
            "2001:db8:64::/96".parse().unwrap(),
            vec![Pool4Entry::new("198.51.100.1".parse().unwrap())],
        );
        cfg.xlat.own_ipv4 = Some("198.51.100.1".parse().unwrap());
        let mut nat = Nat64::new(cfg).unwrap();
        let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
        let mut syn = tcp6("2001:db8:1::2", "2001:db8:64::cb00:7102", 0x02, 0, false);
        assert!(matches!(
            nat.translate(&syn, &mut out, Instant::from_secs(1)),
            Verdict::Translated(_)
        ));
        syn.clear();
        let mut p = tcp6("2001:db8:1::2", "2001:db8:64::cb00:7102", 0x10, 30_000, true);
        let rx = receive(&gso6(1440), &mut p).unwrap();
        let Rx::TcpGso { mss, .. } = rx else { panic!() };
        let v = nat.translate_gso(&p, &mut out, Instant::from_secs(2), mss);
        let Verdict::Translated(e) = v else { panic!("{v:?}") };
        let o = &mut out[..e.total_len()];
        assert_ne!(u16::from_be_bytes([o[20], o[21]]), 40000, "the port was rewritten");
        let h = transmit(rx, o).unwrap();
        assert_eq!(
            h,
            VnetHdr {
                flags: F_NEEDS_CSUM,
                gso_type: GSO_TCPV4,
                hdr_len: 40,
                gso_size: 1440,
                csum_start: 20,
                csum_offset: 16
            }
        );
        segments_valid_v4(o, &h);
    }

    /// SIIT both ways: 6 -> 4 -> 6 restores the super-packet, seed included.
    #[test]
    fn stateless_round_trip() {
        let mut c = Config::with_pool6("2001:db8:64::/96".parse().unwrap());
        c.own_ipv4 = Some("192.0.2.1".parse().unwrap());
        let mut t = Translator::new(c).unwrap();
        let src = "2001:db8:64::c000:221";
        let dst = "2001:db8:64::c633:6407";
        let mut p = tcp6(src, dst, 0x10, 20_000, true);
        let orig = p.clone();
        let rx = receive(&gso6(1428), &mut p).unwrap();
        let mut out = vec![0u8; OUTPUT_BUFFER_LEN];
        let Verdict::Translated(e) = t.translate_gso(&p, &mut out, 1428) else {
            panic!()
        };
        let mut v4 = out[..e.total_len()].to_vec();
        let h4 = transmit(rx, &mut v4).unwrap();
        segments_valid_v4(&v4, &h4);
        let rx4 = receive(&h4, &mut v4).unwrap();
        let Verdict::Translated(e) = t.translate_gso(&v4, &mut out, 1428) else {
            panic!()
        };
        let o = &mut out[..e.total_len()];
        let h6 = transmit(rx4, o).unwrap();
        assert_eq!(h6, gso6(1428));
        assert_eq!(&o[8..], &orig[8..]);
    }

    #[test]
    fn transmit_refuses_what_is_not_one_tcp_packet() {
        let rx = Rx::TcpGso { mss: 1000, ecn: false };
        let mut udp = tcp6("2001:db8:1::2", "2001:db8:64::1", 0x10, 10, false);
        udp[6] = 17;
        assert_eq!(transmit(rx, &mut udp), Err(VnetError::NotTcpOut));
        let mut cut = tcp6("2001:db8:1::2", "2001:db8:64::1", 0x10, 10, false);
        cut.pop();
        assert_eq!(transmit(rx, &mut cut), Err(VnetError::NotTcpOut));
        assert_eq!(transmit(Rx::Plain, &mut cut), Ok(VnetHdr::default()));
        // IPv4: TCP with a whole header, Total Length the buffer's.
        let mut v4 = vec![
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7,
        ];
        v4.extend_from_slice(&[
            0x9c, 0x40, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0,
        ]);
        assert_eq!(
            transmit(rx, &mut v4.clone()).map(|h| (h.csum_start, h.hdr_len)),
            Ok((20, 40))
        );
        let mut long = v4.clone();
        long.push(0);
        assert_eq!(transmit(rx, &mut long), Err(VnetError::NotTcpOut));
        let mut udp4 = v4.clone();
        udp4[9] = 17;
        assert_eq!(transmit(rx, &mut udp4), Err(VnetError::NotTcpOut));
        let mut short_tcp = v4[..39].to_vec();
        short_tcp[3] = 39;
        assert_eq!(transmit(rx, &mut short_tcp), Err(VnetError::NotTcpOut));
        assert_eq!(transmit(rx, &mut v4[..10].to_vec()), Err(VnetError::NotTcpOut));
    }
}
