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
//!   new lane. With a clock that does not go back, every timeout class (UDP,
//!   TCP established, TCP transitory, ICMP, ...) keeps to one lane, so a
//!   handful of lanes suffice; if all 32 are taken, the session is placed by
//!   walking back from the tail of the lane whose tail is nearest above it
//!   (still correct, only slower). [`SessionTable::update`] unlinks and
//!   relinks, so expiries may move later or earlier. [`SessionTable::expire`]
//!   pops lane heads: O(lanes + removed). [`SessionTable::next_expiry`] is
//!   **exact**: the minimum of the lane heads, O(lanes).
//! - **Caps.** `max_sessions` is checked on insert; the per-client quota uses
//!   a small open-addressing map from the masked client address to its
//!   session count, kept only when a quota is configured.
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
//! about 123 bytes per session in a table built by
//! [`DefaultTable::with_capacity`] for its size. Slabs and indexes grow by
//! doubling: a table grown by inserts uses up to twice that just after a
//! growth step, and the step itself rebuilds the session (or BIB) indexes
//! in one go (a latency spike proportional to the table's size), so size
//! the table up front for the packet path. [`DefaultTable::heap_bytes`]
//! reports the figure. The quota map adds 24 bytes per client with
//! sessions, at a load of at most one half.
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
    /// 2^20 (1,048,576) sessions, about 128 MiB at the sizes of the module
    /// documentation; no per-client quota; clients are addresses.
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
}

const EMPTY_LANE: Lane = Lane {
    head: NONE,
    tail: NONE,
    head_exp: 0,
    tail_exp: 0,
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
        let h = self.keys.bib6(proto, v6.addr, v6.port);
        let bibs = &self.bibs;
        self.bib6.find(h, |c| {
            bibs.get(c as usize)
                .is_some_and(|b| b.v6 == v6.addr && b.v6_port == v6.port && b.proto() == proto)
        })
    }

    fn find_bib4(&self, proto: Proto, v4: Taddr4) -> Option<u32> {
        let h = self.keys.bib4(proto, v4.addr, v4.port);
        let bibs = &self.bibs;
        self.bib4.find(h, |c| {
            bibs.get(c as usize)
                .is_some_and(|b| b.v4 == v4.addr && b.v4_port == v4.port && b.proto() == proto)
        })
    }

    /// Adds a BIB record; [`DefaultTable::bib_room`] must have succeeded.
    fn new_bib(&mut self, proto: Proto, v6: Taddr6, v4: Taddr4, is_static: bool) -> u32 {
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
        self.bib6.insert(self.keys.bib6(proto, v6.addr, v6.port), b);
        self.bib4.insert(self.keys.bib4(proto, v4.addr, v4.port), b);
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
        let (mut best, mut best_t) = (usize::MAX, 0u64);
        let mut free = usize::MAX;
        let (mut above, mut above_t) = (usize::MAX, u64::MAX);
        for (i, l) in self.lanes[..self.n_lanes].iter().enumerate() {
            if l.head == NONE {
                if free == usize::MAX {
                    free = i;
                }
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
            self.insert_sorted(above, slot, e);
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
        } else {
            self.recs[tail as usize].enext = slot;
        }
        lane.tail = slot;
        lane.tail_exp = e;
    }

    /// Fallback when every lane is taken and none fits: places `slot` in
    /// lane `li` (whose tail expires after `e`) by walking back from its
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

    fn unlink_exp(&mut self, slot: u32) {
        let r = self.recs[slot as usize];
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
        let member = self.adf.find(ha, |c| {
            recs.get(c as usize).is_some_and(|o| c != slot && o.same_group(&rec))
        });
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
        // Still in order where it is? Then only the lane's cached ends move.
        let after_prev = r.eprev == NONE || self.recs[r.eprev as usize].expires <= e;
        let before_next = r.enext == NONE || e <= self.recs[r.enext as usize].expires;
        let li = usize::from(r.lane);
        if after_prev && before_next && li < MAX_LANES {
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
        let b4 = self.find_bib4(bib.proto, bib.v4);
        let b6 = self.find_bib6(bib.proto, bib.v6);
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
                let b = self.new_bib(bib.proto, bib.v6, bib.v4, bib.is_static);
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
        let bib = match self.find_bib4(s.proto, s.v4) {
            Some(b) => {
                let r = &self.bibs[b as usize];
                if r.v6 != s.v6.addr || r.v6_port != s.v6.port {
                    return Err(InsertError::V4InUse {
                        proto: s.proto,
                        v4: s.v4,
                    });
                }
                if let Some(x) = self.find_v6_slot(s.proto, s.v6, s.remote) {
                    let h = self.handle(x);
                    self.update(h, s.state, s.expires);
                    return Ok(h);
                }
                Some(b)
            }
            None if self.find_bib6(s.proto, s.v6).is_some() => {
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
        if self.s_len >= self.max {
            return Err(full);
        }
        let quota = self.quota();
        if quota > 0 {
            let key = s.v6.addr.to_bits() & self.client_mask;
            if self.clients.count(&self.keys, key) >= quota {
                return Err(InsertError::ClientQuota {
                    client: Ipv6Addr::from_bits(key),
                    max: quota,
                });
            }
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
            None => self.new_bib(s.proto, s.v6, s.v4, false),
        };
        let slot = self.add_session(&s, b);
        Ok(self.handle(slot))
    }

    /// Sets state and expiry; ignores a stale handle.
    fn update(&mut self, h: SessionHandle, state: TcpState, expires: Instant) {
        let Some(i) = self.slot_of(h) else { return };
        let r = &mut self.recs[i];
        r.ps = pack(r.proto(), state);
        self.set_expiry(h.slot, expires.0);
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
        let orphans = core::mem::take(&mut self.orphans);
        for &b in &orphans {
            if let Some(r) = self.bibs.get(b as usize) {
                if r.live() && !r.is_static() && r.head == NONE {
                    self.drop_bib(b);
                }
            }
        }
        // Keep the allocation.
        self.orphans = orphans;
        self.orphans.clear();
        n
    }

    /// Exact: the smallest `expires` of all sessions (O(lanes)).
    fn next_expiry(&self) -> Option<Instant> {
        self.lanes[..self.n_lanes]
            .iter()
            .filter(|l| l.head != NONE)
            .map(|l| Instant(l.head_exp))
            .min()
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
