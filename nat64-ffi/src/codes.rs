//! The verdict of a packet as C sees it, and the numbered codes of its
//! reasons. Codes are assigned here once and never renumbered: the core's
//! own enum order is free to change, these numbers are not.

use std::ffi::{c_char, CString};
use std::sync::OnceLock;

use nat64_core::nat64::{Proto, TcpState};
use nat64_core::{Counters, Direction, DropReason, Emitted, Held, NotOurs, Verdict};

use crate::ffi_panic_boundary;

/// Which kind of verdict.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_verdict_kind {
    /// No verdict: `nat64_nat64_poll` had nothing to do.
    None = 0,
    /// Translated: `count` packets, `len` bytes in all, back to back at the
    /// start of the output buffer; each but the last is `first_len` bytes.
    Translated = 1,
    /// Not translated; an ICMP error for the sender (in its own IP family) is
    /// in the first `len` bytes of the output buffer. `reason` says why.
    IcmpError = 2,
    /// Not translated, nothing to send; `reason` (a nat64_drop_reason) says why.
    Dropped = 3,
    /// Outside the configuration: hand the packet back to the host untouched;
    /// `reason` is a nat64_not_ours.
    NotOurs = 4,
    /// Kept by the stateful NAT64 for now; `reason` is a nat64_held.
    Held = 5,
}

/// Which way a packet went.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_direction {
    /// Not a translation.
    None = 0,
    /// IPv6 in, IPv4 out (RFC 7915 section 5).
    SixToFour = 1,
    /// IPv4 in, IPv6 out (RFC 7915 section 4).
    FourToSix = 2,
    /// IPv6 in, IPv6 out, hairpinned (RFC 7757 section 4.2).
    SixToSix = 3,
}

macro_rules! impl_codes {
    ($cname:ident, $core:ident, [$($v:ident),* $(,)?]) => {
        impl $cname {
            pub(crate) fn of(r: $core) -> Self {
                #[allow(unreachable_patterns)]
                match r {
                    $($core::$v => $cname::$v,)*
                    _ => $cname::Unknown,
                }
            }
            #[cfg(test)]
            pub(crate) fn core(code: u32) -> Option<$core> {
                $core::ALL.iter().copied().find(|r| Self::of(*r) as u32 == code && code != 0)
            }
        }
    };
}

/// Why a packet was not translated (`reason` of NAT64_VERDICT_KIND_ICMP_ERROR and
/// NAT64_VERDICT_KIND_DROPPED). nat64_drop_reason_label() and
/// nat64_drop_reason_explain() describe each.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_drop_reason {
    /// A reason this version of the library does not know.
    Unknown = 0,
    /// Shorter than its IP header says.
    Truncated = 1,
    /// Malformed IPv4 header.
    BadIpv4Header = 2,
    /// Wrong IPv4 header checksum.
    BadIpv4Checksum = 3,
    /// IPv6 jumbogram.
    Jumbogram = 4,
    /// Bad extension header chain.
    BadExtensionHeaders = 5,
    /// Extension header after the Fragment header.
    FragmentThenExtension = 6,
    /// Routing header with Segments Left.
    SegmentsLeft = 7,
    /// Unexpired IPv4 source route.
    SourceRoute = 8,
    /// TTL / hop limit expired.
    HopLimitExceeded = 9,
    /// Transport header cut short.
    TransportTruncated = 10,
    /// IPv4 UDP checksum 0.
    UdpChecksumZero = 11,
    /// Fragmented IPv4 UDP with checksum 0.
    FragmentedUdpChecksumZero = 12,
    /// Too big for the egress MTU.
    PacketTooBig = 13,
    /// ICMP type with no counterpart.
    IcmpUntranslatableType = 14,
    /// ICMP code with no counterpart.
    IcmpUntranslatableCode = 15,
    /// Parameter Problem pointer with no counterpart.
    IcmpUntranslatablePointer = 16,
    /// ICMP error with a bad checksum.
    IcmpChecksum = 17,
    /// Fragmented ICMP.
    FragmentedIcmp = 18,
    /// ICMP error quoting an ICMP error.
    IcmpErrorInIcmpError = 19,
    /// Unusable quoted packet.
    BadInnerPacket = 20,
    /// Quoted addresses not translatable.
    InnerUntranslatable = 21,
    /// Source address has no mapping.
    SourceUntranslatable = 22,
    /// RFC 6052 section 3.1.
    NonGlobalWithWellKnownPrefix = 23,
    /// Fragment past 65535 bytes.
    FragmentBeyondMaximum = 24,
    /// Hairpinned twice.
    HairpinLoop = 25,
    /// Stateful: no BIB entry.
    NoBinding = 26,
    /// Stateful: pool4 exhausted.
    Pool4Exhausted = 27,
    /// Stateful: session table full.
    SessionTableFull = 28,
    /// Stateful: per-client quota.
    ClientQuota = 29,
    /// Stateful: address-dependent filtering.
    AddressDependentFiltering = 30,
    /// Stateful: protocol without BIB.
    UnsupportedProtocol = 31,
    /// Stateful: TCP segment with no session.
    TcpNoSession = 32,
    /// Stateful: externally initiated TCP refused.
    ExternallyInitiatedTcp = 33,
    /// Stateful: too many held SYNs.
    SimultaneousOpenFull = 34,
    /// Stateful: held SYN timed out.
    SimultaneousOpenTimeout = 35,
    /// Stateful: reassembly failed.
    FragmentReassembly = 36,
    /// Stateful: IPv6 pings filtered.
    Icmpv6InfoFiltered = 37,
    /// No address to source an ICMP error from.
    NoErrorSource = 38,
    /// Output buffer too small.
    OutputTooSmall = 39,
    /// IPv6 UDP checksum 0 (RFC 8200 section 8.1).
    Ipv6UdpChecksumZero = 40,
    /// Stateful: IPv6 source under pool6.
    SourceInPool6 = 41,
}

/// Array slots of the counters indexed by nat64_drop_reason (every code stays below it).
pub const NAT64_DROP_REASON_SLOTS: usize = 64;

impl_codes!(
    nat64_drop_reason,
    DropReason,
    [
        Truncated,
        BadIpv4Header,
        BadIpv4Checksum,
        Jumbogram,
        BadExtensionHeaders,
        FragmentThenExtension,
        SegmentsLeft,
        SourceRoute,
        HopLimitExceeded,
        TransportTruncated,
        UdpChecksumZero,
        FragmentedUdpChecksumZero,
        PacketTooBig,
        IcmpUntranslatableType,
        IcmpUntranslatableCode,
        IcmpUntranslatablePointer,
        IcmpChecksum,
        FragmentedIcmp,
        IcmpErrorInIcmpError,
        BadInnerPacket,
        InnerUntranslatable,
        SourceUntranslatable,
        NonGlobalWithWellKnownPrefix,
        FragmentBeyondMaximum,
        HairpinLoop,
        NoBinding,
        Pool4Exhausted,
        SessionTableFull,
        ClientQuota,
        AddressDependentFiltering,
        UnsupportedProtocol,
        TcpNoSession,
        ExternallyInitiatedTcp,
        SimultaneousOpenFull,
        SimultaneousOpenTimeout,
        FragmentReassembly,
        Icmpv6InfoFiltered,
        NoErrorSource,
        OutputTooSmall,
        Ipv6UdpChecksumZero,
        SourceInPool6
    ]
);

/// Why a packet is outside the configuration (`reason` of NAT64_VERDICT_KIND_NOT_OURS).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_not_ours {
    /// A reason this version of the library does not know.
    Unknown = 0,
    /// Neither IPv4 nor IPv6.
    NotIp = 1,
    /// Destination covered neither by pool6 nor by the EAMT.
    DestinationNotMapped = 2,
    /// Destination denylisted.
    DestinationDenylisted = 3,
}

/// Array slots of the counters indexed by nat64_not_ours (every code stays below it).
pub const NAT64_NOT_OURS_SLOTS: usize = 16;

impl_codes!(
    nat64_not_ours,
    NotOurs,
    [NotIp, DestinationNotMapped, DestinationDenylisted]
);

/// What a held packet waits for (`reason` of NAT64_VERDICT_KIND_HELD).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_held {
    /// A reason this version does not know.
    Unknown = 0,
    /// A fragment waiting for the rest of its datagram.
    Fragment = 1,
    /// An unsolicited IPv4 SYN kept 6 s for a simultaneous open.
    SimultaneousOpen = 2,
}

/// The three BIBs of RFC 6146 section 3.1.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_proto {
    /// Any protocol (filters only).
    Any = 0,
    /// TCP.
    Tcp = 1,
    /// UDP.
    Udp = 2,
    /// ICMP queries (the port is the identifier).
    Icmp = 3,
}

impl nat64_proto {
    pub(crate) fn of(p: Proto) -> Self {
        match p {
            Proto::Tcp => nat64_proto::Tcp,
            Proto::Udp => nat64_proto::Udp,
            Proto::Icmp => nat64_proto::Icmp,
        }
    }
    /// `Ok(None)` for Any.
    pub(crate) fn core(v: u32) -> Result<Option<Proto>, ()> {
        Ok(Some(match v {
            0 => return Ok(None),
            1 => Proto::Tcp,
            2 => Proto::Udp,
            3 => Proto::Icmp,
            _ => return Err(()),
        }))
    }
}

/// RFC 6146 section 3.5.2 TCP states of a session.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum nat64_tcp_state {
    /// Not TCP (or unknown to this version).
    None = 0,
    /// CLOSED.
    Closed = 1,
    /// V4 INIT.
    V4Init = 2,
    /// V6 INIT.
    V6Init = 3,
    /// ESTABLISHED.
    Established = 4,
    /// V4 FIN RCV.
    V4FinRcv = 5,
    /// V6 FIN RCV.
    V6FinRcv = 6,
    /// V4 FIN + V6 FIN RCV.
    V4FinV6FinRcv = 7,
    /// TRANS.
    Trans = 8,
}

impl nat64_tcp_state {
    pub(crate) fn of(s: TcpState) -> Self {
        match s {
            TcpState::None => nat64_tcp_state::None,
            TcpState::Closed => nat64_tcp_state::Closed,
            TcpState::V4Init => nat64_tcp_state::V4Init,
            TcpState::V6Init => nat64_tcp_state::V6Init,
            TcpState::Established => nat64_tcp_state::Established,
            TcpState::V4FinRcv => nat64_tcp_state::V4FinRcv,
            TcpState::V6FinRcv => nat64_tcp_state::V6FinRcv,
            TcpState::V4FinV6FinRcv => nat64_tcp_state::V4FinV6FinRcv,
            TcpState::Trans => nat64_tcp_state::Trans,
        }
    }
}

/// The outcome of one packet. Fields that do not apply to `kind` are 0.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct nat64_verdict {
    /// Which verdict.
    pub kind: nat64_verdict_kind,
    /// NAT64_VERDICT_KIND_TRANSLATED: which way.
    pub direction: nat64_direction,
    /// A nat64_drop_reason (ICMP_ERROR, DROPPED), nat64_not_ours (NOT_OURS)
    /// or nat64_held (HELD).
    pub reason: u32,
    /// Bytes written to the output buffer (TRANSLATED: all packets; ICMP_ERROR: the error).
    pub len: usize,
    /// Packets written (TRANSLATED: 1 unless fragmented; ICMP_ERROR: 1).
    pub count: usize,
    /// Length of each packet but the last.
    pub first_len: usize,
}

impl nat64_verdict {
    pub(crate) const NONE: nat64_verdict = nat64_verdict {
        kind: nat64_verdict_kind::None,
        direction: nat64_direction::None,
        reason: 0,
        len: 0,
        count: 0,
        first_len: 0,
    };

    pub(crate) fn of(v: Verdict) -> Self {
        let mut o = Self::NONE;
        match v {
            Verdict::Translated(Emitted {
                len,
                count,
                first_len,
                direction,
            }) => {
                o.kind = nat64_verdict_kind::Translated;
                o.direction = match direction {
                    Direction::SixToFour => nat64_direction::SixToFour,
                    Direction::FourToSix => nat64_direction::FourToSix,
                    Direction::SixToSix => nat64_direction::SixToSix,
                };
                o.len = len as usize;
                o.count = usize::from(count);
                o.first_len = usize::from(first_len);
            }
            Verdict::IcmpError { len, reason } => {
                o.kind = nat64_verdict_kind::IcmpError;
                o.reason = nat64_drop_reason::of(reason) as u32;
                o.len = len as usize;
                o.count = 1;
                o.first_len = len as usize;
            }
            Verdict::Dropped(r) => {
                o.kind = nat64_verdict_kind::Dropped;
                o.reason = nat64_drop_reason::of(r) as u32;
            }
            Verdict::NotOurs(r) => {
                o.kind = nat64_verdict_kind::NotOurs;
                o.reason = nat64_not_ours::of(r) as u32;
            }
            Verdict::Held(h) => {
                o.kind = nat64_verdict_kind::Held;
                o.reason = match h {
                    Held::Fragment => nat64_held::Fragment,
                    Held::SimultaneousOpen => nat64_held::SimultaneousOpen,
                    #[allow(unreachable_patterns)]
                    _ => nat64_held::Unknown,
                } as u32;
            }
        }
        o
    }
}

/// Counters per verdict and per reason. `dropped` and `not_ours` are indexed
/// by nat64_drop_reason and nat64_not_ours codes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct nat64_counters {
    /// Packets translated IPv6 -> IPv4.
    pub translated_6to4: u64,
    /// Packets translated IPv4 -> IPv6.
    pub translated_4to6: u64,
    /// Packets hairpinned IPv6 -> IPv4 -> IPv6.
    pub hairpinned: u64,
    /// Extra packets emitted because the translator fragmented.
    pub fragments_emitted: u64,
    /// ICMP errors generated for senders.
    pub icmp_errors_generated: u64,
    /// Packets held (fragments, unsolicited SYNs).
    pub held: u64,
    /// Packets not translated, per nat64_drop_reason (ICMP-answered ones included).
    pub dropped: [u64; NAT64_DROP_REASON_SLOTS],
    /// Packets handed back, per nat64_not_ours.
    pub not_ours: [u64; NAT64_NOT_OURS_SLOTS],
}

impl nat64_counters {
    pub(crate) fn of(c: &Counters) -> Self {
        let mut o = nat64_counters {
            translated_6to4: c.translated_6to4,
            translated_4to6: c.translated_4to6,
            hairpinned: c.hairpinned,
            fragments_emitted: c.fragments_emitted,
            icmp_errors_generated: c.icmp_errors_generated,
            held: c.held,
            dropped: [0; NAT64_DROP_REASON_SLOTS],
            not_ours: [0; NAT64_NOT_OURS_SLOTS],
        };
        for &r in DropReason::ALL {
            o.dropped[nat64_drop_reason::of(r) as usize] += c.drops(r);
        }
        for (r, n) in c.not_ours_reasons() {
            o.not_ours[nat64_not_ours::of(r) as usize] += n;
        }
        o
    }
}

/// NUL-terminated copies of the core's label and explanation of each reason,
/// made once.
struct Texts {
    drop: Vec<(u32, CString, CString)>,
    not_ours: Vec<(u32, CString, CString)>,
}

fn texts() -> &'static Texts {
    static T: OnceLock<Texts> = OnceLock::new();
    T.get_or_init(|| {
        let c = |s: &str| CString::new(s).unwrap_or_default();
        Texts {
            drop: DropReason::ALL
                .iter()
                .map(|&r| (nat64_drop_reason::of(r) as u32, c(r.label()), c(r.explain())))
                .collect(),
            not_ours: NotOurs::ALL
                .iter()
                .map(|&r| (nat64_not_ours::of(r) as u32, c(r.label()), c(r.explain())))
                .collect(),
        }
    })
}

fn lookup(list: &'static [(u32, CString, CString)], code: u32, explain: bool) -> *const c_char {
    match list.iter().find(|e| e.0 == code && code != 0) {
        Some(e) if explain => e.2.as_ptr(),
        Some(e) => e.1.as_ptr(),
        None => c"unknown".as_ptr(),
    }
}

/// The short stable name of a nat64_drop_reason ("hop_limit_exceeded"), as
/// the core's counters use it; "unknown" for another number. Static.
#[no_mangle]
pub extern "C" fn nat64_drop_reason_label(reason: u32) -> *const c_char {
    ffi_panic_boundary! { lookup(&texts().drop, reason, false) }
}

/// What a nat64_drop_reason means and what a person can do about it. Static.
#[no_mangle]
pub extern "C" fn nat64_drop_reason_explain(reason: u32) -> *const c_char {
    ffi_panic_boundary! { lookup(&texts().drop, reason, true) }
}

/// The short stable name of a nat64_not_ours ("destination_not_mapped"). Static.
#[no_mangle]
pub extern "C" fn nat64_not_ours_label(reason: u32) -> *const c_char {
    ffi_panic_boundary! { lookup(&texts().not_ours, reason, false) }
}

/// What a nat64_not_ours means. Static.
#[no_mangle]
pub extern "C" fn nat64_not_ours_explain(reason: u32) -> *const c_char {
    ffi_panic_boundary! { lookup(&texts().not_ours, reason, true) }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason of the core has its own code: a reason added to the
    /// core fails here until it is given a number.
    #[test]
    fn every_reason_has_a_code() {
        let mut seen = std::collections::HashSet::new();
        for &r in DropReason::ALL {
            let c = nat64_drop_reason::of(r) as u32;
            assert_ne!(c, 0, "{r:?} has no C code");
            assert!((c as usize) < NAT64_DROP_REASON_SLOTS);
            assert!(seen.insert(c));
            assert_eq!(nat64_drop_reason::core(c), Some(r));
        }
        for &r in NotOurs::ALL {
            let c = nat64_not_ours::of(r) as u32;
            assert_ne!(c, 0, "{r:?} has no C code");
            assert!((c as usize) < NAT64_NOT_OURS_SLOTS);
            assert_eq!(nat64_not_ours::core(c), Some(r));
        }
    }

    #[test]
    fn labels_are_the_core_labels() {
        let l =
            unsafe { std::ffi::CStr::from_ptr(nat64_drop_reason_label(nat64_drop_reason::HopLimitExceeded as u32)) };
        assert_eq!(l.to_str().unwrap(), DropReason::HopLimitExceeded.label());
        let l = unsafe { std::ffi::CStr::from_ptr(nat64_drop_reason_label(999)) };
        assert_eq!(l.to_str().unwrap(), "unknown");
    }
}
