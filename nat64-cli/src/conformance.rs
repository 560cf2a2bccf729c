//! `nat64 conformance jool`: replays Jool's graybox packet vectors.
//!
//! Every case is configured from its own record (its `config`), its input
//! packets are fed to a fresh translator, and whatever comes out is compared
//! byte for byte with `expected_hex`, skipping `ignore_offsets`. Nothing here
//! knows particular case ids: a case either passes, or fails, or is listed
//! in the known-differences file with the RFC clause that justifies us.
//! Stateful (`mode: nat64`) records of a suite are replayed in `sequence`
//! order through one translator, on a virtual clock.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::Duration;

use nat64_core::nat64::{Bib, Instant, Nat64, Nat64Config, Pool4Entry, Proto, Taddr4, Taddr6};
use nat64_core::{Config, Ipv4Prefix, Ipv6Prefix, Prefix64, Translator, Verdict};
use serde::Deserialize;
use serde_json::Value;

use crate::hex;

/// The known differences shipped with the binary.
pub const BUILTIN_KNOWN_DIFFERENCES: &str = include_str!("../conformance/jool-known-differences.toml");

/// Problems reading the vectors or the differences file.
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// Cannot read a file.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Which file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A folder without a .jsonl file.
    #[error("{0} holds no .jsonl file; pass the vectors file itself or a folder holding graybox.jsonl")]
    NoJsonl(PathBuf),
    /// A line that is not a record.
    #[error("{path}:{line}: not a vector record: {why}")]
    Record {
        /// File.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// The differences file is malformed.
    #[error("known-differences file: {0}")]
    Differences(String),
}

/// One row of the known-differences file.
#[derive(Debug, Deserialize)]
struct Difference {
    id: String,
    rfc: String,
    why: String,
}

#[derive(Debug, Deserialize)]
struct DifferenceFile {
    #[serde(default)]
    difference: Vec<Difference>,
}

/// Parses a known-differences TOML text into id -> (rfc, why).
fn parse_differences(text: &str) -> Result<HashMap<String, (String, String)>, ConformanceError> {
    let f: DifferenceFile = toml::from_str(text).map_err(|e| ConformanceError::Differences(e.to_string()))?;
    let mut m = HashMap::new();
    for d in f.difference {
        if d.rfc.trim().is_empty() {
            return Err(ConformanceError::Differences(format!(
                "entry {} cites no RFC clause",
                d.id
            )));
        }
        m.insert(d.id, (d.rfc, d.why));
    }
    Ok(m)
}

/// One vector record, as far as the runner needs it.
#[derive(Debug)]
pub struct Case {
    /// Case id.
    pub id: String,
    /// `siit` or `nat64`.
    pub suite: String,
    /// Group for the summary.
    pub group: String,
    /// Replay order.
    pub sequence: u64,
    /// The configuration object.
    pub config: Value,
    /// Packets in.
    pub inputs: Vec<Vec<u8>>,
    /// Packets expected out.
    pub expected: Vec<Vec<u8>>,
    /// Offsets not compared.
    pub ignore: Vec<usize>,
}

/// Reads records from a `.jsonl` file or a folder holding one.
pub fn load(path: &Path) -> Result<Vec<Case>, ConformanceError> {
    let file = if path.is_dir() {
        let preferred = path.join("graybox.jsonl");
        if preferred.is_file() {
            preferred
        } else {
            let rd = std::fs::read_dir(path).map_err(|e| ConformanceError::Read {
                path: path.into(),
                source: e,
            })?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect();
            found.sort();
            found
                .into_iter()
                .next()
                .ok_or_else(|| ConformanceError::NoJsonl(path.into()))?
        }
    } else {
        path.to_path_buf()
    };
    let text = std::fs::read_to_string(&file).map_err(|e| ConformanceError::Read {
        path: file.clone(),
        source: e,
    })?;
    let mut cases = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = |why: String| ConformanceError::Record {
            path: file.clone(),
            line: i + 1,
            why,
        };
        let v: Value = serde_json::from_str(line).map_err(|e| bad(e.to_string()))?;
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
        let hexes = |k: &str| -> Result<Vec<Vec<u8>>, ConformanceError> {
            v.get(k)
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("no {k} list")))?
                .iter()
                .map(|h| {
                    h.as_str()
                        .and_then(hex::decode)
                        .ok_or_else(|| bad(format!("{k} holds a non-hex string")))
                })
                .collect()
        };
        cases.push(Case {
            id: s("id").ok_or_else(|| bad("no id".into()))?,
            suite: s("suite").unwrap_or_default(),
            group: s("group").unwrap_or_else(|| "ungrouped".into()),
            sequence: v.get("sequence").and_then(Value::as_u64).unwrap_or(i as u64),
            config: v.get("config").cloned().unwrap_or(Value::Null),
            inputs: hexes("input_hex")?,
            expected: hexes("expected_hex")?,
            ignore: v
                .get("ignore_offsets")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_u64).map(|x| x as usize).collect())
                .unwrap_or_default(),
        });
    }
    cases.sort_by(|a, b| (a.suite.as_str(), a.sequence).cmp(&(b.suite.as_str(), b.sequence)));
    Ok(cases)
}

/// The first whitespace-separated word of a descriptive string, without a
/// `/len` suffix: `"198.51.100.1/24 (iface ...)"` -> `"198.51.100.1"`.
fn leading_addr(v: &Value) -> Option<&str> {
    let s = v.as_str()?.split_whitespace().next()?;
    Some(s.split('/').next().unwrap_or(s))
}

/// Builds our configuration from a record's `config`, the way Jool
/// behaved there (no RFC 6052 section 3.1 check, as Jool has none).
pub fn config_from_record(c: &Value) -> Result<Config, String> {
    let mut cfg = Config {
        wkp_forbids_non_global: false,
        ..Config::default()
    };
    if let Some(p) = c.get("pool6").and_then(Value::as_str) {
        cfg.pool6 = Some(p.parse::<Prefix64>().map_err(|e| format!("pool6: {e}"))?);
    }
    if let Some(rows) = c.get("eamt").and_then(Value::as_array) {
        for r in rows {
            let pair = r
                .as_array()
                .filter(|a| a.len() == 2)
                .ok_or("eamt rows must be [v6, v4] pairs")?;
            let (a, b) = (pair[0].as_str().unwrap_or(""), pair[1].as_str().unwrap_or(""));
            // Either order, as `jool eamt add` accepts.
            let (v4, v6) = if a.contains(':') { (b, a) } else { (a, b) };
            let v4: Ipv4Prefix = v4.parse().map_err(|e| format!("eamt: {e}"))?;
            let v6: Ipv6Prefix = v6.parse().map_err(|e| format!("eamt: {e}"))?;
            cfg.eamt.add(v4, v6, true).map_err(|e| e.to_string())?;
        }
    }
    if let Some(p) = c.get("rfc6791v4_prefix").and_then(Value::as_str) {
        cfg.rfc6791v4_prefix = Some(p.parse().map_err(|e| format!("rfc6791v4_prefix: {e}"))?);
    }
    if let Some(p) = c.get("rfc6791v6_prefix").and_then(Value::as_str) {
        cfg.rfc6791v6_prefix = Some(p.parse().map_err(|e| format!("rfc6791v6_prefix: {e}"))?);
    }
    if let Some(b) = c.get("randomize_rfc6791_addresses").and_then(Value::as_bool) {
        cfg.randomize_rfc6791_addresses = b;
    }
    if let Some(m) = c.get("lowest_ipv6_mtu").and_then(Value::as_u64) {
        cfg.lowest_ipv6_mtu = m as u32;
    }
    if let Some(b) = c.get("amend_udp_checksum_zero").and_then(Value::as_bool) {
        cfg.amend_udp_checksum_zero = b;
    }
    if let Some(b) = c.get("zeroize_traffic_class").and_then(Value::as_bool) {
        cfg.zeroize_traffic_class = b;
    }
    if let Some(m) = c.get("egress_mtu") {
        if let Some(v) = m.get("to_client_v6").and_then(Value::as_u64) {
            cfg.mtu6 = v as u32;
        }
        if let Some(v) = m.get("to_client_v4").and_then(Value::as_u64) {
            cfg.mtu4 = v as u32;
        }
    }
    if let Some(a) = c.get("translator_ipv4_addr").and_then(leading_addr) {
        cfg.own_ipv4 = Some(
            a.parse::<Ipv4Addr>()
                .map_err(|e| format!("translator_ipv4_addr: {e}"))?,
        );
    }
    if let Some(a) = c.get("translator_ipv6_addr").and_then(leading_addr) {
        cfg.own_ipv6 = Some(
            a.parse::<Ipv6Addr>()
                .map_err(|e| format!("translator_ipv6_addr: {e}"))?,
        );
    }
    if let Some(m) = c.get("eam_hairpin_mode").and_then(Value::as_str) {
        cfg.eam_hairpin_mode = match m.split_whitespace().next().unwrap_or("") {
            "off" => nat64_core::HairpinMode::Off,
            "simple" => nat64_core::HairpinMode::Simple,
            _ => nat64_core::HairpinMode::Intrinsic,
        };
    }
    Ok(cfg)
}

/// Feeds `inputs` to `t` and collects every packet it emits.
pub fn replay(t: &mut Translator, inputs: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut outs = Vec::new();
    let mut notes = Vec::new();
    let mut buf = vec![0u8; 65536 + 4096];
    for p in inputs {
        let v = t.translate(p, &mut buf);
        collect(v, &buf, &mut outs, &mut notes);
    }
    (outs, notes)
}

fn explain(diff: Option<String>, notes: &[String]) -> Option<String> {
    diff.map(|d| {
        if notes.is_empty() {
            d
        } else {
            format!("{d} ({})", notes.join("; "))
        }
    })
}

/// `"192.0.2.2#2000"` -> address and port.
fn taddr<A: std::str::FromStr>(s: &str) -> Result<(A, u16), String> {
    let (a, p) = s.rsplit_once('#').ok_or_else(|| format!("{s:?} is not address#port"))?;
    let a = a.parse().map_err(|_| format!("{s:?}: bad address"))?;
    let p = p.parse().map_err(|_| format!("{s:?}: bad port"))?;
    Ok((a, p))
}

fn proto_of(s: &str) -> Result<Proto, String> {
    match s {
        "tcp" => Ok(Proto::Tcp),
        "udp" => Ok(Proto::Udp),
        "icmp" => Ok(Proto::Icmp),
        _ => Err(format!("unknown protocol {s:?}")),
    }
}

/// Builds the stateful configuration from a record's `config`: the shared
/// settings as for SIIT, plus pool4, static BIB entries and Jool's NAT64
/// options.
pub fn nat64_config_from_record(c: &Value) -> Result<Nat64Config, String> {
    let xlat = config_from_record(c)?;
    let pool6 = xlat.pool6.ok_or("a nat64 record needs pool6")?;
    let mut pool4 = Vec::new();
    for e in c.get("pool4").and_then(Value::as_array).into_iter().flatten() {
        let addr: Ipv4Prefix = e
            .get("addr")
            .and_then(Value::as_str)
            .ok_or("pool4 entry without addr")?
            .parse()
            .map_err(|e| format!("pool4: {e}"))?;
        let mut entry = Pool4Entry::new(addr);
        if let Some(r) = e.get("ports").and_then(Value::as_str) {
            let (a, b) = r.split_once('-').unwrap_or((r, r));
            entry.first_port = a.trim().parse().map_err(|_| format!("pool4 ports {r:?}"))?;
            entry.last_port = b.trim().parse().map_err(|_| format!("pool4 ports {r:?}"))?;
        }
        if let Some(ps) = e.get("protocols").and_then(Value::as_array) {
            entry.protocols = [false; 3];
            for p in ps {
                entry.protocols[proto_of(p.as_str().unwrap_or(""))?.index()] = true;
            }
        }
        pool4.push(entry);
    }
    let mut cfg = Nat64Config::new(pool6, pool4);
    cfg.xlat = xlat;
    for b in c.get("bib_static").and_then(Value::as_array).into_iter().flatten() {
        let s = |k: &str| b.get(k).and_then(Value::as_str).unwrap_or("");
        let proto = proto_of(s("proto"))?;
        let (a4, p4) = taddr::<Ipv4Addr>(s("v4"))?;
        let (a6, p6) = taddr::<Ipv6Addr>(s("v6"))?;
        cfg.static_bib.push(Bib {
            proto,
            v6: Taddr6 { addr: a6, port: p6 },
            v4: Taddr4 { addr: a4, port: p4 },
            is_static: true,
        });
    }
    let flag = |k: &str| c.get(k).and_then(Value::as_bool);
    if let Some(b) = flag("address_dependent_filtering") {
        cfg.address_dependent_filtering = b;
    }
    if let Some(b) = flag("drop_externally_initiated_tcp") {
        cfg.drop_externally_initiated_tcp = b;
    }
    if let Some(b) = flag("source_icmpv6_errors_better") {
        cfg.source_icmpv6_errors_better = b;
    }
    if let Some(n) = c.get("maximum_simultaneous_opens").and_then(Value::as_u64) {
        cfg.max_simultaneous_opens = n as usize;
    }
    Ok(cfg)
}

/// Feeds a stateful case's inputs one virtual second after the previous
/// case; when fewer packets came out than the case expects, lets virtual
/// time run to each pending timer (up to a minute) and collects what the
/// timers emit.
pub fn replay_stateful(
    t: &mut Nat64,
    inputs: &[Vec<u8>],
    expected: usize,
    clock: &mut Instant,
) -> (Vec<Vec<u8>>, Vec<String>) {
    let mut outs = Vec::new();
    let mut notes = Vec::new();
    let mut buf = vec![0u8; 65536 + 4096];
    *clock = clock.add(Duration::from_secs(1));
    for p in inputs {
        let v = t.translate(p, &mut buf, *clock);
        collect(v, &buf, &mut outs, &mut notes);
    }
    let limit = clock.add(Duration::from_secs(60));
    while outs.len() < expected {
        match t.next_expiry() {
            Some(at) if at <= limit => *clock = (*clock).max(at),
            _ => break,
        }
        let mut any = false;
        while let Some(v) = t.poll(*clock, &mut buf) {
            any = true;
            collect(v, &buf, &mut outs, &mut notes);
        }
        if !any && t.next_expiry().is_some_and(|at| at <= *clock) {
            break;
        }
    }
    (outs, notes)
}

fn collect(v: Verdict, buf: &[u8], outs: &mut Vec<Vec<u8>>, notes: &mut Vec<String>) {
    match v {
        Verdict::Translated(e) => outs.extend(e.packets(buf).map(<[u8]>::to_vec)),
        Verdict::IcmpError { len, reason } => {
            outs.push(buf[..len as usize].to_vec());
            notes.push(format!("answered with an ICMP error: {}", reason.label()));
        }
        Verdict::Dropped(r) => notes.push(format!("dropped: {}", r.label())),
        Verdict::NotOurs(r) => notes.push(format!("not ours: {}", r.label())),
        Verdict::Held(w) => notes.push(format!("held: {w:?}")),
    }
}

/// Compares outputs with expectations; `None` when they agree.
pub fn compare(got: &[Vec<u8>], want: &[Vec<u8>], ignore: &[usize]) -> Option<String> {
    if got.len() != want.len() {
        return Some(format!("{} packet(s) out, {} expected", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if g.len() != w.len() {
            return Some(format!("packet {i}: {} bytes, {} expected", g.len(), w.len()));
        }
        let diffs: Vec<usize> = (0..g.len()).filter(|o| g[*o] != w[*o] && !ignore.contains(o)).collect();
        if let Some(&first) = diffs.first() {
            let mut s = format!("packet {i}: {} byte(s) differ, first at offset {first}:", diffs.len());
            for &o in diffs.iter().take(8) {
                let _ = write!(s, " [{o}] {:02x}!={:02x}", g[o], w[o]);
            }
            return Some(s);
        }
    }
    None
}

/// The outcome of a run, for tests.
#[derive(Debug, Default)]
pub struct Summary {
    /// Cases that matched.
    pub passed: usize,
    /// Cases that did not match and are not listed as known differences.
    pub failed: Vec<String>,
    /// Listed differences that showed up.
    pub known: usize,
    /// Stateful cases not run.
    pub skipped: usize,
}

/// Runs every case; prints a line per group and a final summary to `log`.
pub fn run_cases(
    cases: &[Case],
    known: &HashMap<String, (String, String)>,
    verbose: bool,
    log: &mut String,
) -> Summary {
    let mut sum = Summary::default();
    let mut groups: BTreeMap<&str, (usize, usize, usize)> = BTreeMap::new();
    // Stateful cases share one translator per suite, replayed in sequence
    // order on a virtual clock, so sessions made by one case serve the next.
    let mut stateful: Option<(String, Result<Nat64, String>)> = None;
    let mut clock = Instant::from_secs(1);
    for c in cases {
        let g = groups.entry(c.group.as_str()).or_default();
        let mode = c.config.get("mode").and_then(Value::as_str).unwrap_or(c.suite.as_str());
        let outcome = if mode == "siit" {
            match config_from_record(&c.config).and_then(|cfg| Translator::new(cfg).map_err(|e| e.to_string())) {
                Err(e) => Some(format!("cannot configure: {e}")),
                Ok(mut t) => {
                    let (got, notes) = replay(&mut t, &c.inputs);
                    explain(compare(&got, &c.expected, &c.ignore), &notes)
                }
            }
        } else if mode == "nat64" {
            if stateful.as_ref().is_none_or(|(suite, _)| *suite != c.suite) {
                let t = nat64_config_from_record(&c.config).and_then(|cfg| Nat64::new(cfg).map_err(|e| e.to_string()));
                stateful = Some((c.suite.clone(), t));
            }
            match stateful.as_mut().map(|(_, t)| t) {
                Some(Ok(t)) => {
                    let (got, notes) = replay_stateful(t, &c.inputs, c.expected.len(), &mut clock);
                    explain(compare(&got, &c.expected, &c.ignore), &notes)
                }
                Some(Err(e)) => Some(format!("cannot configure: {e}")),
                None => Some("no translator".into()),
            }
        } else {
            g.2 += 1;
            sum.skipped += 1;
            continue;
        };
        match outcome {
            None => {
                g.0 += 1;
                sum.passed += 1;
                if verbose {
                    let _ = writeln!(log, "  ok    {}", c.id);
                }
            }
            Some(why) => {
                if let Some((rfc, reason)) = known.get(&c.id) {
                    sum.known += 1;
                    sum.passed += 1;
                    g.0 += 1;
                    let _ = writeln!(log, "  known {}: {why}\n        justified by {rfc}: {reason}", c.id);
                } else {
                    g.1 += 1;
                    let _ = writeln!(log, "  FAIL  {}: {why}", c.id);
                    sum.failed.push(c.id.clone());
                }
            }
        }
    }
    for (name, (p, f, s)) in &groups {
        let _ = write!(log, "{name:<28} {p:>3} passed, {f:>3} failed");
        if *s > 0 {
            let _ = write!(log, ", {s:>3} skipped (unknown mode)");
        }
        log.push('\n');
    }
    let _ = write!(log, "{} passed, {} failed", sum.passed, sum.failed.len());
    if sum.known > 0 {
        let _ = write!(
            log,
            " ({} of them listed known differences, each with its RFC clause)",
            sum.known
        );
    }
    if sum.skipped > 0 {
        let _ = write!(log, ", {} skipped", sum.skipped);
    }
    log.push('\n');
    sum
}

/// The `nat64 conformance jool` command.
pub fn run_jool(path: &Path, known: Option<&Path>, verbose: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let cases = load(path)?;
    let text = match known {
        Some(p) => std::fs::read_to_string(p).map_err(|e| ConformanceError::Read {
            path: p.into(),
            source: e,
        })?,
        None => BUILTIN_KNOWN_DIFFERENCES.to_owned(),
    };
    let known = parse_differences(&text)?;
    let mut log = String::new();
    let sum = run_cases(&cases, &known, verbose, &mut log);
    print!("{log}");
    Ok(if sum.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_differences_parse() {
        parse_differences(BUILTIN_KNOWN_DIFFERENCES).unwrap();
        assert!(parse_differences("[[difference]]\nid='x'\nrfc=''\nwhy='y'\n").is_err());
    }

    #[test]
    fn compare_reports_offsets() {
        assert_eq!(compare(&[vec![1, 2, 3]], &[vec![1, 2, 3]], &[]), None);
        assert_eq!(compare(&[vec![1, 9, 3]], &[vec![1, 2, 3]], &[1]), None);
        assert!(compare(&[vec![1, 9, 3]], &[vec![1, 2, 3]], &[])
            .unwrap()
            .contains("offset 1"));
        assert!(compare(&[], &[vec![1]], &[]).is_some());
    }
}
