//! The translator's configuration file (the `nat64-config` crate's
//! `[translator]` table, as `nat64 translate --config` reads it): any text
//! either fails with an error or gives a configuration; a configuration
//! that `Translator::new` and `Nat64::new` accept must then translate
//! packets without panicking (the values reach the MTU, fragmentation and
//! ICMP arithmetic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use nat64_core::nat64::{Instant, Nat64, Nat64Config, Pool4Entry};
use nat64_core::{Config, Translator};
use nat64_fuzz::*;

/// Packets of every size class, both families, mapped under the usual
/// prefixes: small, around the IPv4 and IPv6 minimum MTUs, and large.
fn packets(cfg: &Config) -> Vec<Vec<u8>> {
    let pool = cfg
        .pool6
        .map(|p| p.embed(v4("198.51.100.1")))
        .unwrap_or(v6("64:ff9b::c633:6401"));
    let src6 = cfg
        .pool6
        .map(|p| p.embed(v4("192.0.2.7")))
        .unwrap_or(v6("2001:db8:1::7"));
    let mut v = Vec::new();
    for len in [0usize, 500, 1232, 1400, 3000, 65_000] {
        let payload = vec![0xab; len];
        for (proto, ty) in [(UDP, 0), (TCP, 0x18), (ICMPV6, 128)] {
            let mut p = v6_packet(src6, pool, proto, 64, 0x2e, &transport(proto, 1, 2, ty, &payload));
            fix_checksums(&mut p, false, true);
            v.push(p);
        }
        for df in [false, true] {
            let f = V4Fields {
                df,
                ..V4Fields::default()
            };
            let mut p = v4_packet(
                v4("198.51.100.1"),
                v4("192.0.2.7"),
                UDP,
                f,
                &transport(UDP, 1, 2, 0, &payload),
            );
            fix_checksums(&mut p, true, true);
            // An ICMPv4 Fragmentation Needed quoting it.
            let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x02, 0x40];
            icmp.extend_from_slice(&p[..p.len().min(548)]);
            v.push(p);
            let c = checksum(&[&icmp]);
            icmp[2..4].copy_from_slice(&c.to_be_bytes());
            v.push(v4_packet(
                v4("203.0.113.1"),
                v4("198.51.100.1"),
                ICMP,
                V4Fields::default(),
                &icmp,
            ));
        }
    }
    v
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(file) = nat64_config::TranslateFile::parse(text) else {
        return;
    };
    let mut cfg = Config::default();
    if file.translator.apply(&mut cfg).is_err() {
        return;
    }
    // `to_config` is `apply` over the default plus `validate`.
    let checked = file.translator.to_config();
    assert_eq!(checked.is_ok(), cfg.validate().is_ok());
    let mut out = vec![0u8; OUT_LEN];
    let pkts = packets(&cfg);
    if let Ok(mut t) = Translator::new(cfg.clone()) {
        for p in &pkts {
            let v = t.translate(p, &mut out);
            check_verdict(p, &v, &out);
        }
    }
    if let Some(pool6) = cfg.pool6 {
        let mut n = Nat64Config::new(pool6, vec![Pool4Entry::new("192.0.2.7".parse().unwrap())]);
        n.xlat = cfg;
        if let Ok(mut nat) = Nat64::new(n) {
            for (i, p) in pkts.iter().enumerate() {
                let v = nat.translate(p, &mut out, Instant::from_secs(i as u64));
                check_verdict(p, &v, &out);
            }
        }
    }
});
