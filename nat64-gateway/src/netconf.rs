//! Device configuration through iproute2's `ip` command: bring the TUN
//! device up with its MTU, give it addresses, route the translator's
//! prefixes into it (pool6 and pool4 for NAT64, pool6 and the EAMT for
//! SIIT, the IPv4 default route and the host's CLAT address for CLAT).
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
    let cmd = format!("ip {}", args.join(" "));
    let out = Command::new("ip").args(args).output().map_err(|e| IpError {
        cmd: cmd.clone(),
        why: e.to_string(),
    })?;
    if out.status.success() {
        return Ok(());
    }
    Err(IpError {
        cmd,
        why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
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
