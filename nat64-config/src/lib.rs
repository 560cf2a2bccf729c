//! The configuration files of the `nat64` commands, one owner for every
//! table and key: each file is read into typed tables (unknown keys are
//! errors naming them), then checked and turned into what the core, the
//! gateway and the DNS64 resolver run with; every error names its key.
//!
//! - [`translator`]: the `[translator]` table (the fields of
//!   [`nat64_core::Config`]), alone in the file of `nat64 translate
//!   --config` ([`TranslateFile`]) and shared by the gateway file.
//! - [`gateway`]: the file of `nat64 gateway` (`[gateway]`, `[translator]`,
//!   `[nat64]`, `[clat]`, `[af_packet]`, `[dns64]`), read into
//!   [`nat64_gateway::settings::Settings`] and, with a `[dns64]` table, the
//!   resolver's settings ([`gateway::load`], also the gateway's SIGHUP
//!   reload).
//! - [`dns64`]: the `[dns64]` table of `nat64 dns64 --config` and of the
//!   gateway file, and `nat64 dns64`'s flags merged over it into
//!   [`nat64_dns64::Settings`].
//!
//! The values' text forms (prefixes, pool4 and static BIB entries, protocol
//! and hairpinning names, the CLAT's addresses) are the core's own
//! `FromStr` implementations; this crate names the key an error is about.
//!
//! Crate arrows: `nat64-core` <- `nat64-dns64`, `nat64-gateway` <-
//! `nat64-config` <- the `nat64` command and the `config` fuzz target.
//!
//! Cargo features, both on by default: `dns64` (the [`dns64`] module, with
//! `nat64-dns64`) and `gateway` (the [`gateway`] module, with
//! `nat64-gateway`; implies `dns64`). Without them the crate is the
//! [`translator`] module over the core alone, which is what the fuzz crate
//! builds (no gateway, no tokio).

#![deny(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "dns64")]
pub mod dns64;
#[cfg(feature = "gateway")]
pub mod gateway;
pub mod translator;

#[cfg(feature = "gateway")]
pub use gateway::{load, GatewayConfigError, GatewayFile, Loaded};
pub use translator::{ConfigFileError, TranslateFile, TranslatorTable};
