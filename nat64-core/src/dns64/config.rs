//! The DNS64's configuration: synthesis prefixes and the IPv4 ranges each
//! is used for, AAAA exclusions, the client ACL and the operator's options.

use alloc::vec::Vec;
use core::fmt;
use core::net::{IpAddr, Ipv4Addr};
use core::str::FromStr;

use super::{DEFAULT_EDNS_UDP_SIZE, IPV4_MAPPED};
use crate::addr::{Ipv4Prefix, Ipv6Prefix, Prefix64, PrefixError};

/// A client address range for the client ACL (BIND's `clients`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientPrefix {
    /// IPv4 clients.
    V4(Ipv4Prefix),
    /// IPv6 clients.
    V6(Ipv6Prefix),
}

impl ClientPrefix {
    /// Whether `a` is inside. IPv4-mapped IPv6 addresses (a dual-stack
    /// socket's view of IPv4 clients) count as IPv4.
    pub fn contains(&self, a: IpAddr) -> bool {
        match (self, unmap(a)) {
            (ClientPrefix::V4(p), IpAddr::V4(a)) => p.contains(a),
            (ClientPrefix::V6(p), IpAddr::V6(a)) => p.contains(a),
            _ => false,
        }
    }
}

impl FromStr for ClientPrefix {
    type Err = PrefixError;
    /// `192.0.2.0/24`, `2001:db8::/32`, or a bare address.
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        if s.contains(':') {
            s.parse().map(ClientPrefix::V6)
        } else {
            s.parse().map(ClientPrefix::V4)
        }
    }
}

impl fmt::Display for ClientPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientPrefix::V4(p) => p.fmt(f),
            ClientPrefix::V6(p) => p.fmt(f),
        }
    }
}
impl fmt::Debug for ClientPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

pub(super) fn unmap(a: IpAddr) -> IpAddr {
    match a {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => a,
        },
        v4 => v4,
    }
}

/// One element of a prefix's `mapped` list (BIND's address match list):
/// an IPv4 range the prefix is used for, or, written with a leading `!`, a
/// range it is not used for.
///
/// Text form: `198.51.100.0/24`, a bare address (`/32`), `any` (the whole
/// IPv4 space, `0.0.0.0/0`), each optionally after `!`:
/// `!10.0.0.0/8`, `!any`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MappedRange {
    /// The IPv4 range.
    pub range: Ipv4Prefix,
    /// `!`: addresses of the range are not synthesized under the prefix.
    pub negated: bool,
}

impl MappedRange {
    /// Addresses of `range` are synthesized under the prefix.
    pub const fn include(range: Ipv4Prefix) -> Self {
        MappedRange { range, negated: false }
    }
    /// Addresses of `range` are not synthesized under the prefix.
    pub const fn exclude(range: Ipv4Prefix) -> Self {
        MappedRange { range, negated: true }
    }
}

impl From<Ipv4Prefix> for MappedRange {
    fn from(range: Ipv4Prefix) -> Self {
        MappedRange::include(range)
    }
}

impl FromStr for MappedRange {
    type Err = PrefixError;
    /// `192.0.2.0/24`, `!10.0.0.0/8`, `any`, `!any`, or a bare address.
    fn from_str(s: &str) -> Result<Self, PrefixError> {
        let t = s.trim();
        let (negated, body) = match t.strip_prefix('!') {
            Some(b) => (true, b.trim_start()),
            None => (false, t),
        };
        let range = if body.eq_ignore_ascii_case("any") {
            Ipv4Prefix::new(Ipv4Addr::UNSPECIFIED, 0)?
        } else {
            body.parse()?
        };
        Ok(MappedRange { range, negated })
    }
}

impl fmt::Display for MappedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated {
            f.write_str("!")?;
        }
        self.range.fmt(f)
    }
}
impl fmt::Debug for MappedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One synthesis prefix and the IPv4 addresses it is used for (RFC 6147
/// section 5.1.7: "The DNS64 MUST check each A RR against configured IPv4
/// address ranges and select the corresponding IPv6 prefix"; BIND's
/// `mapped`).
///
/// Which addresses `mapped` selects ([`PrefixRule::maps`]): the elements are
/// tried in order and the first whose range holds the address decides
/// (used, or with `!` not used), as in BIND's address match lists. An address
/// that no element holds is used only when the list has no positive element:
/// an empty list means every address, and a list of exclusions alone
/// (`!10.0.0.0/8`) means every address but those, where BIND would need an
/// explicit `any` at the end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixRule {
    /// The RFC 6052 prefix (any of its lengths, section 5.2: at most /96).
    pub prefix: Prefix64,
    /// The IPv4 ranges synthesized (or, negated, not synthesized) under this
    /// prefix, first match wins; empty means all.
    pub mapped: Vec<MappedRange>,
}

impl PrefixRule {
    /// A prefix used for every IPv4 address.
    pub fn new(prefix: Prefix64) -> Self {
        PrefixRule {
            prefix,
            mapped: Vec::new(),
        }
    }

    /// Whether IPv4 address `a` is synthesized under this prefix, by the
    /// rule of `mapped` (the first element holding `a` decides; none: only
    /// when the list has no positive element). RFC 6052 section 3.1 is
    /// applied separately.
    pub fn maps(&self, a: Ipv4Addr) -> bool {
        match self.mapped.iter().find(|m| m.range.contains(a)) {
            Some(m) => !m.negated,
            None => self.mapped.iter().all(|m| m.negated),
        }
    }

    /// The first element of `mapped` that can never decide anything because
    /// an earlier element of the other sign holds its whole range (`any,
    /// !10.0.0.0/8`: the exclusion is never reached), with that earlier
    /// element.
    fn shadowed(&self) -> Option<(MappedRange, MappedRange)> {
        self.mapped.iter().enumerate().find_map(|(i, later)| {
            self.mapped[..i]
                .iter()
                .find(|e| {
                    e.negated != later.negated
                        && e.range.prefix_len() <= later.range.prefix_len()
                        && e.range.contains(later.range.addr())
                })
                .map(|e| (*later, *e))
        })
    }
}

impl fmt::Display for PrefixRule {
    /// `2001:db8:1::/96`, or with its list: `2001:db8:1::/96=!10.0.0.0/8,any`
    /// (the `--prefix` syntax of `nat64 dns64`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.prefix.fmt(f)?;
        for (i, m) in self.mapped.iter().enumerate() {
            f.write_str(if i == 0 { "=" } else { "," })?;
            m.fmt(f)?;
        }
        Ok(())
    }
}

/// What the DNS64 does, set once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dns64Config {
    /// Synthesis prefixes; none means the Well-Known Prefix 64:ff9b::/96
    /// (RFC 6147 section 5.2). Each A record is synthesized under every rule
    /// that [maps](PrefixRule::maps) its address.
    pub prefixes: Vec<PrefixRule>,
    /// AAAA records inside these ranges are treated as absent (RFC 6147
    /// section 5.1.4; BIND's `exclude`). Replaces the default
    /// `[::ffff:0:0/96]`.
    pub exclude: Vec<Ipv6Prefix>,
    /// Only these clients get synthesis; the others are served as by a plain
    /// resolver (BIND's `clients`). Empty means every client.
    pub clients: Vec<ClientPrefix>,
    /// Synthesize even when real AAAA records exist, replacing them
    /// (CoreDNS `translate_all`, unbound `dns64-synthall`; RFC 6147 section
    /// 5.1.1 allows it only as a non-default option, Appendix A gives the
    /// motive). A name with AAAA records but nothing to synthesize from (no
    /// A record, only A records no prefix is used for, or an A query that
    /// failed or timed out) keeps its real, non-excluded AAAA records:
    /// there is nothing to replace them with, and section 5.1.4 makes
    /// exclusion of real AAAA records a matter of configured ranges
    /// ([`Dns64Config::exclude`]), not of this option. CoreDNS answers such a
    /// name with an empty answer instead.
    pub translate_all: bool,
    /// Also synthesize for clients that ask over IPv4 (CoreDNS
    /// `allow_ipv4`). Off by default, as in CoreDNS: a client that reaches us
    /// over IPv4 has IPv4 (RFC 6147 section 6.3.2).
    pub allow_ipv4: bool,
    /// Synthesize non-global IPv4 addresses (RFC 6890 registry) under the
    /// Well-Known Prefix too, which RFC 6052 section 3.1 forbids unless the
    /// operator says so.
    pub allow_non_global: bool,
    /// Our EDNS(0) UDP payload size (RFC 6891 section 6.2.5): the most we
    /// send to clients over UDP and advertise upstream.
    pub edns_udp_size: u16,
    /// The upstream resolvers validate DNSSEC (RFC 4035 section 5) and their
    /// AD bit can be trusted (a validating resolver on the same host or
    /// reached over a secured path, RFC 4035 section 4.9.3, RFC 6840 section
    /// 5.8): the DNS64 behind them is then the "vDNS64" of RFC 6147 section
    /// 5.5, whose item 2 says a synthesized answer SHOULD carry AD when the
    /// negative AAAA answer and the A answer both validated. With this set,
    /// a synthesized answer to a client that set DO and not CD carries AD
    /// when both upstream answers carried it; otherwise AD is always clear
    /// on synthesized answers (the upstream's AD proves nothing to us).
    pub upstream_validates: bool,
}

impl Default for Dns64Config {
    fn default() -> Self {
        Dns64Config {
            prefixes: Vec::new(),
            exclude: alloc::vec![default_exclude()],
            clients: Vec::new(),
            translate_all: false,
            allow_ipv4: false,
            allow_non_global: false,
            edns_udp_size: DEFAULT_EDNS_UDP_SIZE,
            upstream_validates: false,
        }
    }
}

/// The options of a [`Dns64Config`] as one source of configuration gives
/// them (command-line flags, a file's `[dns64]` table): `None` where that
/// source says nothing. [`Dns64Options::or`] lays one source over another
/// and [`Dns64Options::config`] fills what none of them set with the
/// defaults of [`Dns64Config::default`], so that the defaults are written
/// once, here.
///
/// ```
/// use nat64_core::dns64::{Dns64Config, Dns64Options};
/// let flags = Dns64Options { translate_all: Some(true), ..Dns64Options::default() };
/// let file = Dns64Options { translate_all: Some(false), edns_udp_size: Some(4096), ..Dns64Options::default() };
/// let c = flags.or(file).config();
/// assert!(c.translate_all);
/// assert_eq!(c.edns_udp_size, 4096);
/// assert_eq!(c.exclude, Dns64Config::default().exclude);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Dns64Options {
    /// [`Dns64Config::prefixes`].
    pub prefixes: Option<Vec<PrefixRule>>,
    /// [`Dns64Config::exclude`].
    pub exclude: Option<Vec<Ipv6Prefix>>,
    /// [`Dns64Config::clients`].
    pub clients: Option<Vec<ClientPrefix>>,
    /// [`Dns64Config::translate_all`].
    pub translate_all: Option<bool>,
    /// [`Dns64Config::allow_ipv4`].
    pub allow_ipv4: Option<bool>,
    /// [`Dns64Config::allow_non_global`].
    pub allow_non_global: Option<bool>,
    /// [`Dns64Config::edns_udp_size`].
    pub edns_udp_size: Option<u16>,
    /// [`Dns64Config::upstream_validates`].
    pub upstream_validates: Option<bool>,
}

impl Dns64Options {
    /// Each option from `self`, or where `self` does not set it, from
    /// `under`.
    pub fn or(self, under: Dns64Options) -> Dns64Options {
        Dns64Options {
            prefixes: self.prefixes.or(under.prefixes),
            exclude: self.exclude.or(under.exclude),
            clients: self.clients.or(under.clients),
            translate_all: self.translate_all.or(under.translate_all),
            allow_ipv4: self.allow_ipv4.or(under.allow_ipv4),
            allow_non_global: self.allow_non_global.or(under.allow_non_global),
            edns_udp_size: self.edns_udp_size.or(under.edns_udp_size),
            upstream_validates: self.upstream_validates.or(under.upstream_validates),
        }
    }

    /// The configuration: the options set, the defaults for the others.
    pub fn config(self) -> Dns64Config {
        let d = Dns64Config::default();
        Dns64Config {
            prefixes: self.prefixes.unwrap_or(d.prefixes),
            exclude: self.exclude.unwrap_or(d.exclude),
            clients: self.clients.unwrap_or(d.clients),
            translate_all: self.translate_all.unwrap_or(d.translate_all),
            allow_ipv4: self.allow_ipv4.unwrap_or(d.allow_ipv4),
            allow_non_global: self.allow_non_global.unwrap_or(d.allow_non_global),
            edns_udp_size: self.edns_udp_size.unwrap_or(d.edns_udp_size),
            upstream_validates: self.upstream_validates.unwrap_or(d.upstream_validates),
        }
    }
}

/// `::ffff:0:0/96`.
pub fn default_exclude() -> Ipv6Prefix {
    Ipv6Prefix::new(IPV4_MAPPED, 96).unwrap_or(Ipv6Prefix::host(IPV4_MAPPED))
}

/// A configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Dns64ConfigError {
    /// RFC 6891 section 6.2.5: values below 512 are treated as 512.
    #[error("edns_udp_size {0} is below 512, the DNS minimum: use 1232 (the usual value) or more")]
    EdnsTooSmall(u16),
    /// A prefix is listed twice.
    #[error("prefix {0} is listed twice: merge the two entries (list every IPv4 range under one `mapped`)")]
    DuplicatePrefix(Prefix64),
    /// An element of a `mapped` list is never reached (first match wins).
    #[error(
        "in the IPv4 ranges of prefix {prefix}: element {element} is never reached, because {by} before it \
         already matches every address in it (the first matching element decides): put {element} first"
    )]
    ShadowedRange {
        /// The prefix.
        prefix: Prefix64,
        /// The element never reached.
        element: MappedRange,
        /// The earlier element that matches first.
        by: MappedRange,
    },
}

impl Dns64Config {
    /// Checks what [`Dns64::new`](super::Dns64::new) refuses: an EDNS size
    /// below 512, a prefix listed twice, a `mapped` element never reached.
    pub fn check(&self) -> Result<(), Dns64ConfigError> {
        if self.edns_udp_size < 512 {
            return Err(Dns64ConfigError::EdnsTooSmall(self.edns_udp_size));
        }
        for (i, r) in self.prefixes.iter().enumerate() {
            if self.prefixes[..i].iter().any(|o| o.prefix == r.prefix) {
                return Err(Dns64ConfigError::DuplicatePrefix(r.prefix));
            }
            if let Some((element, by)) = r.shadowed() {
                return Err(Dns64ConfigError::ShadowedRange {
                    prefix: r.prefix,
                    element,
                    by,
                });
            }
        }
        Ok(())
    }
}
