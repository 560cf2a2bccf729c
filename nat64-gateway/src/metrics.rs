//! The Prometheus endpoint: `GET /metrics` on a loopback address (default
//! 127.0.0.1:9164) answers the text exposition format 0.0.4 with the
//! session table's use, pool4's use, packets per verdict and drops per
//! reason. Any other path gets 404. One request per connection.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use crate::log::Level;
use crate::snapshot::Stats;
use crate::sys;

/// The default endpoint.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9164";

/// The exposition text for a snapshot of the counters.
pub fn render(st: &Stats) -> String {
    let mut s = String::with_capacity(8192);
    head(&mut s, "nat64_up", "gauge", "1 while the gateway runs.");
    let _ = writeln!(s, "nat64_up{{mode=\"{}\",device=\"{}\"}} 1", st.mode, esc(&st.device));
    head(
        &mut s,
        "nat64_uptime_seconds",
        "gauge",
        "Seconds since the gateway started.",
    );
    let _ = writeln!(s, "nat64_uptime_seconds {}", st.uptime_s);
    head(
        &mut s,
        "nat64_reloads_total",
        "counter",
        "Configuration reloads applied (SIGHUP).",
    );
    let _ = writeln!(s, "nat64_reloads_total {}", st.reloads);
    for c in &st.io {
        let name = format!("nat64_{}_total", c.label);
        head(&mut s, &name, "counter", &c.explain);
        let _ = writeln!(s, "{name} {}", c.count);
    }
    head(
        &mut s,
        "nat64_packets_total",
        "counter",
        "Packets per verdict (translated per direction, icmp_error, dropped, not_ours, held).",
    );
    let get = |l: &str| st.verdicts.iter().find(|c| c.label == l).map_or(0, |c| c.count);
    let dropped: u64 = st.drops.iter().map(|c| c.count).sum();
    let icmp = get("icmp_errors_generated");
    for (verdict, dir, n) in [
        ("translated", "6to4", get("translated_6to4")),
        ("translated", "4to6", get("translated_4to6")),
        ("translated", "6to6", get("hairpinned")),
    ] {
        let _ = writeln!(
            s,
            "nat64_packets_total{{verdict=\"{verdict}\",direction=\"{dir}\"}} {n}"
        );
    }
    let _ = writeln!(s, "nat64_packets_total{{verdict=\"icmp_error\"}} {icmp}");
    let _ = writeln!(
        s,
        "nat64_packets_total{{verdict=\"dropped\"}} {}",
        dropped.saturating_sub(icmp)
    );
    let _ = writeln!(
        s,
        "nat64_packets_total{{verdict=\"not_ours\"}} {}",
        st.not_ours.iter().map(|c| c.count).sum::<u64>()
    );
    let _ = writeln!(s, "nat64_packets_total{{verdict=\"held\"}} {}", get("held"));
    head(
        &mut s,
        "nat64_fragments_emitted_total",
        "counter",
        "Extra packets emitted because the translator fragmented.",
    );
    let _ = writeln!(s, "nat64_fragments_emitted_total {}", get("fragments_emitted"));
    head(
        &mut s,
        "nat64_drops_total",
        "counter",
        "Packets not translated, per reason (ICMP-answered ones included); `nat64 stats` explains each reason.",
    );
    for c in &st.drops {
        let _ = writeln!(s, "nat64_drops_total{{reason=\"{}\"}} {}", c.label, c.count);
    }
    head(
        &mut s,
        "nat64_not_ours_total",
        "counter",
        "Packets outside the configuration, per reason.",
    );
    for c in &st.not_ours {
        let _ = writeln!(s, "nat64_not_ours_total{{reason=\"{}\"}} {}", c.label, c.count);
    }
    if let Some(t) = &st.table {
        let protos = ["tcp", "udp", "icmp"];
        head(
            &mut s,
            "nat64_sessions",
            "gauge",
            "Sessions in the table, per protocol.",
        );
        for (p, n) in protos.iter().zip(t.sessions) {
            let _ = writeln!(s, "nat64_sessions{{proto=\"{p}\"}} {n}");
        }
        head(
            &mut s,
            "nat64_sessions_max",
            "gauge",
            "The session table's cap (max_sessions).",
        );
        let _ = writeln!(s, "nat64_sessions_max {}", t.max_sessions);
        head(
            &mut s,
            "nat64_pool4_used",
            "gauge",
            "pool4 transport addresses bound (BIB entries), per protocol.",
        );
        for (p, n) in protos.iter().zip(t.bib_entries) {
            let _ = writeln!(s, "nat64_pool4_used{{proto=\"{p}\"}} {n}");
        }
        head(
            &mut s,
            "nat64_pool4_size",
            "gauge",
            "pool4 transport addresses, per protocol.",
        );
        for (p, n) in protos.iter().zip(t.pool4_size) {
            let _ = writeln!(s, "nat64_pool4_size{{proto=\"{p}\"}} {n}");
        }
        head(
            &mut s,
            "nat64_held_syns",
            "gauge",
            "Unsolicited IPv4 SYNs held for a simultaneous open (RFC 6146 section 3.5.2.2).",
        );
        let _ = writeln!(s, "nat64_held_syns {}", t.held_syns);
        head(
            &mut s,
            "nat64_sessions_evicted",
            "counter",
            "Half-open or closing TCP sessions evicted to make room for new flows in a full table.",
        );
        let _ = writeln!(s, "nat64_sessions_evicted {}", t.sessions_evicted);
        head(
            &mut s,
            "nat64_reassembly",
            "gauge",
            "Fragment reassembly counters since the last reload.",
        );
        for c in &t.reassembly {
            let _ = writeln!(s, "nat64_reassembly{{counter=\"{}\"}} {}", c.label, c.count);
        }
    }
    s
}

fn head(s: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(
        s,
        "# HELP {name} {}\n# TYPE {name} {kind}",
        help.replace('\\', "\\\\").replace('\n', " ")
    );
}

fn esc(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// Serves `GET /metrics` until `stop` is readable (the gateway stops),
/// rendering the snapshots `stats` takes.
pub(crate) fn serve(listener: TcpListener, stop: RawFd, stats: impl Fn() -> Stats) {
    let served = sys::serve_until(listener.as_raw_fd(), stop, || {
        let Ok((stream, _)) = listener.accept() else { return };
        if let Err(e) = answer(&stats, stream) {
            crate::log!(Level::Debug, "metrics_request_failed", error = e);
        }
    });
    if let Err(e) = served {
        crate::log!(Level::Error, "metrics_poll_failed", error = e);
    }
}

fn answer(stats: &impl Fn() -> Stats, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") && req.len() < 16 * 1024 {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        req.extend_from_slice(&buf[..n]);
    }
    let line = req.split(|&b| b == b'\n').next().unwrap_or(&[]);
    let line = String::from_utf8_lossy(line);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, ctype, body) = if method == "GET" && (path == "/metrics" || path.starts_with("/metrics?")) {
        ("200 OK", "text/plain; version=0.0.4; charset=utf-8", render(&stats()))
    } else {
        (
            "404 Not Found",
            "text/plain; charset=utf-8",
            "try GET /metrics\n".to_owned(),
        )
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())
}
