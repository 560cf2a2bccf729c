//! Next hops of the AF_PACKET adapter: which link-layer address a
//! translated packet is sent to. The kernel owns the truth (its routes and
//! its neighbour table, filled by ARP and neighbour discovery); the gateway
//! keeps a snapshot, read with `ip -json` every few seconds and right after
//! it asked the kernel to resolve an address it missed
//! (`ip neigh replace ADDR dev DEV use`). A packet whose next hop is not
//! resolved yet is dropped and counted (`neighbour_misses`), as a router
//! without a queue would.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

use crate::netconf::{self, IpError};
use crate::settings::NextHop;

/// A route of one interface: `dst/len`, through `gateway` or on-link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Route {
    dst: IpAddr,
    len: u8,
    gateway: Option<IpAddr>,
}

/// What one side needs: its interface, its next-hop rule, the kernel's
/// routes of the interface and its neighbours.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SideTable {
    routes: Vec<Route>,
    macs: HashMap<IpAddr, [u8; 6]>,
}

/// The snapshot of both sides.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Neighbours {
    /// The IPv6 side.
    pub v6: SideTable,
    /// The IPv4 side.
    pub v4: SideTable,
}

/// Where a packet goes, or which address must be resolved first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hop {
    /// Send to this link-layer address.
    Mac([u8; 6]),
    /// The next hop's link-layer address is unknown: ask the kernel.
    Unresolved(IpAddr),
    /// No route of the interface covers the destination.
    NoRoute,
}

#[derive(Deserialize)]
struct JsonNeigh {
    dst: String,
    lladdr: Option<String>,
    #[serde(default)]
    state: Vec<String>,
}

#[derive(Deserialize)]
struct JsonRoute {
    dst: String,
    gateway: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn parse_prefix(s: &str, v4: bool) -> Option<(IpAddr, u8)> {
    if s == "default" {
        return Some(if v4 {
            (Ipv4Addr::UNSPECIFIED.into(), 0)
        } else {
            (Ipv6Addr::UNSPECIFIED.into(), 0)
        });
    }
    let (a, l) = s.split_once('/').unwrap_or((s, if v4 { "32" } else { "128" }));
    let a: IpAddr = a.parse().ok()?;
    let l: u8 = l.parse().ok()?;
    (a.is_ipv4() == v4 && l <= if v4 { 32 } else { 128 }).then_some((a, l))
}

fn covers(r: &Route, a: IpAddr) -> bool {
    match (r.dst, a) {
        (IpAddr::V4(p), IpAddr::V4(a)) => {
            let m = u32::MAX.checked_shl(32 - u32::from(r.len)).unwrap_or(0);
            u32::from(p) & m == u32::from(a) & m
        }
        (IpAddr::V6(p), IpAddr::V6(a)) => {
            let m = u128::MAX.checked_shl(128 - u32::from(r.len)).unwrap_or(0);
            u128::from(p) & m == u128::from(a) & m
        }
        _ => false,
    }
}

impl SideTable {
    /// Parses `ip -json route show dev DEV` and `ip -json neigh show dev DEV`
    /// of one family.
    pub fn parse(routes: &str, neighbours: &str, v4: bool) -> SideTable {
        let mut t = SideTable::default();
        for r in serde_json::from_str::<Vec<JsonRoute>>(routes).unwrap_or_default() {
            if r.kind.as_deref().is_some_and(|k| k != "unicast") {
                continue;
            }
            if let Some((dst, len)) = parse_prefix(&r.dst, v4) {
                let gateway = r.gateway.and_then(|g| g.parse().ok());
                t.routes.push(Route { dst, len, gateway });
            }
        }
        // Longest prefix first, so the first match is the best.
        t.routes.sort_by_key(|r| std::cmp::Reverse(r.len));
        for n in serde_json::from_str::<Vec<JsonNeigh>>(neighbours).unwrap_or_default() {
            if n.state.iter().any(|s| s == "FAILED" || s == "INCOMPLETE") {
                continue;
            }
            let (Ok(a), Some(mac)) = (
                n.dst.parse::<IpAddr>(),
                n.lladdr.as_deref().and_then(netconf::parse_mac),
            ) else {
                continue;
            };
            if a.is_ipv4() == v4 {
                t.macs.insert(a, mac);
            }
        }
        t
    }

    /// Reads the kernel's routes and neighbours of `dev` for one family.
    pub fn load(dev: &str, v4: bool) -> Result<SideTable, IpError> {
        let fam = if v4 { "-4" } else { "-6" };
        let routes = netconf::ip_output(&["-json", fam, "route", "show", "dev", dev])?;
        let neigh = netconf::ip_output(&["-json", fam, "neigh", "show", "dev", dev])?;
        Ok(SideTable::parse(&routes, &neigh, v4))
    }

    /// The next hop of a packet to `dst` under `rule`.
    pub fn hop(&self, dst: IpAddr, rule: &NextHop) -> Hop {
        let via = match *rule {
            NextHop::Mac(m) => return Hop::Mac(m),
            NextHop::Address(a) => a,
            NextHop::Auto => match self.routes.iter().find(|r| covers(r, dst)) {
                Some(r) => r.gateway.unwrap_or(dst),
                None => return Hop::NoRoute,
            },
        };
        match self.macs.get(&via) {
            Some(&m) => Hop::Mac(m),
            None => Hop::Unresolved(via),
        }
    }
}

/// Asks the kernel to resolve `addrs` on their interfaces (one `ip -batch`):
/// it sends ARP requests or neighbour solicitations, and the entries appear
/// in its table a round trip later.
pub fn resolve(addrs: &[(IpAddr, String)]) -> Result<(), IpError> {
    let mut lines = String::new();
    for (a, dev) in addrs {
        lines.push_str(&format!("neigh replace {a} dev {dev} use\n"));
    }
    netconf::ip_batch(&lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROUTES4: &str = r#"[{"dst":"default","gateway":"100.64.0.254","flags":[]},
        {"dst":"100.64.0.0/24","protocol":"kernel","scope":"link","prefsrc":"100.64.0.1","flags":[]},
        {"type":"blackhole","dst":"192.168.255.0/24","flags":[]}]"#;
    const NEIGH4: &str = r#"[{"dst":"100.64.0.2","dev":"x","lladdr":"02:00:00:00:00:02","state":["REACHABLE"]},
        {"dst":"100.64.0.9","dev":"x","state":["INCOMPLETE"]},
        {"dst":"100.64.0.254","dev":"x","lladdr":"02:00:00:00:00:fe","state":["STALE"]}]"#;

    #[test]
    fn ipv4_on_link_and_via_the_default_route() {
        let t = SideTable::parse(ROUTES4, NEIGH4, true);
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(t.hop(a("100.64.0.2"), &NextHop::Auto), Hop::Mac([2, 0, 0, 0, 0, 2]));
        assert_eq!(t.hop(a("100.64.0.9"), &NextHop::Auto), Hop::Unresolved(a("100.64.0.9")));
        assert_eq!(
            t.hop(a("198.51.100.7"), &NextHop::Auto),
            Hop::Mac([2, 0, 0, 0, 0, 0xfe])
        );
        assert_eq!(
            t.hop(a("198.51.100.7"), &NextHop::Address(a("100.64.0.2"))),
            Hop::Mac([2, 0, 0, 0, 0, 2])
        );
        assert_eq!(t.hop(a("198.51.100.7"), &NextHop::Mac([1; 6])), Hop::Mac([1; 6]));
    }

    #[test]
    fn ipv6_without_default_route() {
        let routes = r#"[{"dst":"2001:db8:6::/64","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
            {"dst":"fe80::/64","protocol":"kernel","metric":256,"flags":[],"pref":"medium"}]"#;
        let neigh = r#"[{"dst":"2001:db8:6::2","dev":"x","lladdr":"aa:bb:cc:dd:ee:ff","state":["STALE"]},
            {"dst":"fe80::1","dev":"x","lladdr":"aa:bb:cc:dd:ee:01","router":null,"state":["REACHABLE"]}]"#;
        let t = SideTable::parse(routes, neigh, false);
        let a = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            t.hop(a("2001:db8:6::2"), &NextHop::Auto),
            Hop::Mac([0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        );
        assert_eq!(t.hop(a("2001:db8:7::2"), &NextHop::Auto), Hop::NoRoute);
        assert_eq!(SideTable::parse("garbage", "[]", false), SideTable::default());
    }
}
