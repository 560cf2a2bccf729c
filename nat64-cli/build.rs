//! Finds Jool's graybox vectors for `tests/conformance.rs` at build time.
//!
//! The vectors are GPL-2.0 and live outside this repository: in
//! `$NAT64_VECTORS/jool` (default `../shared/vectors/jool` beside the
//! checkout). A fresh clone has neither, so when `jool/graybox.jsonl` is
//! missing this sets `cfg(no_vectors)` and the tests that read the vectors
//! are `#[ignore]`d with a reason that says how to run them; `cargo test`
//! lists them as ignored. With `NAT64_REQUIRE_VECTORS=1` (set by `.ci/run`)
//! the cfg is never set, so the tests run and fail, naming the path.
//!
//! The path is handed to the tests as `NAT64_JOOL_VECTORS`, so they read the
//! folder this script looked at.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_vectors)");
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=NAT64_VECTORS");
    println!("cargo::rerun-if-env-changed=NAT64_REQUIRE_VECTORS");

    let explicit = std::env::var_os("NAT64_VECTORS").filter(|v| !v.is_empty());
    let base = match &explicit {
        Some(v) => PathBuf::from(v),
        None => {
            let manifest = std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
            PathBuf::from(manifest).join("../../shared/vectors")
        }
    };
    let jool = base.join("jool");
    println!("cargo::rustc-env=NAT64_JOOL_VECTORS={}", jool.display());

    let require = match std::env::var("NAT64_REQUIRE_VECTORS").as_deref() {
        Err(_) | Ok("") | Ok("0") => false,
        Ok("1") => true,
        Ok(other) => panic!("NAT64_REQUIRE_VECTORS is {other:?}: set it to 1 (the vectors must be there) or 0"),
    };

    let file = jool.join("graybox.jsonl");
    if file.is_file() {
        // Re-evaluate if the vectors go away. A missing path is not watched:
        // cargo would then rebuild this crate on every run. Setting
        // NAT64_VECTORS (watched above) re-evaluates.
        println!("cargo::rerun-if-changed={}", file.display());
    } else if require {
        println!(
            "cargo::warning=NAT64_REQUIRE_VECTORS=1 but the Jool vectors are not at {}: the conformance tests will fail",
            file.display()
        );
    } else {
        if explicit.is_some() {
            println!(
                "cargo::warning=NAT64_VECTORS is set but {} does not exist: the Jool conformance tests are skipped",
                file.display()
            );
        }
        println!("cargo::rustc-cfg=no_vectors");
    }
}
