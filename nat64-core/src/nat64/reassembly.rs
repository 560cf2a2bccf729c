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
use core::ops::Range;
use core::time::Duration;

use crate::checksum;
use crate::nat64::table::Instant;
use crate::wire::proto;

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

/// A parsed fragment (RFC 791 section 3.1, RFC 8200 section 4.5).
struct Fragment {
    key: Key,
    // Byte range in the fragmentable part.
    start: usize,
    end: usize,
    more: bool,
    // Where the fragment data is in the packet.
    data: Range<usize>,
    // The header to keep if this is the first fragment.
    hdr_len: usize,
    nh_pos: usize,
    nh_val: u8,
}

enum Parsed {
    NotFragment,
    Drop(ReassemblyDrop),
    /// RFC 6946: Fragment header at `frag_at`, packet ends at `end`.
    Atomic {
        frag_at: usize,
        nh_pos: usize,
        nh_val: u8,
        end: usize,
    },
    Fragment(Fragment),
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

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
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

/// Classifies an IPv4 packet (RFC 791 section 3.1): MF or a non-zero offset
/// make it a fragment. The header checksum is verified (RFC 1122 section
/// 3.2.1.2) because reassembly writes a fresh one.
fn parse_v4(b: &[u8]) -> Parsed {
    if b.len() < 20 {
        return Parsed::NotFragment;
    }
    let hlen = usize::from(b[0] & 0xf) * 4;
    if hlen < 20 || b.len() < hlen {
        return Parsed::NotFragment;
    }
    let ff = be16(b, 6);
    let more = ff & 0x2000 != 0;
    let start = usize::from(ff & 0x1fff) * 8;
    if !more && start == 0 {
        return Parsed::NotFragment;
    }
    let total_len = usize::from(be16(b, 2));
    if total_len < hlen || total_len > b.len() || checksum::fold(checksum::sum(&b[..hlen])) != 0xffff {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let len = total_len - hlen;
    if len == 0 || (more && len % 8 != 0) {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let end = start + len;
    if hlen + end > MAX_IP_LEN {
        return Parsed::Drop(ReassemblyDrop::TooBig);
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src[..4].copy_from_slice(&b[12..16]);
    dst[..4].copy_from_slice(&b[16..20]);
    Parsed::Fragment(Fragment {
        key: Key {
            v6: false,
            proto: b[9],
            id: u32::from(be16(b, 4)),
            src,
            dst,
        },
        start,
        end,
        more,
        data: hlen..total_len,
        hdr_len: hlen,
        nh_pos: 0,
        nh_val: 0,
    })
}

/// Finds the Fragment header after the Unfragmentable Part (RFC 8200 sections
/// 4.1 and 4.5: Hop-by-Hop, Destination Options, Routing). Anything that does
/// not parse that far is left to the translator's own checks.
fn parse_v6(b: &[u8]) -> Parsed {
    if b.len() < 40 {
        return Parsed::NotFragment;
    }
    let plen = usize::from(be16(b, 4));
    let end = 40 + plen;
    if plen == 0 || end > b.len() {
        // Jumbograms cannot be fragmented (RFC 2675 section 3); truncated
        // packets get the translator's verdict.
        return Parsed::NotFragment;
    }
    let mut next = b[6];
    let mut nh_pos = 6;
    let mut off = 40;
    let mut seen = 0;
    loop {
        match next {
            proto::HOPOPT | proto::ROUTING | proto::DSTOPTS => {
                seen += 1;
                if seen > MAX_UNFRAGMENTABLE_HEADERS || off + 8 > end {
                    return Parsed::NotFragment;
                }
                let len = (usize::from(b[off + 1]) + 1) * 8;
                if off + len > end {
                    return Parsed::NotFragment;
                }
                nh_pos = off;
                next = b[off];
                off += len;
            }
            proto::FRAGMENT => break,
            _ => return Parsed::NotFragment,
        }
    }
    if off + 8 > end {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let fo = be16(b, off + 2);
    let start = usize::from(fo >> 3) * 8;
    let more = fo & 1 != 0;
    let nh_val = b[off];
    if start == 0 && !more {
        return Parsed::Atomic {
            frag_at: off,
            nh_pos,
            nh_val,
            end,
        };
    }
    let len = end - (off + 8);
    if len == 0 || (more && len % 8 != 0) {
        return Parsed::Drop(ReassemblyDrop::Malformed);
    }
    let frag_end = start + len;
    if (off - 40) + frag_end > MAX_IP_LEN {
        return Parsed::Drop(ReassemblyDrop::TooBig);
    }
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&b[8..24]);
    dst.copy_from_slice(&b[24..40]);
    Parsed::Fragment(Fragment {
        key: Key {
            v6: true,
            proto: 0,
            id: be32(b, off + 4),
            src,
            dst,
        },
        start,
        end: frag_end,
        more,
        data: off + 8..end,
        hdr_len: off,
        nh_pos,
        nh_val,
    })
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
mod tests {
    use super::*;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    const S4: [u8; 4] = [192, 0, 2, 1];
    const D4: [u8; 4] = [198, 51, 100, 2];
    const S6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    const D6: [u8; 16] = [0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 198, 51, 100, 2];
    // Destination Options with a PadN option, Next Header = Fragment.
    const DSTOPTS: [u8; 8] = [proto::FRAGMENT, 0, 1, 4, 0, 0, 0, 0];

    fn t(s: u64) -> Instant {
        Instant::from_secs(s)
    }

    fn payload(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    fn v4_with(id: u16, protocol: u8, off: usize, more: bool, data: &[u8], opts: &[u8]) -> Vec<u8> {
        assert_eq!(opts.len() % 4, 0);
        let hlen = 20 + opts.len();
        let mut p = vec![0u8; hlen];
        p[0] = 0x40 | (hlen / 4) as u8;
        p[2..4].copy_from_slice(&((hlen + data.len()) as u16).to_be_bytes());
        p[4..6].copy_from_slice(&id.to_be_bytes());
        let ff = (off / 8) as u16 | if more { 0x2000 } else { 0 };
        p[6..8].copy_from_slice(&ff.to_be_bytes());
        p[8] = 64;
        p[9] = protocol;
        p[12..16].copy_from_slice(&S4);
        p[16..20].copy_from_slice(&D4);
        p[20..].copy_from_slice(opts);
        let c = checksum::finish(checksum::sum(&p));
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p.extend_from_slice(data);
        p
    }

    fn v4(id: u16, off: usize, more: bool, data: &[u8]) -> Vec<u8> {
        v4_with(id, proto::UDP, off, more, data, &[])
    }

    // The unfragmented IPv4 datagram the fragments of `v4` make.
    fn v4_whole(id: u16, data: &[u8]) -> Vec<u8> {
        v4(id, 0, false, data)
    }

    fn v6_with(id: u32, off: usize, more: bool, data: &[u8], unfrag: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((unfrag.len() + 8 + data.len()) as u16).to_be_bytes());
        p[6] = if unfrag.is_empty() {
            proto::FRAGMENT
        } else {
            proto::DSTOPTS
        };
        p[7] = 64;
        p[8..24].copy_from_slice(&S6);
        p[24..40].copy_from_slice(&D6);
        p.extend_from_slice(unfrag);
        p.push(proto::UDP);
        p.push(0);
        p.extend_from_slice(&(((off / 8) as u16) << 3 | u16::from(more)).to_be_bytes());
        p.extend_from_slice(&id.to_be_bytes());
        p.extend_from_slice(data);
        p
    }

    fn v6(id: u32, off: usize, more: bool, data: &[u8]) -> Vec<u8> {
        v6_with(id, off, more, data, &[])
    }

    // The unfragmented IPv6 packet the fragments of `v6_with` make.
    fn v6_whole(data: &[u8], unfrag: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; 40];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((unfrag.len() + data.len()) as u16).to_be_bytes());
        p[6] = if unfrag.is_empty() { proto::UDP } else { proto::DSTOPTS };
        p[7] = 64;
        p[8..24].copy_from_slice(&S6);
        p[24..40].copy_from_slice(&D6);
        p.extend_from_slice(unfrag);
        if !unfrag.is_empty() {
            p[40] = proto::UDP;
        }
        p.extend_from_slice(data);
        p
    }

    // Splits `data` into pieces of `size` bytes (a multiple of 8).
    fn split(data: &[u8], size: usize) -> Vec<(usize, bool, &[u8])> {
        let n = data.len().div_ceil(size);
        data.chunks(size)
            .enumerate()
            .map(|(i, c)| (i * size, i + 1 < n, c))
            .collect()
    }

    fn small() -> ReassemblyLimits {
        ReassemblyLimits::default()
    }

    // Pushes all but the last packet expecting `Held`, returns the last
    // verdict as an owned copy.
    fn feed(r: &mut Reassembler, now: Instant, pkts: &[Vec<u8>]) -> Result<Vec<u8>, Reassembly<'static>> {
        for p in &pkts[..pkts.len() - 1] {
            assert_eq!(r.push(now, p), Reassembly::Held);
            r.check_invariants();
        }
        let v = match r.push(now, pkts.last().unwrap()) {
            Reassembly::Complete(b) => Ok(b.to_vec()),
            Reassembly::NotFragment => Err(Reassembly::NotFragment),
            Reassembly::Held => Err(Reassembly::Held),
            Reassembly::Dropped(d) => Err(Reassembly::Dropped(d)),
        };
        r.check_invariants();
        v
    }

    fn v4_frags(id: u16, data: &[u8], size: usize) -> Vec<Vec<u8>> {
        split(data, size).into_iter().map(|(o, m, c)| v4(id, o, m, c)).collect()
    }

    fn v6_frags(id: u32, data: &[u8], size: usize, unfrag: &[u8]) -> Vec<Vec<u8>> {
        split(data, size)
            .into_iter()
            .map(|(o, m, c)| v6_with(id, o, m, c, unfrag))
            .collect()
    }

    fn assert_v4_checksum(p: &[u8]) {
        let hlen = usize::from(p[0] & 0xf) * 4;
        assert_eq!(
            checksum::fold(checksum::sum(&p[..hlen])),
            0xffff,
            "IPv4 header checksum"
        );
    }

    #[test]
    fn not_fragments_pass_through() {
        let mut r = Reassembler::new(small());
        assert_eq!(r.push(t(0), &v4_whole(1, &payload(100))), Reassembly::NotFragment);
        assert_eq!(r.push(t(0), &v6_whole(&payload(100), &[])), Reassembly::NotFragment);
        assert_eq!(
            r.push(t(0), &v6_whole(&payload(100), &DSTOPTS[..])),
            Reassembly::NotFragment
        );
        assert_eq!(r.push(t(0), &[]), Reassembly::NotFragment);
        assert_eq!(r.push(t(0), &[0x50; 60]), Reassembly::NotFragment);
        assert_eq!(r.stats(), ReassemblyStats::default());
    }

    #[test]
    fn v4_in_order_with_valid_checksum() {
        let data = payload(4000);
        let mut r = Reassembler::new(small());
        let got = feed(&mut r, t(0), &v4_frags(7, &data, 1480)).unwrap();
        assert_eq!(got, v4_whole(7, &data));
        assert_v4_checksum(&got);
        let st = r.stats();
        assert_eq!((st.completed, st.in_progress, st.bytes_buffered), (1, 0, 0));
        assert_eq!(r.next_expiry(), None);
    }

    #[test]
    fn v4_options_and_df_kept_from_first_fragment() {
        let data = payload(100);
        let opts = [1, 1, 1, 0]; // NOP NOP NOP EOL
        let mut first = v4_with(9, proto::TCP, 0, true, &data[..48], &opts);
        first[6] |= 0x40; // DF
        let c = {
            first[10] = 0;
            first[11] = 0;
            checksum::finish(checksum::sum(&first[..24]))
        };
        first[10..12].copy_from_slice(&c.to_be_bytes());
        let last = v4_with(9, proto::TCP, 48, false, &data[48..], &[]);
        let mut r = Reassembler::new(small());
        let got = feed(&mut r, t(0), &[last, first]).unwrap();
        assert_eq!(got.len(), 24 + 100);
        assert_eq!(got[0], 0x46);
        assert_eq!(&got[20..24], &opts);
        assert_eq!(be16(&got, 2), 124);
        assert_eq!(be16(&got, 6), 0x4000);
        assert_eq!(&got[24..], &data[..]);
        assert_v4_checksum(&got);
    }

    #[test]
    fn out_of_order_and_reverse() {
        let data = payload(5000);
        let mut r = Reassembler::new(small());
        let mut f = v4_frags(1, &data, 1000);
        f.swap(0, 2);
        f.swap(1, 4);
        assert_eq!(feed(&mut r, t(0), &f).unwrap(), v4_whole(1, &data));
        f = v4_frags(2, &data, 504);
        f.reverse();
        assert_eq!(feed(&mut r, t(0), &f).unwrap(), v4_whole(2, &data));
        let mut f6 = v6_frags(3, &data, 1232, &[]);
        f6.reverse();
        assert_eq!(feed(&mut r, t(0), &f6).unwrap(), v6_whole(&data, &[]));
        let mut f6 = v6_frags(4, &data, 1232, &[]);
        f6.rotate_left(2);
        assert_eq!(feed(&mut r, t(0), &f6).unwrap(), v6_whole(&data, &[]));
        assert_eq!(r.stats().completed, 4);
        assert_eq!(r.stats().bytes_buffered, 0);
    }

    #[test]
    fn keys_are_separate() {
        // RFC 791 section 3.2: same ID, other protocol, is another datagram.
        let data = payload(64);
        let mut r = Reassembler::new(small());
        assert_eq!(
            r.push(t(0), &v4_with(5, proto::UDP, 0, true, &data[..32], &[])),
            Reassembly::Held
        );
        assert_eq!(
            r.push(t(0), &v4_with(5, proto::TCP, 32, false, &data[32..], &[])),
            Reassembly::Held
        );
        assert_eq!(r.push(t(0), &v6(5, 32, false, &data[32..])), Reassembly::Held);
        assert_eq!(r.stats().in_progress, 3);
        let got = r.push(t(0), &v4_with(5, proto::UDP, 32, false, &data[32..], &[]));
        assert_eq!(got, Reassembly::Complete(&v4_whole(5, &data)));
        r.check_invariants();
    }

    #[test]
    fn duplicates_tolerated() {
        let data = payload(3000);
        let f = v4_frags(1, &data, 1000);
        let mut r = Reassembler::new(small());
        assert_eq!(r.push(t(0), &f[0]), Reassembly::Held);
        assert_eq!(r.push(t(0), &f[0]), Reassembly::Dropped(ReassemblyDrop::Duplicate));
        assert_eq!(r.push(t(0), &f[2]), Reassembly::Held);
        assert_eq!(r.push(t(0), &f[2]), Reassembly::Dropped(ReassemblyDrop::Duplicate));
        assert_eq!(r.push(t(0), &f[1]), Reassembly::Complete(&v4_whole(1, &data)));
        assert_eq!(r.stats().duplicates, 2);
        // A copy marked final where the original was not is not a duplicate.
        let g = v6_frags(2, &data, 1000, &[]);
        assert_eq!(r.push(t(0), &g[1]), Reassembly::Held);
        let odd = v6(2, 1000, false, &data[1000..2000]);
        assert_eq!(r.push(t(0), &odd), Reassembly::Dropped(ReassemblyDrop::Inconsistent));
        assert_eq!(r.stats().in_progress, 0);
        r.check_invariants();
    }

    #[test]
    fn overlap_drops_whole_datagram() {
        let data = payload(64);
        for v6p in [false, true] {
            let mk = |off: usize, more: bool, d: &[u8]| if v6p { v6(9, off, more, d) } else { v4(9, off, more, d) };
            let mut r = Reassembler::new(small());
            assert_eq!(r.push(t(0), &mk(0, true, &data[..16])), Reassembly::Held);
            assert_eq!(r.push(t(0), &mk(40, false, &data[40..])), Reassembly::Held);
            // [8, 24) overlaps [0, 16).
            assert_eq!(
                r.push(t(0), &mk(8, true, &data[8..24])),
                Reassembly::Dropped(ReassemblyDrop::Overlap)
            );
            let st = r.stats();
            assert_eq!((st.dropped_overlap, st.in_progress, st.bytes_buffered), (1, 0, 0));
            // The rest no longer completes: a new datagram starts.
            assert_eq!(r.push(t(0), &mk(16, true, &data[16..40])), Reassembly::Held);
            assert_eq!(r.stats().completed, 0);
            // Overlap with the following fragment, and one that covers another.
            assert_eq!(
                r.push(t(0), &mk(32, true, &data[32..48])),
                Reassembly::Dropped(ReassemblyDrop::Overlap)
            );
            assert_eq!(r.push(t(0), &mk(16, true, &data[16..24])), Reassembly::Held);
            assert_eq!(
                r.push(t(0), &mk(8, true, &data[8..32])),
                Reassembly::Dropped(ReassemblyDrop::Overlap)
            );
            assert_eq!(r.stats().dropped_overlap, 3);
            r.check_invariants();
        }
    }

    #[test]
    fn inconsistent_lengths() {
        let data = payload(64);
        let mut r = Reassembler::new(small());
        assert_eq!(r.push(t(0), &v4(1, 32, false, &data[32..])), Reassembly::Held);
        // A second final fragment with another end.
        assert_eq!(
            r.push(t(0), &v4(1, 0, false, &data[..16])),
            Reassembly::NotFragment,
            "offset 0, MF 0 is a whole datagram"
        );
        assert_eq!(
            r.push(t(0), &v4(1, 8, false, &data[8..16])),
            Reassembly::Dropped(ReassemblyDrop::Inconsistent)
        );
        // Past the final fragment's end.
        assert_eq!(r.push(t(0), &v4(2, 16, false, &data[16..32])), Reassembly::Held);
        assert_eq!(
            r.push(t(0), &v4(2, 32, true, &data[32..])),
            Reassembly::Dropped(ReassemblyDrop::Inconsistent)
        );
        // A final fragment before one already held.
        assert_eq!(r.push(t(0), &v4(3, 32, true, &data[32..])), Reassembly::Held);
        assert_eq!(
            r.push(t(0), &v4(3, 16, false, &data[16..32])),
            Reassembly::Dropped(ReassemblyDrop::Inconsistent)
        );
        assert_eq!(r.stats().dropped_malformed, 3);
        assert_eq!(r.stats().in_progress, 0);
        r.check_invariants();
    }

    #[test]
    fn malformed_fragments() {
        let data = payload(64);
        let mut r = Reassembler::new(small());
        // Non-final, not a multiple of 8 (RFC 8200 section 4.5).
        assert_eq!(
            r.push(t(0), &v4(1, 0, true, &data[..20])),
            Reassembly::Dropped(ReassemblyDrop::Malformed)
        );
        assert_eq!(
            r.push(t(0), &v6(1, 0, true, &data[..20])),
            Reassembly::Dropped(ReassemblyDrop::Malformed)
        );
        // Empty.
        assert_eq!(
            r.push(t(0), &v4(1, 8, false, &[])),
            Reassembly::Dropped(ReassemblyDrop::Malformed)
        );
        assert_eq!(
            r.push(t(0), &v6(1, 8, false, &[])),
            Reassembly::Dropped(ReassemblyDrop::Malformed)
        );
        // Bad IPv4 header checksum.
        let mut p = v4(1, 0, true, &data[..16]);
        p[10] ^= 1;
        assert_eq!(r.push(t(0), &p), Reassembly::Dropped(ReassemblyDrop::Malformed));
        // Total Length past the packet.
        let mut p = v4(1, 0, true, &data[..16]);
        p.truncate(30);
        assert_eq!(r.push(t(0), &p), Reassembly::Dropped(ReassemblyDrop::Malformed));
        // Truncated Fragment header.
        let mut p = v6(1, 0, true, &[]);
        p.truncate(44);
        p[4..6].copy_from_slice(&4u16.to_be_bytes());
        assert_eq!(r.push(t(0), &p), Reassembly::Dropped(ReassemblyDrop::Malformed));
        assert_eq!(r.stats().dropped_malformed, 7);
        assert_eq!(r.stats().in_progress, 0);
        // Trailing link-layer padding is ignored.
        let mut a = v4(2, 0, true, &data[..32]);
        a.extend_from_slice(&[0xee; 6]);
        let b = v4(2, 32, false, &data[32..]);
        assert_eq!(feed(&mut r, t(0), &[a, b]).unwrap(), v4_whole(2, &data));
    }

    #[test]
    fn timeout_with_virtual_time() {
        let data = payload(3000);
        let f = v4_frags(1, &data, 1000);
        let limits = small();
        let mut r = Reassembler::new(limits);
        let t0 = Instant::from_micros(5_000_000);
        assert_eq!(r.push(t0, &f[0]), Reassembly::Held);
        let deadline = t0.add(limits.timeout);
        assert_eq!(r.next_expiry(), Some(deadline));
        // A later fragment does not extend the deadline (RFC 8200 section 4.5).
        assert_eq!(r.push(t0.add(Duration::from_secs(1)), &f[1]), Reassembly::Held);
        assert_eq!(r.next_expiry(), Some(deadline));
        assert_eq!(r.expire(Instant(deadline.0 - 1)), 0);
        assert_eq!(r.expire(deadline), 1);
        assert_eq!(r.next_expiry(), None);
        let st = r.stats();
        assert_eq!((st.timed_out, st.in_progress, st.bytes_buffered), (1, 0, 0));
        // The last fragment alone does not complete.
        assert_eq!(r.push(deadline, &f[2]), Reassembly::Held);
        // push() expires on its own too.
        let later = deadline.add(limits.timeout);
        assert_eq!(r.push(later, &f[0]), Reassembly::Held);
        assert_eq!(r.stats().timed_out, 2);
        assert_eq!(r.stats().in_progress, 1);
        assert_eq!(r.push(later, &f[1]), Reassembly::Held);
        assert_eq!(r.push(later, &f[2]), Reassembly::Complete(&v4_whole(1, &data)));
        r.check_invariants();
    }

    #[test]
    fn expiry_order_and_backward_clock() {
        let data = payload(16);
        let mut r = Reassembler::new(small());
        let to = ReassemblyLimits::DEFAULT_TIMEOUT.as_secs();
        // The clock steps back (5 after 20): the list stays in deadline order.
        for (i, s) in [10u64, 20, 5, 12, 19].into_iter().enumerate() {
            assert_eq!(r.push(t(s), &v4(i as u16, 0, true, &data[..8])), Reassembly::Held);
            r.check_invariants();
        }
        assert_eq!(r.next_expiry(), Some(t(5 + to)));
        assert_eq!(r.expire(t(19 + to)), 4);
        assert_eq!(r.next_expiry(), Some(t(20 + to)));
        r.check_invariants();
    }

    #[test]
    fn memory_bound_under_flood() {
        let limits = ReassemblyLimits {
            max_bytes: 64 * 1024,
            max_datagrams: 1024,
            ..small()
        };
        let data = payload(1480 * 2);
        let mut r = Reassembler::new(limits);
        let mut refused = 0;
        for id in 0..5000u16 {
            match r.push(t(0), &v4(id, 0, true, &data[..1480])) {
                Reassembly::Held => {}
                Reassembly::Dropped(ReassemblyDrop::MemoryFull) => refused += 1,
                other => panic!("{other:?}"),
            }
            assert!(r.stats().bytes_buffered <= limits.max_bytes);
        }
        r.check_invariants();
        let st = r.stats();
        assert!(refused > 4000, "{refused}");
        assert_eq!(st.dropped_memory, refused);
        assert_eq!(st.in_progress as u64, 5000 - refused);
        // IPv6 is refused too while full; the datagrams held are not evicted.
        let f6 = v6_frags(1, &data, 1480, &[]);
        assert_eq!(r.push(t(1), &f6[0]), Reassembly::Dropped(ReassemblyDrop::MemoryFull));
        assert_eq!(r.stats().in_progress, st.in_progress);
        // Once the flood times out, new datagrams complete.
        let later = t(0).add(limits.timeout);
        assert_eq!(feed(&mut r, later, &f6).unwrap(), v6_whole(&data, &[]));
        let st = r.stats();
        assert_eq!(st.timed_out, 5000 - refused);
        assert_eq!((st.completed, st.in_progress, st.bytes_buffered), (1, 0, 0));
    }

    #[test]
    fn memory_full_on_existing_datagram_discards_it() {
        let limits = ReassemblyLimits {
            max_bytes: 8 * BLOCK_SIZE,
            ..small()
        };
        let data = payload(4096);
        let mut r = Reassembler::new(limits);
        assert_eq!(r.push(t(0), &v4(1, 0, true, &data[..1024])), Reassembly::Held); // 4 + 1 blocks
        assert_eq!(
            r.push(t(0), &v4(1, 1024, true, &data[1024..2048])),
            Reassembly::Dropped(ReassemblyDrop::MemoryFull)
        );
        let st = r.stats();
        assert_eq!((st.in_progress, st.bytes_buffered, st.dropped_memory), (0, 0, 1));
        r.check_invariants();
    }

    #[test]
    fn slots_bound() {
        let limits = ReassemblyLimits {
            max_datagrams: 2,
            ..small()
        };
        let data = payload(16);
        let mut r = Reassembler::new(limits);
        assert_eq!(r.push(t(0), &v4(1, 0, true, &data[..8])), Reassembly::Held);
        assert_eq!(r.push(t(0), &v6(1, 0, true, &data[..8])), Reassembly::Held);
        assert_eq!(
            r.push(t(0), &v4(2, 0, true, &data[..8])),
            Reassembly::Dropped(ReassemblyDrop::TooManyDatagrams)
        );
        assert_eq!(
            r.push(t(0), &v4(1, 8, false, &data[8..])),
            Reassembly::Complete(&v4_whole(1, &data))
        );
        assert_eq!(r.push(t(0), &v4(2, 0, true, &data[..8])), Reassembly::Held);
        assert_eq!(r.stats().dropped_memory, 1);
        r.check_invariants();
        // No slots, no arena: everything refused, nothing panics.
        let mut z = Reassembler::new(ReassemblyLimits {
            max_bytes: 0,
            max_datagrams: 0,
            max_fragments_per_datagram: 0,
            ..small()
        });
        assert_eq!(
            z.push(t(0), &v4(1, 0, true, &data[..8])),
            Reassembly::Dropped(ReassemblyDrop::TooManyDatagrams)
        );
        assert_eq!(z.next_expiry(), None);
    }

    #[test]
    fn too_many_fragments() {
        let limits = ReassemblyLimits {
            max_fragments_per_datagram: 4,
            ..small()
        };
        let data = payload(48);
        let mut r = Reassembler::new(limits);
        let f = v6_frags(1, &data, 8, &[]);
        for p in &f[..4] {
            assert_eq!(r.push(t(0), p), Reassembly::Held);
        }
        assert_eq!(
            r.push(t(0), &f[4]),
            Reassembly::Dropped(ReassemblyDrop::TooManyFragments)
        );
        let st = r.stats();
        assert_eq!((st.dropped_too_many, st.in_progress, st.bytes_buffered), (1, 0, 0));
        // Exactly at the limit completes.
        let f = v6_frags(2, &data[..32], 8, &[]);
        assert_eq!(feed(&mut r, t(0), &f).unwrap(), v6_whole(&data[..32], &[]));
    }

    #[test]
    fn too_big() {
        let data = payload(16);
        let mut r = Reassembler::new(small());
        // 20 + 65528 + 16 > 65535.
        assert_eq!(
            r.push(t(0), &v4(1, 65528, false, &data)),
            Reassembly::Dropped(ReassemblyDrop::TooBig)
        );
        // 65528 + 16 > 65535.
        assert_eq!(
            r.push(t(0), &v6(1, 65528, false, &data)),
            Reassembly::Dropped(ReassemblyDrop::TooBig)
        );
        // 8 bytes of Destination Options count in the Payload Length too.
        assert_eq!(
            r.push(t(0), &v6_with(1, 65520, false, &data[..8], &DSTOPTS)),
            Reassembly::Dropped(ReassemblyDrop::TooBig)
        );
        // Right at the limit is fine.
        assert_eq!(r.push(t(0), &v6(2, 65528, false, &data[..7])), Reassembly::Held);
        assert_eq!(r.push(t(0), &v4(2, 65512, false, &data[..3])), Reassembly::Held);
        assert_eq!(r.stats().dropped_too_big, 3);
        assert_eq!(r.stats().in_progress, 2);
    }

    #[test]
    fn too_big_at_completion_with_longer_first_header() {
        // The final fragment fits with a 20-byte header; the first fragment's
        // 24-byte header makes the datagram 65 539 bytes.
        let data = payload(65_515);
        let mut r = Reassembler::new(small());
        let mut f = v4_frags(1, &data, 1480);
        let d0 = &data[..1480];
        f[0] = v4_with(1, proto::UDP, 0, true, d0, &[1, 1, 1, 0]);
        for p in &f[..f.len() - 1] {
            assert_eq!(r.push(t(0), p), Reassembly::Held);
        }
        assert_eq!(
            r.push(t(0), f.last().unwrap()),
            Reassembly::Dropped(ReassemblyDrop::TooBig)
        );
        let st = r.stats();
        assert_eq!((st.dropped_too_big, st.in_progress, st.bytes_buffered), (1, 0, 0));
        // With a plain header the same fragments make a 65 535-byte datagram.
        let f = v4_frags(2, &data, 1480);
        let got = feed(&mut r, t(0), &f).unwrap();
        assert_eq!(got.len(), 65_535);
        assert_eq!(got, v4_whole(2, &data));
        assert_v4_checksum(&got);
    }

    #[test]
    fn v6_atomic_fragment() {
        let data = payload(100);
        let mut r = Reassembler::new(small());
        // Held fragment with the same ID is unaffected (RFC 6946 section 4).
        assert_eq!(r.push(t(0), &v6(7, 0, true, &data[..8])), Reassembly::Held);
        let got = r.push(t(0), &v6(7, 0, false, &data));
        assert_eq!(got, Reassembly::Complete(&v6_whole(&data, &[])));
        let got = r.push(t(0), &v6_with(7, 0, false, &data, &DSTOPTS));
        assert_eq!(got, Reassembly::Complete(&v6_whole(&data, &DSTOPTS)));
        // Empty atomic fragment (e.g. No Next Header) too.
        let got = r.push(t(0), &v6(8, 0, false, &[]));
        assert_eq!(got, Reassembly::Complete(&v6_whole(&[], &[])));
        assert_eq!(r.stats().atomic, 3);
        assert_eq!(
            r.push(t(0), &v6(7, 8, false, &data[8..])),
            Reassembly::Complete(&v6_whole(&data, &[]))
        );
        assert_eq!(r.stats().completed, 1);
    }

    #[test]
    fn v6_destination_options_before_fragment_header() {
        let data = payload(3000);
        let mut f = v6_frags(0xdead_beef, &data, 1232, &DSTOPTS);
        // Later fragments' Unfragmentable Parts are ignored: only the first's
        // is kept (RFC 8200 section 4.5).
        let n = f.len();
        f[n - 1][42] = 0xff;
        f.reverse();
        let mut r = Reassembler::new(small());
        let got = feed(&mut r, t(0), &f).unwrap();
        assert_eq!(got, v6_whole(&data, &DSTOPTS));
        assert_eq!(got[6], proto::DSTOPTS);
        assert_eq!(got[40], proto::UDP);
        assert_eq!(usize::from(be16(&got, 4)), 8 + 3000);
    }

    #[test]
    fn hash_index_survives_churn() {
        // Many collisions and deletions in a small index.
        let limits = ReassemblyLimits {
            max_datagrams: 8,
            ..small()
        };
        let data = payload(16);
        let mut r = Reassembler::new(limits);
        let mut live: Vec<u16> = Vec::new();
        for i in 0..2000u32 {
            let id = ((i * 7919) % 23) as u16;
            if let Some(pos) = live.iter().position(|&x| x == id) {
                assert_eq!(
                    r.push(t(0), &v4(id, 8, false, &data[8..])),
                    Reassembly::Complete(&v4_whole(id, &data))
                );
                live.swap_remove(pos);
            } else {
                match r.push(t(0), &v4(id, 0, true, &data[..8])) {
                    Reassembly::Held => live.push(id),
                    Reassembly::Dropped(ReassemblyDrop::TooManyDatagrams) => assert_eq!(live.len(), 8),
                    other => panic!("{other:?}"),
                }
            }
            r.check_invariants();
        }
    }

    fn arb_fragmentation() -> impl Strategy<Value = (Vec<u8>, Vec<usize>, Vec<u64>, Vec<bool>, bool, bool)> {
        (
            proptest::collection::vec(any::<u8>(), 1..3000),
            proptest::collection::vec(1usize..64, 1..64),
            proptest::collection::vec(any::<u64>(), 64),
            proptest::collection::vec(any::<bool>(), 64),
            any::<bool>(),
            any::<bool>(),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn random_fragmentations_reassemble((data, units, order, dup, v6p, opts) in arb_fragmentation()) {
            // Cut points from the unit sizes, cycling; the last piece takes
            // what is left.
            let mut cuts = Vec::new();
            let mut at = 0;
            let mut k = 0;
            while at < data.len() {
                let size = units[k % units.len()] * 8;
                let end = (at + size).min(data.len());
                cuts.push((at, end));
                at = end;
                k += 1;
            }
            let unfrag: &[u8] = if opts { &DSTOPTS } else { &[] };
            let mut frags: Vec<(u64, Vec<u8>)> = cuts
                .iter()
                .enumerate()
                .map(|(i, &(s, e))| {
                    let more = e < data.len();
                    let p = if v6p { v6_with(42, s, more, &data[s..e], unfrag) } else { v4(42, s, more, &data[s..e]) };
                    (order[i % order.len()] ^ i as u64, p)
                })
                .collect();
            frags.sort_by_key(|f| f.0);
            let expected = if v6p { v6_whole(&data, unfrag) } else { v4_whole(42, &data) };
            let limits = ReassemblyLimits { max_datagrams: 4, max_fragments_per_datagram: 512, ..small() };
            let mut r = Reassembler::new(limits);
            let n = frags.len();
            if n == 1 {
                let v = r.push(t(0), &frags[0].1);
                if v6p {
                    prop_assert_eq!(v, Reassembly::Complete(&expected));
                } else {
                    prop_assert_eq!(v, Reassembly::NotFragment);
                }
                return Ok(());
            }
            for (i, (_, p)) in frags.iter().enumerate() {
                let v = r.push(t(0), p);
                if i + 1 < n {
                    prop_assert_eq!(v, Reassembly::Held);
                    if dup[i % dup.len()] {
                        prop_assert_eq!(r.push(t(0), p), Reassembly::Dropped(ReassemblyDrop::Duplicate));
                    }
                } else {
                    prop_assert_eq!(v, Reassembly::Complete(&expected));
                }
            }
            r.check_invariants();
            let st = r.stats();
            prop_assert_eq!((st.completed, st.in_progress, st.bytes_buffered), (1, 0, 0));
        }

        #[test]
        fn garbage_never_panics(
            pkts in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..200), 0u8..3, any::<u16>()),
                1..64,
            ),
        ) {
            let limits = ReassemblyLimits {
                max_bytes: 16 * BLOCK_SIZE,
                max_datagrams: 4,
                max_fragments_per_datagram: 4,
                ..small()
            };
            let mut r = Reassembler::new(limits);
            let mut now = 0u64;
            for (mut p, kind, tweak) in pkts {
                // Make a fair share look like IPv4 / IPv6 fragments.
                match kind {
                    0 => {}
                    1 => {
                        if p.len() >= 20 {
                            p[0] = 0x45;
                            p[4..6].copy_from_slice(&(tweak & 3).to_be_bytes());
                            let len = p.len() as u16;
                            p[2..4].copy_from_slice(&len.to_be_bytes());
                            p[12..20].fill(1);
                            p[10] = 0;
                            p[11] = 0;
                            let c = checksum::finish(checksum::sum(&p[..20]));
                            p[10..12].copy_from_slice(&c.to_be_bytes());
                        }
                    }
                    _ => {
                        if p.len() >= 48 {
                            p[0] = 0x60;
                            let len = (p.len() - 40) as u16;
                            p[4..6].copy_from_slice(&len.to_be_bytes());
                            p[6] = proto::FRAGMENT;
                            p[8..40].fill(2);
                            p[44..48].copy_from_slice(&u32::from(tweak & 3).to_be_bytes());
                        }
                    }
                }
                now += u64::from(tweak % 4);
                let v = r.push(Instant::from_secs(now), &p);
                if let Reassembly::Complete(b) = v {
                    prop_assert!(b.len() <= MAX_REASSEMBLED_LEN);
                }
                r.check_invariants();
                prop_assert!(r.stats().bytes_buffered <= limits.max_bytes);
            }
        }

        #[test]
        fn mutated_fragments_never_panic(
            len in 1usize..2000,
            size in 1usize..40,
            flips in proptest::collection::vec((any::<u16>(), any::<u16>(), any::<u8>()), 0..40),
            v6p in any::<bool>(),
        ) {
            // Valid fragment streams of a few datagrams with random bytes
            // changed: every path (overlaps, bad lengths, completion) runs.
            let limits = ReassemblyLimits {
                max_bytes: 24 * BLOCK_SIZE,
                max_datagrams: 3,
                max_fragments_per_datagram: 16,
                ..small()
            };
            let data = payload(len);
            let mut pkts: Vec<Vec<u8>> = Vec::new();
            for id in 0..3u16 {
                if v6p {
                    pkts.extend(v6_frags(u32::from(id), &data, size * 8, &DSTOPTS));
                } else {
                    pkts.extend(v4_frags(id, &data, size * 8));
                }
            }
            for &(which, at, x) in &flips {
                let i = usize::from(which) % pkts.len();
                let p = &mut pkts[i];
                let j = usize::from(at) % p.len();
                p[j] ^= x;
                if !v6p && j < 20 {
                    p[10] = 0;
                    p[11] = 0;
                    let c = checksum::finish(checksum::sum(&p[..20]));
                    p[10..12].copy_from_slice(&c.to_be_bytes());
                }
                let k = usize::from(x) % pkts.len();
                pkts.swap(i, k);
            }
            let mut r = Reassembler::new(limits);
            for p in &pkts {
                if let Reassembly::Complete(b) = r.push(t(0), p) {
                    prop_assert!(b.len() <= MAX_REASSEMBLED_LEN);
                }
                r.check_invariants();
                prop_assert!(r.stats().bytes_buffered <= limits.max_bytes);
            }
            let before = r.stats().in_progress;
            prop_assert_eq!(r.expire(t(1000)), before);
            prop_assert_eq!(r.stats().bytes_buffered, 0);
        }
    }
}
