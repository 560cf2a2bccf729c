//! What happened to a packet: the typed verdict every input gets, the drop
//! reasons with their explanations, and the counters kept per verdict and per
//! reason.
//!
//! A verdict is not an error: "this packet cannot be translated, and here is
//! what the RFC says to do" is a normal outcome. Caller mistakes (a bad
//! configuration) are [`crate::ConfigError`]s instead.

use core::fmt;

/// Which way a packet went through the translator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// IPv6 in, IPv4 out (RFC 7915 section 5).
    SixToFour,
    /// IPv4 in, IPv6 out (RFC 7915 section 4).
    FourToSix,
    /// IPv6 in, IPv6 out: hairpinned through IPv4 (RFC 7757 section 4.2).
    SixToSix,
}

impl Direction {
    /// Whether the output is IPv6.
    pub fn output_is_v6(self) -> bool {
        !matches!(self, Direction::SixToFour)
    }
}

/// Where the translated bytes are in the caller's `out` buffer.
///
/// Packets are laid out back to back from `out[0]`. When a packet had to be
/// fragmented, every packet but the last is `first_len` bytes long.
///
/// The fields are small so that a whole [`Verdict`] fits in two registers:
/// returned through memory, it cost a store-forwarding stall per packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    /// Total bytes written.
    pub len: u32,
    /// How many packets (1 unless fragmented).
    pub count: u16,
    /// Length of each packet but the last.
    pub first_len: u16,
    /// Which way.
    pub direction: Direction,
}

impl Emitted {
    pub(crate) fn single(len: usize, direction: Direction) -> Self {
        Emitted {
            len: len as u32,
            count: 1,
            first_len: len as u16,
            direction,
        }
    }
    pub(crate) fn split(len: usize, count: usize, first_len: usize, direction: Direction) -> Self {
        Emitted {
            len: len as u32,
            count: count as u16,
            first_len: first_len as u16,
            direction,
        }
    }
    /// Total bytes written, as a `usize` for slicing.
    #[inline]
    pub fn total_len(&self) -> usize {
        self.len as usize
    }
    /// Splits `out` into the packets written.
    pub fn packets<'a>(&self, out: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        let (len, count, first) = (self.len as usize, usize::from(self.count), usize::from(self.first_len));
        (0..count).map(move |i| {
            let start = i * first;
            let end = if i + 1 == count { len } else { start + first };
            &out[start..end]
        })
    }
}

/// The outcome of one call to [`crate::Translator::translate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum Verdict {
    /// Translated: the packets are in `out` (see [`Emitted`]).
    Translated(Emitted),
    /// Not translated; the RFC asks for an ICMP error back to the sender.
    /// It is in `out[..len]`, in the sender's own IP family.
    IcmpError {
        /// Length of the error packet.
        len: u32,
        /// Why the packet was not translated.
        reason: DropReason,
    },
    /// Not translated and nothing to send back.
    Dropped(DropReason),
    /// Outside this translator's configuration: hand the packet back to the
    /// host's own stack untouched. Distinct from a drop.
    NotOurs(NotOurs),
    /// Kept by the stateful translator for now (a fragment awaiting the rest
    /// of its datagram, or an unsolicited IPv4 SYN awaiting a simultaneous
    /// open, RFC 6146 section 3.5.2.2); nothing to send yet.
    Held(Held),
}

/// What a [`Verdict::Held`] packet is waiting for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Held {
    /// A fragment waiting for the rest of its datagram.
    Fragment,
    /// An unsolicited IPv4 SYN, kept 6 s for a simultaneous open.
    SimultaneousOpen,
}

macro_rules! reasons {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident => $label:literal, $explain:literal;)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u8)]
        pub enum $name { $($(#[$vm])* $v,)* }

        impl $name {
            /// Every value, in counter order.
            pub const ALL: &'static [$name] = &[$($name::$v,)*];
            /// Number of values.
            pub const COUNT: usize = Self::ALL.len();
            /// A short stable name (snake case), for counters and metrics.
            pub const fn label(self) -> &'static str {
                match self { $($name::$v => $label,)* }
            }
            /// What happened and what a person can do about it.
            pub const fn explain(self) -> &'static str {
                match self { $($name::$v => $explain,)* }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.explain())
            }
        }
    };
}

reasons! {
    /// Why a packet was not translated. Each value has a label (for counters)
    /// and an explanation a person can act on.
    DropReason {
        /// Shorter than its IP header.
        Truncated => "truncated",
            "the packet is shorter than its IP header claims; it was cut in transit or by a capture snap length";
        /// IPv4 IHL < 5 or Total Length < IHL.
        BadIpv4Header => "bad_ipv4_header",
            "the IPv4 header is malformed (IHL below 5, or Total Length smaller than the header); the sender is broken";
        /// IPv4 header checksum wrong.
        BadIpv4Checksum => "bad_ipv4_checksum",
            "the IPv4 header checksum is wrong; the packet was corrupted in transit (a host would drop it too)";
        /// IPv6 payload length 0 (a jumbogram) is not translatable.
        Jumbogram => "jumbogram",
            "IPv6 Payload Length is 0 (a jumbogram or a bad header); IPv4 cannot carry it";
        /// Too many or malformed extension headers.
        BadExtensionHeaders => "bad_extension_headers",
            "the IPv6 extension header chain is truncated, too long (more than 8 headers) or repeats a header; fix the sender";
        /// RFC 7915 s5.1: Fragment header followed by another extension header.
        FragmentThenExtension => "fragment_then_extension",
            "an extension header follows the Fragment header, which RFC 7915 section 5.1 cannot translate; answered with ICMPv6 1/1";
        /// RFC 7915 s5.1: Routing header with Segments Left != 0.
        SegmentsLeft => "segments_left",
            "a Routing header still has Segments Left, so this is not the final destination (RFC 7915 section 5.1); answered with ICMPv6 Parameter Problem";
        /// RFC 7915 s4.1: unexpired IPv4 source route.
        SourceRoute => "source_route",
            "the IPv4 packet carries an unexpired LSRR/SSRR source route (RFC 7915 section 4.1); answered with ICMPv4 3/5";
        /// Hop limit or TTL would reach 0.
        HopLimitExceeded => "hop_limit_exceeded",
            "the TTL/hop limit expired at the translator; answered with Time Exceeded (look for a routing loop or a too-small initial TTL)";
        /// The transport header is cut short.
        TransportTruncated => "transport_truncated",
            "the TCP/UDP/ICMP header is cut short in an unfragmented packet or first fragment";
        /// RFC 7915 s4.5: UDP with checksum 0.
        UdpChecksumZero => "udp_checksum_zero",
            "IPv4 UDP with checksum 0 cannot go to IPv6 (RFC 7915 section 4.5); enable amend_udp_checksum_zero to compute it; answered with ICMPv4 3/13";
        /// RFC 7915 s4.5: fragmented UDP with checksum 0.
        FragmentedUdpChecksumZero => "fragmented_udp_checksum_zero",
            "a fragmented IPv4 UDP datagram with checksum 0 cannot be fixed without reassembly (RFC 7915 section 4.5); answered with ICMPv4 3/13";
        /// RFC 8200 s8.1: IPv6 UDP with checksum 0.
        Ipv6UdpChecksumZero => "ipv6_udp_checksum_zero",
            "IPv6 UDP with checksum 0 is invalid (RFC 8200 section 8.1) and would leave with a wrong IPv4 checksum; fix the sender, enable amend_udp_checksum_zero to compute a real one (unfragmented datagrams), or forward_udp_checksum_zero for RFC 6935 tunnels";
        /// Too big for the egress MTU, DF set or IPv6.
        PacketTooBig => "packet_too_big",
            "the translated packet exceeds the egress MTU and may not be fragmented; answered with Packet Too Big / Fragmentation Needed so the sender lowers its path MTU";
        /// ICMP type with no counterpart (RFC 7915 s4.2 / s5.2).
        IcmpUntranslatableType => "icmp_untranslatable_type",
            "this ICMP type has no counterpart in the other family (RFC 7915 sections 4.2 and 5.2 say drop it silently): e.g. neighbour discovery, MLD, timestamps, redirects";
        /// ICMP code with no counterpart.
        IcmpUntranslatableCode => "icmp_untranslatable_code",
            "this ICMP error code has no counterpart in the other family (RFC 7915 sections 4.2 and 5.2 say drop it silently)";
        /// Parameter Problem pointer with no counterpart.
        IcmpUntranslatablePointer => "icmp_untranslatable_pointer",
            "the Parameter Problem pointer refers to a header field with no counterpart in the other family (RFC 7915 sections 4.2 and 5.2)";
        /// ICMP error with a bad checksum.
        IcmpChecksum => "icmp_checksum",
            "an ICMP error arrived with a wrong checksum; it is rebuilt on translation, so it is dropped rather than repaired";
        /// Fragmented ICMP.
        FragmentedIcmp => "fragmented_icmp",
            "the ICMP message arrived fragmented; its checksum cannot be converted without reassembly, which a stateless translator does not do";
        /// ICMP error about an ICMP error.
        IcmpErrorInIcmpError => "icmp_error_in_icmp_error",
            "an ICMP error quotes another ICMP error; RFC 7915 sections 4.3 and 5.3 say drop it";
        /// The quoted packet of an ICMP error is unusable.
        BadInnerPacket => "bad_inner_packet",
            "the packet quoted inside an ICMP error is too short or malformed to translate";
        /// Inner addresses cannot be translated.
        InnerUntranslatable => "inner_untranslatable",
            "an address of the packet quoted inside an ICMP error is covered neither by pool6 nor by the EAMT";
        /// Source address has no mapping.
        SourceUntranslatable => "source_untranslatable",
            "the destination is ours but the source address has no mapping: put it under pool6 or add an EAMT entry (denylist4 and the implicit denylist also block pool6 sources); an IPv6 sender is answered with ICMPv6 1/1 (RFC 7915 section 5.4)";
        /// RFC 6052 section 3.1.
        NonGlobalWithWellKnownPrefix => "non_global_with_wkp",
            "RFC 6052 section 3.1 forbids non-global IPv4 addresses (private, loopback, documentation, ...) under 64:ff9b::/96, as source or destination; use a network-specific prefix or 64:ff9b:1::/48, or turn off the check";
        /// A fragment that would end past 65 535 bytes.
        FragmentBeyondMaximum => "fragment_beyond_maximum",
            "the fragment's offset plus its length runs past the 65 535-byte maximum datagram, so it cannot be re-fragmented; the sender is broken or hostile";
        /// Hairpinning would go around again.
        HairpinLoop => "hairpin_loop",
            "the packet would be hairpinned twice; the configuration maps an address back onto the translator";
        /// Stateful: an IPv6 source under pool6 (RFC 6146 section 3.5).
        SourceInPool6 => "source_in_pool6",
            "the IPv6 source address is itself under pool6, i.e. an IPv4 host in disguise or a loop (RFC 6146 section 3.5 discards it); check the clients' addressing and routing";
        /// Stateful: an IPv4 packet for a pool4 address with no BIB entry.
        NoBinding => "no_binding",
            "no BIB entry for this pool4 address and port: nobody on the IPv6 side opened it (RFC 6146 section 3.5); add a static BIB entry to publish a service";
        /// Stateful: no free pool4 address and port.
        Pool4Exhausted => "pool4_exhausted",
            "pool4 has no free address and port for this protocol; add addresses or ports to pool4, or lower the timeouts";
        /// Stateful: the session table is at its cap.
        SessionTableFull => "session_table_full",
            "the session table is full; raise max_sessions or lower the timeouts";
        /// Stateful: this client is at its quota.
        ClientQuota => "client_quota",
            "this IPv6 client (address or prefix) holds its quota of sessions; raise max_sessions_per_client if it is legitimate";
        /// Stateful: address-dependent filtering refused the packet.
        AddressDependentFiltering => "address_dependent_filtering",
            "address-dependent filtering is on and no session of this binding talks to that IPv4 address (RFC 6146 section 3.5)";
        /// Stateful: only TCP, UDP and ICMP queries have BIBs.
        UnsupportedProtocol => "unsupported_protocol",
            "this protocol cannot be translated: a stateful NAT64 handles only TCP, UDP and ICMP (RFC 6146 section 3.4; answered with ICMPv6 1/4 or ICMPv4 3/2), and an IPv4 Protocol that is an IPv6 extension header number (0, 43, 44, 60) would be misread on the IPv6 side";
        /// Stateful: a TCP segment that is not a SYN, with no session.
        TcpNoSession => "tcp_no_session",
            "a TCP segment other than a SYN arrived with no session (RFC 6146 section 3.5.2.2); the connection expired or never went through this translator";
        /// Stateful: externally initiated TCP is refused by configuration.
        ExternallyInitiatedTcp => "externally_initiated_tcp",
            "drop_externally_initiated_tcp is on: IPv4 hosts may not open TCP connections to the IPv6 side (RFC 6146 section 3.5.2.2)";
        /// Stateful: too many unsolicited SYNs held.
        SimultaneousOpenFull => "simultaneous_open_full",
            "maximum_simultaneous_opens unsolicited IPv4 SYNs are already held; answered with ICMP port unreachable";
        /// Stateful: an unsolicited SYN waited 6 s for nothing.
        SimultaneousOpenTimeout => "simultaneous_open_timeout",
            "an unsolicited IPv4 SYN waited TCP_INCOMING_SYN (6 s) with no matching IPv6 SYN (RFC 6146 section 3.5.2.2); answered with ICMP port unreachable";
        /// Stateful: the fragment could not be reassembled.
        FragmentReassembly => "fragment_reassembly",
            "a fragment was dropped by reassembly (overlap, too many fragments, over 65 535 bytes, reassembly memory full, or timed out); see the reassembly counters";
        /// Stateful: ICMP informational message filtered by configuration.
        Icmpv6InfoFiltered => "icmpv6_info_filtered",
            "drop_icmpv6_info is on: IPv6 pings are not translated (RFC 6146 section 3.5.3)";
        /// No address to source a generated ICMP error from.
        NoErrorSource => "no_error_source",
            "an ICMP error was due but no translator address of that family is configured (set own_ipv4 / own_ipv6)";
        /// The caller's output buffer is too small.
        OutputTooSmall => "output_too_small",
            "the output buffer is too small for the translated packet (or its fragments); nat64_core::OUTPUT_BUFFER_LEN bytes always suffice";
    }
}

reasons! {
    /// Why a packet is outside the configuration (hand it back to the host).
    NotOurs {
        /// Not IPv4 or IPv6.
        NotIp => "not_ip",
            "the packet is neither IPv4 nor IPv6";
        /// 6->4: destination not under pool6 or the EAMT; 4->6: destination
        /// not in the EAMT and no pool6.
        DestinationNotMapped => "destination_not_mapped",
            "the destination is covered neither by pool6 nor by the EAMT, so this translator was not configured for it";
        /// 4->6: destination denylisted for pool6 translation.
        DestinationDenylisted => "destination_denylisted",
            "the IPv4 destination is in denylist4 or the implicit denylist (0/8, 127/8, 169.254/16, 224/4, 255.255.255.255, the translator's own addresses)";
    }
}

/// Counters per verdict and per reason. Plain integers: the translator is
/// `&mut`, so no atomics are needed on the hot path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counters {
    /// Packets translated IPv6 -> IPv4.
    pub translated_6to4: u64,
    /// Packets translated IPv4 -> IPv6.
    pub translated_4to6: u64,
    /// Packets hairpinned IPv6 -> IPv4 -> IPv6.
    pub hairpinned: u64,
    /// Extra packets emitted because the translator fragmented.
    pub fragments_emitted: u64,
    /// ICMP errors generated and returned to the sender.
    pub icmp_errors_generated: u64,
    /// Packets not translated, per reason (ICMP-answered ones included).
    pub dropped: [u64; DropReason::COUNT],
    /// Packets handed back, per reason.
    pub not_ours: [u64; NotOurs::COUNT],
    /// Packets held (fragments, unsolicited SYNs).
    pub held: u64,
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            translated_6to4: 0,
            translated_4to6: 0,
            hairpinned: 0,
            fragments_emitted: 0,
            icmp_errors_generated: 0,
            dropped: [0; DropReason::COUNT],
            not_ours: [0; NotOurs::COUNT],
            held: 0,
        }
    }
}

impl Counters {
    pub(crate) fn record(&mut self, v: &Verdict) {
        match v {
            Verdict::Translated(e) => {
                match e.direction {
                    Direction::SixToFour => self.translated_6to4 += 1,
                    Direction::FourToSix => self.translated_4to6 += 1,
                    Direction::SixToSix => self.hairpinned += 1,
                }
                self.fragments_emitted += u64::from(e.count).saturating_sub(1);
            }
            Verdict::IcmpError { reason, .. } => {
                self.icmp_errors_generated += 1;
                self.dropped[*reason as usize] += 1;
            }
            Verdict::Dropped(r) => self.dropped[*r as usize] += 1,
            Verdict::NotOurs(r) => self.not_ours[*r as usize] += 1,
            Verdict::Held(_) => self.held += 1,
        }
    }
    /// The count for one drop reason.
    pub fn drops(&self, r: DropReason) -> u64 {
        self.dropped[r as usize]
    }
    /// Nonzero drop counters, with their reasons.
    pub fn drop_reasons(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        DropReason::ALL
            .iter()
            .map(|&r| (r, self.dropped[r as usize]))
            .filter(|&(_, n)| n > 0)
    }
    /// Nonzero not-ours counters, with their reasons.
    pub fn not_ours_reasons(&self) -> impl Iterator<Item = (NotOurs, u64)> + '_ {
        NotOurs::ALL
            .iter()
            .map(|&r| (r, self.not_ours[r as usize]))
            .filter(|&(_, n)| n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A verdict must stay small enough to come back in registers.
    #[test]
    fn verdict_fits_in_two_registers() {
        assert!(
            core::mem::size_of::<Verdict>() <= 16,
            "{}",
            core::mem::size_of::<Verdict>()
        );
    }
}
