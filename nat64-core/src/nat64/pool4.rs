//! pool4: the IPv4 transport addresses the stateful NAT64 hands out (RFC
//! 6146 section 3.5.1.1), and the RFC 6056 port selection over them.

use alloc::vec::Vec;
use core::net::Ipv4Addr;

use super::table::{Proto, SessionTable, Taddr4};
use crate::addr::Ipv4Prefix;

/// Jool's default port range when an entry gives none.
pub const DEFAULT_PORTS: (u16, u16) = (61001, 65535);

/// One pool4 entry: addresses, a port (or ICMP identifier) range, and the
/// protocols it serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pool4Entry {
    /// The addresses.
    pub prefix: Ipv4Prefix,
    /// First port.
    pub first_port: u16,
    /// Last port (inclusive).
    pub last_port: u16,
    /// Which BIBs may use it.
    pub protocols: [bool; 3],
}

impl Pool4Entry {
    /// All three protocols, Jool's default ports.
    pub fn new(prefix: Ipv4Prefix) -> Self {
        Pool4Entry {
            prefix,
            first_port: DEFAULT_PORTS.0,
            last_port: DEFAULT_PORTS.1,
            protocols: [true; 3],
        }
    }
}

/// A pool4 entry that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Pool4Error {
    /// Reversed or empty range.
    #[error("pool4 {prefix}: port range {first}-{last} is empty; write it low-high, e.g. 61001-65535")]
    EmptyRange {
        /// Entry.
        prefix: Ipv4Prefix,
        /// First.
        first: u16,
        /// Last.
        last: u16,
    },
    /// Port 0 is not a port.
    #[error("pool4 {prefix}: port 0 cannot be handed out for TCP or UDP; start the range at 1 or above")]
    PortZero {
        /// Entry.
        prefix: Ipv4Prefix,
    },
    /// Too large to index.
    #[error("pool4 {prefix} is too large (more than 2^32 transport addresses); use a smaller prefix")]
    TooLarge {
        /// Entry.
        prefix: Ipv4Prefix,
    },
}

/// One entry as the allocator sees it: `hosts` addresses from `prefix`,
/// each with `ports` ports from `first`.
#[derive(Debug, Clone, Copy)]
struct Range {
    prefix: Ipv4Prefix,
    hosts: u64,
    first: u16,
    ports: u32,
}

/// pool4, per protocol as a list of entries (a handful), so membership and
/// the n-th transport address cost a short walk whatever the prefix sizes.
#[derive(Debug, Clone, Default)]
pub struct Pool4 {
    ranges: [Vec<Range>; 3],
    total: [u64; 3],
    /// RFC 6056 Algorithm 3's `next_ephemeral`, per protocol.
    next: [u64; 3],
}

impl Pool4 {
    /// Builds pool4 from its entries.
    pub fn new(entries: &[Pool4Entry]) -> Result<Self, Pool4Error> {
        let mut p = Pool4::default();
        for e in entries {
            if e.first_port > e.last_port {
                return Err(Pool4Error::EmptyRange {
                    prefix: e.prefix,
                    first: e.first_port,
                    last: e.last_port,
                });
            }
            let ports = u32::from(e.last_port - e.first_port) + 1;
            let hosts = u64::from(e.prefix.size()).max(1);
            if hosts * u64::from(ports) > u64::from(u32::MAX) {
                return Err(Pool4Error::TooLarge { prefix: e.prefix });
            }
            for (i, on) in e.protocols.iter().enumerate() {
                if !on {
                    continue;
                }
                if e.first_port == 0 && i != Proto::Icmp.index() {
                    return Err(Pool4Error::PortZero { prefix: e.prefix });
                }
                p.ranges[i].push(Range {
                    prefix: e.prefix,
                    hosts,
                    first: e.first_port,
                    ports,
                });
                p.total[i] += hosts * u64::from(ports);
            }
        }
        Ok(p)
    }

    /// Number of transport addresses for a protocol.
    pub fn size(&self, proto: Proto) -> u64 {
        self.total[proto.index()]
    }

    /// Whether `a` is a pool4 address (for any protocol).
    #[inline]
    pub fn contains_addr(&self, a: Ipv4Addr) -> bool {
        self.ranges.iter().any(|r| r.iter().any(|x| x.prefix.contains(a)))
    }

    /// Whether `t` belongs to pool4 for `proto`.
    pub fn contains(&self, proto: Proto, t: Taddr4) -> bool {
        self.ranges[proto.index()]
            .iter()
            .any(|r| r.prefix.contains(t.addr) && t.port >= r.first && u32::from(t.port - r.first) < r.ports)
    }

    fn nth(&self, proto: Proto, mut n: u64) -> Taddr4 {
        for r in &self.ranges[proto.index()] {
            let size = r.hosts * u64::from(r.ports);
            if n < size {
                let host = (n / u64::from(r.ports)) as u32;
                let port = r.first + (n % u64::from(r.ports)) as u16;
                return Taddr4 {
                    addr: r.prefix.nth(host),
                    port,
                };
            }
            n -= size;
        }
        // Unreachable for n < total; a harmless answer otherwise.
        Taddr4 {
            addr: Ipv4Addr::UNSPECIFIED,
            port: 0,
        }
    }

    /// RFC 6056 section 3.3.3 (Algorithm 3, "Simple Hash-Based"): the
    /// search starts at a keyed hash of the connection's endpoints plus a
    /// counter that every probe advances (`next_ephemeral`), so ports are not
    /// predictable from outside and repeated connections between the same
    /// endpoints do not re-probe the ports they already hold; it stops at a
    /// free one or after `max_iterations` probes.
    pub fn allocate<T: SessionTable>(
        &mut self,
        table: &T,
        proto: Proto,
        key: &[u64; 3],
        secret: &[u64; 2],
        max_iterations: u64,
    ) -> Option<Taddr4> {
        let i = proto.index();
        let total = self.total[i];
        if total == 0 {
            return None;
        }
        let offset = siphash13(secret, key) % total;
        for _ in 0..total.min(max_iterations) {
            let t = self.nth(proto, (offset + self.next[i] % total) % total);
            self.next[i] = self.next[i].wrapping_add(1);
            if table.bib_by_v4(proto, t).is_none() {
                return Some(t);
            }
        }
        None
    }
}

/// SipHash-1-3 over three words: the keyed function F() of RFC 6056.
fn siphash13(k: &[u64; 2], m: &[u64; 3]) -> u64 {
    let mut v0 = k[0] ^ 0x736f_6d65_7073_6575;
    let mut v1 = k[1] ^ 0x646f_7261_6e64_6f6d;
    let mut v2 = k[0] ^ 0x6c79_6765_6e65_7261;
    let mut v3 = k[1] ^ 0x7465_6462_7974_6573;
    let round = |v0: &mut u64, v1: &mut u64, v2: &mut u64, v3: &mut u64| {
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    };
    for &w in m {
        v3 ^= w;
        round(&mut v0, &mut v1, &mut v2, &mut v3);
        v0 ^= w;
    }
    let b: u64 = 24 << 56;
    v3 ^= b;
    round(&mut v0, &mut v1, &mut v2, &mut v3);
    v0 ^= b;
    v2 ^= 0xff;
    for _ in 0..3 {
        round(&mut v0, &mut v1, &mut v2, &mut v3);
    }
    v0 ^ v1 ^ v2 ^ v3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattening_and_membership() {
        let mut e = Pool4Entry::new("192.0.2.0/31".parse().unwrap());
        e.first_port = 1000;
        e.last_port = 1009;
        let p = Pool4::new(&[e]).unwrap();
        assert_eq!(p.size(Proto::Udp), 20);
        assert_eq!(
            p.nth(Proto::Udp, 10),
            Taddr4 {
                addr: "192.0.2.1".parse().unwrap(),
                port: 1000
            }
        );
        assert!(p.contains(
            Proto::Tcp,
            Taddr4 {
                addr: "192.0.2.1".parse().unwrap(),
                port: 1009
            }
        ));
        assert!(!p.contains(
            Proto::Tcp,
            Taddr4 {
                addr: "192.0.2.1".parse().unwrap(),
                port: 1010
            }
        ));
        assert!(p.contains_addr("192.0.2.0".parse().unwrap()));
    }

    #[test]
    fn rejects_bad_entries() {
        let mut e = Pool4Entry::new("192.0.2.1".parse().unwrap());
        e.first_port = 10;
        e.last_port = 9;
        assert!(matches!(Pool4::new(&[e.clone()]), Err(Pool4Error::EmptyRange { .. })));
        e.first_port = 0;
        e.last_port = 9;
        assert!(matches!(Pool4::new(&[e]), Err(Pool4Error::PortZero { .. })));
    }

    #[test]
    fn hash_depends_on_key_and_secret() {
        let a = siphash13(&[1, 2], &[3, 4, 5]);
        assert_ne!(a, siphash13(&[1, 2], &[3, 4, 6]));
        assert_ne!(a, siphash13(&[1, 3], &[3, 4, 5]));
        assert_eq!(a, siphash13(&[1, 2], &[3, 4, 5]));
    }
}
