//! The session and BIB slab records and their packing.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::super::table::{Bib, Instant, Proto, Session, Taddr4, Taddr6, TcpState};
use super::hash::Keys;
use super::{NONE, VACANT};

/// One session slot (64 bytes).
#[derive(Clone, Copy)]
pub(super) struct Rec {
    pub(super) expires: u64,
    pub(super) v6: Taddr6,
    pub(super) v4: Taddr4,
    pub(super) remote: Taddr4,
    /// Protocol index in bits 0-1, TCP state code above.
    pub(super) ps: u8,
    /// Expiry lane, or [`VACANT`].
    pub(super) lane: u8,
    pub(super) gen: u32,
    pub(super) bib: u32,
    /// BIB session list.
    pub(super) bprev: u32,
    pub(super) bnext: u32,
    /// Expiry lane list; `enext` threads the free list of vacant slots.
    pub(super) eprev: u32,
    pub(super) enext: u32,
}

const _: () = assert!(core::mem::size_of::<Rec>() == 64);

pub(super) const VACANT_REC: Rec = Rec {
    expires: 0,
    v6: Taddr6 {
        addr: Ipv6Addr::UNSPECIFIED,
        port: 0,
    },
    v4: UNSPECIFIED4,
    remote: UNSPECIFIED4,
    ps: 0,
    lane: VACANT,
    gen: 0,
    bib: NONE,
    bprev: NONE,
    bnext: NONE,
    eprev: NONE,
    enext: NONE,
};

const UNSPECIFIED4: Taddr4 = Taddr4 {
    addr: Ipv4Addr::UNSPECIFIED,
    port: 0,
};

pub(super) const STATES: [TcpState; 9] = [
    TcpState::None,
    TcpState::Closed,
    TcpState::V4Init,
    TcpState::V6Init,
    TcpState::Established,
    TcpState::V4FinRcv,
    TcpState::V6FinRcv,
    TcpState::V4FinV6FinRcv,
    TcpState::Trans,
];

pub(super) const fn state_code(s: TcpState) -> u8 {
    match s {
        TcpState::None => 0,
        TcpState::Closed => 1,
        TcpState::V4Init => 2,
        TcpState::V6Init => 3,
        TcpState::Established => 4,
        TcpState::V4FinRcv => 5,
        TcpState::V6FinRcv => 6,
        TcpState::V4FinV6FinRcv => 7,
        TcpState::Trans => 8,
    }
}

const fn proto_of(bits: u8) -> Proto {
    match bits & 3 {
        0 => Proto::Tcp,
        1 => Proto::Udp,
        _ => Proto::Icmp,
    }
}

pub(super) const fn pack(proto: Proto, state: TcpState) -> u8 {
    proto.index() as u8 | (state_code(state) << 2)
}

impl Rec {
    #[inline(always)]
    pub(super) fn proto(&self) -> Proto {
        proto_of(self.ps)
    }

    fn state(&self) -> TcpState {
        match STATES.get(usize::from(self.ps >> 2)) {
            Some(s) => *s,
            None => TcpState::None,
        }
    }

    pub(super) fn vacant(&self) -> bool {
        self.lane == VACANT
    }

    /// Whether [`SessionTable::evict_for_room`] may take this session.
    #[inline]
    pub(super) fn evictable(&self) -> bool {
        self.proto() == Proto::Tcp && self.state().evictable()
    }

    pub(super) fn session(&self) -> Session {
        Session {
            proto: self.proto(),
            v6: self.v6,
            v4: self.v4,
            remote: self.remote,
            state: self.state(),
            expires: Instant(self.expires),
        }
    }

    pub(super) fn hash_v6(&self, k: &Keys) -> u64 {
        k.v6(
            self.proto(),
            self.v6.addr,
            self.v6.port,
            self.remote.addr,
            self.remote.port,
        )
    }

    pub(super) fn hash_v4(&self, k: &Keys) -> u64 {
        k.v4(
            self.proto(),
            self.v4.addr,
            self.v4.port,
            self.remote.addr,
            self.remote.port,
        )
    }

    pub(super) fn hash_adf(&self, k: &Keys) -> u64 {
        k.adf(self.proto(), self.v4.addr, self.v4.port, self.remote.addr)
    }

    /// Same filtering group: same BIB entry and remote address.
    pub(super) fn same_group(&self, o: &Rec) -> bool {
        self.ps & 3 == o.ps & 3 && self.v4 == o.v4 && self.remote.addr == o.remote.addr
    }
}

pub(super) const BIB_LIVE: u8 = 0x8;
pub(super) const BIB_STATIC: u8 = 0x4;

/// One BIB slot (32 bytes).
#[derive(Clone, Copy)]
pub(super) struct BibRec {
    pub(super) v6: Taddr6,
    pub(super) v4: Taddr4,
    /// First session; for a vacant slot, the next vacant slot.
    pub(super) head: u32,
    /// Protocol index in bits 0-1, [`BIB_STATIC`], [`BIB_LIVE`].
    pub(super) flags: u8,
}

const _: () = assert!(core::mem::size_of::<BibRec>() == 32);

impl BibRec {
    pub(super) fn live(&self) -> bool {
        self.flags & BIB_LIVE != 0
    }
    pub(super) fn is_static(&self) -> bool {
        self.flags & BIB_STATIC != 0
    }
    pub(super) fn proto(&self) -> Proto {
        proto_of(self.flags)
    }
    pub(super) fn bib(&self) -> Bib {
        Bib {
            proto: self.proto(),
            v6: self.v6,
            v4: self.v4,
            is_static: self.is_static(),
        }
    }
}
