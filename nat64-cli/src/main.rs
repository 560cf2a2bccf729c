//! The `nat64` command.
//!
//! - `nat64 translate`: offline translation of pcap/pcapng captures.
//! - `nat64 conformance jool PATH`: replays Jool's packet test vectors.
//! - `nat64 dns64`: a DNS64 resolver (RFC 6147).
//! - `nat64 gateway`, `nat64 session display`, `nat64 stats`: the TUN gateway and its control socket.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod conformance;
mod demo_cmd;
mod dns64_cmd;
mod gateway_cmd;
mod hex;
mod translate_cmd;

#[derive(Parser)]
#[command(
    name = "nat64",
    version,
    about = "IPv6/IPv4 translation toolkit (RFC 6052, 7915, 7757, 6791)"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Translate the packets of a capture file (pcap or pcapng) offline.
    Translate(translate_cmd::Args),
    /// Run a DNS64 resolver (RFC 6147) in front of upstream resolvers.
    Dns64(Box<dns64_cmd::Args>),
    /// Run a translator gateway on a TUN device (SIIT, stateful NAT64 or CLAT).
    Gateway(gateway_cmd::Args),
    /// Inspect a running gateway's sessions.
    #[command(subcommand)]
    Session(gateway_cmd::SessionCmd),
    /// Show a running gateway's counters, drop reasons explained.
    Stats(gateway_cmd::StatsArgs),
    /// Build a namespace lab, run the gateway, fetch a page through it, clean up.
    Demo(demo_cmd::Args),
    /// Replay packet test vectors from another implementation.
    #[command(subcommand)]
    Conformance(ConformanceCmd),
}

#[derive(Subcommand)]
enum ConformanceCmd {
    /// Jool's graybox vectors: PATH is a .jsonl file or a folder holding graybox.jsonl.
    Jool {
        /// The .jsonl file, or a folder that holds one.
        path: PathBuf,
        /// Known differences (TOML); defaults to the list built into this binary.
        #[arg(long)]
        known_differences: Option<PathBuf>,
        /// Print every case, not only failures.
        #[arg(long, short)]
        verbose: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Translate(a) => translate_cmd::run(a),
        Cmd::Dns64(a) => dns64_cmd::run(*a),
        Cmd::Gateway(a) => gateway_cmd::run(a),
        Cmd::Session(gateway_cmd::SessionCmd::Display(a)) => gateway_cmd::display(a),
        Cmd::Stats(a) => gateway_cmd::stats(a),
        Cmd::Demo(a) => demo_cmd::run(a),
        Cmd::Conformance(ConformanceCmd::Jool {
            path,
            known_differences,
            verbose,
        }) => conformance::run_jool(&path, known_differences.as_deref(), verbose),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nat64: {e}");
            let mut src = std::error::Error::source(&*e);
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            ExitCode::from(2)
        }
    }
}
