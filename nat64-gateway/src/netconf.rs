//! Device configuration through iproute2's `ip` command: bring the TUN
//! device up with its MTU, give it addresses, route the translator's
//! prefixes into it (pool6 and pool4 for NAT64, pool6 and the EAMT sides
//! the kernel does not reach on another interface for SIIT, see
//! [`eamt_routes`], the IPv4 default route and the host's CLAT address for
//! CLAT).
//! The kernel removes all of it when the device goes away with the
//! gateway.

use std::process::Command;

use crate::settings::Cidr;

/// An `ip` command that failed.
#[derive(Debug, thiserror::Error)]
#[error("`{cmd}` failed: {why} (the gateway needs iproute2 and CAP_NET_ADMIN; set [gateway] configure = false to configure the device yourself)")]
pub struct IpError {
    /// The command line.
    pub cmd: String,
    /// Its standard error, or why it could not run.
    pub why: String,
}

/// Runs `ip ARGS`.
pub fn ip(args: &[&str]) -> Result<(), IpError> {
    ip_output(args).map(drop)
}

/// Runs `ip ARGS` and returns its standard output.
pub fn ip_output(args: &[&str]) -> Result<String, IpError> {
    let cmd = format!("ip {}", args.join(" "));
    let out = Command::new("ip").args(args).output().map_err(|e| IpError {
        cmd: cmd.clone(),
        why: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(IpError {
        cmd,
        why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}

/// Runs the `ip` commands `lines` (one per line, without `ip`) with
/// `ip -force -batch -`: one process for all of them.
pub fn ip_batch(lines: &str) -> Result<(), IpError> {
    use std::io::Write;
    use std::process::Stdio;
    let cmd = "ip -force -batch -".to_owned();
    let err = |why: String| IpError { cmd: cmd.clone(), why };
    let mut child = Command::new("ip")
        .args(["-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| err(e.to_string()))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(lines.as_bytes()).map_err(|e| err(e.to_string()))?;
    }
    let out = child.wait_with_output().map_err(|e| err(e.to_string()))?;
    if out.status.success() {
        return Ok(());
    }
    Err(err(String::from_utf8_lossy(&out.stderr).trim().to_owned()))
}

/// `ip route replace blackhole R` (idempotent): the kernel discards what it
/// would route to `R`, so that the AF_PACKET adapter alone answers for it.
pub fn add_blackhole(r: &Cidr) -> Result<(), IpError> {
    ip(&[family(r), "route", "replace", "blackhole", &r.to_string()])
}

/// `ip route del blackhole R`.
pub fn del_blackhole(r: &Cidr) -> Result<(), IpError> {
    ip(&[family(r), "route", "del", "blackhole", &r.to_string()])
}

/// An interface's MTU, from sysfs.
pub fn interface_mtu(name: &str) -> std::io::Result<u32> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} is not an interface name"),
        ));
    }
    std::fs::read_to_string(std::path::Path::new("/sys/class/net").join(name).join("mtu"))?
        .trim()
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "unreadable mtu"))
}

/// An interface's index and link-layer (Ethernet) address, from sysfs.
pub fn interface(name: &str) -> std::io::Result<(u32, [u8; 6])> {
    let bad = |why: String| std::io::Error::new(std::io::ErrorKind::InvalidData, why);
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(bad(format!("{name:?} is not an interface name")));
    }
    let dir = std::path::Path::new("/sys/class/net").join(name);
    let index: u32 = std::fs::read_to_string(dir.join("ifindex"))?
        .trim()
        .parse()
        .map_err(|_| bad("unreadable ifindex".into()))?;
    let text = std::fs::read_to_string(dir.join("address"))?;
    let mac =
        parse_mac(text.trim()).ok_or_else(|| bad(format!("{name} has no Ethernet address ({:?})", text.trim())))?;
    Ok((index, mac))
}

/// Parses `aa:bb:cc:dd:ee:ff`.
pub fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut m = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut m {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 2 {
            return None;
        }
        *b = u8::from_str_radix(p, 16).ok()?;
    }
    parts.next().is_none().then_some(m)
}

/// `ip link set dev DEV addrgenmode none mtu MTU up`: no IPv6 link-local
/// address, so the kernel sends no router solicitations or MLD reports
/// into the translator (routes need no address on the device).
pub fn link_up(dev: &str, mtu: u32) -> Result<(), IpError> {
    let _ = ip(&["link", "set", "dev", dev, "addrgenmode", "none"]);
    // A queue of 1000 packets (Ethernet's default; TUN's is 500) absorbs
    // bursts while the workers are busy.
    ip(&[
        "link",
        "set",
        "dev",
        dev,
        "mtu",
        &mtu.to_string(),
        "txqueuelen",
        "1000",
        "up",
    ])
}

fn family(c: &Cidr) -> &'static str {
    if c.addr.is_ipv4() {
        "-4"
    } else {
        "-6"
    }
}

/// `ip addr replace A dev DEV` (idempotent).
pub fn add_address(dev: &str, a: &Cidr) -> Result<(), IpError> {
    ip(&[family(a), "addr", "replace", &a.to_string(), "dev", dev])
}

/// `ip addr del A dev DEV`.
pub fn del_address(dev: &str, a: &Cidr) -> Result<(), IpError> {
    ip(&[family(a), "addr", "del", &a.to_string(), "dev", dev])
}

/// `ip route replace R dev DEV` (idempotent).
pub fn add_route(dev: &str, r: &Cidr) -> Result<(), IpError> {
    ip(&[family(r), "route", "replace", &r.to_string(), "dev", dev])
}

/// `ip route del R dev DEV`.
pub fn del_route(dev: &str, r: &Cidr) -> Result<(), IpError> {
    ip(&[family(r), "route", "del", &r.to_string(), "dev", dev])
}

/// Where the kernel already delivers all of `r` other than through the
/// devices `own` (the gateway's TUN device, or its AF_PACKET interfaces'
/// blackholes): its most specific route covering the whole prefix, as
/// `DST dev DEV` (or `local DST` for an address of this host), from
/// `ip -json route show table all match R`. Default routes do not count (a
/// gateway's default route reaches everything it has no better route for),
/// nor do blackhole, unreachable, prohibit and throw routes, nor routes
/// through `own`. `None`: only a default route (or nothing) reaches `r`, so a
/// route for `r` into the device captures no traffic the kernel delivers
/// elsewhere.
pub fn reached_elsewhere(r: &Cidr, own: &[&str]) -> Result<Option<String>, IpError> {
    let args = [
        "-json",
        family(r),
        "route",
        "show",
        "table",
        "all",
        "match",
        &r.to_string(),
    ];
    let json = ip_output(&args)?;
    covering_route(&json, r.addr.is_ipv4(), own).map_err(|e| IpError {
        cmd: format!("ip {}", args.join(" ")),
        why: format!("unreadable JSON ({e})"),
    })
}

/// The choice of [`reached_elsewhere`] from the `ip -json route show` text.
fn covering_route(json: &str, v4: bool, own: &[&str]) -> Result<Option<String>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct JsonRoute {
        #[serde(rename = "type")]
        kind: Option<String>,
        dst: String,
        dev: Option<String>,
        table: Option<String>,
    }
    let full = if v4 { 32 } else { 128 };
    let routes: Vec<JsonRoute> = serde_json::from_str(json)?;
    Ok(routes
        .into_iter()
        .filter_map(|r| {
            let kind = r.kind.as_deref().unwrap_or("unicast");
            if !matches!(kind, "unicast" | "local") || r.dst == "default" {
                return None;
            }
            let len: u8 = match r.dst.split_once('/') {
                Some((_, l)) => l.parse().ok()?,
                None => full,
            };
            let dev = r.dev.as_deref().unwrap_or("(multipath)");
            if len == 0 || own.contains(&dev) {
                return None;
            }
            let table = match r.table.as_deref() {
                None | Some("main") | Some("local") => String::new(),
                Some(t) => format!(" table {t}"),
            };
            let what = if kind == "local" {
                format!("local {} (an address of this host)", r.dst)
            } else {
                format!("{} dev {dev}{table}", r.dst)
            };
            Some((len, what))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, what)| what))
}

/// Which of `candidates` (the [`Device::eamt_routes`](crate::Device)) go into
/// the device `dev`: each one the kernel does not already reach through
/// another interface ([`reached_elsewhere`], `own` the gateway's devices).
/// Logs each decision (`route_added` or `route_skipped` with the route that
/// already reaches it).
pub fn eamt_routes(candidates: &[Cidr], dev: &str, own: &[&str]) -> Result<Vec<Cidr>, IpError> {
    use crate::log::Level;
    let mut chosen: Vec<Cidr> = Vec::new();
    for r in candidates {
        if chosen.contains(r) {
            continue;
        }
        match reached_elsewhere(r, own)? {
            Some(via) => crate::log!(
                Level::Info,
                "route_skipped",
                route = r,
                device = dev,
                reached_by = via,
                why = "an EAMT side the kernel already reaches on another interface: the node itself, not a destination to translate"
            ),
            None => {
                crate::log!(
                    Level::Info,
                    "route_added",
                    route = r,
                    device = dev,
                    why = "an EAMT side the kernel reaches only through a default route, if at all: translated"
                );
                chosen.push(*r);
            }
        }
    }
    Ok(chosen)
}

/// Whether the kernel forwards packets of both families (needed: packets
/// cross between the other interfaces and the TUN device). Returns the
/// sysctls that are off.
pub fn forwarding_off() -> Vec<&'static str> {
    let mut off = Vec::new();
    for (path, name) in [
        ("/proc/sys/net/ipv4/ip_forward", "net.ipv4.ip_forward"),
        ("/proc/sys/net/ipv6/conf/all/forwarding", "net.ipv6.conf.all.forwarding"),
    ] {
        if std::fs::read_to_string(path).map(|s| s.trim() == "0").unwrap_or(false) {
            off.push(name);
        }
    }
    off
}

/// Appends the routes of `more` that `routes` lacks.
pub fn add_new(routes: &mut Vec<Cidr>, more: Vec<Cidr>) {
    for r in more {
        if !routes.contains(&r) {
            routes.push(r);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covering_route_choice() {
        // `ip -json -6 route show table all match 2001:db8:1::1/128`.
        let j = r#"[{"dst":"2001:db8:1::/64","dev":"g6","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
            {"dst":"default","dev":"g6","metric":1024,"flags":[],"pref":"medium"},
            {"type":"local","dst":"2001:db8:1::1","dev":"g6","table":"local","protocol":"kernel","metric":0,"flags":[]}]"#;
        assert_eq!(
            covering_route(j, false, &["siit"]).unwrap().as_deref(),
            Some("local 2001:db8:1::1 (an address of this host)")
        );
        // Only the /64 and the default route: the on-link /64 reaches it.
        let j = r#"[{"dst":"2001:db8:1::/64","dev":"g6","protocol":"kernel","metric":256,"flags":[]},
            {"dst":"default","dev":"g6","metric":1024,"flags":[]}]"#;
        assert_eq!(
            covering_route(j, false, &["siit"]).unwrap().as_deref(),
            Some("2001:db8:1::/64 dev g6")
        );
        // A default route alone, a blackhole, or the gateway's own device: not reached elsewhere.
        let j = r#"[{"type":"blackhole","dst":"2001:db8:5::/64","dev":"lo","metric":1024,"flags":[]},
            {"dst":"default","dev":"g6","metric":1024,"flags":[]},
            {"dst":"2001:db8:46::2","dev":"siit","metric":1024,"flags":[]}]"#;
        assert_eq!(covering_route(j, false, &["siit"]).unwrap(), None);
        assert_eq!(covering_route("[]", true, &["siit"]).unwrap(), None);
        assert!(covering_route("", true, &["siit"]).is_err());
        // The most specific of several, in another table.
        let j = r#"[{"dst":"198.51.100.0/24","dev":"eth1","table":"100","flags":[]},
            {"dst":"198.51.0.0/16","dev":"eth0","flags":[]}]"#;
        assert_eq!(
            covering_route(j, true, &["siit"]).unwrap().as_deref(),
            Some("198.51.100.0/24 dev eth1 table 100")
        );
    }
}
