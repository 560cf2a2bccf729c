//! The session state file reader (`nat64_core::nat64::state`) on arbitrary
//! bytes, as they are and with the record count and check value fixed up
//! (so the fuzzer reaches the records past the check): a file it accepts is
//! canonical (written again from its records it is the same bytes), and
//! restoring it into a NAT64 never panics and installs no more sessions
//! than it holds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat64_core::addr::Prefix64;
use nat64_core::nat64::state::{encode, StateError, StateFile};
use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry};

/// Header (magic, version, pool6, count) and check value lengths.
const HEADER: usize = 31;
const CHECK: usize = 8;
const RECORD: usize = 40;

/// FNV-1a 64, written here from its definition.
fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &x in b {
        h ^= u64::from(x);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn check(data: &[u8]) {
    let f = match StateFile::parse(data) {
        Ok(f) => f,
        Err(_) => return,
    };
    let records: Vec<_> = f.sessions().collect();
    assert_eq!(records.len(), f.len());
    let (addr, len) = f.pool6;
    let Ok(pool6) = Prefix64::new(addr, len) else {
        return;
    };
    let mut again = Vec::new();
    encode(&pool6, &records, &mut again);
    assert_eq!(again, data, "a state file it accepts is written again byte for byte");
    let mut cfg = Nat64Config::new(pool6, vec![Pool4Entry::new("192.0.2.0/28".parse().unwrap())]);
    cfg.xlat.wkp_forbids_non_global = false;
    let Ok(mut n) = Nat64::new(cfg) else {
        return;
    };
    let r = n
        .restore_sessions(data, Instant::from_secs(100))
        .expect("parsed once, parses again");
    assert!(r.restored <= records.len());
    assert_eq!(n.stats().sessions, r.restored);
}

fuzz_target!(|data: &[u8]| {
    check(data);
    if data.len() < HEADER + CHECK {
        return;
    }
    let mut f = data.to_vec();
    let n = (f.len() - HEADER - CHECK) / RECORD;
    f.truncate(HEADER + n * RECORD + CHECK);
    f[..8].copy_from_slice(b"NAT64SES");
    f[8..10].copy_from_slice(&1u16.to_be_bytes());
    f[27..31].copy_from_slice(&(n as u32).to_be_bytes());
    let end = f.len() - CHECK;
    let c = fnv1a(&f[..end]);
    f[end..].copy_from_slice(&c.to_be_bytes());
    match StateFile::parse(&f) {
        Ok(_) | Err(StateError::Record { .. }) => {}
        Err(e) => panic!("a well-framed file refused for its framing: {e}"),
    }
    check(&f);
});
