//! Structured logs: one line per event on standard error, `key=value`
//! pairs after a timestamp, a level and the event's name, e.g.
//!
//! ```text
//! ts=2026-11-26T10:49:17.123Z level=info event=gateway_started mode=nat64 tun=nat64 queues=1
//! ```
//!
//! Values with spaces, quotes or `=` are quoted (Go's logfmt convention), so
//! `grep event=reload` and logfmt parsers both work.

use std::fmt::{self, Display, Write as _};
use std::io::Write as _;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use nat64_core::wire::IpPacket;

/// How much to log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Failures.
    Error = 0,
    /// Something to look at.
    Warn = 1,
    /// Lifecycle events (start, reload, stop).
    Info = 2,
    /// Per-event detail (sessions created, drops), for debugging.
    Debug = 3,
}

impl Level {
    /// Lower-case name.
    pub const fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
    /// Parses "error", "warn", "info" or "debug".
    pub fn parse(s: &str) -> Option<Level> {
        Some(match s {
            "error" => Level::Error,
            "warn" => Level::Warn,
            "info" => Level::Info,
            "debug" => Level::Debug,
            _ => return None,
        })
    }
}

static LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Sets the most detailed level written.
pub fn set_level(l: Level) {
    LEVEL.store(l as u8, Ordering::Relaxed);
}

/// Whether events of level `l` are written.
pub fn enabled(l: Level) -> bool {
    l as u8 <= LEVEL.load(Ordering::Relaxed)
}

fn quote_if_needed(out: &mut String, v: &str) {
    if !v.is_empty() && !v.contains(|c: char| c.is_whitespace() || c == '"' || c == '=' || c.is_control()) {
        out.push_str(v);
        return;
    }
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Formats one line (without the newline): timestamp, level, event, fields.
pub fn format_line(now: SystemTime, level: Level, event: &str, fields: &[(&str, &dyn Display)]) -> String {
    let mut s = String::with_capacity(128);
    let _ = write!(s, "ts={} level={} event=", Rfc3339(now), level.name());
    quote_if_needed(&mut s, event);
    let mut v = String::new();
    for (k, val) in fields {
        v.clear();
        let _ = write!(v, "{val}");
        s.push(' ');
        s.push_str(k);
        s.push('=');
        quote_if_needed(&mut s, &v);
    }
    s
}

/// Writes one event if its level is enabled.
pub fn event(level: Level, event: &str, fields: &[(&str, &dyn Display)]) {
    if !enabled(level) {
        return;
    }
    let mut line = format_line(SystemTime::now(), level, event, fields);
    line.push('\n');
    // One write per line, so lines from several threads do not interleave.
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
}

/// `log!(Level::Info, "event_name", key = value, ...)`: one structured line.
#[macro_export]
macro_rules! log {
    ($lvl:expr, $ev:expr $(, $k:ident = $v:expr)* $(,)?) => {
        if $crate::log::enabled($lvl) {
            $crate::log::event($lvl, $ev, &[$((stringify!($k), &$v as &dyn ::std::fmt::Display)),*]);
        }
    };
}

/// A UTC timestamp in RFC 3339 form with milliseconds.
struct Rfc3339(SystemTime);

impl Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs();
        let (days, rem) = (secs / 86400, secs % 86400);
        // Howard Hinnant's civil_from_days.
        let z = days as i64 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem / 60 % 60,
            rem % 60,
            d.subsec_millis()
        )
    }
}

/// A one-line description of a packet for logs: the core's
/// [`Summary`](nat64_core::wire::Summary) (`ipv6 2001:db8::1 > 2001:db8:64::1
/// tcp 40000 > 443 len 60`); for a packet the checked view refuses, what
/// the lax view reads and why it was refused.
pub(crate) struct PacketSummary<'a>(pub(crate) &'a [u8]);

impl std::fmt::Display for PacketSummary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = match IpPacket::new_checked(self.0) {
            Ok(p) => return p.summary().fmt(f),
            Err(e) => e,
        };
        match IpPacket::new_lax(self.0) {
            Ok(p) => write!(f, "{} (malformed: {e})", p.summary()),
            Err(_) => write!(f, "len {} (malformed: {e})", self.0.len()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn line_format() {
        let t = UNIX_EPOCH + Duration::from_millis(1_795_000_000_123);
        let l = format_line(
            t,
            Level::Info,
            "reload",
            &[("file", &"/etc/nat64 gw.toml"), ("n", &3), ("why", &"a=\"b\"")],
        );
        assert_eq!(
            l,
            "ts=2026-11-18T11:06:40.123Z level=info event=reload file=\"/etc/nat64 gw.toml\" n=3 why=\"a=\\\"b\\\"\""
        );
        assert_eq!(
            format_line(UNIX_EPOCH, Level::Warn, "x", &[("e", &"")]),
            "ts=1970-01-01T00:00:00.000Z level=warn event=x e=\"\""
        );
    }

    #[test]
    fn packet_summary() {
        let mut p = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7];
        p.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 8, 0, 0]);
        assert_eq!(
            PacketSummary(&p).to_string(),
            "ipv4 192.0.2.1 > 198.51.100.7 udp 12345 > 53 len 28"
        );
        // Total Length past the buffer: what is there, and why it is refused.
        p[3] = 200;
        assert_eq!(
            PacketSummary(&p).to_string(),
            "ipv4 192.0.2.1 > 198.51.100.7 udp 12345 > 53 len 28 (malformed: IPv4 header needs 200 bytes, the buffer has 28)"
        );
        assert_eq!(
            PacketSummary(&[0x60, 0, 0]).to_string(),
            "len 3 (malformed: IPv6 header needs 40 bytes, the buffer has 3)"
        );
        assert_eq!(
            PacketSummary(&[]).to_string(),
            "len 0 (malformed: empty buffer: not an IP packet)"
        );
        // The line quotes it as one value.
        let line = format_line(
            UNIX_EPOCH,
            Level::Debug,
            "dropped",
            &[("packet", &PacketSummary(&[0x20]))],
        );
        assert!(
            line.ends_with("packet=\"len 1 (malformed: IP version 2: not IPv4 or IPv6)\""),
            "{line}"
        );
    }
}
