//! `nat64 translate` (placeholder being written).
use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_a: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    Err("not yet".into())
}
