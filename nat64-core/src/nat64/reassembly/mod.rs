//! Bounded IP fragment reassembly for the stateful NAT64.
//!
//! RFC 6146 section 3.4 (and section 5.1 for ICMP) has the stateful NAT64 look
//! up the transport identifiers of every packet, which only the first fragment
//! carries, so fragmented traffic is reassembled before translation (Jool leaves
//! this to Linux's `nf_defrag_ipv4` / `nf_defrag_ipv6`). [`Reassembler`] does
//! it without I/O and without a clock, following RFC 791 section 3.2 ("An
//! Example Reassembly Procedure") for IPv4 and RFC 8200 section 4.5 for IPv6,
//! with RFC 5722 (overlapping fragments drop the whole datagram) and RFC 6946
//! (atomic fragments are processed in isolation).
//!
//! # Memory
//!
//! Everything is allocated once, in [`Reassembler::new`]; a call to
//! [`Reassembler::push`] never allocates:
//!
//! - an arena of `max_bytes / BLOCK_SIZE` blocks of [`BLOCK_SIZE`] bytes, handed
//!   out from a free list. Every stored fragment (and the header of each
//!   datagram's first fragment) is a chain of blocks, so the bytes buffered can
//!   never exceed `max_bytes`: the arena *is* the bound;
//! - `max_datagrams` reassembly slots, indexed by an open-addressing hash table
//!   of twice that size and kept on a list ordered by deadline (the timeout is
//!   measured from each datagram's first-arriving fragment, RFC 8200 section
//!   4.5), so expiry is O(1) per expired datagram;
//! - `max_datagrams * max_fragments_per_datagram` fragment descriptors
//!   (8 bytes each), the sorted byte ranges used to detect overlaps;
//! - one output buffer of [`MAX_REASSEMBLED_LEN`] bytes that
//!   [`Reassembly::Complete`] borrows.
//!
//! When the arena or the slots run out, the fragment that needed them is
//! refused ([`ReassemblyDrop::MemoryFull`], [`ReassemblyDrop::TooManyDatagrams`])
//! rather than an older datagram evicted: eviction lets a flood of fresh
//! fragments push out every legitimate datagram before it completes, while
//! refusal keeps the datagrams already in progress and frees space as they
//! complete or time out (Linux made the same choice in 4.17). A fragment that
//! belongs to a datagram in progress but cannot be stored discards that whole
//! datagram, which can no longer complete and would only hold memory.
//!
//! # Time
//!
//! Only the caller's [`Instant`]s are used. [`Reassembler::push`] first expires
//! what has timed out, so a caller that never calls [`Reassembler::expire`]
//! still recovers the memory; [`Reassembler::next_expiry`] tells a timer-driven
//! caller when to call it. No ICMP Time Exceeded (code 1) is generated here: the
//! count comes back from [`Reassembler::expire`] and the stats.

use alloc::vec;
use alloc::vec::Vec;
use core::fmt;
use core::time::Duration;

use crate::checksum;
use crate::nat64::table::Instant;

mod parse;

use parse::{be16, parse_v4, parse_v6, Fragment, Parsed};

/// Size of one arena block. Each stored fragment wastes less than one block,
/// so the payload that fits in `max_bytes` is at least
/// `max_bytes - fragments * BLOCK_SIZE` (RFC 791 section 3.2 leaves the
/// buffer layout to the implementation).
pub const BLOCK_SIZE: usize = 256;

/// The longest packet [`Reassembly::Complete`] can return: an IPv6 header plus
/// the largest Payload Length (RFC 8200 section 3; an IPv4 Total Length is at
/// most 65 535, RFC 791 section 3.1).
pub const MAX_REASSEMBLED_LEN: usize = 40 + MAX_IP_LEN;

/// RFC 791 section 3.1 Total Length and RFC 8200 section 3 Payload Length are
/// 16-bit fields.
const MAX_IP_LEN: usize = 65_535;

/// Extension headers walked before the Fragment header (RFC 8200 section 4.1
/// orders at most Hop-by-Hop, Destination Options and Routing there; more is an
/// attack, not a packet).
const MAX_UNFRAGMENTABLE_HEADERS: usize = 8;

/// The most descriptors a datagram can use: a fragment starts on an 8-byte
/// boundary (RFC 791 section 3.1, RFC 8200 section 4.5) and is not empty.
const MAX_FRAGMENTS_CAP: usize = 65_536 / 8;

// "No block / no slot" in the index links.
const NONE: u32 = u32::MAX;

/// The bounds of a [`Reassembler`] (RFC 791 section 3.2 and RFC 8200 section
/// 4.5 leave the resources given to reassembly to the implementation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyLimits {
    /// Bytes of fragments (payload plus first-fragment headers) buffered at
    /// once, across all datagrams, rounded down to a multiple of
    /// [`BLOCK_SIZE`]: the bound on RFC 791 section 3.2's reassembly
    /// resources.
    pub max_bytes: usize,
    /// Datagrams being reassembled at once (RFC 791 section 3.2 buffers).
    pub max_datagrams: usize,
    /// How long after its first-arriving fragment a datagram is abandoned
    /// (RFC 8200 section 4.5: at most 60 s; RFC 791 section 3.2 recommends 15 s
    /// as the initial timer; Linux uses 30 s).
    pub timeout: Duration,
    /// Fragments one datagram may have; one more discards the datagram (a
    /// local bound: RFC 8200 section 4.5 sets none).
    pub max_fragments_per_datagram: usize,
    /// Seed for the datagram index hash. Fragment identifiers are chosen by
    /// the sender, so an embedder exposed to hostile traffic should pass a
    /// random value (the core has no randomness of its own). Collisions cost
    /// probe length, never correctness (RFC 8200 section 4.5 key).
    pub hash_seed: u64,
}

impl ReassemblyLimits {
    /// The default timeout, 15 s: the initial timer RFC 791 section 3.2
    /// recommends, well under the 60 s RFC 8200 section 4.5 allows, and short
    /// enough that a flood of never-completed datagrams releases its memory
    /// quickly (fragments of a live datagram arrive within milliseconds).
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
}

impl Default for ReassemblyLimits {
    /// 4 MiB, 1024 datagrams, [`ReassemblyLimits::DEFAULT_TIMEOUT`], 64
    /// fragments per datagram (a 65 535-byte datagram over a 1280-byte IPv6 MTU
    /// is 53 fragments; RFC 8200 section 5), seed 0.
    fn default() -> Self {
        ReassemblyLimits {
            max_bytes: 4 << 20,
            max_datagrams: 1024,
            timeout: Self::DEFAULT_TIMEOUT,
            max_fragments_per_datagram: 64,
            hash_seed: 0,
        }
    }
}

/// Counters of a [`Reassembler`]. The `dropped_*` and `duplicates` counters
/// count [`Reassembler::push`] calls that returned [`Reassembly::Dropped`] with
/// the matching reason (RFC 791 section 3.2 and RFC 8200 section 4.5 discard
/// silently; these make the discards visible); `timed_out` counts datagrams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReassemblyStats {
    /// Datagrams reassembled from two or more fragments (RFC 791 section 3.2,
    /// RFC 8200 section 4.5).
    pub completed: u64,
    /// IPv6 atomic fragments returned without their Fragment header (RFC 6946).
    pub atomic: u64,
    /// Datagrams abandoned by the timeout (RFC 8200 section 4.5).
    pub timed_out: u64,
    /// [`ReassemblyDrop::MemoryFull`] and [`ReassemblyDrop::TooManyDatagrams`]
    /// (RFC 791 section 3.2 resources exhausted).
    pub dropped_memory: u64,
    /// [`ReassemblyDrop::Overlap`] (RFC 5722 section 4).
    pub dropped_overlap: u64,
    /// [`ReassemblyDrop::TooManyFragments`] (RFC 8200 section 4.5 leaves the
    /// bound local).
    pub dropped_too_many: u64,
    /// [`ReassemblyDrop::TooBig`] (RFC 8200 section 4.5).
    pub dropped_too_big: u64,
    /// [`ReassemblyDrop::Malformed`] and [`ReassemblyDrop::Inconsistent`]
    /// (RFC 8200 section 4.5 discards).
    pub dropped_malformed: u64,
    /// [`ReassemblyDrop::Duplicate`] (RFC 8200 section 4.5).
    pub duplicates: u64,
    /// Datagrams being reassembled now (RFC 791 section 3.2 buffers in use).
    pub in_progress: usize,
    /// Arena bytes in use now (whole blocks), never above `max_bytes` (RFC 791
    /// section 3.2 buffers).
    pub bytes_buffered: usize,
}

/// Why a fragment was not kept (RFC 791 section 3.2, RFC 8200 section 4.5,
/// RFC 5722 section 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReassemblyDrop {
    /// It overlaps a fragment already held; the whole datagram was discarded
    /// (RFC 5722 section 4, RFC 8200 section 4.5).
    Overlap,
    /// An exact copy of a fragment already held; it was ignored and the
    /// datagram kept (RFC 8200 section 4.5 allows this).
    Duplicate,
    /// The datagram would exceed 65 535 bytes (RFC 8200 section 4.5, RFC 791
    /// section 3.1); the fragment, or at completion the datagram, was
    /// discarded.
    TooBig,
    /// The arena is full; the fragment, and the datagram it belongs to, were
    /// discarded (RFC 791 section 3.2 resources exhausted).
    MemoryFull,
    /// Every reassembly slot is in use; the fragment of a new datagram was
    /// refused (RFC 791 section 3.2 resources exhausted).
    TooManyDatagrams,
    /// The datagram reached `max_fragments_per_datagram`; it was discarded (a
    /// local bound, RFC 8200 section 4.5 sets none).
    TooManyFragments,
    /// Not a valid fragment: bad IPv4 header checksum, a non-final fragment
    /// whose length is not a multiple of 8 (RFC 8200 section 4.5), an empty
    /// fragment, a Total Length past the packet, a truncated Fragment header.
    Malformed,
    /// It contradicts the datagram's length: it ends past the final
    /// fragment's end, or is a second final fragment with another end (RFC 8200
    /// section 4.5); the whole datagram was discarded.
    Inconsistent,
}

impl ReassemblyDrop {
    /// A short name, for counters and logs (RFC 8200 section 4.5 reasons).
    pub const fn label(self) -> &'static str {
        match self {
            ReassemblyDrop::Overlap => "overlap",
            ReassemblyDrop::Duplicate => "duplicate",
            ReassemblyDrop::TooBig => "too_big",
            ReassemblyDrop::MemoryFull => "memory_full",
            ReassemblyDrop::TooManyDatagrams => "too_many_datagrams",
            ReassemblyDrop::TooManyFragments => "too_many_fragments",
            ReassemblyDrop::Malformed => "malformed",
            ReassemblyDrop::Inconsistent => "inconsistent",
        }
    }
    /// What happened and what a person can do about it (RFC 791 section 3.2,
    /// RFC 8200 section 4.5, RFC 5722 section 4).
    pub const fn explain(self) -> &'static str {
        match self {
            ReassemblyDrop::Overlap => {
                "the fragment overlaps one already received; RFC 5722 discards the whole datagram (an evasion \
                 attempt or a broken fragmenter)"
            }
            ReassemblyDrop::Duplicate => {
                "an exact copy of a fragment already received (duplicated in the network); ignored, the datagram \
                 is still being reassembled"
            }
            ReassemblyDrop::TooBig => {
                "the fragment's offset and length make the datagram longer than 65535 bytes; discarded as RFC 8200 \
                 section 4.5 asks (a ping-of-death style packet)"
            }
            ReassemblyDrop::MemoryFull => {
                "the reassembly buffer is full; raise max_bytes or lower the timeout if legitimate fragmented \
                 traffic hits this"
            }
            ReassemblyDrop::TooManyDatagrams => {
                "every reassembly slot is in use; raise max_datagrams or lower the timeout if legitimate \
                 fragmented traffic hits this"
            }
            ReassemblyDrop::TooManyFragments => {
                "the datagram has more fragments than max_fragments_per_datagram allows; tiny fragments are \
                 usually an attack"
            }
            ReassemblyDrop::Malformed => {
                "not a valid fragment: bad IPv4 header checksum, empty, a non-final fragment not a multiple of 8 \
                 bytes long, or a length past the packet"
            }
            ReassemblyDrop::Inconsistent => {
                "the fragment contradicts the datagram's length (past the final fragment, or a second final \
                 fragment); the datagram was discarded"
            }
        }
    }
}

impl fmt::Display for ReassemblyDrop {
    /// [`ReassemblyDrop::explain`] (RFC 8200 section 4.5 reasons).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.explain())
    }
}

/// What [`Reassembler::push`] did with a packet (RFC 791 section 3.2, RFC 8200
/// section 4.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reassembly<'a> {
    /// Not a fragment (RFC 791 section 3.1 MF and offset zero; RFC 8200
    /// section 4.5 no Fragment header), or not parseable far enough to tell:
    /// translate the packet as it is.
    NotFragment,
    /// Stored; the datagram is waiting for more fragments (RFC 8200 section
    /// 4.5).
    Held,
    /// A whole, unfragmented packet, ready to translate, valid until the next
    /// call: for IPv4 the first fragment's header with MF and the offset clear,
    /// Total Length set and the header checksum recomputed (RFC 791 section
    /// 3.2); for IPv6 the first fragment's header and Unfragmentable Part
    /// without the Fragment header, the last Next Header taken from the
    /// Fragment header and Payload Length set (RFC 8200 section 4.5). An IPv6
    /// atomic fragment comes back at once, Fragment header removed (RFC 6946
    /// section 4).
    Complete(&'a [u8]),
    /// The fragment was not kept; see the reason for what else was discarded
    /// (RFC 8200 section 4.5, RFC 5722 section 4).
    Dropped(ReassemblyDrop),
}

/// The reassembly key: RFC 791 section 3.2 (source, destination, protocol,
/// identification) and RFC 8200 section 4.5 (source, destination, fragment
/// identification). IPv4 addresses sit in the first four bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Key {
    v6: bool,
    proto: u8,
    id: u32,
    src: [u8; 16],
    dst: [u8; 16],
}

/// One datagram being reassembled (RFC 791 section 3.2's "reassembly
/// resources").
#[derive(Debug, Clone, Copy)]
struct Slot {
    key: Key,
    hash: u64,
    deadline: Instant,
    // Deadline list links; `next` also links the free slots.
    prev: u32,
    next: u32,
    // Length of the fragmentable part, known once the final fragment came
    // (`NONE` before).
    total: u32,
    // Fragment bytes held; the datagram is whole when it equals `total`.
    received: u32,
    nfrags: u32,
    // First fragment's header chain (`NONE` until it came) and length: the
    // IPv4 header with options, or the IPv6 header and Unfragmentable Part.
    hdr_head: u32,
    hdr_len: u32,
    /// IPv6: where the Next Header to fix up is, and its value (RFC 8200
    /// section 4.5).
    nh_pos: u32,
    nh_val: u8,
}

impl Slot {
    const EMPTY: Slot = Slot {
        key: Key {
            v6: false,
            proto: 0,
            id: 0,
            src: [0; 16],
            dst: [0; 16],
        },
        hash: 0,
        deadline: Instant(0),
        prev: NONE,
        next: NONE,
        total: NONE,
        received: 0,
        nfrags: 0,
        hdr_head: NONE,
        hdr_len: 0,
        nh_pos: 0,
        nh_val: 0,
    };
}

/// A fragment held: its byte range in the fragmentable part and its block
/// chain (RFC 791 section 3.2's fragment block bit table, as ranges).
#[derive(Debug, Clone, Copy, Default)]
struct Piece {
    start: u16,
    end: u16,
    head: u32,
}

/// Reassembles IPv4 datagrams (RFC 791 section 3.2) and IPv6 packets (RFC 8200
/// section 4.5) within fixed memory, dropping overlaps (RFC 5722 section 4).
/// See the module documentation for the memory layout and policies.
pub struct Reassembler {
    timeout: Duration,
    max_frags: usize,
    seed: u64,
    // Block storage, `block_next` links chains and the free list.
    arena: Vec<u8>,
    block_next: Vec<u32>,
    free_block: u32,
    free_blocks: usize,
    slots: Vec<Slot>,
    free_slot: u32,
    // `max_frags` descriptors per slot, sorted by `start`.
    pieces: Vec<Piece>,
    // Open addressing, linear probing, backward-shift deletion.
    index: Vec<u32>,
    mask: usize,
    // Deadline list: oldest deadline first.
    oldest: u32,
    newest: u32,
    in_progress: usize,
    out: Vec<u8>,
    stats: ReassemblyStats,
}

fn blocks_for(len: usize) -> usize {
    len.div_ceil(BLOCK_SIZE)
}

fn be64(b: &[u8]) -> u64 {
    u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

// Copies a block chain into `dst` (which has the chain's length).
fn read_chain(arena: &[u8], next: &[u32], head: u32, dst: &mut [u8]) {
    let mut b = head;
    for chunk in dst.chunks_mut(BLOCK_SIZE) {
        let at = b as usize * BLOCK_SIZE;
        chunk.copy_from_slice(&arena[at..at + chunk.len()]);
        b = next[b as usize];
    }
}

impl Reassembler {
    /// Allocates everything reassembly will use (RFC 791 section 3.2's
    /// reassembly resources, bounded). Limits too large to index are clamped.
    pub fn new(limits: ReassemblyLimits) -> Self {
        let nblocks = (limits.max_bytes / BLOCK_SIZE).min(NONE as usize - 1);
        let nslots = limits.max_datagrams.min(1 << 24);
        let max_frags = limits.max_fragments_per_datagram.min(MAX_FRAGMENTS_CAP);
        let index_len = (nslots * 2).max(1).next_power_of_two();
        let block_next = (0..nblocks)
            .map(|i| if i + 1 < nblocks { i as u32 + 1 } else { NONE })
            .collect();
        let mut slots = vec![Slot::EMPTY; nslots];
        for (i, s) in slots.iter_mut().enumerate() {
            s.next = if i + 1 < nslots { i as u32 + 1 } else { NONE };
        }
        Reassembler {
            timeout: limits.timeout,
            max_frags,
            seed: limits.hash_seed,
            arena: vec![0; nblocks * BLOCK_SIZE],
            block_next,
            free_block: if nblocks > 0 { 0 } else { NONE },
            free_blocks: nblocks,
            slots,
            free_slot: if nslots > 0 { 0 } else { NONE },
            pieces: vec![Piece::default(); nslots * max_frags],
            index: vec![NONE; index_len],
            mask: index_len - 1,
            oldest: NONE,
            newest: NONE,
            in_progress: 0,
            out: vec![0; MAX_REASSEMBLED_LEN],
            stats: ReassemblyStats::default(),
        }
    }

    /// Feeds one packet as received, IPv4 or IPv6 by its first nibble (RFC 791
    /// section 3.2, RFC 8200 section 4.5, RFC 5722 section 4, RFC 6946 section
    /// 4). Datagrams whose deadline is `now` or earlier are expired first.
    pub fn push(&mut self, now: Instant, packet: &[u8]) -> Reassembly<'_> {
        self.expire(now);
        let parsed = match packet.first().map(|v| v >> 4) {
            Some(4) => parse_v4(packet),
            Some(6) => parse_v6(packet),
            _ => Parsed::NotFragment,
        };
        let f = match parsed {
            Parsed::NotFragment => return Reassembly::NotFragment,
            Parsed::Drop(r) => return self.refuse(r),
            Parsed::Atomic {
                frag_at,
                nh_pos,
                nh_val,
                end,
            } => {
                let tail = &packet[frag_at + 8..end];
                let len = frag_at + tail.len();
                self.out[..frag_at].copy_from_slice(&packet[..frag_at]);
                self.out[frag_at..len].copy_from_slice(tail);
                self.out[nh_pos] = nh_val;
                self.out[4..6].copy_from_slice(&((len - 40) as u16).to_be_bytes());
                self.stats.atomic += 1;
                return Reassembly::Complete(&self.out[..len]);
            }
            Parsed::Fragment(f) => f,
        };
        let hash = self.hash(&f.key);
        let s = match self.find(hash, &f.key) {
            Some(s) => s,
            None => match self.create(now, hash, f.key) {
                Some(s) => s,
                None => return self.refuse(ReassemblyDrop::TooManyDatagrams),
            },
        };
        match self.add(s, &f, packet) {
            Ok(None) => Reassembly::Held,
            Ok(Some(len)) => Reassembly::Complete(&self.out[..len]),
            Err(r) => self.refuse(r),
        }
    }

    /// Abandons every datagram whose deadline (first fragment + timeout) is at
    /// or before `now` (RFC 8200 section 4.5, RFC 791 section 3.2) and returns
    /// how many. Sending ICMP Time Exceeded is left to the caller.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut n = 0;
        while self.oldest != NONE && self.slots[self.oldest as usize].deadline <= now {
            self.discard(self.oldest as usize);
            n += 1;
        }
        self.stats.timed_out += n as u64;
        n
    }

    /// The earliest deadline of a datagram in progress (RFC 8200 section 4.5
    /// timer), for a caller that schedules [`Reassembler::expire`].
    pub fn next_expiry(&self) -> Option<Instant> {
        (self.oldest != NONE).then(|| self.slots[self.oldest as usize].deadline)
    }

    /// The counters and current usage (RFC 8200 section 4.5 discards, counted).
    pub fn stats(&self) -> ReassemblyStats {
        ReassemblyStats {
            in_progress: self.in_progress,
            bytes_buffered: (self.block_next.len() - self.free_blocks) * BLOCK_SIZE,
            ..self.stats
        }
    }

    /// Counts a refused fragment (RFC 8200 section 4.5 discards).
    fn refuse(&mut self, r: ReassemblyDrop) -> Reassembly<'static> {
        let c = &mut self.stats;
        match r {
            ReassemblyDrop::Overlap => c.dropped_overlap += 1,
            ReassemblyDrop::Duplicate => c.duplicates += 1,
            ReassemblyDrop::TooBig => c.dropped_too_big += 1,
            ReassemblyDrop::MemoryFull | ReassemblyDrop::TooManyDatagrams => c.dropped_memory += 1,
            ReassemblyDrop::TooManyFragments => c.dropped_too_many += 1,
            ReassemblyDrop::Malformed | ReassemblyDrop::Inconsistent => c.dropped_malformed += 1,
        }
        Reassembly::Dropped(r)
    }

    /// Hashes the RFC 791 section 3.2 / RFC 8200 section 4.5 key.
    fn hash(&self, k: &Key) -> u64 {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut h =
            (self.seed ^ ((u64::from(k.id) << 16) | (u64::from(k.proto) << 8) | u64::from(k.v6))).wrapping_mul(K);
        for half in [&k.src, &k.dst] {
            for c in half.chunks_exact(8) {
                h = (h.rotate_left(23) ^ be64(c)).wrapping_mul(K);
            }
        }
        h ^ (h >> 29)
    }

    /// The slot reassembling `key` (RFC 791 section 3.2: "identify the
    /// buffer").
    fn find(&self, hash: u64, key: &Key) -> Option<usize> {
        let mut i = hash as usize & self.mask;
        loop {
            let e = self.index[i];
            if e == NONE {
                return None;
            }
            let s = &self.slots[e as usize];
            if s.hash == hash && s.key == *key {
                return Some(e as usize);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Takes a free slot for a new datagram whose timer starts `now` (RFC 8200
    /// section 4.5: from the first-arriving fragment).
    fn create(&mut self, now: Instant, hash: u64, key: Key) -> Option<usize> {
        if self.free_slot == NONE {
            return None;
        }
        let s = self.free_slot as usize;
        self.free_slot = self.slots[s].next;
        let deadline = now.add(self.timeout);
        self.slots[s] = Slot {
            key,
            hash,
            deadline,
            ..Slot::EMPTY
        };
        let mut i = hash as usize & self.mask;
        while self.index[i] != NONE {
            i = (i + 1) & self.mask;
        }
        self.index[i] = s as u32;
        // Deadline order; with a monotonic clock the new one is the newest.
        let mut after = self.newest;
        while after != NONE && self.slots[after as usize].deadline > deadline {
            after = self.slots[after as usize].prev;
        }
        let next = if after == NONE {
            self.oldest
        } else {
            self.slots[after as usize].next
        };
        self.slots[s].prev = after;
        self.slots[s].next = next;
        if after == NONE {
            self.oldest = s as u32;
        } else {
            self.slots[after as usize].next = s as u32;
        }
        if next == NONE {
            self.newest = s as u32;
        } else {
            self.slots[next as usize].prev = s as u32;
        }
        self.in_progress += 1;
        Some(s)
    }

    /// Releases a datagram and everything it holds (RFC 791 section 3.2:
    /// "release the reassembly resources").
    fn discard(&mut self, s: usize) {
        let sl = self.slots[s];
        let base = s * self.max_frags;
        for k in 0..sl.nfrags as usize {
            let p = self.pieces[base + k];
            self.free_chain(p.head, usize::from(p.end - p.start));
        }
        if sl.hdr_head != NONE {
            self.free_chain(sl.hdr_head, sl.hdr_len as usize);
        }
        // Backward-shift deletion from the index.
        let mut hole = sl.hash as usize & self.mask;
        while self.index[hole] != s as u32 {
            hole = (hole + 1) & self.mask;
        }
        let mut j = hole;
        loop {
            j = (j + 1) & self.mask;
            let e = self.index[j];
            if e == NONE {
                break;
            }
            let home = self.slots[e as usize].hash as usize & self.mask;
            if j.wrapping_sub(home) & self.mask >= j.wrapping_sub(hole) & self.mask {
                self.index[hole] = e;
                hole = j;
            }
        }
        self.index[hole] = NONE;
        if sl.prev == NONE {
            self.oldest = sl.next;
        } else {
            self.slots[sl.prev as usize].next = sl.next;
        }
        if sl.next == NONE {
            self.newest = sl.prev;
        } else {
            self.slots[sl.next as usize].prev = sl.prev;
        }
        self.slots[s] = Slot {
            next: self.free_slot,
            ..Slot::EMPTY
        };
        self.free_slot = s as u32;
        self.in_progress -= 1;
    }

    /// Stores `src` in a chain of free blocks; the caller checked there are
    /// enough (RFC 791 section 3.2: "copy the data from the internet
    /// datagram to the data buffer").
    fn alloc_chain(&mut self, src: &[u8]) -> u32 {
        let n = blocks_for(src.len());
        let head = self.free_block;
        let mut b = head;
        for (i, chunk) in src.chunks(BLOCK_SIZE).enumerate() {
            let at = b as usize * BLOCK_SIZE;
            self.arena[at..at + chunk.len()].copy_from_slice(chunk);
            let next = self.block_next[b as usize];
            if i + 1 == n {
                self.block_next[b as usize] = NONE;
                self.free_block = next;
            }
            b = next;
        }
        self.free_blocks -= n;
        head
    }

    /// Returns a chain of `len` bytes to the free list (RFC 791 section 3.2
    /// resource release).
    fn free_chain(&mut self, head: u32, len: usize) {
        let n = blocks_for(len);
        let mut tail = head;
        for _ in 1..n {
            tail = self.block_next[tail as usize];
        }
        self.block_next[tail as usize] = self.free_block;
        self.free_block = head;
        self.free_blocks += n;
    }

    /// Adds a fragment to slot `s` (RFC 791 section 3.2, RFC 8200 section 4.5,
    /// RFC 5722 section 4); `Some(len)` when the datagram is now in
    /// `out[..len]`.
    fn add(&mut self, s: usize, f: &Fragment, packet: &[u8]) -> Result<Option<usize>, ReassemblyDrop> {
        let sl = self.slots[s];
        let base = s * self.max_frags;
        let n = sl.nfrags as usize;
        let (start, end) = (f.start, f.end);
        // RFC 8200 section 4.5: nothing past the final fragment, one final end.
        let consistent = if sl.total != NONE {
            let total = sl.total as usize;
            end <= total && (f.more == (end < total))
        } else {
            f.more || n == 0 || usize::from(self.pieces[base + n - 1].end) <= end
        };
        if !consistent {
            self.discard(s);
            return Err(ReassemblyDrop::Inconsistent);
        }
        let held = &self.pieces[base..base + n];
        let idx = held.partition_point(|p| usize::from(p.start) < start);
        let prev_overlaps = idx > 0 && usize::from(held[idx - 1].end) > start;
        let next_overlaps = idx < n && usize::from(held[idx].start) < end;
        if prev_overlaps || next_overlaps {
            let p = held[idx.min(n - 1)];
            if !prev_overlaps && usize::from(p.start) == start && usize::from(p.end) == end {
                // RFC 8200 section 4.5: an exact duplicate may be dropped
                // alone; unless it disagrees about being the final fragment.
                if sl.total == NONE && !f.more {
                    self.discard(s);
                    return Err(ReassemblyDrop::Inconsistent);
                }
                return Err(ReassemblyDrop::Duplicate);
            }
            // RFC 5722 section 4: drop the datagram and all its fragments.
            self.discard(s);
            return Err(ReassemblyDrop::Overlap);
        }
        if n >= self.max_frags {
            self.discard(s);
            return Err(ReassemblyDrop::TooManyFragments);
        }
        let first = start == 0;
        let need = blocks_for(end - start) + if first { blocks_for(f.hdr_len) } else { 0 };
        if need > self.free_blocks {
            self.discard(s);
            return Err(ReassemblyDrop::MemoryFull);
        }
        let head = self.alloc_chain(&packet[f.data.clone()]);
        self.pieces.copy_within(base + idx..base + n, base + idx + 1);
        self.pieces[base + idx] = Piece {
            start: start as u16,
            end: end as u16,
            head,
        };
        if first {
            // RFC 8200 section 4.5: the Unfragmentable Part (RFC 791 section
            // 3.2: the header) comes from the fragment with offset zero.
            let hdr_head = self.alloc_chain(&packet[..f.hdr_len]);
            let sl = &mut self.slots[s];
            sl.hdr_head = hdr_head;
            sl.hdr_len = f.hdr_len as u32;
            sl.nh_pos = f.nh_pos as u32;
            sl.nh_val = f.nh_val;
        }
        let sl = &mut self.slots[s];
        sl.nfrags += 1;
        sl.received += (end - start) as u32;
        if !f.more {
            sl.total = end as u32;
        }
        if sl.total == NONE || sl.received != sl.total {
            return Ok(None);
        }
        // Disjoint ranges inside [0, total) adding up to total cover it, the
        // first fragment (and its header) included.
        self.assemble(s).map(Some)
    }

    /// Writes the whole datagram of slot `s` to `out` and releases the slot
    /// (RFC 791 section 3.2 header fix-up, RFC 8200 section 4.5 Payload
    /// Length and Next Header).
    fn assemble(&mut self, s: usize) -> Result<usize, ReassemblyDrop> {
        let sl = self.slots[s];
        let h = sl.hdr_len as usize;
        let total = sl.total as usize;
        let ip_len = if sl.key.v6 { h - 40 + total } else { h + total };
        if ip_len > MAX_IP_LEN {
            // The first fragment's header is longer than the one the final
            // fragment was checked with.
            self.discard(s);
            return Err(ReassemblyDrop::TooBig);
        }
        let len = h + total;
        read_chain(&self.arena, &self.block_next, sl.hdr_head, &mut self.out[..h]);
        let base = s * self.max_frags;
        for p in &self.pieces[base..base + sl.nfrags as usize] {
            let dst = &mut self.out[h + usize::from(p.start)..h + usize::from(p.end)];
            read_chain(&self.arena, &self.block_next, p.head, dst);
        }
        let o = &mut self.out[..len];
        if sl.key.v6 {
            o[4..6].copy_from_slice(&(ip_len as u16).to_be_bytes());
            o[sl.nh_pos as usize] = sl.nh_val;
        } else {
            o[2..4].copy_from_slice(&(ip_len as u16).to_be_bytes());
            // Keep the reserved bit and DF, clear MF and the offset.
            let ff = be16(o, 6) & 0xc000;
            o[6..8].copy_from_slice(&ff.to_be_bytes());
            o[10] = 0;
            o[11] = 0;
            let c = checksum::finish(checksum::sum(&o[..h]));
            o[10..12].copy_from_slice(&c.to_be_bytes());
        }
        self.discard(s);
        self.stats.completed += 1;
        Ok(len)
    }

    /// Checks the internal links (test support for the RFC 8200 section 4.5
    /// resource bound).
    #[cfg(test)]
    fn check_invariants(&self) {
        let mut used = 0;
        let mut count = 0;
        let mut s = self.oldest;
        let mut prev = NONE;
        let mut last_deadline = Instant(0);
        while s != NONE {
            let sl = &self.slots[s as usize];
            assert_eq!(sl.prev, prev);
            assert!(sl.deadline >= last_deadline);
            last_deadline = sl.deadline;
            assert_eq!(self.find(sl.hash, &sl.key), Some(s as usize));
            let base = s as usize * self.max_frags;
            let ps = &self.pieces[base..base + sl.nfrags as usize];
            let mut sum = 0;
            for w in ps.windows(2) {
                assert!(w[0].end <= w[1].start);
            }
            for p in ps {
                assert!(p.start < p.end);
                used += blocks_for(usize::from(p.end - p.start));
                sum += u32::from(p.end - p.start);
            }
            assert_eq!(sum, sl.received);
            if sl.hdr_head != NONE {
                used += blocks_for(sl.hdr_len as usize);
            }
            count += 1;
            prev = s;
            s = sl.next;
        }
        assert_eq!(prev, self.newest);
        assert_eq!(count, self.in_progress);
        assert_eq!(self.index.iter().filter(|&&e| e != NONE).count(), count);
        assert_eq!(used + self.free_blocks, self.block_next.len());
        let mut free = 0;
        let mut b = self.free_block;
        while b != NONE {
            free += 1;
            b = self.block_next[b as usize];
        }
        assert_eq!(free, self.free_blocks);
    }
}

#[cfg(test)]
mod tests;
