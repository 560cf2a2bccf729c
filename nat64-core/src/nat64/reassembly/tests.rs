//! Tests of the reassembler: RFC cases, limits, and a proptest against
//! splitting and reordering.

use super::*;
use crate::wire::proto;
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
