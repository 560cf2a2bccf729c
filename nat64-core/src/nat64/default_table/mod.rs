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

#[cfg(doc)]
use super::table::{InsertError, SessionTable};
use super::table::{Instant, Proto, Session, Taddr4, Taddr6, TcpState};

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

mod expiry;
mod hash;
mod index;
mod quota;
mod records;
mod session_table;
mod slab;
#[cfg(test)]
mod tests;

use expiry::{HeapEntry, Lane, EMPTY_LANE};
use hash::{default_seed, Keys};
use index::Index;
use quota::{ClientSlot, Clients};
use records::{BibRec, Rec};

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
                        self.clients.incr(&self.keys, r.v6.addr.to_bits() & self.client_mask);
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
}
