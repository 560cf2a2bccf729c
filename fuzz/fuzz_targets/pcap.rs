//! The capture reader of `nat64 translate` (`nat64-cli/src/translate_cmd.rs`,
//! compiled in with `#[path]`: the CLI is a binary crate, and its reader is
//! private to the module, so the target goes through `translate_cmd::run`
//! with the input in a file). Any bytes must give `Ok` or an error, never a
//! panic, both stateless and stateful (byte 0, bit 0: `--pool4`); the rest
//! of the input is the file.
//!
//! Run it with `-close_fd_mask=1`: `run` prints its tally on stdout.
#![no_main]

#[allow(dead_code)]
#[path = "../../nat64-cli/src/config_file.rs"]
mod config_file;
#[allow(dead_code)]
#[path = "../../nat64-cli/src/translate_cmd.rs"]
mod translate_cmd;

use std::path::PathBuf;
use std::sync::OnceLock;

use clap::Parser;
use libfuzzer_sys::fuzz_target;

/// The command line of `nat64 translate`, to build its arguments the way
/// the binary does.
#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    args: translate_cmd::Args,
}

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let d = base.join(format!("nat64-fuzz-pcap-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, file)) = data.split_first() else { return };
    let d = dir();
    let input = d.join("in.pcap");
    let output = d.join("out.pcap");
    std::fs::write(&input, file).unwrap();
    let mut argv: Vec<String> = vec![
        "nat64-translate".into(),
        "--pool6".into(),
        "64:ff9b::/96".into(),
        "--eamt".into(),
        "192.0.2.0/24=2001:db8:1::/120".into(),
        "--own-ipv4".into(),
        "203.0.113.254".into(),
        "--own-ipv6".into(),
        "2001:db8:ffff::1".into(),
        "--no-wkp-check".into(),
    ];
    if sel & 1 != 0 {
        argv.extend(["--pool4".into(), "192.0.2.1:1000-1015".into()]);
    }
    argv.push(input.display().to_string());
    argv.push(output.display().to_string());
    let cli = Cli::try_parse_from(&argv).expect("the arguments parse");
    let _ = translate_cmd::run(cli.args);
});
