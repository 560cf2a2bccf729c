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
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use std::time::Duration;

use nat64_core::nat64::{Instant, Nat64};
use nat64_core::{Translator, Verdict};
use serde::Deserialize;
use serde_json::Value;

use crate::hex;

mod lab;
use lab::{lab_from_record, Lab, Mode};

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
    /// `config_changes_in_effect`: commands applied over `config`.
    pub changes: Value,
    /// `notes`: commands quoted there are applied too.
    pub notes: Value,
    /// Where the expected packets are captured (`client6ns`, `client4ns`).
    pub expect_at: String,
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
            changes: v.get("config_changes_in_effect").cloned().unwrap_or(Value::Null),
            notes: v.get("notes").cloned().unwrap_or(Value::Null),
            expect_at: s("expect_at").unwrap_or_default(),
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

/// Feeds `inputs` through `xlat` and collects what the case's receiver
/// sees, with the lab's Linux machines emulated: the translator's host
/// answers what the translator hands back to it ([`Lab::host_reply`]), and a
/// packet the translator sends away from the receiver's side, through a
/// router, is answered by that router ([`Lab::router_reply`]); the answer
/// goes back through the translator.
fn feed(
    lab: &Lab,
    expect_v6: bool,
    inputs: &[Vec<u8>],
    xlat: &mut dyn FnMut(&[u8], &mut [u8]) -> Verdict,
    outs: &mut Vec<Vec<u8>>,
    notes: &mut Vec<String>,
) {
    let mut buf = vec![0u8; nat64_core::OUTPUT_BUFFER_LEN];
    let mut back = vec![0u8; nat64_core::OUTPUT_BUFFER_LEN];
    for p in inputs {
        match xlat(p, &mut buf) {
            Verdict::NotOurs(r) => match lab.host_reply(p) {
                Some(reply) => {
                    notes.push(format!("not ours ({}): answered by the host's Linux stack", r.label()));
                    outs.push(reply);
                }
                None => notes.push(format!("not ours: {}", r.label())),
            },
            // The packet left towards the side the receiver is not on.
            Verdict::Translated(e) if expect_v6 != e.direction.output_is_v6() => {
                for pkt in e.packets(&buf) {
                    match lab.router_reply(pkt) {
                        Some(err) => {
                            notes.push("the far side's router answered with an ICMP error".into());
                            let v = xlat(&err, &mut back);
                            collect(v, &back, outs, notes);
                        }
                        None => outs.push(pkt.to_vec()),
                    }
                }
            }
            v => collect(v, &buf, outs, notes),
        }
    }
}

/// Feeds `inputs` to a stateless translator and collects what comes out.
pub fn replay(t: &mut Translator, lab: &Lab, expect_v6: bool, inputs: &[Vec<u8>]) -> (Vec<Vec<u8>>, Vec<String>) {
    let (mut outs, mut notes) = (Vec::new(), Vec::new());
    feed(
        lab,
        expect_v6,
        inputs,
        &mut |p, out| t.translate(p, out),
        &mut outs,
        &mut notes,
    );
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

/// Feeds a stateful case's inputs one virtual second after the previous
/// case; when fewer packets came out than the case expects, lets virtual
/// time run to each pending timer (up to a minute) and collects what the
/// timers emit.
pub fn replay_stateful(
    t: &mut Nat64,
    lab: &Lab,
    expect_v6: bool,
    inputs: &[Vec<u8>],
    expected: usize,
    clock: &mut Instant,
) -> (Vec<Vec<u8>>, Vec<String>) {
    let (mut outs, mut notes) = (Vec::new(), Vec::new());
    *clock = clock.add(Duration::from_secs(1));
    let now = *clock;
    feed(
        lab,
        expect_v6,
        inputs,
        &mut |p, out| t.translate(p, out, now),
        &mut outs,
        &mut notes,
    );
    let mut buf = vec![0u8; nat64_core::OUTPUT_BUFFER_LEN];
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

/// The stateful translator a suite's cases share, with the configuration
/// it was built from.
struct Stateful {
    suite: String,
    key: String,
    static_bib: Vec<nat64_core::nat64::Bib>,
    nat: Result<Nat64, String>,
}

impl Stateful {
    /// The translator for case `c`: the suite's, reconfigured over its table
    /// when the case's configuration differs; a new one for a new suite.
    fn for_case<'a>(slot: &'a mut Option<Stateful>, c: &Case, lab: &Lab) -> Result<&'a mut Nat64, String> {
        // The effective settings decide, not the record's wording (notes
        // differ from case to case).
        let key = format!("{:?}", lab.nat64);
        let cfg = lab.nat64.clone().ok_or("a nat64 record without stateful settings")?;
        match slot.take() {
            Some(mut s) if s.suite == c.suite => {
                if s.key != key {
                    if s.static_bib != cfg.static_bib {
                        s.nat = Err("unsupported configuration: static BIB entries changed within a suite".into());
                    } else if let Ok(old) = s.nat {
                        // The static entries are in the table already.
                        let mut cfg = cfg;
                        cfg.static_bib.clear();
                        s.nat = Nat64::with_table(cfg, old.into_table()).map_err(|e| e.to_string());
                    }
                    s.key = key;
                }
                *slot = Some(s);
            }
            _ => {
                *slot = Some(Stateful {
                    suite: c.suite.clone(),
                    key,
                    static_bib: cfg.static_bib.clone(),
                    nat: Nat64::new(cfg).map_err(|e| e.to_string()),
                });
            }
        }
        match slot.as_mut().map(|s| &mut s.nat) {
            Some(Ok(t)) => Ok(t),
            Some(Err(e)) => Err(e.clone()),
            None => Err("no translator".into()),
        }
    }
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
}

/// Runs every case; prints a line per group and a final summary to `log`.
pub fn run_cases(
    cases: &[Case],
    known: &HashMap<String, (String, String)>,
    verbose: bool,
    log: &mut String,
) -> Summary {
    let mut sum = Summary::default();
    let mut groups: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    // Stateful cases share one translator per suite, replayed in sequence
    // order on a virtual clock, so sessions made by one case serve the next.
    // A case whose configuration differs from the previous one's gets the
    // new settings over the same table (as `global update` would).
    let mut stateful: Option<Stateful> = None;
    let mut clock = Instant::from_secs(1);
    for c in cases {
        let g = groups.entry(c.group.as_str()).or_default();
        let outcome = run_case(c, &mut stateful, &mut clock);
        // A lab we cannot set up is never excused by the known-differences
        // list: the case was not run as its record says.
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                g.1 += 1;
                let _ = writeln!(log, "  FAIL  {}: {e}", c.id);
                sum.failed.push(c.id.clone());
                continue;
            }
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
    for (name, (p, f)) in &groups {
        let _ = writeln!(log, "{name:<28} {p:>3} passed, {f:>3} failed");
    }
    let _ = write!(log, "{} passed, {} failed", sum.passed, sum.failed.len());
    if sum.known > 0 {
        let _ = write!(
            log,
            " ({} of them listed known differences, each with its RFC clause)",
            sum.known
        );
    }
    log.push('\n');
    sum
}

/// Sets up case `c`'s lab and replays it: `Ok(None)` when the output is as
/// expected, `Ok(Some(why))` when it differs, `Err` when the lab cannot be
/// set up as the record says.
fn run_case(c: &Case, stateful: &mut Option<Stateful>, clock: &mut Instant) -> Result<Option<String>, String> {
    let lab = lab_from_record(&c.config, &c.changes, &c.notes)?;
    let expect_v6 = match c.expect_at.as_str() {
        "client6ns" => true,
        "client4ns" => false,
        other => return Err(format!("unsupported configuration: expect_at = {other:?}")),
    };
    Ok(match lab.mode {
        Mode::Siit => {
            let mut t = Translator::new(lab.xlat.clone()).map_err(|e| format!("cannot configure: {e}"))?;
            let (got, notes) = replay(&mut t, &lab, expect_v6, &c.inputs);
            explain(compare(&got, &c.expected, &c.ignore), &notes)
        }
        Mode::Nat64 => {
            let t = Stateful::for_case(stateful, c, &lab).map_err(|e| format!("cannot configure: {e}"))?;
            let (got, notes) = replay_stateful(t, &lab, expect_v6, &c.inputs, c.expected.len(), clock);
            explain(compare(&got, &c.expected, &c.ignore), &notes)
        }
    })
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

    /// A record of our own (not Jool's): IPv4 UDP with checksum 0 from n4
    /// (198.51.100.2) to 192.0.2.33 through pool6 2001:db8:100::/40, and what
    /// Jool would emit with `forward-udp-checksum-zero` on.
    fn own_case(changes: Value, notes: Value) -> Case {
        let udp = [0x07, 0xd0, 0x0f, 0xa0, 0x00, 0x0c, 0x00, 0x00, 1, 2, 3, 4];
        let mut v4 = vec![
            0x45, 0, 0, 32, 0, 0, 0x40, 0, 64, 17, 0, 0, 198, 51, 100, 2, 192, 0, 2, 33,
        ];
        let c = nat64_core::checksum::finish(nat64_core::checksum::sum(&v4));
        v4[10..12].copy_from_slice(&c.to_be_bytes());
        v4.extend_from_slice(&udp);
        let pool: nat64_core::Prefix64 = "2001:db8:100::/40".parse().unwrap();
        let mut v6 = vec![0x60, 0, 0, 0, 0, 12, 17, 63];
        v6.extend_from_slice(&pool.embed("198.51.100.2".parse().unwrap()).octets());
        v6.extend_from_slice(&pool.embed("192.0.2.33".parse().unwrap()).octets());
        v6.extend_from_slice(&udp);
        Case {
            id: "own/forward-zero".into(),
            suite: "siit".into(),
            group: "own".into(),
            sequence: 0,
            config: serde_json::json!({
                "mode": "siit",
                "jool_instance": "jool_siit instance add --netfilter -6 2001:db8:100::/40",
                "pool6": "2001:db8:100::/40",
                "translator_ipv4_addr": "198.51.100.1/24 (iface to_client_v4, towards n4)",
                "translator_ipv6_addr": "2001:db8:1c0:2:1::/64 (iface to_client_v6, towards n6)",
            }),
            changes,
            notes,
            expect_at: "client6ns".into(),
            inputs: vec![v4],
            expected: vec![v6],
            ignore: vec![],
        }
    }

    fn run_one(c: Case) -> (Summary, String) {
        let mut log = String::new();
        let s = run_cases(&[c], &HashMap::new(), true, &mut log);
        (s, log)
    }

    #[test]
    fn configuration_forms_are_applied_and_the_unknown_refused() {
        // Without the option: ICMPv4 3/13, not the expected packet.
        let (s, log) = run_one(own_case(Value::Null, Value::Null));
        assert_eq!(s.failed.len(), 1, "{log}");
        for on in ["on", "true", "1"] {
            for form in [
                "global update forward-udp-checksum-zero",
                "jool_siit global update forward-udp-checksum-zero",
            ] {
                let (s, log) = run_one(own_case(serde_json::json!([format!("{form} {on}")]), Value::Null));
                assert_eq!(s.passed, 1, "{form} {on}: {log}");
            }
        }
        let (s, log) = run_one(own_case(
            Value::Null,
            serde_json::json!("configured with `global update forward-udp-checksum-zero 1`"),
        ));
        assert_eq!(s.passed, 1, "{log}");
        // MTU forms: the 32-byte packet fits any of them.
        let (s, log) = run_one(own_case(
            serde_json::json!([
                "ip link set dev to_client_v6 mtu 1280",
                "ip link set to_client_v4 mtu 1400; global update forward-udp-checksum-zero yes"
            ]),
            Value::Null,
        ));
        assert_eq!(s.passed, 1, "{log}");
        // Something we cannot apply fails by name, known difference or not.
        let c = own_case(
            serde_json::json!([
                "global update forward-udp-checksum-zero on",
                "global update mapt-type BR"
            ]),
            Value::Null,
        );
        let mut log = String::new();
        let mut known = HashMap::new();
        known.insert(c.id.clone(), ("RFC x".to_owned(), "y".to_owned()));
        let s = run_cases(&[c], &known, false, &mut log);
        assert_eq!(s.failed.len(), 1, "{log}");
        assert!(
            log.contains("unsupported configuration: global update mapt-type BR"),
            "{log}"
        );
        let mut c = own_case(Value::Null, Value::Null);
        c.config["zeroize_traffic_class"] = serde_json::json!("sometimes");
        let (s, log) = run_one(c);
        assert_eq!(s.failed.len(), 1);
        assert!(
            log.contains("unsupported configuration: zeroize_traffic_class"),
            "{log}"
        );
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
