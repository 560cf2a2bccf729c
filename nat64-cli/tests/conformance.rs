//! Runs `nat64 conformance jool` on Jool's graybox vectors, read at test time
//! from `$NAT64_VECTORS/jool` (default `../shared/vectors` beside the
//! repository). The vectors are GPL-2.0 and are never copied into this
//! repository. Without them (a fresh clone), build.rs sets `cfg(no_vectors)`
//! and the tests that read them are ignored with the reason below; with
//! `NAT64_REQUIRE_VECTORS=1` (as in `.ci/run`) they run and fail instead.

use std::path::PathBuf;
use std::process::Command;

/// The folder build.rs looked at: `$NAT64_VECTORS/jool` or `../shared/vectors/jool`.
fn vectors() -> PathBuf {
    let p = PathBuf::from(env!("NAT64_JOOL_VECTORS"));
    assert!(
        p.join("graybox.jsonl").is_file(),
        "Jool vectors not found at {}; set NAT64_VECTORS to the folder holding jool/graybox.jsonl",
        p.display()
    );
    p
}

#[test]
#[cfg_attr(
    no_vectors,
    ignore = "Jool vectors not found in $NAT64_VECTORS/jool or ../shared/vectors/jool: set NAT64_VECTORS=/path/to/vectors to run"
)]
fn jool_graybox_cases_all_pass() {
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args(["conformance", "jool"])
        .arg(vectors())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "conformance runner failed");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("138 passed, 0 failed"), "unexpected summary: {last}");
}

#[test]
#[cfg_attr(
    no_vectors,
    ignore = "Jool vectors not found in $NAT64_VECTORS/jool or ../shared/vectors/jool: set NAT64_VECTORS=/path/to/vectors to run"
)]
fn runner_fails_on_a_mismatching_case() {
    // A copy of one real record whose expected bytes are altered must fail.
    let src = std::fs::read_to_string(vectors().join("graybox.jsonl")).unwrap();
    let line = src.lines().find(|l| l.contains("\"suite\": \"siit\"")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(line).unwrap();
    let exp = v["expected_hex"][0].as_str().unwrap().to_owned();
    // Flip the TTL byte (offset 8) of the first expected packet.
    let mut bytes = exp.into_bytes();
    bytes[16] = if bytes[16] == b'0' { b'1' } else { b'0' };
    v["expected_hex"][0] = serde_json::Value::String(String::from_utf8(bytes).unwrap());
    let dir = std::env::temp_dir().join(format!("nat64-conf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("one.jsonl");
    std::fs::write(&f, format!("{v}\n")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args(["conformance", "jool"])
        .arg(&f)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
    assert!(stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn missing_path_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_nat64"))
        .args(["conformance", "jool", "/nonexistent/nat64-vectors.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot read /nonexistent/nat64-vectors.jsonl"), "{err}");
}
