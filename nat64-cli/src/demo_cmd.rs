//! `nat64 demo`: a NAT64 lab in three network namespaces, for a newcomer.
//!
//! ```text
//!  n64demo-client            n64demo-gw                                n64demo-server
//!  2001:db8:1::2/64  <----> 2001:db8:1::1/64                            203.0.113.2/24
//!  (IPv6 only)               TUN "nat64": pool6 2001:db8:64::/96,       (IPv4 only,
//!                            pool4 198.51.100.0/28                       python3 -m http.server)
//!                            203.0.113.1/24            <---------------->
//! ```
//!
//! It starts `nat64 gateway` (stateful NAT64) in the middle namespace,
//! fetches a page from the client with curl through `2001:db8:64::203.0.113.2`
//! (the server's IPv4 address embedded in pool6, RFC 6052 section 2.2),
//! pings it, prints the session table and the counters, and deletes exactly
//! what it created (the three namespaces and their veth links, by name),
//! also on failure and on Ctrl-C. The server's address is a documentation
//! address, which RFC 6052 section 3.1 keeps out of the Well-Known Prefix
//! 64:ff9b::/96, so the lab uses a network-specific prefix.
//!
//! Needs root, iproute2 (`ip netns`), python3 and curl; ping (iputils-ping)
//! is optional. Installs nothing.

use std::error::Error;
use std::fs;
use std::io::Read;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
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
    #[error("network namespace {0} already exists (a demo still running, or one that was killed); run `nat64 demo --cleanup` to delete the lab")]
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
        if let Some(d) = self.dir.take() {
            let _ = fs::remove_dir_all(d);
        }
    }
}

/// A command whose child does not inherit the blocked signals.
fn cmd(program: &str) -> Command {
    let mut c = Command::new(program);
    sys::unblock_signals_in_child(&mut c);
    c
}

fn quiet(argv: &[&str]) -> Result<(), DemoError> {
    let out = cmd(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DemoError::Command {
            cmd: argv.join(" "),
            why: e.to_string(),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(DemoError::Command {
            cmd: argv.join(" "),
            why: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

fn output(argv: &[&str]) -> Result<String, DemoError> {
    let out = cmd(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| DemoError::Command {
            cmd: argv.join(" "),
            why: e.to_string(),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(DemoError::Command {
            cmd: argv.join(" "),
            why: format!(
                "{}{}",
                String::from_utf8_lossy(&out.stderr).trim(),
                String::from_utf8_lossy(&out.stdout).trim()
            ),
        })
    }
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
            return Err(DemoError::Exists(ns.into()).into());
        }
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

fn step(n: u32, what: &str) {
    println!("\n{n}. {what}");
}

fn run_shown(argv: &[&str]) -> Result<String, DemoError> {
    println!("   $ {}", argv.join(" "));
    output(argv)
}

fn steps(a: &Args, lab: &Mutex<Option<Lab>>) -> Result<(), DemoError> {
    let dst6: Ipv6Addr = a.prefix.embed(SERVER4);
    println!("nat64 demo: an IPv6-only client fetches a page from an IPv4-only server through this NAT64.");
    println!();
    println!("  {NS_CLIENT:<16} {CLIENT6}/64  (IPv6 only)");
    println!("       |");
    println!(
        "  {NS_GW:<16} {GW6}/64 | TUN nat64: pool6 {}, pool4 {POOL4} | {GW4}/24",
        a.prefix
    );
    println!("       |");
    println!("  {NS_SERVER:<16} {SERVER4}/24  (IPv4 only, python3 -m http.server 80)");
    println!();
    println!("The client reaches {SERVER4} as {dst6}: the IPv4 address embedded in pool6 (RFC 6052).");

    step(1, "Building the lab (network namespaces and veth links)");
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
        &["ip", "-n", NS_SERVER, "link", "set", "s0", "up"],
        &["ip", "-n", NS_SERVER, "route", "add", "default", "via", GW4],
    ];
    for c in cmds {
        quiet(c)?;
    }
    println!("   namespaces {NS_CLIENT}, {NS_GW}, {NS_SERVER}; links c0<->g6, g4<->s0");

    step(2, "Starting the web server in the IPv4-only namespace");
    fs::write(
        dir.join("www/index.html"),
        format!("<html><body><h1>Hello from the IPv4-only server {SERVER4}</h1></body></html>\n"),
    )
    .map_err(|e| DemoError::Step(e.to_string()))?;
    let http = cmd("ip")
        .args([
            "netns",
            "exec",
            NS_SERVER,
            "python3",
            "-m",
            "http.server",
            "80",
            "--bind",
            "203.0.113.2",
        ])
        .current_dir(dir.join("www"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("http.log")).map_err(|e| DemoError::Step(e.to_string()))?)
        .spawn()
        .map_err(|e| DemoError::Step(format!("python3 -m http.server: {e}")))?;
    with_lab(lab, |l| l.children.push(("the web server".into(), http)))?;
    println!("   $ ip netns exec {NS_SERVER} python3 -m http.server 80 --bind 203.0.113.2");

    step(
        3,
        "Starting the gateway (stateful NAT64, RFC 6146) in the middle namespace",
    );
    let conf = dir.join("gateway.toml");
    let sock = dir.join("nat64.sock");
    fs::write(
        &conf,
        format!(
            "# Written by nat64 demo.\n[gateway]\nmode = \"nat64\"\ndevice = \"nat64\"\nclients = [\"2001:db8:1::/64\"]\ncontrol_socket = \"{}\"\nmetrics = \"127.0.0.1:9164\"\n\n[translator]\npool6 = \"{}\"\n\n[nat64]\npool4 = [\"{POOL4}\"]\n",
            sock.display(),
            a.prefix
        ),
    )
    .map_err(|e| DemoError::Step(e.to_string()))?;
    print_indented(&fs::read_to_string(&conf).unwrap_or_default());
    let exe = std::env::current_exe().map_err(|e| DemoError::Step(e.to_string()))?;
    let exe_s = exe.display().to_string();
    let conf_s = conf.display().to_string();
    let log_path = dir.join("gateway.log");
    let gw = cmd("ip")
        .args(["netns", "exec", NS_GW, &exe_s, "gateway", "--config", &conf_s])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log_path).map_err(|e| DemoError::Step(e.to_string()))?)
        .spawn()
        .map_err(|e| DemoError::Step(format!("nat64 gateway: {e}")))?;
    with_lab(lab, |l| l.children.push(("the gateway".into(), gw)))?;
    println!("   $ ip netns exec {NS_GW} nat64 gateway --config {conf_s}");
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

    step(4, "Fetching the page from the IPv6-only client");
    let url = format!("http://[{dst6}]/");
    let mut page = String::new();
    let t = Instant::now();
    loop {
        match output(&[
            "ip",
            "netns",
            "exec",
            NS_CLIENT,
            "curl",
            "-6",
            "-sS",
            "--max-time",
            "5",
            &url,
        ]) {
            Ok(p) => {
                page = p;
                break;
            }
            Err(e) if t.elapsed() > Duration::from_secs(10) => {
                return Err(DemoError::Step(format!(
                    "curl {url} failed: {e}\ngateway log:\n{}",
                    tail(&log_path, 20)
                )))
            }
            Err(_) => std::thread::sleep(Duration::from_millis(300)),
        }
        if !page.is_empty() {
            break;
        }
    }
    println!("   $ ip netns exec {NS_CLIENT} curl -6 {url}");
    print_indented(page.trim_end());
    if !page.contains("Hello from the IPv4-only server") {
        return Err(DemoError::Step("the page is not the server's".into()));
    }

    step(5, "Pinging the server from the client (ICMPv6 echo <-> ICMP echo)");
    if have("ping") {
        let out = run_shown(&[
            "ip",
            "netns",
            "exec",
            NS_CLIENT,
            "ping",
            "-6",
            "-c",
            "3",
            "-i",
            "0.3",
            "-W",
            "2",
            &dst6.to_string(),
        ])?;
        print_indented(out.trim_end());
    } else {
        println!("   (ping is not installed: apt-get install iputils-ping)");
    }

    step(6, "The gateway's session table (RFC 6146 section 3.1)");
    let sock_s = sock.display().to_string();
    let out = run_shown(&[&exe_s, "session", "display", "--socket", &sock_s])?;
    print_indented(out.trim_end());
    println!("   Each row: the client's address and port, the pool4 address and port the gateway");
    println!("   gave it, the IPv4 server, the TCP state, and when the session expires unless used.");

    step(7, "The gateway's counters");
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
