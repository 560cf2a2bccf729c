//! `nat64-core`: a no-I/O IPv6/IPv4 translation engine.
//!
//! The crate owns the translation rules and nothing else: no sockets, no
//! clock, no allocation per packet. Callers hand it bytes and a buffer and
//! get back a typed [`Verdict`].
//!
//! Modules:
//!
//! - [`addr`]: RFC 6052 prefixes ([`Prefix64`]) and the section 3.1 check.
//! - [`eamt`]: RFC 7757 explicit address mappings and hairpinning.
//! - [`Translator`] (with [`Config`], [`Verdict`], [`OUTPUT_BUFFER_LEN`]):
//!   RFC 7915 stateless translation (SIIT), with RFC 6791 error sources.
//! - [`nat64`]: RFC 6146 stateful NAT64: BIBs and sessions behind the
//!   [`nat64::SessionTable`] trait, pool4 with RFC 6056 port selection, the
//!   TCP state machine, fragment reassembly, the sessions saved and restored
//!   with their remaining lifetimes (`nat64::state`); time is an argument.
//! - [`dns64`]: RFC 6147 DNS64 on DNS wire format (query checks, the
//!   synthesis plan, AAAA synthesis, PTR for pool6) and RFC 7050 / RFC 8781
//!   prefix discovery.
//! - [`icmp`]: the RFC 7915 ICMP type/code tables and MTU arithmetic.
//! - [`Clat`]: the customer-side translator of RFC 6877 (464XLAT): its
//!   RFC 7335 IPv4 addresses and the EAMT entries that make SIIT a CLAT.
//! - [`clients`]: the client filter that keeps a gateway from being an open
//!   relay ([`clients::Clients`]), ICMP errors judged by the client they
//!   quote, after the IPv6 extension headers.
//! - [`ratelimit`]: rate limiting of the ICMP errors the translator
//!   originates (RFC 4443 section 2.4 (f), RFC 1812 section 4.3.2.8).
//! - [`wire`]: views and writers of IPv4 and IPv6 headers, the extension
//!   header walk.
//! - [`checksum`]: the one Internet checksum implementation.
//!
//! Every packet gets a typed verdict: translated (the packets are in the
//! caller's buffer; [`OUTPUT_BUFFER_LEN`] bytes always suffice), an ICMP
//! error for the sender, dropped with a reason, or not ours (hand it back to
//! the host). No input panics; nothing reads a clock or does I/O, and the
//! crate builds without `std` (`default-features = false`).
//!
//! ```
//! use nat64_core::{Config, Prefix64, Translator, Verdict, Direction};
//! let mut t = Translator::new(Config::with_pool6("64:ff9b::/96".parse().unwrap())).unwrap();
//! // An IPv6 UDP packet from 64:ff9b::c000:201 to 64:ff9b::cb00:7101... would
//! // normally come from the network; an ICMPv6 echo request here:
//! let mut pkt = vec![0x60, 0, 0, 0, 0, 8, 58, 64];
//! pkt.extend_from_slice(&"64:ff9b::808:808".parse::<std::net::Ipv6Addr>().unwrap().octets());
//! pkt.extend_from_slice(&"64:ff9b::101:101".parse::<std::net::Ipv6Addr>().unwrap().octets());
//! pkt.extend_from_slice(&[128, 0, 0, 0, 0, 1, 0, 1]);
//! let mut out = [0u8; 256];
//! match t.translate(&pkt, &mut out) {
//!     Verdict::Translated(e) => {
//!         assert_eq!(e.direction, Direction::SixToFour);
//!         assert_eq!(&out[12..20], &[8, 8, 8, 8, 1, 1, 1, 1]);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```
#![cfg_attr(not(feature = "std"), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod addr;
pub mod checksum;
mod clat;
pub mod clients;
mod config;
pub mod dns64;
pub mod eamt;
pub mod icmp;
pub mod nat64;
pub mod ratelimit;
mod translate;
mod verdict;
pub mod wire;

pub use addr::{is_non_global_v4, Ipv4Prefix, Ipv6Prefix, Prefix64, PrefixError};
pub use clat::Clat;
pub use config::{Config, ConfigError, Ipv4IdPolicy, DEFAULT_MTU_PLATEAUS};
pub use eamt::{Eam, Eamt, EamtError, HairpinMode, HairpinModeError};
pub use ratelimit::{IcmpRateLimit, IcmpRateLimitError, IcmpRateLimiter};
pub use translate::{Translator, OUTPUT_BUFFER_LEN};
pub use verdict::{Counters, Direction, DropReason, Emitted, Held, NotOurs, Verdict};

/// The examples of the crate's README.md, compiled and run as doctests so the
/// README cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeExamples;
