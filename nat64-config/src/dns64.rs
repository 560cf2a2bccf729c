//! The `[dns64]` table (of the `nat64 dns64 --config` file and of the
//! gateway file) and the resolver's [`Settings`] from it: flags (as `nat64
//! dns64` parsed them) merged over the table. Flags win; a flag that takes
//! a list replaces the file's list.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use nat64_core::dns64::{Dns64Options, MappedRange, PrefixRule, ResponseCache};
use nat64_core::Prefix64;
use serde::Deserialize;

use nat64_dns64::{Error, Settings};

/// The values of `nat64 dns64`'s flags (`None` / empty: not given), each
/// the same as the `[dns64]` key of the same name.
#[derive(Debug, Default, Clone)]
pub struct Flags {
    /// `--listen`.
    pub listen: Vec<SocketAddr>,
    /// `--upstream`.
    pub upstreams: Vec<SocketAddr>,
    /// `--prefix`, `--exclude`, `--client`, `--translate-all`,
    /// `--allow-ipv4`, `--allow-non-global`, `--edns-udp-size` and
    /// `--upstream-validates`: the DNS64's own options.
    pub dns64: Dns64Options,
    /// `--timeout-ms`.
    pub timeout_ms: Option<u64>,
    /// `--cache-size`.
    pub cache_size: Option<usize>,
    /// `--max-cache-ttl`.
    pub max_cache_ttl: Option<u32>,
    /// `--metrics-interval`.
    pub metrics_interval: Option<u64>,
    /// `--threads`.
    pub threads: Option<usize>,
}

/// An upstream resolver: `ADDR`, `ADDR:PORT`, `[V6ADDR]` or `[V6ADDR]:PORT`
/// (port 53 unless given).
pub fn parse_upstream(s: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    s.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| {
            format!("{s:?} is not an address: write 192.0.2.53, 192.0.2.53:5353, 2001:db8::53 or [2001:db8::53]:5353")
        })
}

/// `PREFIX` or `PREFIX=RANGE,RANGE,...`, each range optionally `!RANGE` or
/// `any` (see [`MappedRange`]).
pub fn parse_prefix_rule(s: &str) -> Result<PrefixRule, String> {
    let (p, mapped) = match s.split_once('=') {
        Some((p, m)) => (p, Some(m)),
        None => (s, None),
    };
    let prefix: Prefix64 = p.trim().parse().map_err(|e| format!("{e}"))?;
    let mut rule = PrefixRule::new(prefix);
    if let Some(m) = mapped {
        for r in m.split(',').filter(|r| !r.trim().is_empty()) {
            rule.mapped.push(parse_mapped(p, r)?);
        }
    }
    Ok(rule)
}

/// One element of a prefix's IPv4 ranges; the error names the element.
fn parse_mapped(prefix: &str, element: &str) -> Result<MappedRange, String> {
    element.trim().parse::<MappedRange>().map_err(|e| {
        format!(
            "in the IPv4 ranges of {}: element {:?}: {e} (an element is RANGE, !RANGE, any or !any)",
            prefix.trim(),
            element.trim()
        )
    })
}

/// A prefix in the TOML file: `"64:ff9b::/96"`,
/// `{ prefix = "2001:db8:1::/96", mapped = ["198.51.100.0/24"] }` or
/// `{ prefix = "2001:db8:2::/96", mapped = ["!10.0.0.0/8", "any"] }` (the
/// `--prefix` rules: first match wins, `!` excludes), or the `--prefix`
/// text `"2001:db8:1::/96=198.51.100.0/24"`.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(untagged)]
pub enum PrefixEntry {
    /// Just the prefix.
    Plain(String),
    /// With its IPv4 ranges.
    Mapped(MappedPrefix),
}

/// A prefix with the IPv4 ranges it is used for.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MappedPrefix {
    /// The RFC 6052 prefix.
    pub prefix: String,
    /// The IPv4 ranges, `!RANGE` for exclusions, `any` for all.
    #[serde(default)]
    pub mapped: Vec<String>,
}

/// The `[dns64]` table of the configuration file; every key optional.
#[derive(Deserialize, Debug, Default, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Dns64Table {
    /// Listening addresses.
    pub listen: Option<Vec<String>>,
    /// Upstream resolvers.
    pub upstreams: Option<Vec<String>>,
    /// Synthesis prefixes.
    pub prefixes: Option<Vec<PrefixEntry>>,
    /// Excluded AAAA ranges.
    pub exclude: Option<Vec<String>>,
    /// Client ACL.
    pub clients: Option<Vec<String>>,
    /// translate_all / dns64-synthall.
    pub translate_all: Option<bool>,
    /// allow_ipv4.
    pub allow_ipv4: Option<bool>,
    /// RFC 6052 section 3.1 override.
    pub allow_non_global: Option<bool>,
    /// RFC 6147 section 5.5 item 2: the upstreams validate.
    pub upstream_validates: Option<bool>,
    /// Per-upstream timeout.
    pub timeout_ms: Option<u64>,
    /// Cache entries.
    pub cache_size: Option<usize>,
    /// Cache TTL cap.
    pub max_cache_ttl: Option<u32>,
    /// EDNS UDP size.
    pub edns_udp_size: Option<u16>,
    /// Metrics interval.
    pub metrics_interval: Option<u64>,
    /// Worker threads.
    pub threads: Option<usize>,
}

/// Reads the `[dns64]` table of a TOML file, ignoring its other tables.
pub fn load_table(path: &Path) -> Result<Dns64Table, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let doc: toml::Table = text
        .parse()
        .map_err(|e| format!("{} is not valid TOML: {e}", path.display()))?;
    match doc.get("dns64") {
        None => Err(format!("{} has no [dns64] table", path.display()).into()),
        Some(v) => v
            .clone()
            .try_into()
            .map_err(|e| Error::Settings(format!("{}: in [dns64]: {e}", path.display()))),
    }
}

fn parse_all<T: std::str::FromStr>(what: &str, v: &[String]) -> Result<Vec<T>, String>
where
    T::Err: std::fmt::Display,
{
    v.iter()
        .map(|s| s.parse::<T>().map_err(|e| format!("[dns64] {what} {s:?}: {e}")))
        .collect()
}

/// Merges flags over the `[dns64]` table of the file `config`, if any.
pub fn settings(config: Option<&Path>, flags: &Flags) -> Result<Settings, Error> {
    let t = match config {
        Some(p) => load_table(p)?,
        None => Dns64Table::default(),
    };
    merge(flags, &t)
}

/// Merges flags over a `[dns64]` table already read: `nat64 gateway` reads
/// the whole file itself and passes its table with no flags
/// ([`from_table`]).
pub fn merge(a: &Flags, t: &Dns64Table) -> Result<Settings, Error> {
    let listen = if !a.listen.is_empty() {
        a.listen.clone()
    } else if let Some(l) = &t.listen {
        parse_all::<SocketAddr>("listen", l)?
    } else {
        vec![SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 53)]
    };
    let upstreams = if !a.upstreams.is_empty() {
        a.upstreams.clone()
    } else if let Some(u) = &t.upstreams {
        u.iter().map(|s| parse_upstream(s)).collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    if upstreams.is_empty() {
        return Err("no upstream resolver: give --upstream ADDR (or `upstreams = [...]` in [dns64])".into());
    }
    // The file's lists are read only where no flag replaces them.
    let f = &a.dns64;
    let file = Dns64Options {
        prefixes: match (&f.prefixes, &t.prefixes) {
            (None, Some(p)) => Some(p.iter().map(prefix_entry).collect::<Result<_, _>>()?),
            _ => None,
        },
        exclude: match (&f.exclude, &t.exclude) {
            (None, Some(e)) => Some(parse_all("exclude", e)?),
            _ => None,
        },
        clients: match (&f.clients, &t.clients) {
            (None, Some(c)) => Some(parse_all("clients", c)?),
            _ => None,
        },
        translate_all: t.translate_all,
        allow_ipv4: t.allow_ipv4,
        allow_non_global: t.allow_non_global,
        edns_udp_size: t.edns_udp_size,
        upstream_validates: t.upstream_validates,
    };
    let timeout_ms = a.timeout_ms.or(t.timeout_ms).unwrap_or(1500);
    if timeout_ms == 0 {
        return Err("timeout_ms must be at least 1".into());
    }
    let threads = match a.threads.or(t.threads) {
        Some(0) => return Err("threads must be at least 1".into()),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    Ok(Settings {
        dns64: f.clone().or(file).config(),
        listen,
        upstreams,
        timeout: Duration::from_millis(timeout_ms),
        cache_size: a.cache_size.or(t.cache_size).unwrap_or(ResponseCache::DEFAULT_CAPACITY),
        max_cache_ttl: a
            .max_cache_ttl
            .or(t.max_cache_ttl)
            .unwrap_or(ResponseCache::DEFAULT_MAX_TTL),
        metrics_interval: Duration::from_secs(a.metrics_interval.or(t.metrics_interval).unwrap_or(60)),
        threads,
    })
}

/// One entry of the file's `prefixes`.
fn prefix_entry(e: &PrefixEntry) -> Result<PrefixRule, String> {
    let rule = match e {
        PrefixEntry::Plain(s) => parse_prefix_rule(s),
        PrefixEntry::Mapped(m) => m
            .prefix
            .parse::<Prefix64>()
            .map_err(|e| e.to_string())
            .and_then(|prefix| {
                Ok(PrefixRule {
                    prefix,
                    mapped: m
                        .mapped
                        .iter()
                        .map(|e| parse_mapped(&m.prefix, e))
                        .collect::<Result<_, _>>()?,
                })
            }),
    };
    rule.map_err(|e| format!("[dns64] prefixes: {e}"))
}

/// The settings of a `[dns64]` table alone.
pub fn from_table(t: &Dns64Table) -> Result<Settings, Error> {
    merge(&Flags::default(), t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_and_prefix_flags() {
        assert_eq!(parse_upstream("192.0.2.53").unwrap(), "192.0.2.53:53".parse().unwrap());
        assert_eq!(
            parse_upstream("[2001:db8::53]:5353").unwrap(),
            "[2001:db8::53]:5353".parse().unwrap()
        );
        assert_eq!(
            parse_upstream("2001:db8::53").unwrap(),
            "[2001:db8::53]:53".parse().unwrap()
        );
        assert!(parse_upstream("resolver").unwrap_err().contains("192.0.2.53:5353"));
        let r = parse_prefix_rule("2001:db8:1::/96=198.51.100.0/24, 203.0.113.0/24").unwrap();
        assert_eq!(r.mapped.len(), 2);
        assert!(parse_prefix_rule("2001:db8::/33").unwrap_err().contains("/32, /40"));
        // Exclusions and `any` (BIND's `mapped { !10/8; any; }`).
        let r = parse_prefix_rule("2001:db8:2::/96=!10.0.0.0/8, any").unwrap();
        assert_eq!(r.to_string(), "2001:db8:2::/96=!10.0.0.0/8,0.0.0.0/0");
        assert!(!r.maps("10.1.2.3".parse().unwrap()) && r.maps("192.0.2.1".parse().unwrap()));
        // The bad element is named.
        let e = parse_prefix_rule("2001:db8:2::/96=any,!10.0.0.1/8").unwrap_err();
        assert!(e.contains("element \"!10.0.0.1/8\"") && e.contains("10.0.0.0/8"), "{e}");
        let e = parse_prefix_rule("2001:db8:2::/96=!").unwrap_err();
        assert!(e.contains("element \"!\""), "{e}");
    }

    #[test]
    fn config_table_and_flags_merge() {
        let dir = std::env::temp_dir().join(format!("nat64-dns64-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("c.toml");
        std::fs::write(
            &f,
            r#"
[translator]
pool6 = "64:ff9b::/96"

[dns64]
listen = ["127.0.0.1:5353"]
upstreams = ["127.0.0.1:5300", "[::1]"]
prefixes = [
  "64:ff9b::/96=!198.51.100.0/24",
  { prefix = "2001:db8:1::/96", mapped = ["198.51.100.0/24"] },
  { prefix = "2001:db8:2::/96", mapped = ["!198.51.100.0/24", "any"] },
]
exclude = ["::ffff:0:0/96", "2001:db8:bad::/48"]
clients = ["2001:db8::/32"]
translate_all = true
upstream_validates = true
timeout_ms = 300
"#,
        )
        .unwrap();
        let mut a = Flags::default();
        let s = settings(Some(&f), &a).unwrap();
        assert_eq!(s.upstreams[1], "[::1]:53".parse().unwrap());
        assert_eq!(s.dns64.prefixes.len(), 3);
        assert_eq!(s.dns64.prefixes[0].to_string(), "64:ff9b::/96=!198.51.100.0/24");
        assert_eq!(s.dns64.prefixes[1].mapped.len(), 1);
        assert_eq!(
            s.dns64.prefixes[2].to_string(),
            "2001:db8:2::/96=!198.51.100.0/24,0.0.0.0/0"
        );
        assert!(s.dns64.translate_all && !s.dns64.allow_ipv4);
        assert!(s.dns64.upstream_validates);
        assert_eq!(s.timeout, Duration::from_millis(300));
        a.upstreams = vec!["127.0.0.2:53".parse().unwrap()];
        a.timeout_ms = Some(100);
        let s = settings(Some(&f), &a).unwrap();
        assert_eq!(s.upstreams, vec!["127.0.0.2:53".parse().unwrap()]);
        assert_eq!(s.timeout, Duration::from_millis(100));
        std::fs::write(&f, "[dns64]\nupstream = [\"127.0.0.1\"]\n").unwrap();
        let e = settings(Some(&f), &a).unwrap_err().to_string();
        assert!(e.contains("unknown field `upstream`"), "{e}");
        std::fs::write(&f, "[dns64]\nupstream_validate = true\n").unwrap();
        let e = settings(Some(&f), &a).unwrap_err().to_string();
        assert!(e.contains("unknown field `upstream_validate`"), "{e}");
        std::fs::write(
            &f,
            "[dns64]\nprefixes = [{ prefix = \"2001:db8:1::/96\", mapped = [\"!10.0.0.0/8\", \"!300.0.0.0/8\"] }]\n",
        )
        .unwrap();
        let e = settings(Some(&f), &a).unwrap_err().to_string();
        assert!(
            e.contains("[dns64] prefixes") && e.contains("element \"!300.0.0.0/8\""),
            "{e}"
        );
        // Without the key or the flag: AD is not trusted.
        std::fs::write(&f, "[dns64]\ntranslate_all = true\n").unwrap();
        assert!(!settings(Some(&f), &a).unwrap().dns64.upstream_validates);
        a.dns64.upstream_validates = Some(true);
        assert!(settings(Some(&f), &a).unwrap().dns64.upstream_validates);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
