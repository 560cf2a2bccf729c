//! The ICMP error path (RFC 7915 sections 4.2-4.3 and 5.2-5.3): a
//! well-formed outer ICMPv6 or ICMPv4 error, with a right checksum and
//! mapped addresses, around a fuzzed quoted packet.
//!
//! Input: byte 0: bit 0 the family (0: ICMPv6 error, 6->4; 1: ICMPv4
//! error, 4->6), bits 1-2 the configuration (see `siit_configs`; 3 means
//! 0), bit 3 fix the quoted packet's checksums; bytes 1-2 type and code;
//! bytes 3-6 the rest of the ICMP header (MTU, pointer, RFC 4884 length);
//! byte 7 the outer source (low nibble) and destination (high nibble) from
//! the host tables; byte 8 the outer TTL / hop limit; then the quoted packet.
#![no_main]

use std::sync::Mutex;

use libfuzzer_sys::fuzz_target;
use nat64_core::Translator;
use nat64_fuzz::*;

struct State {
    xlats: Vec<Translator>,
    out: Vec<u8>,
}

static STATE: Mutex<Option<State>> = Mutex::new(None);

fuzz_target!(|data: &[u8]| {
    let mut g = STATE.lock().unwrap_or_else(|e| e.into_inner());
    let s = g.get_or_insert_with(|| State {
        xlats: siit_configs()
            .into_iter()
            .map(|c| Translator::new(c).unwrap())
            .collect(),
        out: vec![0; OUT_LEN],
    });
    let mut r = Reader::new(data);
    let sel = r.u8();
    let (ty, code) = (r.u8(), r.u8());
    let rest = [r.u8(), r.u8(), r.u8(), r.u8()];
    let addrs = r.u8();
    let ttl = r.u8();
    let mut inner = r.rest().to_vec();
    if sel & 8 != 0 {
        fix_checksums(&mut inner, true, true);
    }
    let v6 = sel & 1 == 0;
    let cfg = match usize::from((sel >> 1) & 3) {
        3 => 0,
        i => i,
    };
    let mut icmp = vec![ty, code, 0, 0];
    icmp.extend_from_slice(&rest);
    icmp.extend_from_slice(&inner);
    let pkt = if v6 {
        let (src, dst) = (
            v6_hosts()[usize::from(addrs & 7)],
            v6_hosts()[usize::from(addrs >> 4 & 7)],
        );
        if icmp.len() > 65_535 {
            return;
        }
        let c = checksum(&[&pseudo6(src, dst, ICMPV6, icmp.len()), &icmp]);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        v6_packet(src, dst, ICMPV6, ttl, 0, &icmp)
    } else {
        let (src, dst) = (
            v4_hosts()[usize::from(addrs & 7)],
            v4_hosts()[usize::from(addrs >> 4 & 7)],
        );
        if icmp.len() > 65_515 {
            return;
        }
        let c = checksum(&[&icmp]);
        icmp[2..4].copy_from_slice(&c.to_be_bytes());
        let f = V4Fields {
            ttl,
            ..V4Fields::default()
        };
        v4_packet(src, dst, ICMP, f, &icmp)
    };
    let t = &mut s.xlats[cfg];
    let v = t.translate(&pkt, &mut s.out);
    check_verdict(&pkt, &v, &s.out);
});
