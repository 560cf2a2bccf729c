//! Keyed hashing of table keys: a folded 64x64->128-bit multiply.

use core::net::{Ipv4Addr, Ipv6Addr};

use super::super::table::Proto;

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
pub(super) struct Keys {
    pub(super) k: [[u64; 4]; 4],
}

const CLIENT_KEYS: usize = 3;

impl Keys {
    pub(super) fn new(seed: u64) -> Self {
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
    pub(super) fn v6(&self, proto: Proto, v6: Ipv6Addr, v6_port: u16, raddr: Ipv4Addr, rport: u16) -> u64 {
        let a = v6.to_bits();
        let c = (u64::from(raddr.to_bits()) << 32) | (u64::from(rport) << 16) | u64::from(v6_port);
        self.mix(proto.index(), (a >> 64) as u64, a as u64, c)
    }

    #[inline(always)]
    pub(super) fn v4(&self, proto: Proto, v4: Ipv4Addr, v4_port: u16, raddr: Ipv4Addr, rport: u16) -> u64 {
        let a = (u64::from(v4.to_bits()) << 32) | u64::from(raddr.to_bits());
        let b = (u64::from(v4_port) << 16) | u64::from(rport);
        self.mix(proto.index(), a, b, 0)
    }

    #[inline(always)]
    pub(super) fn adf(&self, proto: Proto, v4: Ipv4Addr, v4_port: u16, raddr: Ipv4Addr) -> u64 {
        let a = (u64::from(v4.to_bits()) << 32) | u64::from(raddr.to_bits());
        self.mix(proto.index(), a, u64::from(v4_port), 0)
    }

    #[inline(always)]
    pub(super) fn bib6(&self, proto: Proto, v6: Ipv6Addr, port: u16) -> u64 {
        let a = v6.to_bits();
        self.mix(proto.index(), (a >> 64) as u64, a as u64, u64::from(port))
    }

    #[inline(always)]
    pub(super) fn bib4(&self, proto: Proto, v4: Ipv4Addr, port: u16) -> u64 {
        self.mix(proto.index(), u64::from(v4.to_bits()), u64::from(port), 0)
    }

    #[inline(always)]
    pub(super) fn client(&self, key: u128) -> u64 {
        self.mix(CLIENT_KEYS, (key >> 64) as u64, key as u64, 0)
    }
}

/// A seed for tables built without one: see the module documentation.
pub(super) fn default_seed() -> u64 {
    let local = 0u8;
    let stack = core::ptr::addr_of!(local) as usize as u64;
    let code = default_seed as fn() -> u64 as usize as u64;
    let mut x = 0x6E61_7436_345F_7462 ^ stack.rotate_left(17) ^ code;
    splitmix(&mut x)
}
