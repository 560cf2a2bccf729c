//! ICMP type/code tables of RFC 7915 sections 4.2 and 5.2, the Parameter
//! Problem pointer maps, and the PTB <-> Fragmentation Needed MTU arithmetic.
//! One table per direction, each a total `match`.

use crate::verdict::DropReason;

/// What an ICMP message becomes in the other family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mapped {
    /// Echo request/reply: type changes, body kept.
    Info { ty: u8 },
    /// An error: new type and code; the 4-byte field after the checksum is
    /// rebuilt according to `rest`.
    Error { ty: u8, code: u8, rest: Rest },
}

/// How to rebuild the 32 bits after the checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rest {
    /// Unused (and the RFC 4884 length, when there is an extension).
    Unused,
    /// Packet Too Big / Fragmentation Needed: recompute the MTU.
    Mtu,
    /// Parameter Problem: this pointer value.
    Pointer(u8),
}

/// Whether an ICMPv4 type is an error message (RFC 792).
#[inline]
pub(crate) fn is_icmp4_error(ty: u8) -> bool {
    matches!(ty, 3 | 4 | 5 | 11 | 12)
}

/// Whether an ICMPv6 type is an error message (RFC 4443 section 2.1).
#[inline]
pub(crate) fn is_icmp6_error(ty: u8) -> bool {
    ty < 128
}

/// RFC 7915 section 4.2: ICMPv4 -> ICMPv6. `ptr` is the Parameter Problem
/// pointer (byte 4 of the message).
pub(crate) fn map_4to6(ty: u8, code: u8, ptr: u8) -> Result<Mapped, DropReason> {
    use DropReason::{
        IcmpUntranslatableCode as Code, IcmpUntranslatablePointer as Ptr, IcmpUntranslatableType as Type,
    };
    Ok(match ty {
        8 => Mapped::Info { ty: 128 },
        0 => Mapped::Info { ty: 129 },
        3 => match code {
            0 | 1 | 5 | 6 | 7 | 8 | 11 | 12 => Mapped::Error {
                ty: 1,
                code: 0,
                rest: Rest::Unused,
            },
            // Protocol Unreachable: Parameter Problem pointing at Next Header.
            2 => Mapped::Error {
                ty: 4,
                code: 1,
                rest: Rest::Pointer(6),
            },
            3 => Mapped::Error {
                ty: 1,
                code: 4,
                rest: Rest::Unused,
            },
            4 => Mapped::Error {
                ty: 2,
                code: 0,
                rest: Rest::Mtu,
            },
            9 | 10 | 13 | 15 => Mapped::Error {
                ty: 1,
                code: 1,
                rest: Rest::Unused,
            },
            _ => return Err(Code),
        },
        11 => Mapped::Error {
            ty: 3,
            code,
            rest: Rest::Unused,
        },
        12 => match code {
            0 | 2 => Mapped::Error {
                ty: 4,
                code: 0,
                rest: Rest::Pointer(pointer_4to6(ptr).ok_or(Ptr)?),
            },
            _ => return Err(Code),
        },
        _ => return Err(Type),
    })
}

/// RFC 7915 section 5.2: ICMPv6 -> ICMPv4. `ptr` is the low byte of the
/// Parameter Problem pointer; `ptr_high` whether its upper bytes are set.
pub(crate) fn map_6to4(ty: u8, code: u8, ptr: u32) -> Result<Mapped, DropReason> {
    use DropReason::{
        IcmpUntranslatableCode as Code, IcmpUntranslatablePointer as Ptr, IcmpUntranslatableType as Type,
    };
    Ok(match ty {
        128 => Mapped::Info { ty: 8 },
        129 => Mapped::Info { ty: 0 },
        1 => match code {
            0 | 2 | 3 => Mapped::Error {
                ty: 3,
                code: 1,
                rest: Rest::Unused,
            },
            1 => Mapped::Error {
                ty: 3,
                code: 10,
                rest: Rest::Unused,
            },
            4 => Mapped::Error {
                ty: 3,
                code: 3,
                rest: Rest::Unused,
            },
            _ => return Err(Code),
        },
        2 => Mapped::Error {
            ty: 3,
            code: 4,
            rest: Rest::Mtu,
        },
        3 => Mapped::Error {
            ty: 11,
            code,
            rest: Rest::Unused,
        },
        4 => match code {
            0 => Mapped::Error {
                ty: 12,
                code: 0,
                rest: Rest::Pointer(pointer_6to4(ptr).ok_or(Ptr)?),
            },
            // Unrecognized Next Header: Protocol Unreachable.
            1 => Mapped::Error {
                ty: 3,
                code: 2,
                rest: Rest::Unused,
            },
            _ => return Err(Code),
        },
        _ => return Err(Type),
    })
}

/// RFC 7915 section 4.2, Figure 3: IPv4 header offset -> IPv6 header offset.
pub(crate) fn pointer_4to6(p: u8) -> Option<u8> {
    match p {
        0 => Some(0),
        1 => Some(1),
        2 | 3 => Some(4),
        8 => Some(7),
        9 => Some(6),
        12..=15 => Some(8),
        16..=19 => Some(24),
        _ => None,
    }
}

/// RFC 7915 section 5.2, Figure 6: IPv6 header offset -> IPv4 header offset.
pub(crate) fn pointer_6to4(p: u32) -> Option<u8> {
    match p {
        0 => Some(0),
        1 => Some(1),
        4 | 5 => Some(2),
        6 => Some(9),
        7 => Some(8),
        8..=23 => Some(12),
        24..=39 => Some(16),
        _ => None,
    }
}

/// RFC 7915 section 4.2 (Fragmentation Needed -> Packet Too Big):
/// `max(1280, min(fn_mtu + 20, mtu6, mtu4 + 20))`, where an `fn_mtu` of 0
/// (a pre-RFC 1191 router) is replaced by the largest plateau below the
/// quoted packet's Total Length.
pub fn ptb_mtu_from_fn(fn_mtu: u16, inner_total_len: u16, mtu6: u32, mtu4: u32, plateaus: &[u16]) -> u32 {
    let base = if fn_mtu == 0 {
        plateaus
            .iter()
            .copied()
            .filter(|&p| p < inner_total_len)
            .max()
            .unwrap_or(0)
    } else {
        fn_mtu
    };
    (u32::from(base) + 20).min(mtu6).min(mtu4.saturating_add(20)).max(1280)
}

/// RFC 7915 section 5.2 (Packet Too Big -> Fragmentation Needed):
/// `min(ptb_mtu - 20, mtu4, mtu6 - 20)`, clamped to the 16-bit field.
pub fn fn_mtu_from_ptb(ptb_mtu: u32, mtu4: u32, mtu6: u32) -> u16 {
    let v = ptb_mtu.saturating_sub(20).min(mtu4).min(mtu6.saturating_sub(20));
    v.min(u32::from(u16::MAX)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The MTU rows of Jool's unit test, restated from RFC 7915 section 4.2
    /// with plateaus 5000 and 4000.
    #[test]
    fn fn_to_ptb_rows() {
        let pl = [5000, 4000];
        let rows: [(u16, u32, u32, u16, u32); 9] = [
            (1300, 3000, 3000, 2000, 1320),
            (3001, 1301, 3001, 2001, 1321),
            (3002, 3002, 1302, 2002, 1302),
            (100, 200, 200, 150, 1280),
            (0, 6000, 6000, 5500, 5020),
            (0, 6000, 6000, 5000, 4020),
            (0, 6000, 6000, 4000, 1280),
            (0, 1400, 5500, 4500, 1420),
            (0, 5500, 1400, 4500, 1400),
        ];
        for (fn_mtu, mtu4, mtu6, tl, want) in rows {
            assert_eq!(
                ptb_mtu_from_fn(fn_mtu, tl, mtu6, mtu4, &pl),
                want,
                "{fn_mtu} {mtu4} {mtu6} {tl}"
            );
        }
    }

    #[test]
    fn ptb_to_fn() {
        assert_eq!(fn_mtu_from_ptb(1280, 1500, 1500), 1260);
        assert_eq!(fn_mtu_from_ptb(1500, 1400, 1500), 1400);
        assert_eq!(fn_mtu_from_ptb(9000, 9000, 1500), 1480);
        assert_eq!(fn_mtu_from_ptb(10, 1500, 1500), 0);
    }

    #[test]
    fn pointer_maps_are_inverse_where_defined() {
        for p in 0..20u8 {
            if let Some(q) = pointer_4to6(p) {
                let back = pointer_6to4(u32::from(q)).unwrap();
                assert!(back <= p, "{p} -> {q} -> {back}");
            }
        }
        assert_eq!(pointer_4to6(8), Some(7));
        assert_eq!(pointer_4to6(5), None);
        assert_eq!(pointer_6to4(2), None);
        assert_eq!(pointer_6to4(30), Some(16));
    }

    #[test]
    fn tables() {
        assert_eq!(
            map_4to6(3, 3, 0),
            Ok(Mapped::Error {
                ty: 1,
                code: 4,
                rest: Rest::Unused
            })
        );
        assert_eq!(map_4to6(3, 14, 0), Err(DropReason::IcmpUntranslatableCode));
        assert_eq!(map_4to6(13, 0, 0), Err(DropReason::IcmpUntranslatableType));
        assert_eq!(map_4to6(12, 0, 5), Err(DropReason::IcmpUntranslatablePointer));
        assert_eq!(
            map_6to4(1, 1, 0),
            Ok(Mapped::Error {
                ty: 3,
                code: 10,
                rest: Rest::Unused
            })
        );
        assert_eq!(
            map_6to4(4, 1, 0),
            Ok(Mapped::Error {
                ty: 3,
                code: 2,
                rest: Rest::Unused
            })
        );
        assert_eq!(map_6to4(135, 0, 0), Err(DropReason::IcmpUntranslatableType));
    }
}
