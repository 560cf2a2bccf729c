//! The default in-memory [`SessionTable`]: RFC 6146 BIBs and sessions in
//! compact slabs, with O(1) lookups from both sides and expiry in time
//! proportional to what expires.
//!
//! # Design
//!
//! - **Session slab.** Every session is one 64-byte record in a `Vec`
//!   (a free list threads the vacant slots): the full 5-tuple of both
//!   sides (so a lookup is verified from the record alone), `expires`, the
//!   packed protocol and TCP state, a generation counter, the slot of its
//!   BIB entry, and two intrusive doubly linked lists (see below). A
//!   [`SessionHandle`] is a slot number plus the slot's generation.
//! - **BIB slab.** Every BIB entry is one 32-byte record: both transport
//!   addresses, the protocol, the static flag and the head of the list of
//!   its sessions.
//! - **Indexes.** Five hash indexes store only `u32` entries: the record's
//!   slot number in the low bits and a tag (more bits of the hash) in the
//!   high bits, so a probe touches a record only on a tag match. The tables
//!   are bucketized: 16 `u32` per 64-byte cache line, 15 entries and an
//!   overflow count (how many entries whose home is this bucket live
//!   further on, so deletion needs no tombstones and an absent key costs one
//!   cache line in the common case). Bucket counts are not powers of two
//!   (the home bucket is a multiply-shift of the hash), sized for a load of
//!   at most 0.8 at the slab's capacity. The indexes are: sessions by IPv6
//!   side `(proto, v6, remote)`, by IPv4 side `(proto, v4, remote)`, the
//!   address-dependent filtering index `(proto, v4, remote address)`, and
//!   the BIB by IPv6 and by IPv4 transport address.
//! - **Filtering without scans.** The sessions of one BIB entry form a list
//!   in which the sessions with the same remote address are contiguous (a
//!   new session goes right after a member of its group, or to the front if
//!   it starts a group). The filtering index holds one member per group;
//!   when that member goes, a list neighbour with the same remote address
//!   (if any) takes its place. [`SessionTable::has_session_with`] is one
//!   probe.
//! - **Expiry.** Sessions sit in at most 32 *lanes*, doubly linked lists each
//!   sorted by `expires`. A session whose expiry is set goes to the tail of
//!   the lane with the largest tail `<=` its expiry (best fit), or starts a
//!   new lane; evictable sessions (half-open or closing TCP) and the others
//!   never share a lane. With a clock that does not go back and fixed
//!   timeouts a session always fits some lane of its kind, so a handful of
//!   lanes suffice, and every operation is O(1). Each time the
//!   caller's clock steps back, one more lane opens; if all 32 are taken
//!   and none fits, the session goes to an overflow binary min-heap
//!   (O(log n), indexed through the record, so removal is exact too).
//!   [`SessionTable::update`] unlinks and relinks (or stays put when the
//!   new expiry keeps its lane in order), so expiries may move later or
//!   earlier. [`SessionTable::expire`] pops lane heads and the heap top:
//!   O(lanes + removed), times log n for sessions in the heap.
//!   [`SessionTable::next_expiry`] is **exact**: the minimum of the lane
//!   heads and the heap top, O(lanes).
//! - **Caps.** `max_sessions` is checked on insert; the per-client quota uses
//!   a small open-addressing map from the masked client address to its
//!   session count, kept only when a quota is configured (and checked
//!   before the size cap). When the table is full,
//!   [`SessionTable::evict_for_room`] removes the evictable lane head
//!   closest to expiry (a half-open or closing TCP session), O(lanes):
//!   evictable sessions keep to lanes of their own for that.
//! - **Hashing.** A folded 64x64->128-bit multiply keyed by 256 bits derived
//!   from a 64-bit seed. It resists hash flooding (an attacker choosing
//!   ports and addresses so that many keys share a bucket) only if the seed
//!   is secret: pass one from the operating system's random source to
//!   [`DefaultTable::with_seed`]. [`DefaultTable::new`] and
//!   [`DefaultTable::with_capacity`] have no randomness source (`no_std`):
//!   they mix a fixed constant with code and stack addresses, which only
//!   differ between runs as much as address space layout randomization
//!   makes them.
//!
//! # Memory
//!
//! Per session: 64 bytes of record plus 3 index entries at a load of 0.8
//! (3 x 64/12 = 16 bytes). Per BIB entry: 32 bytes plus 2 index entries
//! (10.7 bytes). With one BIB entry per session (typical: every TCP
//! connection and UDP flow of a client uses a new source port) that is
//! 122.7 bytes per session in a table built by
//! [`DefaultTable::with_capacity`] for its size (measured at 1M sessions by
//! the `session_table` benchmark, with a counting allocator). Slabs and
//! indexes grow by doubling from 16: grown by inserts to 1M sessions, a
//! table holds 128.6 bytes per session (slabs of 2^20), and up to twice
//! the sized figure just after a growth step. The step itself rebuilds the
//! session (or BIB) indexes in one go, a latency spike proportional to the
//! table's size, so size the table up front for the packet path.
//! [`DefaultTable::heap_bytes`] reports the figure. The quota map adds 24
//! bytes per client with sessions, at a load of at most one half; the
//! overflow heap 16 bytes per session in it (none with a monotonic clock);
//! dynamic BIB entries added by [`SessionTable::add_bib`] and not yet
//! given a session 4 bytes each until the next [`SessionTable::expire`].
//!
//! # Robustness
//!
//! No call panics, whatever the sequence. An allocation that fails while
//! growing is reported as [`InsertError::TableFull`]. Handles carry a
//! generation: a handle stays valid until its own session is removed (which
//! is stronger than the trait's promise); after that `update` and `remove`
//! ignore it and `get` returns [`STALE_SESSION`].

use alloc::vec::Vec;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::table::{Bib, InsertError, Instant, Proto, Session, SessionTable, Taddr4, Taddr6, TcpState};

/// The caps a [`DefaultTable`] enforces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableLimits {
    /// Most sessions at once ([`InsertError::TableFull`] beyond). Also caps
    /// the BIB entries. Values above 2^28 (268 million) count as 2^28.
    pub max_sessions: usize,
    /// Most sessions per client ([`InsertError::ClientQuota`] beyond); 0
    /// means no quota.
    pub max_sessions_per_client: usize,
    /// What a client is for the quota: the client address masked to this
    /// many bits (128 = per address, 64 = per /64; above 128 counts as 128).
    pub client_prefix_len: u8,
}

impl Default for TableLimits {
    /// 2^20 (1,048,576) sessions, about 123 MiB when full (see the module
    /// documentation); no per-client quota; clients are addresses.
    fn default() -> Self {
        TableLimits {
            max_sessions: 1 << 20,
            max_sessions_per_client: 0,
            client_prefix_len: 128,
        }
    }
}

/// A reference to a session of a [`DefaultTable`]: its slot and the slot's
/// generation, so a handle to a removed session is recognised as stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHandle {
    slot: u32,
    gen: u32,
}

/// What [`SessionTable::get`] returns for a stale handle (one whose session
/// was removed): unspecified addresses, state `None`, and `expires` at
/// time zero, that is, already expired.
pub const STALE_SESSION: Session = Session {
    proto: Proto::Tcp,
    v6: Taddr6 {
        addr: Ipv6Addr::UNSPECIFIED,
        port: 0,
    },
    v4: Taddr4 {
        addr: Ipv4Addr::UNSPECIFIED,
        port: 0,
    },
    remote: Taddr4 {
        addr: Ipv4Addr::UNSPECIFIED,
        port: 0,
    },
    state: TcpState::None,
    expires: Instant(0),
};

/// "No slot" in links and list heads.
const NONE: u32 = u32::MAX;
/// The largest `max_sessions` honoured (slot numbers need a few spare bits
/// for the index tags).
const HARD_CAP: usize = 1 << 28;
/// Expiry lanes. Tests use few, so that the fallback path runs often.
const MAX_LANES: usize = if cfg!(test) { 4 } else { 32 };
/// `Rec::lane` of a vacant slot.
const VACANT: u8 = u8::MAX;
/// `Rec::lane` of a session in the overflow heap (its `eprev` is its
/// position there).
const IN_HEAP: u8 = u8::MAX - 1;
/// Smallest slab capacity allocated by growth.
const MIN_GROWTH: usize = 16;

// ---------------------------------------------------------------------------
// Hashing

/// Folded multiply: the two halves of the 128-bit product, xored.
#[inline(always)]
fn fmul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

fn splitmix(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 4 key sets (one per protocol, one for the quota map) of 4 words.
#[derive(Clone)]
struct Keys {
    k: [[u64; 4]; 4],
}

const CLIENT_KEYS: usize = 3;

impl Keys {
    fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut k = [[0u64; 4]; 4];
        for row in &mut k {
            for w in row.iter_mut() {
                *w = splitmix(&mut x);
            }
        }
        Keys { k }
    }

    #[inline(always)]
    fn mix(&self, set: usize, a: u64, b: u64, c: u64) -> u64 {
        let k = &self.k[set & 3];
        fmul(fmul(a ^ k[0], b ^ k[1]) ^ c ^ k[2], k[3])
    }

    #[inline(always)]
    fn v6(&self, proto: Proto, v6: Ipv6Addr, v6_port: u16, raddr: Ipv4Addr, rport: u16) -> u64 {
        let a = v6.to_bits();
        let c = (u64::from(raddr.to_bits()) << 32) | (u64::from(rport) << 16) | u64::from(v6_port);
        self.mix(proto.index(), (a >> 64) as u64, a as u64, c)
    }

    #[inline(always)]
    fn v4(&self, proto: Proto, v4: Ipv4Addr, v4_port: u16, raddr: Ipv4Addr, rport: u16) -> u64 {
        let a = (u64::from(v4.to_bits()) << 32) | u64::from(raddr.to_bits());
        let b = (u64::from(v4_port) << 16) | u64::from(rport);
        self.mix(proto.index(), a, b, 0)
    }

    #[inline(always)]
    fn adf(&self, proto: Proto, v4: Ipv4Addr, v4_port: u16, raddr: Ipv4Addr) -> u64 {
        let a = (u64::from(v4.to_bits()) << 32) | u64::from(raddr.to_bits());
        self.mix(proto.index(), a, u64::from(v4_port), 0)
    }

    #[inline(always)]
    fn bib6(&self, proto: Proto, v6: Ipv6Addr, port: u16) -> u64 {
        let a = v6.to_bits();
        self.mix(proto.index(), (a >> 64) as u64, a as u64, u64::from(port))
    }

    #[inline(always)]
    fn bib4(&self, proto: Proto, v4: Ipv4Addr, port: u16) -> u64 {
        self.mix(proto.index(), u64::from(v4.to_bits()), u64::from(port), 0)
    }

    #[inline(always)]
    fn client(&self, key: u128) -> u64 {
        self.mix(CLIENT_KEYS, (key >> 64) as u64, key as u64, 0)
    }
}

/// A seed for tables built without one: see the module documentation.
fn default_seed() -> u64 {
    let local = 0u8;
    let stack = core::ptr::addr_of!(local) as usize as u64;
    let code = default_seed as fn() -> u64 as usize as u64;
    let mut x = 0x6E61_7436_345F_7462 ^ stack.rotate_left(17) ^ code;
    splitmix(&mut x)
}

// ---------------------------------------------------------------------------
// Index: bucketized open addressing over u32 entries

/// `u32` per bucket (one cache line).
const BUCKET: usize = 16;
/// Entries per bucket; `bucket[SLOTS]` is the overflow count.
const SLOTS: usize = 15;
/// Entries per bucket at the capacity the index is sized for (load 0.8).
const SIZED_LOAD: usize = 12;
/// A vacant entry.
const EMPTY: u32 = u32::MAX;
const EMPTY_BUCKET: [u32; BUCKET] = {
    let mut b = [EMPTY; BUCKET];
    b[SLOTS] = 0;
    b
};

/// A hash index whose entries are `tag | slot`: `slot` in the bits of
/// `mask`, the tag (bits of the hash) above. A slot is always below `mask`,
/// so no entry equals [`EMPTY`].
struct Index {
    buckets: Vec<[u32; BUCKET]>,
    mask: u32,
    len: usize,
}

impl Index {
    const fn new() -> Self {
        Index {
            buckets: Vec::new(),
            mask: 1,
            len: 0,
        }
    }

    /// An index for slots `0..cap` (at most `cap` entries).
    fn for_capacity(cap: usize) -> Result<Self, ()> {
        let cap = cap.min(HARD_CAP);
        let nb = cap.div_ceil(SIZED_LOAD).max(1);
        let mut buckets = Vec::new();
        buckets.try_reserve_exact(nb).map_err(drop)?;
        buckets.resize(nb, EMPTY_BUCKET);
        let bits = (usize::BITS - cap.leading_zeros()).max(1);
        Ok(Index {
            buckets,
            mask: (1u32 << bits) - 1,
            len: 0,
        })
    }

    #[inline(always)]
    fn home(&self, h: u64) -> usize {
        (((h >> 32) * self.buckets.len() as u64) >> 32) as usize
    }

    #[inline(always)]
    fn tag(&self, h: u64) -> u32 {
        (h as u32) & !self.mask
    }

    /// The slot whose record `eq` accepts, among the entries of hash `h`.
    #[inline]
    fn find(&self, h: u64, mut eq: impl FnMut(u32) -> bool) -> Option<u32> {
        let nb = self.buckets.len();
        let tag = self.tag(h);
        let mut b = self.home(h);
        for _ in 0..nb {
            let bucket = self.buckets.get(b)?;
            let mut m = 0u32;
            for (i, &e) in bucket.iter().enumerate() {
                m |= u32::from((e ^ tag) & !self.mask == 0) << i;
            }
            m &= (1 << SLOTS) - 1;
            while m != 0 {
                let s = bucket[m.trailing_zeros() as usize] & self.mask;
                m &= m - 1;
                if s != self.mask && eq(s) {
                    return Some(s);
                }
            }
            if bucket[SLOTS] == 0 {
                return None;
            }
            b += 1;
            if b == nb {
                b = 0;
            }
        }
        None
    }

    /// Adds `slot` under hash `h`; false if the index is full (never, when
    /// sized for the slab).
    fn insert(&mut self, h: u64, slot: u32) -> bool {
        let nb = self.buckets.len();
        if self.len >= nb * SLOTS || slot >= self.mask {
            return false;
        }
        let e = self.tag(h) | slot;
        let mut b = self.home(h);
        for _ in 0..nb {
            let Some(bucket) = self.buckets.get_mut(b) else {
                return false;
            };
            if let Some(p) = bucket[..SLOTS].iter_mut().find(|x| **x == EMPTY) {
                *p = e;
                self.len += 1;
                return true;
            }
            bucket[SLOTS] = bucket[SLOTS].saturating_add(1);
            b += 1;
            if b == nb {
                b = 0;
            }
        }
        false
    }

    /// Where entry `slot` of hash `h` is: (bucket, position, buckets passed).
    fn locate(&self, h: u64, slot: u32) -> Option<(usize, usize, usize)> {
        let nb = self.buckets.len();
        let e = self.tag(h) | slot;
        let mut b = self.home(h);
        for step in 0..nb {
            let bucket = self.buckets.get(b)?;
            if let Some(p) = bucket[..SLOTS].iter().position(|x| *x == e) {
                return Some((b, p, step));
            }
            if bucket[SLOTS] == 0 {
                return None;
            }
            b += 1;
            if b == nb {
                b = 0;
            }
        }
        None
    }

    /// Removes entry `slot` of hash `h`; false if absent.
    fn remove(&mut self, h: u64, slot: u32) -> bool {
        let Some((b, p, steps)) = self.locate(h, slot) else {
            return false;
        };
        self.buckets[b][p] = EMPTY;
        self.len -= 1;
        let nb = self.buckets.len();
        let mut c = self.home(h);
        for _ in 0..steps {
            self.buckets[c][SLOTS] = self.buckets[c][SLOTS].saturating_sub(1);
            c += 1;
            if c == nb {
                c = 0;
            }
        }
        true
    }

    /// Makes entry `old` of hash `h` point to `new`; false if absent.
    fn replace(&mut self, h: u64, old: u32, new: u32) -> bool {
        let Some((b, p, _)) = self.locate(h, old) else {
            return false;
        };
        if new >= self.mask {
            return false;
        }
        self.buckets[b][p] = self.tag(h) | new;
        true
    }

    fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * core::mem::size_of::<[u32; BUCKET]>()
    }
}

// ---------------------------------------------------------------------------
// Records

/// One session slot (64 bytes).
#[derive(Clone, Copy)]
struct Rec {
    expires: u64,
    v6: Ipv6Addr,
    v4: Ipv4Addr,
    remote: Ipv4Addr,
    v6_port: u16,
    v4_port: u16,
    remote_port: u16,
    /// Protocol index in bits 0-1, TCP state code above.
    ps: u8,
    /// Expiry lane, or [`VACANT`].
    lane: u8,
    gen: u32,
    bib: u32,
    /// BIB session list.
    bprev: u32,
    bnext: u32,
    /// Expiry lane list; `enext` threads the free list of vacant slots.
    eprev: u32,
    enext: u32,
}

const _: () = assert!(core::mem::size_of::<Rec>() == 64);

const VACANT_REC: Rec = Rec {
    expires: 0,
    v6: Ipv6Addr::UNSPECIFIED,
    v4: Ipv4Addr::UNSPECIFIED,
    remote: Ipv4Addr::UNSPECIFIED,
    v6_port: 0,
    v4_port: 0,
    remote_port: 0,
    ps: 0,
    lane: VACANT,
    gen: 0,
    bib: NONE,
    bprev: NONE,
    bnext: NONE,
    eprev: NONE,
    enext: NONE,
};

const STATES: [TcpState; 9] = [
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

const fn state_code(s: TcpState) -> u8 {
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

const fn pack(proto: Proto, state: TcpState) -> u8 {
    proto.index() as u8 | (state_code(state) << 2)
}

impl Rec {
    #[inline(always)]
    fn proto(&self) -> Proto {
        proto_of(self.ps)
    }

    fn state(&self) -> TcpState {
        match STATES.get(usize::from(self.ps >> 2)) {
            Some(s) => *s,
            None => TcpState::None,
        }
    }

    fn vacant(&self) -> bool {
        self.lane == VACANT
    }

    /// Whether [`SessionTable::evict_for_room`] may take this session.
    #[inline]
    fn evictable(&self) -> bool {
        self.proto() == Proto::Tcp && self.state().evictable()
    }

    fn session(&self) -> Session {
        Session {
            proto: self.proto(),
            v6: Taddr6 {
                addr: self.v6,
                port: self.v6_port,
            },
            v4: Taddr4 {
                addr: self.v4,
                port: self.v4_port,
            },
            remote: Taddr4 {
                addr: self.remote,
                port: self.remote_port,
            },
            state: self.state(),
            expires: Instant(self.expires),
        }
    }

    fn hash_v6(&self, k: &Keys) -> u64 {
        k.v6(self.proto(), self.v6, self.v6_port, self.remote, self.remote_port)
    }

    fn hash_v4(&self, k: &Keys) -> u64 {
        k.v4(self.proto(), self.v4, self.v4_port, self.remote, self.remote_port)
    }

    fn hash_adf(&self, k: &Keys) -> u64 {
        k.adf(self.proto(), self.v4, self.v4_port, self.remote)
    }

    /// Same filtering group: same BIB entry and remote address.
    fn same_group(&self, o: &Rec) -> bool {
        self.ps & 3 == o.ps & 3 && self.v4 == o.v4 && self.v4_port == o.v4_port && self.remote == o.remote
    }
}

const BIB_LIVE: u8 = 0x8;
const BIB_STATIC: u8 = 0x4;

/// One BIB slot (32 bytes).
#[derive(Clone, Copy)]
struct BibRec {
    v6: Ipv6Addr,
    v4: Ipv4Addr,
    v6_port: u16,
    v4_port: u16,
    /// First session; for a vacant slot, the next vacant slot.
    head: u32,
    /// Protocol index in bits 0-1, [`BIB_STATIC`], [`BIB_LIVE`].
    flags: u8,
}

const _: () = assert!(core::mem::size_of::<BibRec>() == 32);

impl BibRec {
    fn live(&self) -> bool {
        self.flags & BIB_LIVE != 0
    }
    fn is_static(&self) -> bool {
        self.flags & BIB_STATIC != 0
    }
    fn proto(&self) -> Proto {
        proto_of(self.flags)
    }
    fn bib(&self) -> Bib {
        Bib {
            proto: self.proto(),
            v6: Taddr6 {
                addr: self.v6,
                port: self.v6_port,
            },
            v4: Taddr4 {
                addr: self.v4,
                port: self.v4_port,
            },
            is_static: self.is_static(),
        }
    }
}

/// An expiry lane: a list sorted by `expires`, with its ends' expiries
/// cached so lane choice and `next_expiry` touch no record.
#[derive(Clone, Copy)]
struct Lane {
    head: u32,
    tail: u32,
    head_exp: u64,
    tail_exp: u64,
    /// Holds only evictable sessions ([`Rec::evictable`]) or only others;
    /// set when the lane gets its first session.
    evictable: bool,
}

/// An entry of the overflow heap, a binary min-heap on `exp`.
#[derive(Clone, Copy)]
struct HeapEntry {
    exp: u64,
    slot: u32,
}

const EMPTY_LANE: Lane = Lane {
    head: NONE,
    tail: NONE,
    head_exp: 0,
    tail_exp: 0,
    evictable: false,
};

// ---------------------------------------------------------------------------
// Per-client session counts

#[derive(Clone, Copy, Default)]
struct ClientSlot {
    hi: u64,
    lo: u64,
    /// 0 = vacant.
    count: u32,
}

impl ClientSlot {
    fn key(&self) -> u128 {
        (u128::from(self.hi) << 64) | u128::from(self.lo)
    }
}

/// Linear probing, power-of-two size, load at most 1/2, backward-shift
/// deletion.
struct Clients {
    slots: Vec<ClientSlot>,
    len: usize,
}

impl Clients {
    const fn new() -> Self {
        Clients {
            slots: Vec::new(),
            len: 0,
        }
    }

    fn pos(&self, keys: &Keys, key: u128) -> usize {
        (keys.client(key) as usize) & (self.slots.len().wrapping_sub(1))
    }

    fn find(&self, keys: &Keys, key: u128) -> Option<usize> {
        let n = self.slots.len();
        if n == 0 {
            return None;
        }
        let mut i = self.pos(keys, key);
        for _ in 0..n {
            let s = self.slots.get(i)?;
            if s.count == 0 {
                return None;
            }
            if s.key() == key {
                return Some(i);
            }
            i = (i + 1) & (n - 1);
        }
        None
    }

    fn count(&self, keys: &Keys, key: u128) -> usize {
        self.find(keys, key).map_or(0, |i| self.slots[i].count as usize)
    }

    /// Room for one more key without allocating in [`Clients::incr`].
    fn reserve_one(&mut self, keys: &Keys) -> Result<(), ()> {
        if (self.len + 1) * 2 <= self.slots.len() {
            return Ok(());
        }
        let n = (self.slots.len() * 2).max(16);
        let mut slots = Vec::new();
        slots.try_reserve_exact(n).map_err(drop)?;
        slots.resize(n, ClientSlot::default());
        let old = core::mem::replace(&mut self.slots, slots);
        for s in old.iter().filter(|s| s.count != 0) {
            self.place(keys, *s);
        }
        Ok(())
    }

    fn place(&mut self, keys: &Keys, s: ClientSlot) {
        let n = self.slots.len();
        let mut i = self.pos(keys, s.key());
        for _ in 0..n {
            if let Some(x) = self.slots.get_mut(i) {
                if x.count == 0 {
                    *x = s;
                    return;
                }
            }
            i = (i + 1) & (n - 1);
        }
    }

    fn incr(&mut self, keys: &Keys, key: u128) {
        if let Some(i) = self.find(keys, key) {
            self.slots[i].count = self.slots[i].count.saturating_add(1);
        } else if self.len < self.slots.len() {
            self.place(
                keys,
                ClientSlot {
                    hi: (key >> 64) as u64,
                    lo: key as u64,
                    count: 1,
                },
            );
            self.len += 1;
        }
    }

    fn decr(&mut self, keys: &Keys, key: u128) {
        let Some(i) = self.find(keys, key) else { return };
        self.slots[i].count -= 1;
        if self.slots[i].count != 0 {
            return;
        }
        self.len -= 1;
        let mask = self.slots.len() - 1;
        let mut hole = i;
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let s = self.slots[j];
            if s.count == 0 || j == i {
                break;
            }
            let k = self.pos(keys, s.key());
            if hole.wrapping_sub(k) & mask < j.wrapping_sub(k) & mask {
                self.slots[hole] = s;
                hole = j;
            }
        }
        self.slots[hole] = ClientSlot::default();
    }

    fn clear(&mut self) {
        self.slots = Vec::new();
        self.len = 0;
    }
}

// ---------------------------------------------------------------------------
// The table

/// The default [`SessionTable`]: see the [module documentation](self).
pub struct DefaultTable {
    limits: TableLimits,
    /// `limits.max_sessions` clamped to [`HARD_CAP`].
    max: usize,
    /// Bits of a client address that make its quota key.
    client_mask: u128,
    keys: Keys,

    recs: Vec<Rec>,
    /// Slots the session indexes are sized for (`recs.len() <= s_cap`).
    s_cap: usize,
    s_free: u32,
    s_len: usize,
    by_v6: Index,
    by_v4: Index,
    adf: Index,

    bibs: Vec<BibRec>,
    b_cap: usize,
    b_free: u32,
    b_len: usize,
    bib6: Index,
    bib4: Index,

    lanes: [Lane; MAX_LANES],
    /// Lanes `n_lanes..` are empty.
    n_lanes: usize,
    /// Sessions that fit no lane when all lanes are taken.
    heap: Vec<HeapEntry>,
    /// Tests: never use the heap, so the sorted walk runs.
    #[cfg(test)]
    no_heap: bool,
    clients: Clients,
    /// Dynamic BIB entries added without a session, to drop at the next
    /// `expire` if they still have none.
    orphans: Vec<u32>,
    /// The `now` of the last `expire`: sessions expiring at or before it are
    /// never returned.
    floor: Option<u64>,
}

impl core::fmt::Debug for DefaultTable {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DefaultTable")
            .field("limits", &self.limits)
            .field("sessions", &self.s_len)
            .field("bibs", &self.b_len)
            .field("lanes", &self.n_lanes)
            .finish_non_exhaustive()
    }
}

impl Default for DefaultTable {
    fn default() -> Self {
        DefaultTable::new(TableLimits::default())
    }
}

fn client_mask(prefix_len: u8) -> u128 {
    match prefix_len.min(128) {
        0 => 0,
        p => u128::MAX << (128 - u32::from(p)),
    }
}

impl DefaultTable {
    /// An empty table that grows as needed.
    pub fn new(limits: TableLimits) -> Self {
        DefaultTable::with_seed(limits, 0, default_seed())
    }

    /// An empty table with room for `capacity` sessions and as many BIB
    /// entries (capped at `max_sessions`) before it needs to grow.
    pub fn with_capacity(limits: TableLimits, capacity: usize) -> Self {
        DefaultTable::with_seed(limits, capacity, default_seed())
    }

    /// Like [`DefaultTable::with_capacity`], with the hash seed given: pass a
    /// secret random one for resistance to hash flooding. If the memory for
    /// `capacity` cannot be had, the table starts empty and grows.
    pub fn with_seed(limits: TableLimits, capacity: usize, seed: u64) -> Self {
        let max = limits.max_sessions.min(HARD_CAP);
        let mut t = DefaultTable {
            limits,
            max,
            client_mask: client_mask(limits.client_prefix_len),
            keys: Keys::new(seed),
            recs: Vec::new(),
            s_cap: 0,
            s_free: NONE,
            s_len: 0,
            by_v6: Index::new(),
            by_v4: Index::new(),
            adf: Index::new(),
            bibs: Vec::new(),
            b_cap: 0,
            b_free: NONE,
            b_len: 0,
            bib6: Index::new(),
            bib4: Index::new(),
            lanes: [EMPTY_LANE; MAX_LANES],
            n_lanes: 0,
            heap: Vec::new(),
            #[cfg(test)]
            no_heap: false,
            clients: Clients::new(),
            orphans: Vec::new(),
            floor: None,
        };
        let cap = capacity.min(max);
        if cap > 0 {
            let _ = t.grow_sessions(cap);
            let _ = t.grow_bibs(cap);
        }
        t
    }

    /// The limits in force.
    pub fn limits(&self) -> TableLimits {
        self.limits
    }

    /// Changes the limits. Sessions above a lowered cap or quota stay; only
    /// new ones are refused. Changing the quota or the client prefix length
    /// recounts the clients (O(sessions)).
    pub fn set_limits(&mut self, limits: TableLimits) {
        let old = self.limits;
        self.limits = limits;
        self.max = limits.max_sessions.min(HARD_CAP);
        self.client_mask = client_mask(limits.client_prefix_len);
        let quota_was = old.max_sessions_per_client > 0;
        let quota_is = limits.max_sessions_per_client > 0;
        if quota_was != quota_is || old.client_prefix_len.min(128) != limits.client_prefix_len.min(128) {
            self.clients.clear();
            if quota_is {
                for i in 0..self.recs.len() {
                    let r = self.recs[i];
                    if !r.vacant() && self.clients.reserve_one(&self.keys).is_ok() {
                        self.clients.incr(&self.keys, r.v6.to_bits() & self.client_mask);
                    }
                }
            }
        }
    }

    /// The session of a handle, or `None` if the handle is stale.
    pub fn try_get(&self, h: SessionHandle) -> Option<Session> {
        self.slot_of(h).map(|i| self.recs[i].session())
    }

    /// Bytes of heap the table holds (slabs, indexes, quota map).
    pub fn heap_bytes(&self) -> usize {
        self.recs.capacity() * core::mem::size_of::<Rec>()
            + self.bibs.capacity() * core::mem::size_of::<BibRec>()
            + self.by_v6.heap_bytes()
            + self.by_v4.heap_bytes()
            + self.adf.heap_bytes()
            + self.bib6.heap_bytes()
            + self.bib4.heap_bytes()
            + self.clients.slots.capacity() * core::mem::size_of::<ClientSlot>()
            + self.orphans.capacity() * core::mem::size_of::<u32>()
            + self.heap.capacity() * core::mem::size_of::<HeapEntry>()
    }

    /// Sessions the table holds room for without growing.
    pub fn capacity(&self) -> usize {
        self.s_cap
    }

    fn quota(&self) -> usize {
        self.limits.max_sessions_per_client
    }

    fn alive(&self, r: &Rec) -> bool {
        match self.floor {
            None => true,
            Some(f) => r.expires > f,
        }
    }

    fn slot_of(&self, h: SessionHandle) -> Option<usize> {
        let i = h.slot as usize;
        let r = self.recs.get(i)?;
        (!r.vacant() && r.gen == h.gen).then_some(i)
    }

    fn handle(&self, slot: u32) -> SessionHandle {
        SessionHandle {
            slot,
            gen: self.recs[slot as usize].gen,
        }
    }

    // --- growth -----------------------------------------------------------

    /// Grows the session slab and rebuilds its indexes for `cap` slots.
    fn grow_sessions(&mut self, cap: usize) -> Result<(), ()> {
        if cap <= self.s_cap {
            return Ok(());
        }
        self.recs.try_reserve_exact(cap - self.recs.len()).map_err(drop)?;
        let mut v6 = Index::for_capacity(cap)?;
        let mut v4 = Index::for_capacity(cap)?;
        let mut adf = Index::for_capacity(cap)?;
        for (i, r) in self.recs.iter().enumerate() {
            if r.vacant() {
                continue;
            }
            let i = i as u32;
            v6.insert(r.hash_v6(&self.keys), i);
            v4.insert(r.hash_v4(&self.keys), i);
            let ha = r.hash_adf(&self.keys);
            let recs = &self.recs;
            if adf
                .find(ha, |c| recs.get(c as usize).is_some_and(|o| o.same_group(r)))
                .is_none()
            {
                adf.insert(ha, i);
            }
        }
        self.by_v6 = v6;
        self.by_v4 = v4;
        self.adf = adf;
        self.s_cap = cap;
        Ok(())
    }

    fn grow_bibs(&mut self, cap: usize) -> Result<(), ()> {
        if cap <= self.b_cap {
            return Ok(());
        }
        self.bibs.try_reserve_exact(cap - self.bibs.len()).map_err(drop)?;
        let mut b6 = Index::for_capacity(cap)?;
        let mut b4 = Index::for_capacity(cap)?;
        for (i, b) in self.bibs.iter().enumerate() {
            if b.live() {
                b6.insert(self.keys.bib6(b.proto(), b.v6, b.v6_port), i as u32);
                b4.insert(self.keys.bib4(b.proto(), b.v4, b.v4_port), i as u32);
            }
        }
        self.bib6 = b6;
        self.bib4 = b4;
        self.b_cap = cap;
        Ok(())
    }

    fn next_cap(cur: usize, max: usize) -> usize {
        cur.saturating_mul(2).max(MIN_GROWTH).min(max)
    }

    /// A vacant session slot is available (growing if needed).
    fn session_room(&mut self) -> Result<(), ()> {
        if self.s_free != NONE || self.recs.len() < self.s_cap {
            return Ok(());
        }
        if self.recs.len() >= self.max {
            return Err(());
        }
        self.grow_sessions(Self::next_cap(self.s_cap, self.max))
    }

    fn bib_room(&mut self) -> Result<(), ()> {
        if self.b_free != NONE || self.bibs.len() < self.b_cap {
            return Ok(());
        }
        if self.bibs.len() >= self.max {
            return Err(());
        }
        self.grow_bibs(Self::next_cap(self.b_cap, self.max))
    }

    // --- BIB --------------------------------------------------------------

    fn find_bib6(&self, proto: Proto, v6: Taddr6) -> Option<u32> {
        self.find_bib6_h(self.keys.bib6(proto, v6.addr, v6.port), proto, v6)
    }

    fn find_bib6_h(&self, h: u64, proto: Proto, v6: Taddr6) -> Option<u32> {
        let bibs = &self.bibs;
        self.bib6.find(h, |c| {
            bibs.get(c as usize)
                .is_some_and(|b| b.v6 == v6.addr && b.v6_port == v6.port && b.proto() == proto)
        })
    }

    fn find_bib4(&self, proto: Proto, v4: Taddr4) -> Option<u32> {
        self.find_bib4_h(self.keys.bib4(proto, v4.addr, v4.port), proto, v4)
    }

    fn find_bib4_h(&self, h: u64, proto: Proto, v4: Taddr4) -> Option<u32> {
        let bibs = &self.bibs;
        self.bib4.find(h, |c| {
            bibs.get(c as usize)
                .is_some_and(|b| b.v4 == v4.addr && b.v4_port == v4.port && b.proto() == proto)
        })
    }

    /// Adds a BIB record whose index hashes are `h6` and `h4`;
    /// [`DefaultTable::bib_room`] must have succeeded.
    fn new_bib(&mut self, proto: Proto, v6: Taddr6, v4: Taddr4, is_static: bool, (h6, h4): (u64, u64)) -> u32 {
        let rec = BibRec {
            v6: v6.addr,
            v4: v4.addr,
            v6_port: v6.port,
            v4_port: v4.port,
            head: NONE,
            flags: proto.index() as u8 | BIB_LIVE | if is_static { BIB_STATIC } else { 0 },
        };
        let b = if self.b_free != NONE {
            let b = self.b_free;
            self.b_free = self.bibs[b as usize].head;
            self.bibs[b as usize] = rec;
            b
        } else {
            self.bibs.push(rec);
            (self.bibs.len() - 1) as u32
        };
        self.bib6.insert(h6, b);
        self.bib4.insert(h4, b);
        self.b_len += 1;
        b
    }

    /// Drops a BIB record (its sessions must be gone).
    fn drop_bib(&mut self, b: u32) {
        let Some(r) = self.bibs.get(b as usize).copied() else {
            return;
        };
        if !r.live() {
            return;
        }
        self.bib6.remove(self.keys.bib6(r.proto(), r.v6, r.v6_port), b);
        self.bib4.remove(self.keys.bib4(r.proto(), r.v4, r.v4_port), b);
        self.bibs[b as usize] = BibRec {
            head: self.b_free,
            flags: 0,
            ..r
        };
        self.b_free = b;
        self.b_len -= 1;
    }

    // --- sessions ---------------------------------------------------------

    fn find_v6_slot(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<u32> {
        let h = self.keys.v6(proto, v6.addr, v6.port, remote.addr, remote.port);
        let recs = &self.recs;
        self.by_v6.find(h, |c| {
            recs.get(c as usize).is_some_and(|r| {
                r.v6 == v6.addr
                    && r.remote == remote.addr
                    && r.v6_port == v6.port
                    && r.remote_port == remote.port
                    && r.proto() == proto
            })
        })
    }

    fn find_v4_slot(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<u32> {
        let h = self.keys.v4(proto, v4.addr, v4.port, remote.addr, remote.port);
        let recs = &self.recs;
        self.by_v4.find(h, |c| {
            recs.get(c as usize).is_some_and(|r| {
                r.v4 == v4.addr
                    && r.remote == remote.addr
                    && r.v4_port == v4.port
                    && r.remote_port == remote.port
                    && r.proto() == proto
            })
        })
    }

    /// Links `slot` (whose `expires` is set) into an expiry lane.
    fn link_exp(&mut self, slot: u32) {
        let e = self.recs[slot as usize].expires;
        let class = self.recs[slot as usize].evictable();
        let (mut best, mut best_t) = (usize::MAX, 0u64);
        let mut free = usize::MAX;
        let (mut above, mut above_t) = (usize::MAX, u64::MAX);
        for (i, l) in self.lanes[..self.n_lanes].iter().enumerate() {
            if l.head == NONE {
                if free == usize::MAX {
                    free = i;
                }
            } else if l.evictable != class {
                // Evictable sessions keep to lanes of their own, so that
                // the oldest of them is a lane head (evict_for_room).
            } else if l.tail_exp <= e {
                if best == usize::MAX || l.tail_exp > best_t {
                    (best, best_t) = (i, l.tail_exp);
                }
            } else if l.tail_exp < above_t {
                (above, above_t) = (i, l.tail_exp);
            }
        }
        let li = if best != usize::MAX {
            best
        } else if free != usize::MAX {
            free
        } else if self.n_lanes < MAX_LANES {
            self.n_lanes += 1;
            self.n_lanes - 1
        } else {
            if !self.heap_push(slot, e) {
                self.insert_sorted(above, slot, e);
            }
            return;
        };
        let tail = self.lanes[li].tail;
        let r = &mut self.recs[slot as usize];
        r.lane = li as u8;
        r.eprev = tail;
        r.enext = NONE;
        let lane = &mut self.lanes[li];
        if tail == NONE {
            lane.head = slot;
            lane.head_exp = e;
            lane.evictable = class;
        } else {
            self.recs[tail as usize].enext = slot;
        }
        lane.tail = slot;
        lane.tail_exp = e;
    }

    /// Fallback of the fallback, when the heap cannot grow: places `slot`
    /// in lane `li` (whose tail expires after `e`) by walking back from its
    /// tail.
    fn insert_sorted(&mut self, li: usize, slot: u32, e: u64) {
        let li = li.min(MAX_LANES - 1);
        let mut p = self.lanes[li].tail;
        while p != NONE && self.recs[p as usize].expires > e {
            p = self.recs[p as usize].eprev;
        }
        let n = if p == NONE {
            self.lanes[li].head
        } else {
            self.recs[p as usize].enext
        };
        let r = &mut self.recs[slot as usize];
        r.lane = li as u8;
        r.eprev = p;
        r.enext = n;
        let lane = &mut self.lanes[li];
        if p == NONE {
            lane.head = slot;
            lane.head_exp = e;
        } else {
            self.recs[p as usize].enext = slot;
        }
        if n == NONE {
            lane.tail = slot;
            lane.tail_exp = e;
        } else {
            self.recs[n as usize].eprev = slot;
        }
    }

    /// Puts `slot` in the overflow heap; false if the heap cannot grow.
    fn heap_push(&mut self, slot: u32, e: u64) -> bool {
        #[cfg(test)]
        if self.no_heap {
            return false;
        }
        if self.heap.try_reserve(1).is_err() {
            return false;
        }
        self.heap.push(HeapEntry { exp: e, slot });
        self.recs[slot as usize].lane = IN_HEAP;
        self.recs[slot as usize].enext = NONE;
        self.sift_up(self.heap.len() - 1);
        true
    }

    fn heap_set(&mut self, pos: usize, e: HeapEntry) {
        self.heap[pos] = e;
        self.recs[e.slot as usize].eprev = pos as u32;
    }

    fn sift_up(&mut self, mut pos: usize) {
        let e = self.heap[pos];
        while pos > 0 {
            let parent = (pos - 1) / 2;
            let p = self.heap[parent];
            if p.exp <= e.exp {
                break;
            }
            self.heap_set(pos, p);
            pos = parent;
        }
        self.heap_set(pos, e);
    }

    fn sift_down(&mut self, mut pos: usize) {
        let e = self.heap[pos];
        let n = self.heap.len();
        loop {
            let l = 2 * pos + 1;
            if l >= n {
                break;
            }
            let c = if l + 1 < n && self.heap[l + 1].exp < self.heap[l].exp {
                l + 1
            } else {
                l
            };
            let ce = self.heap[c];
            if ce.exp >= e.exp {
                break;
            }
            self.heap_set(pos, ce);
            pos = c;
        }
        self.heap_set(pos, e);
    }

    fn heap_remove(&mut self, slot: u32) {
        let pos = self.recs[slot as usize].eprev as usize;
        if self.heap.get(pos).is_none_or(|x| x.slot != slot) {
            return;
        }
        let Some(last) = self.heap.pop() else { return };
        if pos < self.heap.len() {
            self.heap_set(pos, last);
            self.sift_down(pos);
            self.sift_up(pos);
        }
    }

    fn unlink_exp(&mut self, slot: u32) {
        let r = self.recs[slot as usize];
        if r.lane == IN_HEAP {
            self.heap_remove(slot);
            return;
        }
        let li = usize::from(r.lane);
        if li >= MAX_LANES {
            return;
        }
        if r.eprev != NONE {
            self.recs[r.eprev as usize].enext = r.enext;
        } else {
            self.lanes[li].head = r.enext;
            self.lanes[li].head_exp = if r.enext != NONE {
                self.recs[r.enext as usize].expires
            } else {
                0
            };
        }
        if r.enext != NONE {
            self.recs[r.enext as usize].eprev = r.eprev;
        } else {
            self.lanes[li].tail = r.eprev;
            self.lanes[li].tail_exp = if r.eprev != NONE {
                self.recs[r.eprev as usize].expires
            } else {
                0
            };
        }
        while self.n_lanes > 0 && self.lanes[self.n_lanes - 1].head == NONE {
            self.n_lanes -= 1;
        }
    }

    /// Removes session `slot`; with `drop_bib`, also its BIB entry if that
    /// is dynamic and left without sessions.
    fn remove_slot(&mut self, slot: u32, drop_bib: bool) {
        let Some(r) = self.recs.get(slot as usize).copied() else {
            return;
        };
        if r.vacant() {
            return;
        }
        self.by_v6.remove(r.hash_v6(&self.keys), slot);
        self.by_v4.remove(r.hash_v4(&self.keys), slot);
        // The filtering index: hand over to a neighbour of the same group.
        let ha = r.hash_adf(&self.keys);
        let same = |x: u32| x != NONE && self.recs[x as usize].remote == r.remote;
        let heir = if same(r.bnext) {
            r.bnext
        } else if same(r.bprev) {
            r.bprev
        } else {
            NONE
        };
        if heir != NONE {
            self.adf.replace(ha, slot, heir);
        } else {
            self.adf.remove(ha, slot);
        }
        // The BIB's list.
        if r.bprev != NONE {
            self.recs[r.bprev as usize].bnext = r.bnext;
        } else if let Some(b) = self.bibs.get_mut(r.bib as usize) {
            b.head = r.bnext;
        }
        if r.bnext != NONE {
            self.recs[r.bnext as usize].bprev = r.bprev;
        }
        self.unlink_exp(slot);
        if self.quota() > 0 {
            self.clients.decr(&self.keys, r.v6.to_bits() & self.client_mask);
        }
        let x = &mut self.recs[slot as usize];
        x.lane = VACANT;
        x.gen = x.gen.wrapping_add(1);
        x.enext = self.s_free;
        self.s_free = slot;
        self.s_len -= 1;
        if drop_bib {
            if let Some(b) = self.bibs.get(r.bib as usize) {
                if b.live() && b.head == NONE && !b.is_static() {
                    self.drop_bib(r.bib);
                }
            }
        }
    }

    /// Adds a new session to BIB `b`; the room checks must have succeeded.
    fn add_session(&mut self, s: &Session, b: u32) -> u32 {
        let slot = if self.s_free != NONE {
            let x = self.s_free;
            self.s_free = self.recs[x as usize].enext;
            x
        } else {
            self.recs.push(VACANT_REC);
            (self.recs.len() - 1) as u32
        };
        let gen = self.recs[slot as usize].gen;
        let rec = Rec {
            expires: s.expires.0,
            v6: s.v6.addr,
            v4: s.v4.addr,
            remote: s.remote.addr,
            v6_port: s.v6.port,
            v4_port: s.v4.port,
            remote_port: s.remote.port,
            ps: pack(s.proto, s.state),
            lane: VACANT,
            gen,
            bib: b,
            bprev: NONE,
            bnext: NONE,
            eprev: NONE,
            enext: NONE,
        };
        self.recs[slot as usize] = rec;
        self.by_v6.insert(rec.hash_v6(&self.keys), slot);
        self.by_v4.insert(rec.hash_v4(&self.keys), slot);
        let ha = rec.hash_adf(&self.keys);
        let recs = &self.recs;
        let member = if self.bibs[b as usize].head == NONE {
            // The BIB entry's first session: if `add_bib` just listed the
            // entry as having none, unlist it.
            if self.orphans.last() == Some(&b) {
                self.orphans.pop();
            }
            None
        } else {
            self.adf.find(ha, |c| {
                recs.get(c as usize).is_some_and(|o| c != slot && o.same_group(&rec))
            })
        };
        match member {
            Some(m) => {
                // Right after a member of its group: groups stay contiguous.
                let n = self.recs[m as usize].bnext;
                self.recs[slot as usize].bprev = m;
                self.recs[slot as usize].bnext = n;
                self.recs[m as usize].bnext = slot;
                if n != NONE {
                    self.recs[n as usize].bprev = slot;
                }
            }
            None => {
                self.adf.insert(ha, slot);
                let h = self.bibs[b as usize].head;
                self.recs[slot as usize].bnext = h;
                if h != NONE {
                    self.recs[h as usize].bprev = slot;
                }
                self.bibs[b as usize].head = slot;
            }
        }
        self.link_exp(slot);
        if self.quota() > 0 {
            self.clients.incr(&self.keys, s.v6.addr.to_bits() & self.client_mask);
        }
        self.s_len += 1;
        slot
    }

    fn set_expiry(&mut self, slot: u32, e: u64) {
        let r = self.recs[slot as usize];
        if r.expires == e {
            return;
        }
        // Still in order where it is in its lane? Then only the lane's cached
        // ends move.
        let li = usize::from(r.lane);
        let in_order = li < MAX_LANES
            && (r.eprev == NONE || self.recs[r.eprev as usize].expires <= e)
            && (r.enext == NONE || e <= self.recs[r.enext as usize].expires);
        if in_order {
            self.recs[slot as usize].expires = e;
            let lane = &mut self.lanes[li];
            if r.eprev == NONE {
                lane.head_exp = e;
            }
            if r.enext == NONE {
                lane.tail_exp = e;
            }
            return;
        }
        self.unlink_exp(slot);
        self.recs[slot as usize].expires = e;
        self.link_exp(slot);
    }
}

impl SessionTable for DefaultTable {
    type Handle = SessionHandle;

    fn bib_by_v6(&self, proto: Proto, v6: Taddr6) -> Option<Bib> {
        self.find_bib6(proto, v6).map(|b| self.bibs[b as usize].bib())
    }

    fn bib_by_v4(&self, proto: Proto, v4: Taddr4) -> Option<Bib> {
        self.find_bib4(proto, v4).map(|b| self.bibs[b as usize].bib())
    }

    /// Adds `bib`. Adding an entry that exists with the same two addresses
    /// succeeds (a static one makes the existing entry static; a dynamic
    /// one changes nothing). A dynamic entry that has no session by the next
    /// [`SessionTable::expire`] is removed then. `max_sessions` also caps
    /// the BIB entries ([`InsertError::TableFull`]).
    fn add_bib(&mut self, bib: Bib) -> Result<(), InsertError> {
        let h6 = self.keys.bib6(bib.proto, bib.v6.addr, bib.v6.port);
        let h4 = self.keys.bib4(bib.proto, bib.v4.addr, bib.v4.port);
        let b4 = self.find_bib4_h(h4, bib.proto, bib.v4);
        let b6 = self.find_bib6_h(h6, bib.proto, bib.v6);
        match (b4, b6) {
            (Some(x), Some(y)) if x == y => {
                if bib.is_static {
                    self.bibs[x as usize].flags |= BIB_STATIC;
                }
                Ok(())
            }
            (Some(_), _) => Err(InsertError::V4InUse {
                proto: bib.proto,
                v4: bib.v4,
            }),
            (None, Some(_)) => Err(InsertError::V6InUse {
                proto: bib.proto,
                v6: bib.v6,
            }),
            (None, None) => {
                let full = InsertError::TableFull {
                    max: self.limits.max_sessions,
                };
                if self.b_len >= self.max {
                    return Err(full);
                }
                self.bib_room().map_err(|()| full)?;
                if !bib.is_static && self.orphans.len() >= 2 * self.b_len + 64 {
                    let bibs = &self.bibs;
                    self.orphans
                        .retain(|&b| bibs.get(b as usize).is_some_and(|r| r.live() && r.head == NONE));
                }
                if !bib.is_static && self.orphans.try_reserve(1).is_err() {
                    return Err(full);
                }
                let b = self.new_bib(bib.proto, bib.v6, bib.v4, bib.is_static, (h6, h4));
                if !bib.is_static {
                    self.orphans.push(b);
                }
                Ok(())
            }
        }
    }

    fn remove_bib(&mut self, proto: Proto, v4: Taddr4) -> bool {
        let Some(b) = self.find_bib4(proto, v4) else {
            return false;
        };
        loop {
            let h = self.bibs[b as usize].head;
            if h == NONE {
                break;
            }
            self.remove_slot(h, false);
        }
        self.drop_bib(b);
        true
    }

    #[inline]
    fn find_v6(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<SessionHandle> {
        let slot = self.find_v6_slot(proto, v6, remote)?;
        let r = &self.recs[slot as usize];
        self.alive(r).then_some(SessionHandle { slot, gen: r.gen })
    }

    #[inline]
    fn find_v4(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<SessionHandle> {
        let slot = self.find_v4_slot(proto, v4, remote)?;
        let r = &self.recs[slot as usize];
        self.alive(r).then_some(SessionHandle { slot, gen: r.gen })
    }

    fn has_session_with(&self, proto: Proto, v4: Taddr4, remote: Ipv4Addr) -> bool {
        let h = self.keys.adf(proto, v4.addr, v4.port, remote);
        let recs = &self.recs;
        let Some(m) = self.adf.find(h, |c| {
            recs.get(c as usize)
                .is_some_and(|r| r.v4 == v4.addr && r.remote == remote && r.v4_port == v4.port && r.proto() == proto)
        }) else {
            return false;
        };
        if self.alive(&recs[m as usize]) {
            return true;
        }
        // The group's member in the index is due for expiry: look at the
        // rest of the group (contiguous in the BIB's list).
        for forward in [true, false] {
            let mut c = m;
            loop {
                let r = &recs[c as usize];
                c = if forward { r.bnext } else { r.bprev };
                if c == NONE || recs[c as usize].remote != remote {
                    break;
                }
                if self.alive(&recs[c as usize]) {
                    return true;
                }
            }
        }
        false
    }

    /// The session, or [`STALE_SESSION`] if the handle's session was removed.
    #[inline]
    fn get(&self, h: SessionHandle) -> Session {
        self.try_get(h).unwrap_or(STALE_SESSION)
    }

    /// Adds `s`. If a session with the same tuple exists, it takes `s`'s
    /// state and expiry and its handle is returned. If neither transport
    /// address of `s` has a BIB entry, a dynamic one is created (counted
    /// against `max_sessions` like [`SessionTable::add_bib`]); if one of them
    /// is bound elsewhere, [`InsertError::V4InUse`] or
    /// [`InsertError::V6InUse`].
    fn insert(&mut self, s: Session) -> Result<SessionHandle, InsertError> {
        let h4 = self.keys.bib4(s.proto, s.v4.addr, s.v4.port);
        let h6 = self.keys.bib6(s.proto, s.v6.addr, s.v6.port);
        let bib = match self.find_bib4_h(h4, s.proto, s.v4) {
            Some(b) => {
                let r = &self.bibs[b as usize];
                if r.v6 != s.v6.addr || r.v6_port != s.v6.port {
                    return Err(InsertError::V4InUse {
                        proto: s.proto,
                        v4: s.v4,
                    });
                }
                // A BIB entry without sessions (just added) has no match.
                let found = if r.head == NONE {
                    None
                } else {
                    self.find_v6_slot(s.proto, s.v6, s.remote)
                };
                if let Some(x) = found {
                    let h = self.handle(x);
                    self.update(h, s.state, s.expires);
                    return Ok(h);
                }
                Some(b)
            }
            None if self.find_bib6_h(h6, s.proto, s.v6).is_some() => {
                return Err(InsertError::V6InUse {
                    proto: s.proto,
                    v6: s.v6,
                });
            }
            None => None,
        };
        let full = InsertError::TableFull {
            max: self.limits.max_sessions,
        };
        // The quota first: a client over it is refused as such, and a full
        // table does not evict anyone's session for it (evict_for_room).
        self.check_quota(s.v6.addr)?;
        if self.s_len >= self.max {
            return Err(full);
        }
        if self.quota() > 0 {
            self.clients.reserve_one(&self.keys).map_err(|()| full)?;
        }
        if bib.is_none() && self.b_len >= self.max {
            return Err(full);
        }
        self.session_room().map_err(|()| full)?;
        if bib.is_none() {
            self.bib_room().map_err(|()| full)?;
        }
        let b = match bib {
            Some(b) => b,
            None => self.new_bib(s.proto, s.v6, s.v4, false, (h6, h4)),
        };
        let slot = self.add_session(&s, b);
        Ok(self.handle(slot))
    }

    /// Sets state and expiry; ignores a stale handle.
    fn update(&mut self, h: SessionHandle, state: TcpState, expires: Instant) {
        let Some(i) = self.slot_of(h) else { return };
        let was = self.recs[i].evictable();
        let r = &mut self.recs[i];
        r.ps = pack(r.proto(), state);
        if r.evictable() != was {
            // Into the lanes of its class, wherever its expiry.
            self.unlink_exp(h.slot);
            self.recs[i].expires = expires.0;
            self.link_exp(h.slot);
        } else {
            self.set_expiry(h.slot, expires.0);
        }
    }

    /// Removes the session; ignores a stale handle.
    fn remove(&mut self, h: SessionHandle) {
        if self.slot_of(h).is_some() {
            self.remove_slot(h.slot, true);
        }
    }

    fn expire(&mut self, now: Instant) -> usize {
        self.floor = Some(now.0);
        let mut n = 0;
        let mut li = 0;
        while li < self.n_lanes {
            loop {
                let l = self.lanes[li];
                if l.head == NONE || l.head_exp > now.0 {
                    break;
                }
                self.remove_slot(l.head, true);
                n += 1;
            }
            li += 1;
        }
        while let Some(top) = self.heap.first().copied() {
            if top.exp > now.0 {
                break;
            }
            self.remove_slot(top.slot, true);
            n += 1;
        }
        let orphans = core::mem::take(&mut self.orphans);
        for &b in &orphans {
            if let Some(r) = self.bibs.get(b as usize) {
                if r.live() && !r.is_static() && r.head == NONE {
                    self.drop_bib(b);
                }
            }
        }
        // Keep a small allocation.
        if orphans.capacity() <= 256 {
            self.orphans = orphans;
            self.orphans.clear();
        }
        n
    }

    /// O(lanes): only lane heads are candidates. Evictable sessions keep to
    /// lanes of their own (a session moves lanes when its state crosses
    /// the line), each sorted by expiry, and all of them share the
    /// transitory timeout, so with a clock that does not go back they fill
    /// one lane and its head is the half-open or closing session closest
    /// to its end: the oldest SYN of a flood goes first, and a legitimate
    /// SYN sent during the flood keeps its slot until every older one has
    /// gone. Sessions in the overflow heap (a clock that went back more
    /// than the lanes absorb) are not candidates.
    fn evict_for_room(&mut self, _now: Instant) -> Option<Session> {
        let mut best: Option<(u64, u32)> = None;
        for l in &self.lanes[..self.n_lanes] {
            if l.head == NONE || !l.evictable {
                continue;
            }
            // The head itself is checked too: the last resort of a heap that
            // cannot grow (insert_sorted) may have mixed the kinds.
            if self.recs[l.head as usize].evictable() && best.is_none_or(|(e, _)| l.head_exp < e) {
                best = Some((l.head_exp, l.head));
            }
        }
        let (_, slot) = best?;
        let s = self.recs[slot as usize].session();
        self.remove_slot(slot, true);
        Some(s)
    }

    fn check_quota(&self, client: Ipv6Addr) -> Result<(), InsertError> {
        let quota = self.quota();
        if quota > 0 {
            let key = client.to_bits() & self.client_mask;
            if self.clients.count(&self.keys, key) >= quota {
                return Err(InsertError::ClientQuota {
                    client: Ipv6Addr::from_bits(key),
                    max: quota,
                });
            }
        }
        Ok(())
    }

    /// Exact: the smallest `expires` of all sessions (O(lanes)).
    fn next_expiry(&self) -> Option<Instant> {
        let lanes = self.lanes[..self.n_lanes]
            .iter()
            .filter(|l| l.head != NONE)
            .map(|l| l.head_exp);
        lanes.chain(self.heap.first().map(|e| e.exp)).min().map(Instant)
    }

    fn session_count(&self) -> usize {
        self.s_len
    }

    fn bib_count(&self) -> usize {
        self.b_len
    }

    fn for_each_session(&self, f: &mut dyn FnMut(&Session)) {
        for r in self.recs.iter().filter(|r| !r.vacant()) {
            f(&r.session());
        }
    }

    fn for_each_bib(&self, f: &mut dyn FnMut(&Bib)) {
        for b in self.bibs.iter().filter(|b| b.live()) {
            f(&b.bib());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use proptest::prelude::*;

    // --- helpers -------------------------------------------------------------

    fn c6(i: u16, port: u16) -> Taddr6 {
        Taddr6 {
            addr: Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, i),
            port,
        }
    }
    fn p4(i: u8, port: u16) -> Taddr4 {
        Taddr4 {
            addr: Ipv4Addr::new(192, 0, 2, i),
            port,
        }
    }
    fn r4(i: u8, port: u16) -> Taddr4 {
        Taddr4 {
            addr: Ipv4Addr::new(198, 51, 100, i),
            port,
        }
    }
    fn at(s: u64) -> Instant {
        Instant::from_secs(s)
    }
    fn sess(proto: Proto, v6: Taddr6, v4: Taddr4, remote: Taddr4, exp: u64) -> Session {
        Session {
            proto,
            v6,
            v4,
            remote,
            state: TcpState::None,
            expires: at(exp),
        }
    }
    fn udp(v6: Taddr6, v4: Taddr4, remote: Taddr4, exp: u64) -> Session {
        sess(Proto::Udp, v6, v4, remote, exp)
    }
    fn lim(max: usize, per: usize, plen: u8) -> TableLimits {
        TableLimits {
            max_sessions: max,
            max_sessions_per_client: per,
            client_prefix_len: plen,
        }
    }
    fn table(l: TableLimits) -> DefaultTable {
        DefaultTable::with_seed(l, 0, 0x5eed)
    }
    fn sessions(t: &DefaultTable) -> Vec<Session> {
        let mut v = Vec::new();
        t.for_each_session(&mut |s| v.push(*s));
        v.sort_by_key(skey);
        v
    }
    fn bibs(t: &DefaultTable) -> Vec<Bib> {
        let mut v = Vec::new();
        t.for_each_bib(&mut |b| v.push(*b));
        v.sort_by_key(bkey);
        v
    }
    fn skey(s: &Session) -> (usize, Ipv6Addr, u16, Taddr4, Taddr4, u8, u64) {
        (
            s.proto.index(),
            s.v6.addr,
            s.v6.port,
            s.v4,
            s.remote,
            state_code(s.state),
            s.expires.0,
        )
    }
    fn bkey(b: &Bib) -> (usize, Taddr6, Taddr4, bool) {
        (b.proto.index(), b.v6, b.v4, b.is_static)
    }

    // --- the invariant checker ------------------------------------------------

    impl Index {
        /// Every overflow count equals the entries that passed its bucket.
        fn check(&self, hash_of: impl Fn(u32) -> u64) {
            let nb = self.buckets.len();
            let mut over = vec![0u32; nb];
            let mut n = 0;
            for (b, bucket) in self.buckets.iter().enumerate() {
                for &e in &bucket[..SLOTS] {
                    if e == EMPTY {
                        continue;
                    }
                    n += 1;
                    let h = hash_of(e & self.mask);
                    assert_eq!(e & !self.mask, self.tag(h), "tag");
                    let mut c = self.home(h);
                    while c != b {
                        over[c] += 1;
                        c = (c + 1) % nb;
                    }
                }
            }
            assert_eq!(n, self.len, "index length");
            for (b, bucket) in self.buckets.iter().enumerate() {
                assert_eq!(bucket[SLOTS], over[b], "overflow count of bucket {b}");
            }
        }
    }

    impl DefaultTable {
        fn check(&self) {
            let t = self;
            let k = &t.keys;
            // Sessions and their two indexes.
            let mut live = 0;
            for (i, r) in t.recs.iter().enumerate() {
                if r.vacant() {
                    continue;
                }
                live += 1;
                let s = r.session();
                assert_eq!(t.find_v6_slot(s.proto, s.v6, s.remote), Some(i as u32));
                assert_eq!(t.find_v4_slot(s.proto, s.v4, s.remote), Some(i as u32));
                let b = &t.bibs[r.bib as usize];
                assert!(b.live());
                assert_eq!(
                    (b.proto(), b.v6, b.v6_port, b.v4, b.v4_port),
                    (s.proto, r.v6, r.v6_port, r.v4, r.v4_port)
                );
                assert!(r.lane == IN_HEAP || usize::from(r.lane) < t.n_lanes);
            }
            assert_eq!(live, t.s_len);
            assert!(t.recs.len() <= t.s_cap);
            t.by_v6.check(|s| t.recs[s as usize].hash_v6(k));
            t.by_v4.check(|s| t.recs[s as usize].hash_v4(k));
            t.adf.check(|s| t.recs[s as usize].hash_adf(k));
            let mut free = 0;
            let mut f = t.s_free;
            while f != NONE {
                assert!(t.recs[f as usize].vacant());
                free += 1;
                assert!(free <= t.recs.len());
                f = t.recs[f as usize].enext;
            }
            assert_eq!(free + live, t.recs.len());

            // BIB entries, their session lists and the filtering groups.
            let (mut nbib, mut listed, mut groups) = (0, 0, 0);
            for (bi, b) in t.bibs.iter().enumerate() {
                if !b.live() {
                    continue;
                }
                nbib += 1;
                let bib = b.bib();
                assert_eq!(t.find_bib6(bib.proto, bib.v6), Some(bi as u32));
                assert_eq!(t.find_bib4(bib.proto, bib.v4), Some(bi as u32));
                let mut seen: Vec<Ipv4Addr> = Vec::new();
                let (mut prev, mut c) = (NONE, b.head);
                while c != NONE {
                    let r = &t.recs[c as usize];
                    assert!(!r.vacant());
                    assert_eq!(r.bib, bi as u32);
                    assert_eq!(r.bprev, prev);
                    if seen.last() != Some(&r.remote) {
                        assert!(!seen.contains(&r.remote), "filtering group split");
                        seen.push(r.remote);
                        groups += 1;
                        let m = t.adf.find(r.hash_adf(k), |x| t.recs[x as usize].same_group(r));
                        let m = m.expect("group in the filtering index");
                        assert!(!t.recs[m as usize].vacant() && t.recs[m as usize].same_group(r));
                    }
                    listed += 1;
                    assert!(listed <= live);
                    (prev, c) = (c, r.bnext);
                }
                if !b.is_static() && b.head == NONE {
                    assert!(t.orphans.contains(&(bi as u32)), "dynamic BIB entry without sessions");
                }
            }
            assert_eq!(listed, live);
            assert_eq!(t.adf.len, groups);
            assert_eq!(nbib, t.b_len);
            assert!(t.bibs.len() <= t.b_cap);
            let bib_of = |s: u32| t.bibs[s as usize];
            t.bib6
                .check(|s| k.bib6(bib_of(s).proto(), bib_of(s).v6, bib_of(s).v6_port));
            t.bib4
                .check(|s| k.bib4(bib_of(s).proto(), bib_of(s).v4, bib_of(s).v4_port));

            // Expiry lanes: sorted, complete, cached ends right.
            let mut laned = 0;
            for (li, l) in t.lanes.iter().enumerate() {
                if li >= t.n_lanes {
                    assert_eq!((l.head, l.tail), (NONE, NONE));
                    continue;
                }
                let (mut prev, mut c, mut last) = (NONE, l.head, 0u64);
                while c != NONE {
                    let r = &t.recs[c as usize];
                    assert_eq!(usize::from(r.lane), li);
                    assert_eq!(r.eprev, prev);
                    assert!(r.expires >= last, "lane out of order");
                    // Kept apart except by the last resort of a heap that
                    // cannot grow (insert_sorted), which these tests force.
                    if !t.no_heap {
                        assert_eq!(r.evictable(), l.evictable, "evictable and other sessions share a lane");
                    }
                    if prev == NONE {
                        assert_eq!(l.head_exp, r.expires);
                    }
                    last = r.expires;
                    laned += 1;
                    assert!(laned <= live);
                    (prev, c) = (c, r.enext);
                }
                assert_eq!(l.tail, prev);
                if prev != NONE {
                    assert_eq!(l.tail_exp, last);
                }
            }
            for (pos, e) in t.heap.iter().enumerate() {
                let r = &t.recs[e.slot as usize];
                assert_eq!((r.lane, r.eprev as usize, r.expires), (IN_HEAP, pos, e.exp));
                if pos > 0 {
                    assert!(t.heap[(pos - 1) / 2].exp <= e.exp, "heap order");
                }
            }
            assert_eq!(laned + t.heap.len(), live);
            assert!(t.n_lanes == 0 || t.lanes[t.n_lanes - 1].head != NONE);

            // Client counts.
            if t.quota() > 0 {
                let mut counts: Vec<(u128, usize)> = Vec::new();
                for r in t.recs.iter().filter(|r| !r.vacant()) {
                    let key = r.v6.to_bits() & t.client_mask;
                    match counts.iter_mut().find(|(k, _)| *k == key) {
                        Some((_, n)) => *n += 1,
                        None => counts.push((key, 1)),
                    }
                }
                for &(key, n) in &counts {
                    assert_eq!(t.clients.count(k, key), n);
                }
                assert_eq!(t.clients.len, counts.len());
            } else {
                assert_eq!(t.clients.len, 0);
            }
        }

        /// A handle even for a session due for expiry.
        fn handle_v6(&self, s: &Session) -> SessionHandle {
            self.handle(self.find_v6_slot(s.proto, s.v6, s.remote).expect("session"))
        }
    }

    // --- unit tests -------------------------------------------------------------

    #[test]
    fn limits_default_and_sizes() {
        let l = TableLimits::default();
        assert_eq!(
            (l.max_sessions, l.max_sessions_per_client, l.client_prefix_len),
            (1 << 20, 0, 128)
        );
        assert_eq!(core::mem::size_of::<Rec>(), 64);
        assert_eq!(core::mem::size_of::<BibRec>(), 32);
        let t = DefaultTable::default();
        assert_eq!(t.limits(), l);
        assert_eq!((t.session_count(), t.bib_count(), t.next_expiry()), (0, 0, None));
        t.check();
    }

    #[test]
    fn bib_lookups_both_ways_and_conflicts() {
        let mut t = table(lim(100, 0, 128));
        let b = Bib {
            proto: Proto::Tcp,
            v6: c6(1, 1000),
            v4: p4(1, 2000),
            is_static: false,
        };
        t.add_bib(b).unwrap();
        assert_eq!(t.bib_by_v6(Proto::Tcp, c6(1, 1000)), Some(b));
        assert_eq!(t.bib_by_v4(Proto::Tcp, p4(1, 2000)), Some(b));
        // Other protocol, other port: nothing.
        assert_eq!(t.bib_by_v6(Proto::Udp, c6(1, 1000)), None);
        assert_eq!(t.bib_by_v4(Proto::Tcp, p4(1, 2001)), None);
        // Conflicts.
        let e = t.add_bib(Bib { v6: c6(2, 1000), ..b }).unwrap_err();
        assert_eq!(
            e,
            InsertError::V4InUse {
                proto: Proto::Tcp,
                v4: p4(1, 2000)
            }
        );
        let e = t.add_bib(Bib { v4: p4(1, 2001), ..b }).unwrap_err();
        assert_eq!(
            e,
            InsertError::V6InUse {
                proto: Proto::Tcp,
                v6: c6(1, 1000)
            }
        );
        // The same entry again is fine; as static it becomes static.
        t.add_bib(b).unwrap();
        assert_eq!(t.bib_count(), 1);
        t.add_bib(Bib { is_static: true, ..b }).unwrap();
        assert!(t.bib_by_v4(Proto::Tcp, p4(1, 2000)).unwrap().is_static);
        t.add_bib(b).unwrap();
        assert!(
            t.bib_by_v4(Proto::Tcp, p4(1, 2000)).unwrap().is_static,
            "a dynamic add does not demote"
        );
        // Same addresses in another protocol are another BIB.
        t.add_bib(Bib { proto: Proto::Udp, ..b }).unwrap();
        assert_eq!(t.bib_count(), 2);
        assert_eq!(bibs(&t).len(), 2);
        t.check();
        assert!(t.remove_bib(Proto::Udp, p4(1, 2000)));
        assert!(!t.remove_bib(Proto::Udp, p4(1, 2000)));
        assert_eq!(t.bib_count(), 1);
        t.check();
    }

    #[test]
    fn insert_find_get_both_sides() {
        let mut t = table(lim(100, 0, 128));
        let s = Session {
            state: TcpState::Established,
            ..sess(Proto::Tcp, c6(1, 1000), p4(1, 2000), r4(7, 80), 100)
        };
        t.add_bib(Bib {
            proto: Proto::Tcp,
            v6: s.v6,
            v4: s.v4,
            is_static: false,
        })
        .unwrap();
        let h = t.insert(s).unwrap();
        assert_eq!(t.get(h), s);
        assert_eq!(t.find_v6(Proto::Tcp, s.v6, s.remote), Some(h));
        assert_eq!(t.find_v4(Proto::Tcp, s.v4, s.remote), Some(h));
        assert_eq!(t.find_v6(Proto::Tcp, s.v6, r4(7, 81)), None);
        assert_eq!(t.find_v4(Proto::Tcp, s.v4, r4(8, 80)), None);
        assert_eq!(t.find_v6(Proto::Udp, s.v6, s.remote), None);
        assert_eq!(t.find_v4(Proto::Tcp, p4(1, 2001), s.remote), None);
        assert_eq!((t.session_count(), t.bib_count()), (1, 1));
        assert_eq!(sessions(&t), vec![s]);
        t.check();
    }

    #[test]
    fn insert_creates_missing_bib_and_checks_conflicts() {
        let mut t = table(lim(100, 0, 128));
        let s = udp(c6(1, 1000), p4(1, 2000), r4(1, 53), 10);
        t.insert(s).unwrap();
        let b = t.bib_by_v6(Proto::Udp, c6(1, 1000)).unwrap();
        assert_eq!((b.v4, b.is_static), (p4(1, 2000), false));
        // v4 bound to another client; v6 bound to another pool4 address.
        let e = t.insert(udp(c6(2, 1000), p4(1, 2000), r4(1, 53), 10)).unwrap_err();
        assert_eq!(
            e,
            InsertError::V4InUse {
                proto: Proto::Udp,
                v4: p4(1, 2000)
            }
        );
        let e = t.insert(udp(c6(1, 1000), p4(1, 2001), r4(1, 53), 10)).unwrap_err();
        assert_eq!(
            e,
            InsertError::V6InUse {
                proto: Proto::Udp,
                v6: c6(1, 1000)
            }
        );
        assert_eq!((t.session_count(), t.bib_count()), (1, 1));
        t.check();
    }

    #[test]
    fn insert_of_an_existing_session_updates_it() {
        let mut t = table(lim(1, 0, 128));
        let s = udp(c6(1, 1000), p4(1, 2000), r4(1, 53), 10);
        let h = t.insert(s).unwrap();
        // Full, yet the same session again is an update, not a new one.
        let h2 = t.insert(Session { expires: at(50), ..s }).unwrap();
        assert_eq!(h, h2);
        assert_eq!(t.get(h).expires, at(50));
        assert_eq!(t.next_expiry(), Some(at(50)));
        assert_eq!(t.session_count(), 1);
        t.check();
    }

    #[test]
    fn sessions_expire_exactly_at_their_time() {
        let mut t = table(lim(100, 0, 128));
        let a = udp(c6(1, 1), p4(1, 1), r4(1, 1), 300);
        let b = udp(c6(2, 1), p4(1, 2), r4(1, 1), 60);
        t.insert(a).unwrap();
        t.insert(b).unwrap();
        assert_eq!(t.next_expiry(), Some(at(60)));
        assert_eq!(t.expire(Instant(at(60).0 - 1)), 0);
        assert_eq!(t.session_count(), 2);
        assert!(t.find_v6(Proto::Udp, b.v6, b.remote).is_some());
        assert_eq!(t.expire(at(60)), 1);
        assert_eq!(t.find_v6(Proto::Udp, b.v6, b.remote), None);
        assert_eq!(
            t.bib_by_v6(Proto::Udp, b.v6),
            None,
            "its dynamic BIB entry went with it"
        );
        assert_eq!(t.next_expiry(), Some(at(300)));
        assert_eq!(t.expire(at(299)), 0);
        assert_eq!(t.expire(at(300)), 1);
        assert_eq!((t.session_count(), t.bib_count(), t.next_expiry()), (0, 0, None));
        t.check();
    }

    #[test]
    fn refresh_pushes_expiry_later() {
        let mut t = table(lim(100, 0, 128));
        let s = udp(c6(1, 1), p4(1, 1), r4(1, 1), 300);
        let h = t.insert(s).unwrap();
        let other = t.insert(udp(c6(2, 1), p4(1, 2), r4(1, 1), 350)).unwrap();
        // At t=200 a packet refreshes it to 500.
        t.update(h, TcpState::None, at(500));
        assert_eq!(t.expire(at(300)), 0);
        assert_eq!(t.next_expiry(), Some(at(350)));
        assert_eq!(t.expire(at(350)), 1);
        assert_eq!(t.get(other), STALE_SESSION);
        assert_eq!(t.next_expiry(), Some(at(500)));
        assert_eq!(t.expire(at(499)), 0);
        assert_eq!(t.get(h).expires, at(500));
        assert_eq!(t.expire(at(500)), 1);
        t.check();
    }

    #[test]
    fn shortening_expiry_works() {
        let mut t = table(lim(100, 0, 128));
        let est = 7440;
        let mut hs = Vec::new();
        for i in 0..10u16 {
            let s = Session {
                state: TcpState::Established,
                ..sess(Proto::Tcp, c6(i, 1), p4(1, i), r4(1, 443), est + u64::from(i))
            };
            hs.push(t.insert(s).unwrap());
        }
        // Session 5 moves to TRANS at t=100: 4 minutes.
        t.update(hs[5], TcpState::Trans, at(100 + 240));
        assert_eq!(t.next_expiry(), Some(at(340)));
        assert_eq!(t.get(hs[5]).state, TcpState::Trans);
        t.check();
        assert_eq!(t.expire(at(339)), 0);
        assert_eq!(t.expire(at(340)), 1);
        assert_eq!(t.get(hs[5]), STALE_SESSION);
        assert_eq!(t.next_expiry(), Some(at(est)));
        assert_eq!(t.expire(at(est + 4)), 5);
        assert_eq!(t.session_count(), 4);
        t.check();
    }

    #[test]
    fn timeout_classes_keep_few_lanes() {
        // Monotonic time, three timeout classes interleaved, refreshes: one
        // lane per class, never the fallback (tests have 4 lanes).
        let mut t = DefaultTable::with_seed(lim(10_000, 0, 128), 0, 1);
        let classes = [60u64, 7440, 300];
        let mut hs = Vec::new();
        for now in 0..2000u64 {
            let c = classes[(now % 3) as usize];
            let s = sess(
                Proto::Udp,
                c6((now % 500) as u16, now as u16),
                p4(1, now as u16),
                r4(2, 53),
                now + c,
            );
            hs.push(t.insert(s).unwrap());
            if now % 2 == 0 {
                let h = hs[(now * 7 / 8) as usize];
                if let Some(s) = t.try_get(h) {
                    t.update(h, s.state, at(now + classes[usize::from(s.v4.port) % 3]));
                }
            }
            if now % 50 == 0 {
                t.expire(at(now));
            }
            assert!(t.n_lanes <= 3, "{} lanes at {now}", t.n_lanes);
        }
        t.check();
    }

    #[test]
    fn lane_overflow_goes_to_the_heap_or_the_sorted_walk() {
        for no_heap in [false, true] {
            let mut t = table(lim(1000, 0, 128));
            t.no_heap = no_heap;
            // Strictly decreasing expiries: every one would need a new lane.
            for i in 0..200u16 {
                t.insert(udp(c6(i, 1), p4(1, i), r4(1, 1), 1000 - u64::from(i)))
                    .unwrap();
            }
            assert_eq!(t.n_lanes, MAX_LANES);
            assert_eq!(t.heap.len(), if no_heap { 0 } else { 200 - MAX_LANES });
            t.check();
            // Refreshes move some out of the heap into lanes.
            for i in (0..200u16).step_by(5) {
                let h = t.find_v6(Proto::Udp, c6(i, 1), r4(1, 1)).unwrap();
                t.update(h, TcpState::None, at(1001 + u64::from(i)));
            }
            t.check();
            for now in (800..=1300).step_by(7) {
                let before = t.session_count();
                let n = t.expire(at(now));
                let left = sessions(&t);
                assert!(left.iter().all(|s| s.expires > at(now)));
                assert_eq!(before - n, left.len());
                assert_eq!(t.next_expiry(), left.iter().map(|s| s.expires).min());
                t.check();
            }
            assert_eq!(t.session_count(), 0);
        }
    }

    #[test]
    fn clock_stepping_back_stays_correct() {
        // Each step back opens a lane; past the lanes, sessions use the heap.
        let mut t = table(lim(10_000, 0, 128));
        let mut hs = Vec::new();
        let mut id = 0u16;
        for round in 0..10u64 {
            let base = 1000 - round * 50;
            for k in 0..40u64 {
                id += 1;
                hs.push(t.insert(udp(c6(id, 1), p4(1, id), r4(1, 1), base + k)).unwrap());
                let h = hs[(k as usize * 7) % hs.len()];
                t.update(h, TcpState::None, at(base + k + 300));
            }
            t.check();
        }
        let mut all = sessions(&t);
        all.sort_by_key(|s| s.expires);
        let mut now = 0;
        while let Some(next) = t.next_expiry() {
            assert_eq!(Some(next), all.first().map(|s| s.expires));
            let n = t.expire(next);
            assert_eq!(n, all.iter().take_while(|s| s.expires <= next).count());
            all.drain(..n);
            now += 1;
            if now % 16 == 0 {
                t.check();
            }
        }
        assert!(all.is_empty());
        t.check();
    }

    #[test]
    fn next_expiry_is_exact_through_updates_and_removals() {
        let mut t = table(lim(100, 0, 128));
        let h1 = t.insert(udp(c6(1, 1), p4(1, 1), r4(1, 1), 30)).unwrap();
        let h2 = t.insert(udp(c6(2, 1), p4(1, 2), r4(1, 1), 20)).unwrap();
        let h3 = t.insert(udp(c6(3, 1), p4(1, 3), r4(1, 1), 40)).unwrap();
        assert_eq!(t.next_expiry(), Some(at(20)));
        t.remove(h2);
        assert_eq!(t.next_expiry(), Some(at(30)));
        t.update(h3, TcpState::None, at(10));
        assert_eq!(t.next_expiry(), Some(at(10)));
        t.update(h3, TcpState::None, at(35));
        assert_eq!(t.next_expiry(), Some(at(30)));
        t.update(h1, TcpState::None, at(36));
        assert_eq!(t.next_expiry(), Some(at(35)));
        t.check();
    }

    #[test]
    fn dynamic_bib_goes_with_last_session_static_stays() {
        let mut t = table(lim(100, 0, 128));
        let dynb = Bib {
            proto: Proto::Udp,
            v6: c6(1, 1),
            v4: p4(1, 1),
            is_static: false,
        };
        let statb = Bib {
            proto: Proto::Udp,
            v6: c6(2, 1),
            v4: p4(1, 2),
            is_static: true,
        };
        t.add_bib(dynb).unwrap();
        t.add_bib(statb).unwrap();
        let a1 = t.insert(udp(dynb.v6, dynb.v4, r4(1, 1), 10)).unwrap();
        let a2 = t.insert(udp(dynb.v6, dynb.v4, r4(2, 1), 20)).unwrap();
        t.insert(udp(statb.v6, statb.v4, r4(1, 1), 10)).unwrap();
        t.remove(a1);
        assert!(t.bib_by_v4(Proto::Udp, dynb.v4).is_some(), "one session left");
        t.remove(a2);
        assert_eq!(t.bib_by_v4(Proto::Udp, dynb.v4), None);
        assert_eq!(t.expire(at(10)), 1);
        assert_eq!(t.bib_by_v4(Proto::Udp, statb.v4), Some(statb));
        assert_eq!((t.session_count(), t.bib_count()), (0, 1));
        // A static entry takes new sessions after that.
        t.insert(udp(statb.v6, statb.v4, r4(3, 1), 30)).unwrap();
        t.check();
    }

    #[test]
    fn dynamic_bib_without_sessions_goes_at_next_expire() {
        let mut t = table(lim(100, 0, 128));
        let b = Bib {
            proto: Proto::Icmp,
            v6: c6(1, 7),
            v4: p4(1, 7),
            is_static: false,
        };
        t.add_bib(b).unwrap();
        t.check();
        assert_eq!(t.expire(at(1)), 0);
        assert_eq!((t.bib_count(), t.bib_by_v6(Proto::Icmp, b.v6)), (0, None));
        // With a session it stays until the session goes.
        t.add_bib(b).unwrap();
        t.insert(sess(Proto::Icmp, b.v6, b.v4, r4(1, 7), 60)).unwrap();
        t.expire(at(2));
        assert_eq!(t.bib_count(), 1);
        t.expire(at(60));
        assert_eq!(t.bib_count(), 0);
        t.check();
    }

    #[test]
    fn remove_bib_removes_its_sessions() {
        let mut t = table(lim(100, 0, 128));
        let b = Bib {
            proto: Proto::Tcp,
            v6: c6(1, 1),
            v4: p4(1, 1),
            is_static: true,
        };
        t.add_bib(b).unwrap();
        let mut hs = Vec::new();
        for i in 0..5 {
            hs.push(
                t.insert(sess(Proto::Tcp, b.v6, b.v4, r4(i % 2, u16::from(i)), 100))
                    .unwrap(),
            );
        }
        let other = t.insert(sess(Proto::Tcp, c6(2, 1), p4(1, 2), r4(0, 0), 100)).unwrap();
        assert!(t.remove_bib(Proto::Tcp, b.v4));
        assert!(hs.iter().all(|h| t.try_get(*h).is_none()));
        assert!(!t.has_session_with(Proto::Tcp, b.v4, r4(0, 0).addr));
        assert_eq!((t.session_count(), t.bib_count()), (1, 1));
        assert!(t.try_get(other).is_some());
        assert!(!t.remove_bib(Proto::Tcp, b.v4));
        t.check();
    }

    #[test]
    fn table_full_and_restored_on_expiry() {
        let mut t = table(lim(3, 0, 128));
        for i in 0..3 {
            t.insert(udp(c6(i, 1), p4(1, i), r4(1, 1), 10 + u64::from(i))).unwrap();
        }
        let s = udp(c6(9, 1), p4(1, 9), r4(1, 1), 50);
        assert_eq!(t.insert(s), Err(InsertError::TableFull { max: 3 }));
        // BIB entries count too.
        let b = Bib {
            proto: Proto::Udp,
            v6: s.v6,
            v4: s.v4,
            is_static: true,
        };
        assert_eq!(t.add_bib(b), Err(InsertError::TableFull { max: 3 }));
        assert_eq!((t.session_count(), t.bib_count()), (3, 3));
        assert_eq!(t.expire(at(10)), 1);
        t.insert(s).unwrap();
        assert_eq!(
            t.insert(udp(c6(8, 1), p4(1, 8), r4(1, 1), 50)),
            Err(InsertError::TableFull { max: 3 })
        );
        t.check();
    }

    #[test]
    fn per_address_quota_restored_on_expiry_and_remove() {
        let mut t = table(lim(100, 2, 128));
        let h = t.insert(udp(c6(1, 1), p4(1, 1), r4(1, 1), 10)).unwrap();
        t.insert(udp(c6(1, 2), p4(1, 2), r4(1, 1), 20)).unwrap();
        let e = t.insert(udp(c6(1, 3), p4(1, 3), r4(1, 1), 20));
        assert_eq!(
            e,
            Err(InsertError::ClientQuota {
                client: c6(1, 0).addr,
                max: 2
            })
        );
        // Another address is another client.
        t.insert(udp(c6(2, 3), p4(1, 3), r4(1, 1), 20)).unwrap();
        t.check();
        t.remove(h);
        t.insert(udp(c6(1, 4), p4(1, 4), r4(1, 1), 30)).unwrap();
        assert!(t.insert(udp(c6(1, 5), p4(1, 5), r4(1, 1), 30)).is_err());
        assert_eq!(t.expire(at(20)), 2);
        t.insert(udp(c6(1, 5), p4(1, 5), r4(1, 1), 30)).unwrap();
        t.check();
    }

    #[test]
    fn per_prefix_quota() {
        let mut t = table(lim(100, 2, 64));
        let a = Taddr6 {
            addr: "2001:db8:0:1::a".parse().unwrap(),
            port: 1,
        };
        let b = Taddr6 {
            addr: "2001:db8:0:1::b".parse().unwrap(),
            port: 1,
        };
        let c = Taddr6 {
            addr: "2001:db8:0:2::a".parse().unwrap(),
            port: 1,
        };
        t.insert(udp(a, p4(1, 1), r4(1, 1), 10)).unwrap();
        t.insert(udp(b, p4(1, 2), r4(1, 1), 10)).unwrap();
        let e = t
            .insert(udp(Taddr6 { port: 2, ..a }, p4(1, 3), r4(1, 1), 10))
            .unwrap_err();
        let client: Ipv6Addr = "2001:db8:0:1::".parse().unwrap();
        assert_eq!(e, InsertError::ClientQuota { client, max: 2 });
        t.insert(udp(c, p4(1, 4), r4(1, 1), 10)).unwrap();
        t.check();
        assert_eq!(t.expire(at(10)), 3);
        assert_eq!(t.clients.len, 0);
        t.check();
    }

    #[test]
    fn set_limits_recounts_clients() {
        let mut t = table(lim(100, 0, 128));
        for i in 0..4 {
            t.insert(udp(c6(1, i), p4(1, i), r4(1, 1), 10)).unwrap();
        }
        t.set_limits(lim(100, 4, 128));
        t.check();
        assert!(matches!(
            t.insert(udp(c6(1, 9), p4(1, 9), r4(1, 1), 10)),
            Err(InsertError::ClientQuota { .. })
        ));
        t.set_limits(lim(4, 0, 128));
        t.check();
        assert_eq!(
            t.insert(udp(c6(1, 9), p4(1, 9), r4(1, 1), 10)),
            Err(InsertError::TableFull { max: 4 })
        );
        t.set_limits(lim(5, 5, 0));
        t.check();
        t.insert(udp(c6(2, 9), p4(1, 9), r4(1, 1), 10)).unwrap();
        // Full and at the quota (every client is one under /0): the quota
        // is reported, it is checked first.
        assert!(matches!(
            t.insert(udp(c6(3, 9), p4(1, 10), r4(1, 1), 10)),
            Err(InsertError::ClientQuota { .. })
        ));
        t.check();
    }

    #[test]
    fn has_session_with_any_port() {
        let mut t = table(lim(100, 0, 128));
        let (v6, v4) = (c6(1, 1), p4(1, 1));
        assert!(!t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
        let a = t.insert(udp(v6, v4, r4(1, 53), 10)).unwrap();
        let b = t.insert(udp(v6, v4, r4(2, 53), 10)).unwrap();
        let c = t.insert(udp(v6, v4, r4(1, 54), 20)).unwrap();
        let d = t.insert(udp(v6, v4, r4(1, 55), 30)).unwrap();
        assert!(t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
        assert!(t.has_session_with(Proto::Udp, v4, r4(2, 0).addr));
        assert!(!t.has_session_with(Proto::Udp, v4, r4(3, 0).addr));
        assert!(!t.has_session_with(Proto::Tcp, v4, r4(1, 0).addr));
        assert!(!t.has_session_with(Proto::Udp, p4(1, 2), r4(1, 0).addr));
        t.check();
        // Whichever member the index holds, removing members one by one keeps
        // the answer right.
        t.remove(a);
        assert!(t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
        t.remove(b);
        assert!(!t.has_session_with(Proto::Udp, v4, r4(2, 0).addr));
        t.check();
        assert_eq!(t.expire(at(20)), 1);
        assert!(t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
        assert!(t.try_get(c).is_none());
        t.remove(d);
        assert!(!t.has_session_with(Proto::Udp, v4, r4(1, 0).addr));
        t.check();
    }

    #[test]
    fn sessions_due_for_expiry_are_not_returned() {
        let mut t = table(lim(100, 0, 128));
        let s1 = udp(c6(1, 1), p4(1, 1), r4(1, 1), 100);
        let s2 = udp(c6(1, 1), p4(1, 1), r4(1, 2), 100);
        let h1 = t.insert(s1).unwrap();
        t.insert(s2).unwrap();
        t.expire(at(50));
        // Set into the past (at or before the last expire's now).
        t.update(h1, TcpState::None, at(50));
        assert_eq!(t.find_v6(Proto::Udp, s1.v6, s1.remote), None);
        assert_eq!(t.find_v4(Proto::Udp, s1.v4, s1.remote), None);
        assert!(
            t.has_session_with(Proto::Udp, s1.v4, s1.remote.addr),
            "s2 has the same address"
        );
        let h2 = t.handle_v6(&s2);
        t.update(h2, TcpState::None, at(40));
        assert!(!t.has_session_with(Proto::Udp, s1.v4, s1.remote.addr));
        assert_eq!(t.get(h1).expires, at(50), "still readable through its handle");
        assert_eq!(t.next_expiry(), Some(at(40)));
        assert_eq!(t.expire(at(50)), 2);
        t.check();
    }

    #[test]
    fn stale_handles_are_harmless() {
        let mut t = table(lim(100, 0, 128));
        let s = udp(c6(1, 1), p4(1, 1), r4(1, 1), 100);
        let h = t.insert(s).unwrap();
        t.remove(h);
        assert_eq!(t.get(h), STALE_SESSION);
        assert_eq!(t.try_get(h), None);
        // The slot is reused by another session: the old handle still misses.
        let s2 = udp(c6(2, 1), p4(1, 2), r4(1, 1), 200);
        let h2 = t.insert(s2).unwrap();
        assert_eq!(h2.slot, h.slot);
        assert_ne!(h2, h);
        t.update(h, TcpState::Trans, at(1));
        t.remove(h);
        assert_eq!(t.get(h2), s2);
        // A handle from another table, out of range.
        let big = SessionHandle { slot: 1 << 20, gen: 0 };
        assert_eq!(t.get(big), STALE_SESSION);
        t.update(big, TcpState::None, at(0));
        t.remove(big);
        assert_eq!(t.session_count(), 1);
        t.check();
    }

    #[test]
    fn states_and_protocols_round_trip() {
        let mut t = table(lim(100, 0, 128));
        for (i, st) in STATES.iter().enumerate() {
            for proto in [Proto::Tcp, Proto::Udp, Proto::Icmp] {
                let s = Session {
                    state: *st,
                    ..sess(proto, c6(i as u16, 1), p4(1, i as u16), r4(1, 1), 5)
                };
                let h = t.insert(s).unwrap();
                assert_eq!(t.get(h), s);
            }
        }
        assert_eq!(t.session_count(), 27);
        assert_eq!(sessions(&t).len(), 27);
        t.check();
    }

    #[test]
    fn grows_and_stays_consistent() {
        let mut t = table(lim(1 << 20, 0, 128));
        let mut hs = Vec::new();
        for i in 0..5000u32 {
            let s = udp(
                c6((i % 700) as u16, i as u16),
                p4((i % 3) as u8, i as u16),
                r4((i % 5) as u8, 1),
                u64::from(i),
            );
            hs.push(t.insert(s).unwrap());
        }
        assert!(t.capacity() >= 5000);
        t.check();
        for (i, h) in hs.iter().enumerate() {
            assert_eq!(t.get(*h).expires, at(i as u64));
        }
        assert_eq!(t.expire(at(2499)), 2500);
        t.check();
        assert_eq!(t.next_expiry(), Some(at(2500)));
    }

    #[test]
    fn with_capacity_fits_the_memory_budget() {
        let n = 100_000;
        let mut t = DefaultTable::with_capacity(lim(1 << 20, 0, 128), n);
        let before = t.heap_bytes();
        for i in 0..n as u32 {
            let v6 = Taddr6 {
                addr: Ipv6Addr::from_bits(0x2001_0db8 << 96 | u128::from(i)),
                port: 1,
            };
            let v4 = p4((i >> 16) as u8, i as u16);
            t.insert(udp(v6, v4, r4(1, 1), 10)).unwrap();
        }
        assert_eq!(t.heap_bytes(), before, "no growth within the capacity");
        let per = t.heap_bytes() as f64 / n as f64;
        assert!(per <= 128.0, "{per} bytes per session");
    }

    #[test]
    fn seeds_change_the_layout_not_the_behaviour() {
        for seed in [0, 1, u64::MAX] {
            let mut t = DefaultTable::with_seed(lim(100, 0, 128), 8, seed);
            for i in 0..50 {
                t.insert(udp(c6(i, 1), p4(1, i), r4(1, 1), 10)).unwrap();
            }
            assert_eq!(t.session_count(), 50);
            t.check();
        }
        assert_eq!(client_mask(0), 0);
        assert_eq!(client_mask(200), u128::MAX);
    }

    #[test]
    fn zero_limits_refuse_everything() {
        let mut t = table(lim(0, 0, 128));
        let s = udp(c6(1, 1), p4(1, 1), r4(1, 1), 10);
        assert_eq!(t.insert(s), Err(InsertError::TableFull { max: 0 }));
        let b = Bib {
            proto: Proto::Udp,
            v6: s.v6,
            v4: s.v4,
            is_static: true,
        };
        assert_eq!(t.add_bib(b), Err(InsertError::TableFull { max: 0 }));
        assert_eq!(t.expire(at(100)), 0);
        t.check();
    }

    // --- model test -------------------------------------------------------------

    /// The obvious implementation, to compare against.
    #[derive(Default)]
    struct Model {
        max: usize,
        per: usize,
        mask: u128,
        bibs: Vec<Bib>,
        sessions: Vec<(usize, Session)>,
        floor: Option<u64>,
        next_id: usize,
    }

    fn same_key(a: &Session, b: &Session) -> bool {
        a.proto == b.proto && a.v6 == b.v6 && a.remote == b.remote
    }

    impl Model {
        fn alive(&self, s: &Session) -> bool {
            self.floor.is_none_or(|f| s.expires.0 > f)
        }
        fn bib4(&self, proto: Proto, v4: Taddr4) -> Option<usize> {
            self.bibs.iter().position(|b| b.proto == proto && b.v4 == v4)
        }
        fn bib6(&self, proto: Proto, v6: Taddr6) -> Option<usize> {
            self.bibs.iter().position(|b| b.proto == proto && b.v6 == v6)
        }
        fn add_bib(&mut self, bib: Bib) -> Result<(), InsertError> {
            match (self.bib4(bib.proto, bib.v4), self.bib6(bib.proto, bib.v6)) {
                (Some(x), Some(y)) if x == y => {
                    self.bibs[x].is_static |= bib.is_static;
                    Ok(())
                }
                (Some(_), _) => Err(InsertError::V4InUse {
                    proto: bib.proto,
                    v4: bib.v4,
                }),
                (None, Some(_)) => Err(InsertError::V6InUse {
                    proto: bib.proto,
                    v6: bib.v6,
                }),
                (None, None) if self.bibs.len() >= self.max => Err(InsertError::TableFull { max: self.max }),
                (None, None) => {
                    self.bibs.push(bib);
                    Ok(())
                }
            }
        }
        /// Ok(id) of the new or updated session.
        fn insert(&mut self, s: Session) -> Result<usize, InsertError> {
            let b = self.bib4(s.proto, s.v4);
            match b {
                Some(b) if self.bibs[b].v6 != s.v6 => {
                    return Err(InsertError::V4InUse {
                        proto: s.proto,
                        v4: s.v4,
                    })
                }
                Some(_) => {
                    if let Some((id, x)) = self.sessions.iter_mut().find(|(_, x)| same_key(x, &s)) {
                        x.state = s.state;
                        x.expires = s.expires;
                        return Ok(*id);
                    }
                }
                None if self.bib6(s.proto, s.v6).is_some() => {
                    return Err(InsertError::V6InUse {
                        proto: s.proto,
                        v6: s.v6,
                    })
                }
                None => {}
            }
            if self.per > 0 {
                let key = s.v6.addr.to_bits() & self.mask;
                let n = self
                    .sessions
                    .iter()
                    .filter(|(_, x)| x.v6.addr.to_bits() & self.mask == key)
                    .count();
                if n >= self.per {
                    return Err(InsertError::ClientQuota {
                        client: Ipv6Addr::from_bits(key),
                        max: self.per,
                    });
                }
            }
            if self.sessions.len() >= self.max {
                return Err(InsertError::TableFull { max: self.max });
            }
            if b.is_none() {
                if self.bibs.len() >= self.max {
                    return Err(InsertError::TableFull { max: self.max });
                }
                self.bibs.push(Bib {
                    proto: s.proto,
                    v6: s.v6,
                    v4: s.v4,
                    is_static: false,
                });
            }
            self.next_id += 1;
            self.sessions.push((self.next_id, s));
            Ok(self.next_id)
        }
        fn remove_at(&mut self, i: usize, drop_bib: bool) {
            let (_, s) = self.sessions.remove(i);
            if drop_bib && !self.sessions.iter().any(|(_, x)| x.proto == s.proto && x.v4 == s.v4) {
                if let Some(b) = self.bib4(s.proto, s.v4) {
                    if !self.bibs[b].is_static {
                        self.bibs.remove(b);
                    }
                }
            }
        }
        fn remove_bib(&mut self, proto: Proto, v4: Taddr4) -> bool {
            let Some(b) = self.bib4(proto, v4) else { return false };
            self.sessions.retain(|(_, x)| !(x.proto == proto && x.v4 == v4));
            self.bibs.remove(b);
            true
        }
        fn expire(&mut self, now: u64) -> usize {
            self.floor = Some(now);
            let mut n = 0;
            while let Some(i) = self.sessions.iter().position(|(_, x)| x.expires.0 <= now) {
                self.remove_at(i, true);
                n += 1;
            }
            let sessions = &self.sessions;
            self.bibs
                .retain(|b| b.is_static || sessions.iter().any(|(_, x)| x.proto == b.proto && x.v4 == b.v4));
            n
        }
        fn find_v6(&self, proto: Proto, v6: Taddr6, remote: Taddr4) -> Option<Session> {
            let s = self
                .sessions
                .iter()
                .find(|(_, x)| x.proto == proto && x.v6 == v6 && x.remote == remote);
            s.map(|(_, x)| *x).filter(|x| self.alive(x))
        }
        fn find_v4(&self, proto: Proto, v4: Taddr4, remote: Taddr4) -> Option<Session> {
            let s = self
                .sessions
                .iter()
                .find(|(_, x)| x.proto == proto && x.v4 == v4 && x.remote == remote);
            s.map(|(_, x)| *x).filter(|x| self.alive(x))
        }
        fn has_session_with(&self, proto: Proto, v4: Taddr4, remote: Ipv4Addr) -> bool {
            self.sessions
                .iter()
                .any(|(_, x)| x.proto == proto && x.v4 == v4 && x.remote.addr == remote && self.alive(x))
        }
    }

    #[derive(Debug, Clone)]
    enum Op {
        AddBib {
            proto: u8,
            c: u8,
            cport: u8,
            p: u8,
            pport: u8,
            stat: bool,
        },
        RemoveBib {
            proto: u8,
            p: u8,
            pport: u8,
        },
        Insert {
            proto: u8,
            c: u8,
            cport: u8,
            use_bib: bool,
            p: u8,
            pport: u8,
            r: u8,
            rport: u8,
            state: u8,
            exp: u8,
        },
        Update {
            k: usize,
            state: u8,
            exp: u8,
        },
        Remove {
            k: usize,
        },
        OldHandle {
            k: usize,
            remove: bool,
            exp: u8,
        },
        Expire {
            now: u8,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            2 => (0..3u8, 0..4u8, 0..3u8, 0..2u8, 0..3u8, any::<bool>())
                .prop_map(|(proto, c, cport, p, pport, stat)| Op::AddBib { proto, c, cport, p, pport, stat }),
            1 => (0..3u8, 0..2u8, 0..3u8).prop_map(|(proto, p, pport)| Op::RemoveBib { proto, p, pport }),
            8 => (0..3u8, 0..4u8, 0..3u8, any::<bool>(), 0..2u8, 0..3u8, 0..3u8, 0..2u8, 0..9u8, 0..100u8)
                .prop_map(|(proto, c, cport, use_bib, p, pport, r, rport, state, exp)| Op::Insert {
                    proto, c, cport, use_bib, p, pport, r, rport, state, exp
                }),
            3 => (any::<usize>(), 0..9u8, 0..100u8).prop_map(|(k, state, exp)| Op::Update { k, state, exp }),
            1 => any::<usize>().prop_map(|k| Op::Remove { k }),
            1 => (any::<usize>(), any::<bool>(), 0..100u8).prop_map(|(k, remove, exp)| Op::OldHandle { k, remove, exp }),
            2 => (0..100u8).prop_map(|now| Op::Expire { now }),
        ]
    }

    const PROTOS: [Proto; 3] = [Proto::Tcp, Proto::Udp, Proto::Icmp];

    fn client(c: u8, port: u8) -> Taddr6 {
        // Clients 0 and 1 share a /64, 2 and 3 another.
        let net = u128::from(c / 2) << 64;
        Taddr6 {
            addr: Ipv6Addr::from_bits(0x2001_0db8 << 96 | net | u128::from(c % 2 + 1)),
            port: u16::from(port),
        }
    }

    fn compare(t: &DefaultTable, m: &Model) {
        t.check();
        let mut ms: Vec<Session> = m.sessions.iter().map(|(_, s)| *s).collect();
        ms.sort_by_key(skey);
        assert_eq!(sessions(t), ms);
        let mut mb = m.bibs.clone();
        mb.sort_by_key(bkey);
        assert_eq!(bibs(t), mb);
        assert_eq!(t.session_count(), m.sessions.len());
        assert_eq!(t.bib_count(), m.bibs.len());
        assert_eq!(t.next_expiry(), ms.iter().map(|s| s.expires).min());
        for proto in PROTOS {
            for p in 0..2 {
                for pport in 0..3 {
                    let v4 = p4(p, pport);
                    assert_eq!(t.bib_by_v4(proto, v4), m.bib4(proto, v4).map(|i| m.bibs[i]));
                    for r in 0..3 {
                        assert_eq!(
                            t.has_session_with(proto, v4, r4(r, 0).addr),
                            m.has_session_with(proto, v4, r4(r, 0).addr)
                        );
                        for rport in 0..2 {
                            let h = t.find_v4(proto, v4, r4(r, rport)).map(|h| t.get(h));
                            assert_eq!(h, m.find_v4(proto, v4, r4(r, rport)));
                        }
                    }
                }
            }
            for c in 0..4 {
                for cport in 0..3 {
                    let v6 = client(c, cport);
                    assert_eq!(t.bib_by_v6(proto, v6), m.bib6(proto, v6).map(|i| m.bibs[i]));
                    for r in 0..3 {
                        for rport in 0..2 {
                            let h = t.find_v6(proto, v6, r4(r, rport)).map(|h| t.get(h));
                            assert_eq!(h, m.find_v6(proto, v6, r4(r, rport)));
                        }
                    }
                }
            }
        }
    }

    fn run(limits: TableLimits, cap: usize, no_heap: bool, ops: Vec<Op>) {
        let mut t = DefaultTable::with_seed(limits, cap, 7);
        t.no_heap = no_heap;
        let mut m = Model {
            max: limits.max_sessions,
            per: limits.max_sessions_per_client,
            mask: client_mask(limits.client_prefix_len),
            ..Model::default()
        };
        let mut handles: Vec<(usize, SessionHandle)> = Vec::new();
        for op in ops {
            match op {
                Op::AddBib {
                    proto,
                    c,
                    cport,
                    p,
                    pport,
                    stat,
                } => {
                    let b = Bib {
                        proto: PROTOS[proto as usize],
                        v6: client(c, cport),
                        v4: p4(p, pport.into()),
                        is_static: stat,
                    };
                    assert_eq!(t.add_bib(b), m.add_bib(b));
                }
                Op::RemoveBib { proto, p, pport } => {
                    let (proto, v4) = (PROTOS[proto as usize], p4(p, pport.into()));
                    assert_eq!(t.remove_bib(proto, v4), m.remove_bib(proto, v4));
                }
                Op::Insert {
                    proto,
                    c,
                    cport,
                    use_bib,
                    p,
                    pport,
                    r,
                    rport,
                    state,
                    exp,
                } => {
                    let proto = PROTOS[proto as usize];
                    let v6 = client(c, cport);
                    let v4 = match m.bib6(proto, v6) {
                        Some(b) if use_bib => m.bibs[b].v4,
                        _ => p4(p, pport.into()),
                    };
                    let s = Session {
                        proto,
                        v6,
                        v4,
                        remote: r4(r, rport.into()),
                        state: STATES[state as usize],
                        expires: Instant(exp.into()),
                    };
                    let got = t.insert(s);
                    let want = m.insert(s);
                    assert_eq!(got.is_ok(), want.is_ok(), "{got:?} {want:?}");
                    match (got, want) {
                        (Ok(h), Ok(id)) => {
                            assert_eq!(t.get(h), s);
                            handles.push((id, h));
                        }
                        (Err(a), Err(b)) => assert_eq!(a, b),
                        _ => unreachable!(),
                    }
                }
                Op::Update { k, state, exp } if !m.sessions.is_empty() => {
                    let i = k % m.sessions.len();
                    let h = t.handle_v6(&m.sessions[i].1);
                    let s = &mut m.sessions[i].1;
                    s.state = STATES[state as usize];
                    s.expires = Instant(exp.into());
                    t.update(h, s.state, s.expires);
                    assert_eq!(t.get(h), *s);
                }
                Op::Remove { k } if !m.sessions.is_empty() => {
                    let i = k % m.sessions.len();
                    let h = t.handle_v6(&m.sessions[i].1);
                    m.remove_at(i, true);
                    t.remove(h);
                    assert_eq!(t.get(h), STALE_SESSION);
                }
                Op::OldHandle { k, remove, exp } if !handles.is_empty() => {
                    let (id, h) = handles[k % handles.len()];
                    match m.sessions.iter().position(|(x, _)| *x == id) {
                        Some(i) => {
                            if remove {
                                m.remove_at(i, true);
                            } else {
                                m.sessions[i].1.expires = Instant(exp.into());
                            }
                        }
                        None => assert_eq!(t.get(h), STALE_SESSION),
                    }
                    if remove {
                        t.remove(h);
                    } else {
                        t.update(h, t.get(h).state, Instant(exp.into()));
                    }
                }
                Op::Expire { now } => {
                    assert_eq!(t.expire(Instant(now.into())), m.expire(now.into()));
                }
                _ => {}
            }
            compare(&t, &m);
        }
    }

    fn limits() -> impl Strategy<Value = TableLimits> {
        (
            prop_oneof![Just(2usize), Just(5), Just(40)],
            prop_oneof![Just(0usize), Just(1), Just(3)],
            prop_oneof![Just(128u8), Just(64)],
        )
            .prop_map(|(max, per, plen)| lim(max, per, plen))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
        #[test]
        fn matches_the_model(limits in limits(), cap in prop_oneof![Just(0usize), Just(3), Just(64)],
                             no_heap in any::<bool>(), ops in proptest::collection::vec(op(), 1..80)) {
            run(limits, cap, no_heap, ops);
        }
    }
}
