//! `nat64 demo`: the whole DNS64 + NAT64 bridge in three network
//! namespaces, for a newcomer.
//!
//! ```text
//!  n64demo-client            n64demo-gw                                n64demo-server
//!  2001:db8:1::2/64  <----> 2001:db8:1::1/64                            203.0.113.2/24  web server
//!  (IPv6 only; resolver:     TUN "nat64": pool6 2001:db8:64::/96,       203.0.113.53/24 nsd, authoritative
//!   the gateway's DNS64)     pool4 198.51.100.0/28; DNS64 on port 53    (IPv4 only)     for demo.example
//!                            203.0.113.1/24            <---------------->
//! ```
//!
//! It starts a web server and an authoritative DNS server (nsd) in the
//! IPv4-only namespace, and `nat64 gateway` (stateful NAT64 with its
//! `[dns64]` table: the DNS64 resolver, RFC 6147) in the middle one; the
//! client's resolver is the gateway's DNS64 (`/etc/netns/n64demo-client/
//! resolv.conf`, which `ip netns exec` puts in place of /etc/resolv.conf).
//! Then, from the client: `dig AAAA ipv4only.arpa` (RFC 7050: the NAT64
//! prefix discovered), `dig AAAA www.demo.example` (the address synthesized
//! from the server's A record, RFC 6052 section 2.2), `curl
//! http://www.demo.example/` (by name, through DNS64 and NAT64), ping; then
//! the session table and the counters. It deletes exactly what it created
//! (the three namespaces and their veth links, by name, and the resolv.conf
//! folder), also on failure and on Ctrl-C. The server's address is a
//! documentation address, which RFC 6052 section 3.1 keeps out of the
//! Well-Known Prefix 64:ff9b::/96, so the lab uses a network-specific
//! prefix.
//!
//! Needs root, iproute2 (`ip netns`), python3 and curl. Without nsd there
//! is no DNS: the client fetches the page from the synthesized address
//! written literally; without dig the DNS answers are not shown; without
//! ping there is no ping. Each says so in one line. Installs nothing.

use std::error::Error;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args as ClapArgs;
use nat64_core::Prefix64;
use nat64_gateway::sys::{self, Signals};

/// `nat64 demo`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The NAT64 prefix (pool6); the server's non-global address needs a
    /// network-specific prefix or 64:ff9b:1::/48 (RFC 8215).
    #[arg(long, default_value = "2001:db8:64::/96")]
    pub prefix: Prefix64,
    /// Leave the lab running after the demo, until Ctrl-C, to try things by hand.
    #[arg(long)]
    pub keep: bool,
    /// Delete a lab left behind by a demo that was killed (its namespaces, by name), then exit.
    #[arg(long)]
    pub cleanup: bool,
}

const NS_CLIENT: &str = "n64demo-client";
const NS_GW: &str = "n64demo-gw";
const NS_SERVER: &str = "n64demo-server";
const CLIENT6: &str = "2001:db8:1::2";
const GW6: &str = "2001:db8:1::1";
const GW4: &str = "203.0.113.1";
const SERVER4: Ipv4Addr = Ipv4Addr::new(203, 0, 113, 2);
const POOL4: &str = "198.51.100.0/28";
const DNS4: &str = "203.0.113.53";
const ZONE: &str = "demo.example";
const NAME: &str = "www.demo.example";
/// Where `ip netns exec` finds the client's own /etc files (iproute2's
/// ip-netns(8): each file there is bind-mounted over /etc).
const ETC_NETNS: &str = "/etc/netns";

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// Not root.
    #[error("the demo creates network namespaces and a TUN device: run it as root (sudo)")]
    NotRoot,
    /// A tool is missing.
    #[error("`{0}` is not installed; the demo needs iproute2, python3 and curl (Debian: apt-get install iproute2 python3 curl iputils-ping)")]
    Missing(&'static str),
    /// A previous lab is still there.
    #[error("{0} already exists (a demo still running, or one that was killed); run `nat64 demo --cleanup` to delete the lab")]
    Exists(String),
    /// A command failed.
    #[error("`{cmd}` failed: {why}")]
    Command {
        /// The command.
        cmd: String,
        /// Its standard error.
        why: String,
    },
    /// A step did not give what it should.
    #[error("{0}")]
    Step(String),
}

/// What the demo created, deleted by name in [`Lab::cleanup`].
#[derive(Default)]
struct Lab {
    namespaces: Vec<&'static str>,
    links: Vec<(&'static str, &'static str)>,
    children: Vec<(String, Child)>,
    dir: Option<PathBuf>,
    /// /etc/netns/n64demo-client, and whether /etc/netns was made too.
    etc_netns: Option<(PathBuf, bool)>,
}

impl Lab {
    fn cleanup(&mut self) {
        for (name, mut c) in self.children.drain(..) {
            let _ = sys::kill(c.id(), sys::SIGTERM);
            let t = Instant::now();
            while t.elapsed() < Duration::from_secs(3) {
                if let Ok(Some(_)) = c.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            if let Ok(None) = c.try_wait() {
                eprintln!("  {name} did not stop in 3 s; killing it");
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        for (ns, link) in self.links.drain(..).rev() {
            let _ = quiet(&["ip", "-n", ns, "link", "del", link]);
        }
        for ns in self.namespaces.drain(..).rev() {
            match quiet(&["ip", "netns", "del", ns]) {
                Ok(()) => println!("  deleted namespace {ns}"),
                Err(e) => eprintln!("  could not delete namespace {ns}: {e}"),
            }
        }
        if let Some((d, made_parent)) = self.etc_netns.take() {
            match fs::remove_dir_all(&d) {
                Ok(()) => println!("  deleted {}", d.display()),
                Err(e) => eprintln!("  could not delete {}: {e}", d.display()),
            }
            if made_parent {
                let _ = fs::remove_dir(ETC_NETNS);
            }
        }
        if let Some(d) = self.dir.take() {
            let _ = fs::remove_dir_all(d);
        }
    }
}

/// The client's /etc folder of `ip netns exec`.
fn client_etc() -> PathBuf {
    Path::new(ETC_NETNS).join(NS_CLIENT)
}

/// A command whose child does not inherit the blocked signals.
fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    sys::unblock_signals_in_child(&mut c);
    c
}

/// Runs `argv` with standard input closed and its output captured; an
/// error only if it could not be started.
fn run_captured(argv: &[&str]) -> Result<Output, DemoError> {
    cmd(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DemoError::Command {
            cmd: argv.join(" "),
            why: e.to_string(),
        })
}

fn quiet(argv: &[&str]) -> Result<(), DemoError> {
    let out = run_captured(argv)?;
    if out.status.success() {
        return Ok(());
    }
    Err(DemoError::Command {
        cmd: argv.join(" "),
        why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    })
}

fn output(argv: &[&str]) -> Result<String, DemoError> {
    let out = run_captured(argv)?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    Err(DemoError::Command {
        cmd: argv.join(" "),
        why: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ),
    })
}

fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn have(tool: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
        .unwrap_or(false)
}

fn existing_namespaces() -> Vec<String> {
    output(&["ip", "netns", "list"])
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

/// `nat64 demo`.
pub fn run(a: Args) -> Result<ExitCode, Box<dyn Error>> {
    if !is_root() {
        return Err(DemoError::NotRoot.into());
    }
    if a.cleanup {
        let have = existing_namespaces();
        let mut n = 0;
        for ns in [NS_CLIENT, NS_GW, NS_SERVER] {
            if have.iter().any(|h| h == ns) {
                quiet(&["ip", "netns", "del", ns])?;
                println!("deleted namespace {ns}");
                n += 1;
            }
        }
        let etc = client_etc();
        if etc.exists() {
            fs::remove_dir_all(&etc).map_err(|e| DemoError::Step(format!("{}: {e}", etc.display())))?;
            println!("deleted {}", etc.display());
            n += 1;
        }
        if n == 0 {
            println!("no demo lab to delete");
        }
        return Ok(ExitCode::SUCCESS);
    }
    for tool in ["ip", "python3", "curl"] {
        if !have(tool) {
            return Err(DemoError::Missing(tool).into());
        }
    }
    let have_ns = existing_namespaces();
    for ns in [NS_CLIENT, NS_GW, NS_SERVER] {
        if have_ns.iter().any(|h| h == ns) {
            return Err(DemoError::Exists(format!("network namespace {ns}")).into());
        }
    }
    if client_etc().exists() {
        return Err(DemoError::Exists(client_etc().display().to_string()).into());
    }
    // Ctrl-C and SIGTERM come to a thread that cleans up, so the lab never
    // outlives the demo. Blocked before any thread or child starts.
    let signals = Signals::block(&[sys::SIGINT, sys::SIGTERM, sys::SIGHUP])?;
    let lab = Arc::new(Mutex::new(Some(Lab::default())));
    {
        let lab = Arc::clone(&lab);
        std::thread::spawn(move || {
            if let Ok(sig) = signals.wait() {
                eprintln!("\n{}: cleaning up", sys::signal_name(sig));
                if let Some(mut l) = lab.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    l.cleanup();
                }
                std::process::exit(130);
            }
        });
    }
    let r = steps(&a, &lab);
    if let Err(e) = &r {
        eprintln!("\ndemo failed: {e}");
    }
    if a.keep && r.is_ok() {
        println!();
        println!("The lab stays up; try, in another terminal:");
        let dst = a.prefix.embed(SERVER4);
        if have("nsd") {
            println!("  sudo ip netns exec {NS_CLIENT} curl http://{NAME}/");
            println!("  sudo ip netns exec {NS_CLIENT} dig AAAA {NAME}");
        }
        println!("  sudo ip netns exec {NS_CLIENT} curl -6 http://[{dst}]/");
        println!("  sudo ip netns exec {NS_CLIENT} ping -6 {dst}");
        let sock = lab_dir_of(&lab).join("nat64.sock");
        println!("  sudo nat64 session display --socket {}", sock.display());
        println!("  sudo nat64 stats --socket {}", sock.display());
        println!("  sudo ip netns exec {NS_GW} curl -s http://127.0.0.1:9164/metrics");
        println!("Press Ctrl-C to delete it.");
        loop {
            std::thread::park();
        }
    }
    println!();
    println!("Cleaning up:");
    if let Some(mut l) = lab.lock().unwrap_or_else(|e| e.into_inner()).take() {
        l.cleanup();
    }
    match r {
        Ok(()) => {
            println!("\nDone. The same gateway runs on a real network with `nat64 gateway --config FILE` (examples/gateway.toml).");
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => Ok(ExitCode::from(1)),
    }
}

fn lab_dir_of(lab: &Mutex<Option<Lab>>) -> PathBuf {
    lab.lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .and_then(|l| l.dir.clone())
        .unwrap_or_default()
}

/// Runs `f` on the lab (if the signal thread has not taken it).
fn with_lab<T>(lab: &Mutex<Option<Lab>>, f: impl FnOnce(&mut Lab) -> T) -> Result<T, DemoError> {
    let mut g = lab.lock().unwrap_or_else(|e| e.into_inner());
    match g.as_mut() {
        Some(l) => Ok(f(l)),
        None => Err(DemoError::Step("interrupted".into())),
    }
}

/// Prints the next numbered step.
fn step(n: &mut u32, what: &str) {
    *n += 1;
    println!("\n{n}. {what}");
}

fn run_shown(argv: &[&str]) -> Result<String, DemoError> {
    println!("   $ {}", argv.join(" "));
    output(argv)
}

/// Runs `argv` until `good` accepts its output, for up to 10 s (a daemon
/// that has just started); returns the last output or error.
fn retry(argv: &[&str], good: impl Fn(&str) -> bool) -> Result<String, DemoError> {
    let t = Instant::now();
    loop {
        let r = output(argv);
        match &r {
            Ok(out) if good(out) => return r,
            _ if t.elapsed() > Duration::from_secs(10) => return r,
            _ => std::thread::sleep(Duration::from_millis(300)),
        }
    }
}

/// Starts `argv` in the background as part of the lab, its standard error
/// in `log`.
fn spawn(lab: &Mutex<Option<Lab>>, name: &str, argv: &[&str], cwd: &Path, log: &Path) -> Result<(), DemoError> {
    let child = cmd(argv[0])
        .args(&argv[1..])
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(log).map_err(|e| DemoError::Step(format!("{}: {e}", log.display())))?)
        .spawn()
        .map_err(|e| DemoError::Step(format!("{}: {e}", argv.join(" "))))?;
    with_lab(lab, |l| l.children.push((name.into(), child)))?;
    println!("   $ {}", argv.join(" "));
    Ok(())
}

/// What this run can show, from the tools installed.
struct Tools {
    /// nsd: the authoritative server, so DNS64 and names.
    dns: bool,
    /// dig: the DNS answers shown.
    dig: bool,
    /// ping.
    ping: bool,
}

fn write(path: &Path, text: &str) -> Result<(), DemoError> {
    fs::write(path, text).map_err(|e| DemoError::Step(format!("{}: {e}", path.display())))
}

/// The AAAA addresses in `dig +noall +answer` output.
fn aaaa_of(dig: &str) -> Vec<Ipv6Addr> {
    dig.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            match f.as_slice() {
                [.., "AAAA", a] => a.parse().ok(),
                _ => None,
            }
        })
        .collect()
}

fn steps(a: &Args, lab: &Mutex<Option<Lab>>) -> Result<(), DemoError> {
    let tools = Tools {
        dns: have("nsd"),
        dig: have("dig"),
        ping: have("ping"),
    };
    let dst6: Ipv6Addr = a.prefix.embed(SERVER4);
    if tools.dns {
        println!("nat64 demo: an IPv6-only client looks up an IPv4-only server by name through this DNS64");
        println!("and fetches its page through this NAT64.");
    } else {
        println!("nat64 demo: an IPv6-only client fetches a page from an IPv4-only server through this NAT64.");
    }
    println!();
    println!("  {NS_CLIENT:<16} {CLIENT6}/64  (IPv6 only)");
    println!("       |");
    println!(
        "  {NS_GW:<16} {GW6}/64 | TUN nat64: pool6 {}, pool4 {POOL4} | {GW4}/24",
        a.prefix
    );
    if tools.dns {
        println!("  {:<16} DNS64 on [{GW6}]:53, the client's resolver", "");
    }
    println!("       |");
    println!("  {NS_SERVER:<16} {SERVER4}/24  (IPv4 only, python3 -m http.server 80)");
    if tools.dns {
        println!(
            "  {:<16} {DNS4}/24 (nsd, authoritative for {ZONE}: {NAME} A {SERVER4})",
            ""
        );
    }
    println!();
    println!("The client reaches {SERVER4} as {dst6}: the IPv4 address embedded in pool6 (RFC 6052).");
    if !tools.dns {
        println!(
            "nsd is not installed (Debian: apt-get install nsd): no DNS in this run, the client uses {dst6} literally."
        );
    } else if !tools.dig {
        println!("dig is not installed (Debian: apt-get install dnsutils): the DNS answers are not shown; curl and ping still look the name up through the DNS64.");
    }
    let mut n = 0;

    step(&mut n, "Building the lab (network namespaces and veth links)");
    let dir = std::env::temp_dir().join(format!("nat64-demo-{}", std::process::id()));
    fs::create_dir_all(dir.join("www")).map_err(|e| DemoError::Step(format!("{}: {e}", dir.display())))?;
    with_lab(lab, |l| l.dir = Some(dir.clone()))?;
    for ns in [NS_CLIENT, NS_GW, NS_SERVER] {
        quiet(&["ip", "netns", "add", ns])?;
        with_lab(lab, |l| l.namespaces.push(ns))?;
    }
    quiet(&[
        "ip", "-n", NS_CLIENT, "link", "add", "c0", "type", "veth", "peer", "name", "g6", "netns", NS_GW,
    ])?;
    with_lab(lab, |l| l.links.push((NS_CLIENT, "c0")))?;
    quiet(&[
        "ip", "-n", NS_SERVER, "link", "add", "s0", "type", "veth", "peer", "name", "g4", "netns", NS_GW,
    ])?;
    with_lab(lab, |l| l.links.push((NS_SERVER, "s0")))?;
    let dns4 = format!("{DNS4}/24");
    let cmds: &[&[&str]] = &[
        &["ip", "-n", NS_CLIENT, "link", "set", "lo", "up"],
        &[
            "ip",
            "-n",
            NS_CLIENT,
            "addr",
            "add",
            "2001:db8:1::2/64",
            "dev",
            "c0",
            "nodad",
        ],
        &["ip", "-n", NS_CLIENT, "link", "set", "c0", "up"],
        &["ip", "-n", NS_CLIENT, "-6", "route", "add", "default", "via", GW6],
        &["ip", "-n", NS_GW, "link", "set", "lo", "up"],
        &[
            "ip",
            "-n",
            NS_GW,
            "addr",
            "add",
            "2001:db8:1::1/64",
            "dev",
            "g6",
            "nodad",
        ],
        &["ip", "-n", NS_GW, "addr", "add", "203.0.113.1/24", "dev", "g4"],
        &["ip", "-n", NS_GW, "link", "set", "g6", "up"],
        &["ip", "-n", NS_GW, "link", "set", "g4", "up"],
        &["ip", "netns", "exec", NS_GW, "sysctl", "-qw", "net.ipv4.ip_forward=1"],
        &[
            "ip",
            "netns",
            "exec",
            NS_GW,
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.forwarding=1",
        ],
        &["ip", "-n", NS_SERVER, "link", "set", "lo", "up"],
        &["ip", "-n", NS_SERVER, "addr", "add", "203.0.113.2/24", "dev", "s0"],
        &["ip", "-n", NS_SERVER, "addr", "add", &dns4, "dev", "s0"],
        &["ip", "-n", NS_SERVER, "link", "set", "s0", "up"],
        &["ip", "-n", NS_SERVER, "route", "add", "default", "via", GW4],
    ];
    for c in cmds {
        quiet(c)?;
    }
    println!("   namespaces {NS_CLIENT}, {NS_GW}, {NS_SERVER}; links c0<->g6, g4<->s0");

    if tools.dns {
        step(
            &mut n,
            "Starting the web server and the authoritative DNS server (nsd) in the IPv4-only namespace",
        );
    } else {
        step(&mut n, "Starting the web server in the IPv4-only namespace");
    }
    write(
        &dir.join("www/index.html"),
        &format!("<html><body><h1>Hello from the IPv4-only server {SERVER4}</h1></body></html>\n"),
    )?;
    spawn(
        lab,
        "the web server",
        &[
            "ip",
            "netns",
            "exec",
            NS_SERVER,
            "python3",
            "-m",
            "http.server",
            "80",
            "--bind",
            "203.0.113.2",
        ],
        &dir.join("www"),
        &dir.join("http.log"),
    )?;
    if tools.dns {
        start_nsd(lab, &dir)?;
    }

    step(
        &mut n,
        if tools.dns {
            "Starting the gateway (stateful NAT64, RFC 6146, and its DNS64 resolver, RFC 6147) in the middle namespace"
        } else {
            "Starting the gateway (stateful NAT64, RFC 6146) in the middle namespace"
        },
    );
    let conf = dir.join("gateway.toml");
    let sock = dir.join("nat64.sock");
    let mut text = format!(
        "# Written by nat64 demo.\n[gateway]\nmode = \"nat64\"\ndevice = \"nat64\"\nclients = [\"2001:db8:1::/64\"]\ncontrol_socket = \"{}\"\nmetrics = \"127.0.0.1:9164\"\n\n[translator]\npool6 = \"{}\"\n\n[nat64]\npool4 = [\"{POOL4}\"]\n",
        sock.display(),
        a.prefix
    );
    if tools.dns {
        text.push_str(&format!(
            "\n# The DNS64 resolver (its prefix: pool6), asking nsd.\n[dns64]\nlisten = [\"[{GW6}]:53\"]\nupstreams = [\"{DNS4}\"]\n"
        ));
    }
    write(&conf, &text)?;
    print_indented(&text);
    let exe = std::env::current_exe().map_err(|e| DemoError::Step(e.to_string()))?;
    let exe_s = exe.display().to_string();
    let conf_s = conf.display().to_string();
    let log_path = dir.join("gateway.log");
    spawn(
        lab,
        "the gateway",
        &["ip", "netns", "exec", NS_GW, &exe_s, "gateway", "--config", &conf_s],
        &dir,
        &log_path,
    )?;
    let t = Instant::now();
    while !(sock.exists() && output(&[&exe_s, "stats", "--socket", &sock.display().to_string()]).is_ok()) {
        let exited = with_lab(lab, |l| {
            l.children
                .iter_mut()
                .find(|(n, _)| n == "the gateway")
                .is_some_and(|(_, c)| matches!(c.try_wait(), Ok(Some(_))))
        })?;
        if exited || t.elapsed() > Duration::from_secs(10) {
            return Err(DemoError::Step(format!(
                "the gateway did not start; its log:\n{}",
                tail(&log_path, 20)
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("   gateway log ({}):", log_path.display());
    print_indented(&tail(&log_path, 5));
    println!("   routes in {NS_GW}:");
    print_indented(&output(&["ip", "-n", NS_GW, "-6", "route", "show", "dev", "nat64"]).unwrap_or_default());
    print_indented(&output(&["ip", "-n", NS_GW, "-4", "route", "show", "dev", "nat64"]).unwrap_or_default());

    let target = if tools.dns {
        dns_steps(lab, &mut n, &tools, a.prefix, dst6)?;
        NAME.to_owned()
    } else {
        dst6.to_string()
    };

    step(&mut n, "Fetching the page from the IPv6-only client");
    let url = if tools.dns {
        format!("http://{NAME}/")
    } else {
        format!("http://[{dst6}]/")
    };
    println!("   $ ip netns exec {NS_CLIENT} curl {url}");
    let curl = ["ip", "netns", "exec", NS_CLIENT, "curl", "-sS", "--max-time", "5", &url];
    let page = match retry(&curl, |p| !p.is_empty()) {
        Ok(p) => p,
        Err(e) => {
            return Err(DemoError::Step(format!(
                "curl {url} failed: {e}\ngateway log:\n{}",
                tail(&log_path, 20)
            )))
        }
    };
    print_indented(page.trim_end());
    if !page.contains("Hello from the IPv4-only server") {
        return Err(DemoError::Step("the page is not the server's".into()));
    }
    if tools.dns {
        println!("   curl asked the client's resolver (the DNS64) for {NAME}, got {dst6}");
        println!("   and connected to it; the gateway translated the connection to {SERVER4}.");
    }

    step(&mut n, "Pinging the server from the client (ICMPv6 echo <-> ICMP echo)");
    if tools.ping {
        let out = run_shown(&[
            "ip", "netns", "exec", NS_CLIENT, "ping", "-6", "-c", "3", "-i", "0.3", "-W", "2", &target,
        ])?;
        print_indented(out.trim_end());
    } else {
        println!("   ping is not installed (Debian: apt-get install iputils-ping): no ping in this run.");
    }

    step(&mut n, "The gateway's session table (RFC 6146 section 3.1)");
    let sock_s = sock.display().to_string();
    let out = run_shown(&[&exe_s, "session", "display", "--socket", &sock_s])?;
    print_indented(out.trim_end());
    println!("   Each row: the client's address and port, the pool4 address and port the gateway");
    println!("   gave it, the IPv4 server, the TCP state, and when the session expires unless used.");

    step(&mut n, "The gateway's counters");
    let out = run_shown(&[&exe_s, "stats", "--socket", &sock_s])?;
    print_indented(
        &out.lines()
            .filter(|l| !l.contains("  0  ") || l.starts_with("drops") || l.starts_with(' ') || !l.contains(' '))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    println!("   Also on Prometheus: ip netns exec {NS_GW} curl http://127.0.0.1:9164/metrics");
    Ok(())
}

/// nsd in the server namespace, authoritative for the demo's zone (the web
/// server's name) and for `ipv4only.arpa` (RFC 7050 section 2.2: A
/// 192.0.0.170 and 192.0.0.171, as the real zone's servers answer, RFC
/// 8880), so that the DNS64 has both to synthesize from.
fn start_nsd(lab: &Mutex<Option<Lab>>, dir: &Path) -> Result<(), DemoError> {
    write(
        &dir.join("demo.zone"),
        &format!(
            "$ORIGIN {ZONE}.\n$TTL 3600\n@   IN SOA ns hostmaster 1 7200 900 1209600 300\n@   IN NS  ns\nns  IN A   {DNS4}\nwww IN A   {SERVER4}\n"
        ),
    )?;
    write(
        &dir.join("ipv4only.zone"),
        &format!(
            "$ORIGIN ipv4only.arpa.\n$TTL 86400\n@   IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 7200 900 1209600 86400\n@   IN NS  ns.{ZONE}.\n@   IN A   192.0.0.170\n@   IN A   192.0.0.171\n"
        ),
    )?;
    let d = dir.display();
    let conf = dir.join("nsd.conf");
    write(
        &conf,
        &format!(
            "server:\n  ip-address: {DNS4}\n  server-count: 1\n  username: \"\"\n  chroot: \"\"\n  zonesdir: \"{d}\"\n  database: \"\"\n  zonelistfile: \"{d}/nsd-zone.list\"\n  xfrdfile: \"{d}/nsd-xfrd.state\"\n  xfrdir: \"{d}\"\n  pidfile: \"{d}/nsd.pid\"\n  logfile: \"{d}/nsd.log\"\nremote-control:\n  control-enable: no\nzone:\n  name: {ZONE}\n  zonefile: demo.zone\nzone:\n  name: ipv4only.arpa\n  zonefile: ipv4only.zone\n"
        ),
    )?;
    let conf_s = conf.display().to_string();
    spawn(
        lab,
        "nsd",
        &["ip", "netns", "exec", NS_SERVER, "nsd", "-d", "-c", &conf_s],
        dir,
        &dir.join("nsd.out"),
    )?;
    println!("   zone {ZONE}: {NAME} A {SERVER4} (no AAAA: the server has no IPv6 address)");
    println!("   zone ipv4only.arpa: A 192.0.0.170, A 192.0.0.171 (RFC 7050)");
    Ok(())
}

/// The client's resolver, prefix discovery and the synthesized address.
fn dns_steps(
    lab: &Mutex<Option<Lab>>,
    n: &mut u32,
    tools: &Tools,
    prefix: Prefix64,
    dst6: Ipv6Addr,
) -> Result<(), DemoError> {
    step(n, "The client's resolver: the gateway's DNS64");
    let etc = client_etc();
    let made_parent = !Path::new(ETC_NETNS).exists();
    fs::create_dir_all(&etc).map_err(|e| DemoError::Step(format!("{}: {e}", etc.display())))?;
    with_lab(lab, |l| l.etc_netns = Some((etc.clone(), made_parent)))?;
    write(&etc.join("resolv.conf"), &format!("nameserver {GW6}\n"))?;
    println!(
        "   {} (ip netns exec mounts it on the client's /etc/resolv.conf):",
        etc.join("resolv.conf").display()
    );
    let out = run_shown(&["ip", "netns", "exec", NS_CLIENT, "cat", "/etc/resolv.conf"])?;
    print_indented(out.trim_end());
    if !tools.dig {
        return Ok(());
    }

    step(
        n,
        "Discovering the NAT64 prefix (RFC 7050): the AAAA records of ipv4only.arpa",
    );
    let dig = |name: &'static str| {
        let argv = [
            "ip", "netns", "exec", NS_CLIENT, "dig", "+time=2", "+tries=1", "+noall", "+answer", "AAAA", name,
        ];
        println!("   $ ip netns exec {NS_CLIENT} dig +noall +answer AAAA {name}");
        retry(&argv, |o| !aaaa_of(o).is_empty())
    };
    let out = dig("ipv4only.arpa")?;
    print_indented(out.trim_end());
    match nat64_core::dns64::discovery::prefixes_from_addresses(aaaa_of(&out)) {
        Ok(p) => {
            let list: Vec<String> = p.iter().map(|p| p.to_string()).collect();
            println!(
                "   192.0.0.170 and 192.0.0.171 sit in the last 32 bits: the NAT64 prefix is {}",
                list.join(", ")
            );
            if !p.contains(&prefix) {
                return Err(DemoError::Step(format!("the discovered prefix is not pool6 {prefix}")));
            }
        }
        Err(e) => return Err(DemoError::Step(format!("RFC 7050 discovery: {e}"))),
    }
    println!("   (A host that learns the prefix can synthesize addresses itself: a CLAT, RFC 6877.)");

    step(
        n,
        "Looking up the server by name: the DNS64 synthesizes its AAAA record (RFC 6147)",
    );
    let out = dig(NAME)?;
    print_indented(out.trim_end());
    if !aaaa_of(&out).contains(&dst6) {
        return Err(DemoError::Step(format!("no AAAA {dst6} for {NAME}")));
    }
    println!("   {NAME} has only an A record, {SERVER4}; the DNS64 answered with that address");
    println!("   embedded in pool6: {dst6}. No one configured this AAAA record.");
    Ok(())
}

fn print_indented(s: &str) {
    for l in s.lines() {
        println!("     {l}");
    }
}

fn tail(path: &Path, n: usize) -> String {
    let mut s = String::new();
    if let Ok(mut f) = fs::File::open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
